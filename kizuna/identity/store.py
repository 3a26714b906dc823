"""The identity tables in the warehouse: read the last identity map, write a resolution.

Everything is written in one transaction, so readers (dbt marts, the streaming service) see either
the previous identity or the new one, never half of each. The change log is appended; the other
tables are replaced. Each table has a declared schema, so an empty run writes typed tables too.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from kizuna.identity.resolve import Resolution
from kizuna.warehouse import transaction

SCHEMA = "identity"
IDENTITY_MAP = "identity_map"
IDENTITY_CHANGES = "identity_changes"
IDENTITY_FLAGS = "identity_flags"
IDENTITY_LINKS = "identity_links"
RECORD_PERSONS = "record_persons"
TABLES = (IDENTITY_MAP, IDENTITY_CHANGES, IDENTITY_FLAGS, IDENTITY_LINKS, RECORD_PERSONS)

# Column -> DuckDB type, in table order.
COLUMNS: dict[str, dict[str, str]] = {
    IDENTITY_MAP: {"namespace": "VARCHAR", "value": "VARCHAR", "value_hash": "VARCHAR", "person_id": "VARCHAR",
                   "first_seen": "TIMESTAMPTZ", "last_seen": "TIMESTAMPTZ", "is_shared": "BOOLEAN",
                   "flag_reason": "VARCHAR"},
    IDENTITY_CHANGES: {"changed_at": "TIMESTAMPTZ", "kind": "VARCHAR", "person_id": "VARCHAR",
                       "previous_person_ids": "VARCHAR[]", "cause": "VARCHAR", "run_id": "VARCHAR"},
    IDENTITY_FLAGS: {"namespace": "VARCHAR", "value": "VARCHAR", "reason": "VARCHAR"},
    IDENTITY_LINKS: {"namespace_l": "VARCHAR", "value_l": "VARCHAR", "namespace_r": "VARCHAR",
                     "value_r": "VARCHAR", "match_weight": "DOUBLE", "kind": "VARCHAR"},
    RECORD_PERSONS: {"source": "VARCHAR", "record_id": "VARCHAR", "person_id": "VARCHAR"},
}


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [SCHEMA, table]).fetchone()[0]
    return bool(found)


def read_identity_map(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The last identity map, or None before the first run."""
    if not table_exists(con, IDENTITY_MAP):
        return None
    return con.sql(f"select * from {SCHEMA}.{IDENTITY_MAP}").df()


def frames(resolution: Resolution, run_id: str | None = None) -> dict[str, pd.DataFrame]:
    """The rows of each identity table, in its declared columns."""
    changes = resolution.changes.copy()
    changes["previous_person_ids"] = changes["previous_person_ids"].map(lambda ids: [str(i) for i in ids])
    changes["run_id"] = run_id
    out = {IDENTITY_MAP: resolution.identity_map, IDENTITY_CHANGES: changes, IDENTITY_FLAGS: resolution.flags,
           IDENTITY_LINKS: resolution.links, RECORD_PERSONS: resolution.records}
    return {t: out[t].reindex(columns=list(COLUMNS[t])).reset_index(drop=True) for t in TABLES}


def write_resolution(con: duckdb.DuckDBPyConnection, resolution: Resolution, run_id: str | None = None
                     ) -> dict[str, int]:
    """Write every identity table in one transaction; row counts per table."""
    data = frames(resolution, run_id)
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        for table, frame in data.items():
            ddl = ", ".join(f'"{c}" {t}' for c, t in COLUMNS[table].items())
            verb = "create table if not exists" if table == IDENTITY_CHANGES else "create or replace table"
            con.execute(f"{verb} {SCHEMA}.{table} ({ddl})")
            if frame.empty:
                continue
            con.register("_identity_rows", frame)
            casts = ", ".join(f'cast("{c}" as {t})' for c, t in COLUMNS[table].items())
            con.execute(f"insert into {SCHEMA}.{table} select {casts} from _identity_rows")
            con.unregister("_identity_rows")
    return {t: (len(data[t]) if t != IDENTITY_CHANGES else _count(con, t)) for t in TABLES}


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()[0])
