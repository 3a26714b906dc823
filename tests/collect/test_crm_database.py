"""The CRM database through the raw asset: dlt lands contacts, the contract splits them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg2
import pytest

from dagster_project.defs.collect.assets import CONTRACTS, build_raw_asset
from dagster_project.resources import KizunaSettings
from kizuna.collect.crm_database import origin_of
from kizuna.collect.crm_postgres import ensure_crm_table, upsert_contacts
from kizuna.warehouse import connect

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def contact(n: int, updated: datetime, **fields) -> dict:
    row = {
        "crm_id": f"C{n:07d}", "last_name": "佐藤", "first_name": "健", "email": f"ken{n}@example.jp",
        "phone": "+81 90 1234 5678", "birth_date": "1980-01-31", "gender": "male", "postcode": "100-0001",
        "loyalty_card_id": None, "created_at": (T0 - timedelta(days=9)).isoformat(), "updated_at": updated.isoformat(),
    }
    row.update(fields)
    return row


@pytest.fixture
def crm(crm_dsn, monkeypatch):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    ensure_crm_table(crm_dsn, schema, "contacts")
    monkeypatch.setenv("KIZUNA_CRM_POSTGRES", "1")
    monkeypatch.setenv("KIZUNA_CRM_DSN", crm_dsn)
    yield crm_dsn, schema
    with psycopg2.connect(crm_dsn) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


def test_contacts_from_the_database_are_judged_into_the_raw_table(crm, tmp_path, monkeypatch):
    import pandas as pd

    dsn, schema = crm
    settings_file = tmp_path / "settings.yml"
    settings_file.write_text(f"crm_postgres:\n  schema: {schema}\n  table: contacts\n")
    monkeypatch.setenv("KIZUNA_SETTINGS", str(settings_file))
    upsert_contacts(
        dsn,
        pd.DataFrame([contact(1, T0), contact(2, T0, birth_date="1980-02-30"), contact(3, T0, crm_id="X12")]),
        schema, "contacts",
    )
    resource = KizunaSettings(landing_url=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "wh.duckdb"))
    (tmp_path / "landing").mkdir()
    asset = build_raw_asset(CONTRACTS["crm_contacts"])

    def materialize():
        result = dg.materialize([asset], resources={"kizuna": resource}, raise_on_error=True)
        (mat,) = result.asset_materializations_for_node(asset.op.name)
        return {k: v.value for k, v in mat.metadata.items()}

    meta = materialize()
    assert (meta["read"], meta["loaded"], meta["quarantined"], meta["lost"]) == (3, 1, 2, 0)
    assert meta["this_run"]["new_files"] == 1 and meta["quarantined_by_rule"] == {
        "pattern:crm_id": 1, "type:birth_date": 1,
    }
    with connect(resource.settings()) as con:
        rows = con.execute("SELECT file, rules FROM ingest.quarantine ORDER BY rules").fetchall()
        origin = origin_of(dsn, schema, "contacts")
        assert [r for _, r in rows] == [["pattern:crm_id"], ["type:birth_date"]]
        assert all(f.startswith(origin + "#load=") for f, _ in rows)
        assert "kizuna:kizuna" not in rows[0][0]  # no password in what is stored
    # Nothing changed in the CRM: nothing new is read, and the table's figures stay.
    meta = materialize()
    assert meta["this_run"]["read"] == 0 and (meta["read"], meta["dagster/row_count"]) == (3, 1)
    # One contact changes: only its new version arrives.
    upsert_contacts(dsn, pd.DataFrame([contact(1, T0 + timedelta(hours=1), email="ken.new@example.jp")]),
                    schema, "contacts")
    meta = materialize()
    assert (meta["this_run"]["read"], meta["this_run"]["loaded"]) == (1, 1)
    assert (meta["read"], meta["loaded"]) == (4, 2)
    with connect(resource.settings()) as con:
        emails = con.execute("SELECT email FROM raw.crm_contacts ORDER BY updated_at").fetchall()
    assert emails == [("ken1@example.jp",), ("ken.new@example.jp",)]
