"""Every module of the understand domain that registers a picture (`pictures.picture`) or a config
check (`config.config_check`), imported once here so that the understand asset knows them all:
experience (segments, funnel and contact-time checks; funnel, cohort and delivery pictures),
journeys (stages check; stage pictures), kpi_tree and kpi_picture (KPI tree check and picture),
voice (support SLA check, called by experience; detractor drivers picture)."""

from kizuna.understand import experience, journeys, kpi_picture, kpi_tree, voice  # noqa: F401
