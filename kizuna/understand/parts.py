"""Every module of the understand domain that registers a picture (`pictures.picture`) or a config
check (`config.config_check`), imported once here so that the understand asset knows them all."""
