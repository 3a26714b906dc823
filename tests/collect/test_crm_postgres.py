"""The CRM's PostgreSQL table and the dlt connector that lands it (against a real PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psycopg2
import pytest
import yaml

from kizuna.collect.crm_postgres import (
    CONTACT_COLUMNS,
    DATASET_NAME,
    DLT_COLUMNS,
    DLT_TABLES,
    InvalidContactRows,
    ensure_crm_table,
    extract_contacts,
    upsert_contacts,
)
from kizuna.settings import load_settings
from kizuna.warehouse import connect, extension_directory

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def contact(n: int, updated: datetime, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "crm_id": f"C{n:07d}",
        "last_name": "山田",
        "first_name": "花子",
        "last_name_kana": "ヤマダ",
        "first_name_kana": "ハナコ",
        "email": f"hanako{n}@example.jp",
        "phone": "090-1234-5678",
        "birth_date": "1985-04-12",
        "gender": "female",
        "postcode": "150-0001",
        "prefecture": "東京都",
        "loyalty_card_id": f"L{n:010d}",
        "created_at": (T0 - timedelta(days=30)).isoformat(),
        "updated_at": updated.isoformat(),
    }
    row.update(fields)
    return row


@pytest.fixture
def crm(crm_dsn):
    """A contact table of its own in the crm database: (dsn, schema, table); dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    ensure_crm_table(crm_dsn, schema, "contacts")
    yield crm_dsn, schema, "contacts"
    with psycopg2.connect(crm_dsn) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.fixture
def settings(tmp_path):
    return load_settings().with_overrides(warehouse_path=str(tmp_path / "wh.duckdb"))


@pytest.fixture
def warehouse(settings):
    con = connect(settings)
    yield con
    con.close()


def load(crm, rows: list[dict[str, object]]) -> int:
    dsn, schema, table = crm
    return upsert_contacts(dsn, pd.DataFrame(rows), schema, table)


def extract(con, crm, tmp_path):
    dsn, schema, table = crm
    return extract_contacts(con, dsn, schema, table, pipelines_dir=tmp_path / "dlt")


def landed(con, result) -> pd.DataFrame:
    return con.execute(f"SELECT * FROM {result.table} WHERE _dlt_load_id = ? ORDER BY crm_id", [result.load_id]).df()


def test_crm_table_has_the_contract_fields(crm):
    dsn, schema, table = crm
    contract = yaml.safe_load((ROOT / "data_contracts" / "crm_contacts.yml").read_text("utf-8"))
    assert list(CONTACT_COLUMNS) == [f["name"] for f in contract["fields"]]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        columns = cur.fetchall()
    conn.close()
    assert [c[0] for c in columns] == list(CONTACT_COLUMNS)
    types = {name: (kind, nullable) for name, kind, nullable in columns}
    assert types["birth_date"] == ("text", "YES")
    assert types["crm_id"] == ("text", "NO")  # the primary key
    assert types["updated_at"] == ("timestamp with time zone", "NO")
    ensure_crm_table(dsn, schema, table)  # idempotent


def test_first_extract_loads_all_rows(crm, warehouse, tmp_path):
    assert load(crm, [contact(i, T0 + timedelta(minutes=i)) for i in range(1, 4)]) == 3
    settings_sql = "SELECT name, value FROM duckdb_settings() ORDER BY name"
    before = warehouse.execute(settings_sql).fetchall()
    result = extract(warehouse, crm, tmp_path)
    assert warehouse.execute(settings_sql).fetchall() == before  # TimeZone, search_path, ... kept

    assert result.load_id is not None
    assert result.rows == 3
    assert result.table == f"{DATASET_NAME}.contacts"
    assert result.cursor == T0 + timedelta(minutes=3)
    rows = landed(warehouse, result)
    assert list(rows["crm_id"]) == ["C0000001", "C0000002", "C0000003"]
    assert rows.loc[0, "last_name"] == "山田"

    types = dict(
        warehouse.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = 'contacts'",
            [DATASET_NAME],
        ).fetchall()
    )
    assert set(types) == set(CONTACT_COLUMNS) | set(DLT_COLUMNS)
    assert types["created_at"] == types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert {types[c] for c in CONTACT_COLUMNS if not c.endswith("_at")} == {"VARCHAR"}
    tables = {
        r[0]
        for r in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [DATASET_NAME]
        ).fetchall()
    }
    assert tables == {"contacts", *DLT_TABLES}
    status = warehouse.execute(
        f"SELECT status FROM {DATASET_NAME}._dlt_loads WHERE load_id = ?", [result.load_id]
    ).fetchall()
    assert status == [(0,)]  # the load is complete
    # timestamps as the contract's ISO text, whatever the connection's TimeZone
    text = warehouse.execute(
        f"SELECT strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') FROM {result.table}"
        " WHERE crm_id = 'C0000001'"
    ).fetchone()[0]
    assert text == "2025-03-01T09:01:00.000000Z"


def test_second_extract_loads_nothing(crm, warehouse, tmp_path):
    load(crm, [contact(i, T0 + timedelta(minutes=i)) for i in range(1, 4)])
    first = extract(warehouse, crm, tmp_path)
    second = extract(warehouse, crm, tmp_path)

    assert second.load_id is None
    assert second.rows == 0
    assert second.cursor == first.cursor
    assert warehouse.execute(f"SELECT count(*) FROM {first.table}").fetchone()[0] == 3


def test_update_and_insert_are_picked_up(crm, warehouse, tmp_path):
    load(crm, [contact(i, T0 + timedelta(minutes=i)) for i in range(1, 4)])
    first = extract(warehouse, crm, tmp_path)

    later = T0 + timedelta(hours=1)
    assert load(crm, [contact(2, later, email="new@example.jp")]) == 1  # an update
    # an insert at exactly the stored cursor: dlt re-reads the boundary (>=) and keeps new keys
    assert load(crm, [contact(9, first.cursor)]) == 1
    second = extract(warehouse, crm, tmp_path)

    assert second.load_id not in (None, first.load_id)
    assert second.rows == 2
    assert second.cursor == later
    rows = landed(warehouse, second)
    assert list(rows["crm_id"]) == ["C0000002", "C0000009"]
    assert rows.loc[0, "email"] == "new@example.jp"
    # both versions of C0000002 are kept, one per load
    versions = warehouse.execute(
        f"SELECT _dlt_load_id, email FROM {first.table} WHERE crm_id = 'C0000002' ORDER BY 1"
    ).fetchall()
    assert versions == [(first.load_id, "hanako2@example.jp"), (second.load_id, "new@example.jp")]


def _extract_in_fresh_process(settings, crm, pipelines_dir: Path) -> dict[str, object]:
    dsn, schema, table = crm
    code = (
        "import json, sys\n"
        "from kizuna.settings import load_settings\n"
        "from kizuna.warehouse import connect\n"
        "from kizuna.collect.crm_postgres import extract_contacts\n"
        "s = load_settings().with_overrides(warehouse_path=sys.argv[1])\n"
        "con = connect(s)\n"
        "r = extract_contacts(con, sys.argv[2], sys.argv[3], sys.argv[4], pipelines_dir=sys.argv[5])\n"
        "con.close()\n"
        "print(json.dumps({'load_id': r.load_id, 'rows': r.rows, 'cursor': str(r.cursor)}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, settings.warehouse_path, dsn, schema, table, str(pipelines_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # dlt prints nothing
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fresh_process_continues_from_the_stored_cursor(crm, settings, tmp_path):
    load(crm, [contact(i, T0 + timedelta(minutes=i)) for i in range(1, 4)])
    con = connect(settings)
    first = extract(con, crm, tmp_path)
    con.close()  # one writing process at a time

    # another process, same pipelines_dir: local state
    again = _extract_in_fresh_process(settings, crm, tmp_path / "dlt")
    assert again == {"load_id": None, "rows": 0, "cursor": str(first.cursor)}

    # another process with an empty pipelines_dir: the state comes back from the warehouse
    later = T0 + timedelta(days=1)
    load(crm, [contact(3, later, phone="03-1234-5678")])
    fresh = _extract_in_fresh_process(settings, crm, tmp_path / "elsewhere")
    assert fresh["rows"] == 1
    assert fresh["cursor"] == str(later)

    con = connect(settings)
    try:
        rows = con.execute(
            f"SELECT crm_id, phone FROM {first.table} WHERE _dlt_load_id = ?", [fresh["load_id"]]
        ).fetchall()
    finally:
        con.close()
    assert rows == [("C0000003", "03-1234-5678")]


@pytest.mark.skipif(extension_directory() is None, reason="duckdb-ext-httpfs is not installed")
def test_encrypted_warehouse_keeps_the_landed_rows(crm, settings, tmp_path, monkeypatch):
    # connect() attaches the encrypted file to an in-memory database and USEs it: dlt must land
    # in that catalog, not in `memory`
    monkeypatch.setenv(settings.encryption_key_env, "test-key-0123456789")
    load(crm, [contact(1, T0), contact(2, T0)])
    con = connect(settings)
    try:
        where = con.execute("SELECT current_database(), current_schema()").fetchone()
        result = extract(con, crm, tmp_path)
        assert con.execute("SELECT current_database(), current_schema()").fetchone() == where
        catalogs = con.execute(
            "SELECT DISTINCT database_name FROM duckdb_tables() WHERE schema_name = ?", [DATASET_NAME]
        ).fetchall()
        assert catalogs == [(where[0],)]
    finally:
        con.close()
    con = connect(settings)
    try:
        assert con.execute(f"SELECT count(*) FROM {result.table}").fetchone()[0] == 2
    finally:
        con.close()


def test_text_values_pass_through_unjudged(crm, warehouse, tmp_path):
    odd = {
        "birth_date": "2026-02-30",  # no such day: the contract split judges it, not the connector
        "gender": "F",
        "postcode": "1500001",
        "loyalty_card_id": None,
        "email": "",
    }
    load(crm, [contact(1, T0, **odd), contact(2, T0, birth_date=None)])
    result = extract(warehouse, crm, tmp_path)
    rows = landed(warehouse, result)
    first = rows.iloc[0]
    assert first["birth_date"] == "2026-02-30"
    assert first["gender"] == "F"
    assert first["postcode"] == "1500001"
    assert first["email"] == ""
    assert pd.isna(first["loyalty_card_id"])
    assert pd.isna(rows.iloc[1]["birth_date"])


def test_upsert_refuses_unreadable_timestamps(crm):
    dsn, schema, table = crm
    rows = pd.DataFrame(
        [
            contact(1, T0),
            contact(2, T0, updated_at="2026-02-30T10:00:00"),
            contact(3, T0, created_at=None),
            contact(4, T0, updated_at="yesterday"),
        ]
    )
    with pytest.raises(InvalidContactRows) as caught:
        upsert_contacts(dsn, rows, schema, table)
    assert caught.value.rejected == 3
    assert caught.value.crm_ids == ["C0000002", "C0000003", "C0000004"]
    assert caught.value.reasons == {"updated_at unreadable": 2, "created_at missing": 1}
    assert "2026-02-30" not in str(caught.value)  # values (maybe PII) stay out of messages

    assert upsert_contacts(dsn, rows, schema, table, skip_invalid=True) == 1
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT crm_id FROM "{schema}"."{table}"')
        assert cur.fetchall() == [("C0000001",)]
    conn.close()


def test_upsert_updates_by_crm_id_and_ignores_stale_rows(crm):
    dsn, schema, table = crm
    assert load(crm, [contact(1, T0), contact(1, T0 + timedelta(minutes=5), email="b@x.jp")]) == 1
    assert load(crm, [contact(1, T0 - timedelta(days=1), email="stale@x.jp")]) == 0
    # naive times are UTC; offsets are honoured
    assert load(crm, [contact(2, T0, updated_at="2025-03-01T18:00:00+09:00")]) == 1
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT crm_id, email, updated_at FROM "{schema}"."{table}" ORDER BY 1')
        got = cur.fetchall()
    conn.close()
    assert got[0][:2] == ("C0000001", "b@x.jp")
    assert got[1][2] == T0
    with pytest.raises(ValueError, match="not CRM contact fields"):
        upsert_contacts(dsn, pd.DataFrame([{**contact(5, T0), "shoe_size": 27}]), schema, table)


def test_empty_crm_table_lands_nothing(crm, warehouse, tmp_path):
    result = extract(warehouse, crm, tmp_path)
    assert (result.load_id, result.rows, result.cursor) == (None, 0, None)


def test_dlt_sends_no_telemetry(crm, warehouse, tmp_path):
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
    from dlt.common.runtime import anon_tracker

    load(crm, [contact(1, T0)])
    extract(warehouse, crm, tmp_path)
    assert Container()[PluggableRunContext].context.runtime_config.dlthub_telemetry is False
    assert anon_tracker._ANON_TRACKER_ENDPOINT is None  # nothing would be sent
