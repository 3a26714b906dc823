"""The one connection factory: plain and encrypted warehouses, UTC sessions, settings overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from kizuna.settings import load_settings
from kizuna.warehouse import extension_directory, warehouse


def test_plain_warehouse_is_a_file_at_the_configured_path(tmp_path, monkeypatch):
    path = tmp_path / "nested" / "wh.duckdb"
    monkeypatch.setenv("KIZUNA_WAREHOUSE_PATH", str(path))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    with warehouse() as con:
        con.execute("CREATE TABLE t AS SELECT TIMESTAMPTZ '2026-05-01 09:00:00+09:00' AS seen_at")
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
        assert con.execute("SELECT CAST(seen_at AS VARCHAR) FROM t").fetchone()[0] == "2026-05-01 00:00:00+00"
    assert path.is_file()
    with warehouse(read_only=True) as con:
        assert con.execute("SELECT seen_at FROM t").fetchone()[0] == datetime(2026, 5, 1, 0, tzinfo=UTC)


@pytest.mark.skipif(extension_directory() is None, reason="duckdb-ext-httpfs is not installed")
def test_encrypted_warehouse_cannot_be_read_without_its_key(tmp_path, monkeypatch):
    path = tmp_path / "secret.duckdb"
    settings = load_settings().with_overrides(warehouse_path=str(path), encryption_key_env="KIZUNA_TEST_KEY")
    monkeypatch.setenv("KIZUNA_TEST_KEY", "correct horse battery staple")
    with warehouse(settings) as con:
        con.execute("CREATE TABLE people AS SELECT 'taro.yamada@example.jp' AS email")
    assert b"taro.yamada" not in path.read_bytes()
    with warehouse(settings, read_only=True) as con:
        assert con.execute("SELECT email FROM people").fetchone()[0] == "taro.yamada@example.jp"
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(path)).execute("SELECT * FROM people")


def test_settings_resolve_relative_paths_against_the_project(monkeypatch, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.yml").write_text(
        "business: {timezone: Europe/Paris, currency: EUR, phone_region: FR}\n"
        "paths: {landing: s3://bucket/landing, warehouse: wh/k.duckdb}\n"
        "crm_postgres: {enabled: true}\n"
    )
    monkeypatch.setenv("KIZUNA_HOME", str(tmp_path))
    monkeypatch.delenv("KIZUNA_LANDING_URL", raising=False)
    monkeypatch.delenv("KIZUNA_WAREHOUSE_PATH", raising=False)
    monkeypatch.setenv("KIZUNA_CRM_POSTGRES", "0")
    settings = load_settings()
    assert (settings.timezone, settings.currency, settings.phone_region) == ("Europe/Paris", "EUR", "FR")
    assert settings.landing_url == "s3://bucket/landing"
    assert settings.warehouse_path == str(tmp_path / "wh" / "k.duckdb")
    assert settings.crm_postgres_enabled is False  # the environment wins over the file
