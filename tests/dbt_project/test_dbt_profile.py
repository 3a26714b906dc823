"""dbt's profile comes from the settings, like the warehouse connection; the key never hits disk."""

from __future__ import annotations

import os

import yaml

from kizuna.dbt_profile import DUCKDB_TARGET, SPARK_TARGET, profiles, write_profiles
from kizuna.settings import load_settings
from kizuna.warehouse import ALIAS


def _settings(tmp_path):
    return load_settings().with_overrides(warehouse_path=str(tmp_path / "wh" / "kizuna.duckdb"))


def test_plain_profile_points_at_the_warehouse(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.delenv(settings.encryption_key_env, raising=False)
    folder = write_profiles(settings)
    assert folder == tmp_path / "wh" / "dbt"
    profile = yaml.safe_load((folder / "profiles.yml").read_text())["kizuna"]
    assert profile["target"] == DUCKDB_TARGET
    duck = profile["outputs"][DUCKDB_TARGET]
    assert duck["path"] == settings.warehouse_path
    assert duck["threads"] == settings.threads
    assert duck["settings"]["TimeZone"] == "UTC"
    spark = profile["outputs"][SPARK_TARGET]
    assert spark["method"] == "session" and spark["host"] == "NA"
    assert spark["server_side_parameters"]["spark.master"] == "local[2]"
    assert spark["server_side_parameters"]["spark.ui.showConsoleProgress"] == "false"


def test_encrypted_profile_attaches_with_the_key_from_the_environment(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.setenv(settings.encryption_key_env, "s3cret-key")
    duck = profiles(settings)["kizuna"]["outputs"][DUCKDB_TARGET]
    assert duck["path"] == ":memory:"
    assert duck["database"] == ALIAS
    (ext,) = duck["extensions"]
    assert ext["name"] == "httpfs" and ext["repo"].startswith("'") and ext["repo"].endswith("'")
    (attach,) = duck["attach"]
    assert attach["path"] == settings.warehouse_path and attach["alias"] == ALIAS
    assert attach["options"]["encryption_key"] == f"{{{{ env_var('{settings.encryption_key_env}') }}}}"
    text = (write_profiles(settings) / "profiles.yml").read_text()
    assert "s3cret-key" not in text
    assert os.environ[settings.encryption_key_env] == "s3cret-key"
