"""The CRM database as a source: dlt lands new and changed contacts, the contract splits them.

The rows land in `landing_crm_postgres.contacts` (dlt, incremental on updated_at), then each
completed dlt load is judged by the `crm_contacts` contract into the same raw table and quarantine
as the CRM's CSV exports: one contract, one raw table, whichever way the contacts arrive.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from data_contracts import Contract
from kizuna.collect.crm_postgres import extract_contacts
from kizuna.collect.ingest import IngestReport, ingest_landed_table
from kizuna.settings import Settings


def origin_of(dsn: str, schema: str, table: str) -> str:
    """Where the rows came from, as the ledger and the quarantine name it (never the password)."""
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}/{schema}.{table}"


def completed_loads(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """dlt load ids that completed (status 0) and hold rows of the table, oldest first."""
    dataset = table.split(".")[0]
    return [
        load_id
        for (load_id,) in con.execute(
            f"""SELECT l.load_id FROM {dataset}._dlt_loads l
                WHERE l.status = 0 AND EXISTS (SELECT 1 FROM {table} t WHERE t._dlt_load_id = l.load_id)
                ORDER BY l.inserted_at, l.load_id"""
        ).fetchall()
    ]


def ingest_crm_database(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    settings: Settings,
    *,
    reference_time: datetime | None = None,
    keep_batch: bool = False,
) -> IngestReport:
    extract = extract_contacts(
        con, settings.crm_dsn, settings.crm_schema, settings.crm_table, pipelines_dir=Path(settings.dlt_pipelines_dir)
    )
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name || '.' || "
        "table_name = ?",
        [extract.table],
    ).fetchone()[0]
    loads = completed_loads(con, extract.table) if exists else []
    return ingest_landed_table(
        con, contract, extract.table, origin_of(settings.crm_dsn, settings.crm_schema, settings.crm_table),
        loads=loads, reference_time=reference_time, keep_batch=keep_batch,
    )
