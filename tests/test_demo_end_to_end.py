"""End to end: `kizuna demo` on a small sample world, through Dagster, against the world's truth."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kizuna.cli import app
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("KIZUNA_LANDING_URL", str(tmp_path / "landing"))
    monkeypatch.setenv("KIZUNA_TRUTH_DIR", str(tmp_path / "truth"))
    monkeypatch.setenv("KIZUNA_WAREHOUSE_PATH", str(tmp_path / "warehouse" / "kizuna.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv("KIZUNA_CRM_POSTGRES", raising=False)
    return tmp_path


def ledger(settings) -> dict[str, dict[str, int]]:
    with warehouse(settings, read_only=True) as con:
        rows = con.execute(
            """SELECT source, sum("read"), sum(loaded), sum(quarantined), sum(deduplicated), sum(warned), count(*)
               FROM ingest.ledger GROUP BY source"""
        ).fetchall()
    keys = ("read", "loaded", "quarantined", "deduplicated", "warned", "files")
    return {source: dict(zip(keys, map(int, values), strict=True)) for source, *values in rows}


def test_demo_ingests_every_source_as_the_world_says_and_reruns_change_nothing(project):
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--customers", "300", "--days", "30", "--seed", "11"])
    assert first.exit_code == 0, first.output
    assert "succeeded" in first.output and "make ui" in first.output
    assert "Journey stages today" in first.output and "Revenue " in first.output and "NPS " in first.output

    settings = load_settings()
    mess = json.loads((project / "truth" / "mess.json").read_text())["sources"]
    counts = ledger(settings)
    assert set(counts) == set(mess)
    for source, expected in mess.items():
        got = counts[source]
        assert got["read"] == expected["lines_written"], source
        assert got["quarantined"] == expected["broken"], source
        assert got["deduplicated"] == expected["duplicates"], source
        assert got["warned"] == expected["unplanned_events"], source
        assert got["read"] == got["loaded"] + got["quarantined"] + got["deduplicated"], source

    with warehouse(settings, read_only=True) as con:
        quarantined = con.execute("SELECT count(*) FROM ingest.quarantine").fetchone()[0]
        events = con.execute("SELECT count(*) FROM raw.events").fetchone()[0]
        drift = con.execute(
            "SELECT count(*) FROM raw.support_tickets WHERE _extra->>'sentiment_hint' IS NOT NULL"
        ).fetchone()[0]
    assert quarantined == sum(m["broken"] for m in mess.values())
    assert events == counts["events"]["loaded"]
    assert drift > 0  # the column the contract does not know was kept

    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    assert "Using the sample world" in again.output
    assert ledger(settings) == counts
    with warehouse(settings, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.events").fetchone()[0] == events
