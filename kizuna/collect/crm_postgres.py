"""The CRM's PostgreSQL database, and the dlt connector that lands its contacts in the warehouse.

Three pieces:

* `ensure_crm_table` creates the contact table as the CRM system keeps it: the fields of the
  `crm_contacts` contract, all text except the two typed timestamps (a CRM keeps birth dates as
  text, bad ones included).
* `upsert_contacts` plays the CRM system (for `kizuna crm-load` and the tests): it writes rows by
  `crm_id` with bound parameters. The table's timestamps are typed, so rows whose `created_at` or
  `updated_at` cannot be read are refused here, before anything is written.
* `extract_contacts` runs the dlt pipeline `crm_postgres`: `sql_table` with an incremental cursor
  on `updated_at`, appended to `landing_crm_postgres.<table>` through the caller's warehouse
  connection. Each run's rows carry their own `_dlt_load_id`; the caller picks a run's rows by it.

Incremental semantics (dlt 1.31, checked in its source): the query is `updated_at >= last_value`
(`range_start="closed"`), and rows whose `updated_at` equals the stored `last_value` are dropped
when their primary key (`crm_id`, reflected from the table) is among the hashes dlt keeps in its
state for that value. The state lives in `pipelines_dir` and in the warehouse
(`landing_crm_postgres._dlt_pipeline_state`); a run with an empty or missing `pipelines_dir`
restores it from the warehouse, and a `pipelines_dir` whose dataset is missing from the warehouse
is wiped. Keep one `pipelines_dir` per warehouse.

dlt sends anonymous telemetry unless told not to: this module turns it off before dlt builds its
runtime (`RUNTIME__DLTHUB_TELEMETRY=false`) and stops a tracker that someone else started.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PIPELINE_NAME = "crm_postgres"
DATASET_NAME = "landing_crm_postgres"
CURSOR_COLUMN = "updated_at"

# The crm_contacts contract's fields, in its order (tests compare them with the contract file).
TEXT_COLUMNS = (
    "crm_id",
    "last_name",
    "first_name",
    "last_name_kana",
    "first_name_kana",
    "email",
    "phone",
    "birth_date",
    "gender",
    "postcode",
    "prefecture",
    "loyalty_card_id",
)
TIMESTAMP_COLUMNS = ("created_at", "updated_at")
CONTACT_COLUMNS = TEXT_COLUMNS + TIMESTAMP_COLUMNS
REQUIRED_COLUMNS = ("crm_id", "created_at", "updated_at")

# Columns and tables dlt adds in the warehouse.
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")
DLT_TABLES = ("_dlt_loads", "_dlt_pipeline_state", "_dlt_version")


class InvalidContactRows(ValueError):
    """Rows the CRM table cannot hold: no crm_id, or a created_at/updated_at that is not a time."""

    def __init__(self, rejected: int, total: int, crm_ids: list[str], reasons: dict[str, int]):
        self.rejected = rejected
        self.total = total
        self.crm_ids = crm_ids
        self.reasons = reasons
        shown = ", ".join(crm_ids[:5]) + (" ..." if len(crm_ids) > 5 else "")
        why = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
        super().__init__(
            f"{rejected} of {total} CRM contact rows cannot be stored ({why}); crm_ids: {shown or '-'}. "
            "Pass skip_invalid=True to write the others."
        )


@dataclass(frozen=True)
class CrmExtract:
    """What one run of the connector landed."""

    load_id: str | None  # None when nothing new was found
    rows: int  # rows landed by this run (those with _dlt_load_id = load_id)
    table: str  # the warehouse table holding every run's rows, e.g. landing_crm_postgres.contacts
    cursor: datetime | None  # max updated_at seen so far (UTC), where the next run starts


# --- the CRM side ------------------------------------------------------------------------------------


def _connect(dsn: str, **kwargs: Any) -> psycopg2.extensions.connection:
    return psycopg2.connect(dsn, application_name="kizuna", **kwargs)


def _qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def ensure_crm_table(dsn: str, schema: str = "crm", table: str = "contacts") -> None:
    """Create the CRM's contact table (and its schema) if absent; check the columns if present."""
    text_cols = [
        sql.SQL("{} text").format(sql.Identifier(c)) + (sql.SQL(" PRIMARY KEY") if c == "crm_id" else sql.SQL(""))
        for c in TEXT_COLUMNS
    ]
    ts_cols = [sql.SQL("{} timestamptz NOT NULL").format(sql.Identifier(c)) for c in TIMESTAMP_COLUMNS]
    ddl = sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
        _qualified(schema, table), sql.SQL(", ").join(text_cols + ts_cols)
    )
    # what an incremental reader needs from a real CRM: an index on the change timestamp
    index = sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
        sql.Identifier(f"{table}_{CURSOR_COLUMN}_idx"[:63]),
        _qualified(schema, table),
        sql.Identifier(CURSOR_COLUMN),
    )
    conn = _connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            cur.execute(ddl)
            cur.execute(index)
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (schema, table),
            )
            present = {r[0] for r in cur.fetchall()}
    finally:
        conn.close()
    missing = [c for c in CONTACT_COLUMNS if c not in present]
    if missing:
        raise RuntimeError(f"the existing table {schema}.{table} lacks the contact columns {missing}")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def _as_text(value: Any) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _as_timestamp(value: Any) -> datetime | None:
    """An aware datetime, or None when the value is missing or not a time. Naive means UTC."""
    if _is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def upsert_contacts(
    dsn: str,
    rows: pd.DataFrame,
    schema: str = "crm",
    table: str = "contacts",
    *,
    skip_invalid: bool = False,
    page_size: int = 1000,
) -> int:
    """Insert or update contacts by crm_id; return how many rows were written.

    `rows` holds contract columns (any subset that includes crm_id, created_at, updated_at; other
    columns are an error). Text columns are stored as given (dates and times as ISO text); the
    timestamps are read as ISO 8601 (no offset means UTC). Rows without a crm_id or with a timestamp
    that cannot be read make the call raise `InvalidContactRows` before anything is written; with
    `skip_invalid=True` they are left out (and logged as a count) and the rest is written.
    Within one call the last row of a crm_id wins. A row older than the stored one (by updated_at)
    does not overwrite it and is not counted.
    """
    unknown = [c for c in rows.columns if c not in CONTACT_COLUMNS]
    if unknown:
        raise ValueError(f"columns that are not CRM contact fields: {unknown}")
    absent = [c for c in REQUIRED_COLUMNS if c not in rows.columns]
    if absent:
        raise ValueError(f"CRM contact rows need the columns {absent}")
    columns = [c for c in CONTACT_COLUMNS if c in rows.columns]

    records: dict[str, tuple[Any, ...]] = {}
    bad_ids: list[str] = []
    reasons: dict[str, int] = {}
    for raw in rows[columns].itertuples(index=False, name=None):
        values = dict(zip(columns, raw, strict=True))
        crm_id = _as_text(values["crm_id"])
        problems = [] if crm_id else ["crm_id missing"]
        converted: list[Any] = []
        for col in columns:
            if col in TIMESTAMP_COLUMNS:
                ts = _as_timestamp(values[col])
                if ts is None:
                    problems.append(f"{col} missing" if _is_missing(values[col]) else f"{col} unreadable")
                converted.append(ts)
            else:
                converted.append(_as_text(values[col]))
        if problems:
            for p in problems:
                reasons[p] = reasons.get(p, 0) + 1
            bad_ids.append(crm_id or "<none>")
            continue
        records.pop(crm_id, None)  # keep the last occurrence, in input order
        records[crm_id] = tuple(converted)

    if bad_ids:
        error = InvalidContactRows(len(bad_ids), len(rows), bad_ids, reasons)
        if not skip_invalid:
            raise error
        log.warning("upsert_contacts: skipped %d of %d rows (%s)", len(bad_ids), len(rows), reasons)
    if not records:
        return 0

    updates = [c for c in columns if c != "crm_id"]
    target = _qualified(schema, table)
    statement = sql.SQL(
        "INSERT INTO {target} AS t ({cols}) VALUES %s "
        "ON CONFLICT (crm_id) DO UPDATE SET {sets} "
        "WHERE t.updated_at <= EXCLUDED.updated_at "
        "RETURNING crm_id"
    ).format(
        target=target,
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updates),
    )
    conn = _connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            written = execute_values(
                cur, statement.as_string(cur), list(records.values()), page_size=page_size, fetch=True
            )
    finally:
        conn.close()
    return len(written)


# --- the connector -----------------------------------------------------------------------------------


def _quiet_dlt() -> None:
    """No telemetry from dlt: set before its runtime is configured, and stop a running tracker."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    from dlt.common.runtime import anon_tracker

    if anon_tracker._ANON_TRACKER_ENDPOINT is not None:  # started by an earlier pipeline
        anon_tracker.disable_anon_tracker()


@contextmanager
def _source_engine(dsn: str) -> Iterator[Any]:
    """A SQLAlchemy engine on psycopg2 for any libpq DSN, in read-only transactions.

    SQLAlchemy 2.1 maps a bare postgresql:// URL to psycopg (3), which is not installed; building
    connections through psycopg2 ourselves also accepts keyword DSNs ('host=... dbname=...').
    """
    import sqlalchemy as sa

    engine = sa.create_engine(
        "postgresql+psycopg2://",
        creator=lambda: _connect(dsn, options="-c default_transaction_read_only=on"),
    )
    try:
        yield engine
    finally:
        engine.dispose()


def _destination(con: duckdb.DuckDBPyConnection) -> Any:
    """dlt's DuckDB destination writing through `con`, into the catalog `con` is using.

    dlt works on duplicates of the connection (`con.duplicate()`), and a duplicate starts in the
    database's default catalog, not in the one `USE` picked. The encrypted warehouse is attached
    to an in-memory database and picked with `USE`: without help dlt would land everything in
    `memory` and lose it at exit. So each duplicate first switches to `con`'s catalog (`SET schema`
    changes the catalog too; dlt then sets its own `search_path`, which stays in that catalog).
    """
    import dlt
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    catalog = con.execute("SELECT current_database()").fetchone()[0]
    probe = con.duplicate()
    try:
        default = probe.execute("SELECT current_database()").fetchone()[0]
    finally:
        probe.close()
    local_config = None
    if catalog != default:
        quoted = '"' + catalog.replace('"', '""') + '"'
        local_config = {"schema": f"{quoted}.main"}
    return dlt.destinations.duckdb(DuckDbCredentials(con, local_config=local_config))


# What dlt changes on the connection it is given (dlt 1.31): it pins TimeZone to UTC and raises the
# checkpoint threshold for the whole database, and leaves the connection's search_path on its
# dataset, so that the caller's unqualified names would resolve in landing_crm_postgres.
_GLOBAL_SETTINGS = ("TimeZone", "checkpoint_threshold")


@contextmanager
def _connection_kept_as_it_was(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Give `con` back to the caller with the settings dlt changes restored."""
    saved = {name: con.execute("SELECT current_setting(?)", [name]).fetchone()[0] for name in _GLOBAL_SETTINGS}
    search_path = con.execute("SELECT current_setting('search_path')").fetchone()[0]
    where = con.execute("SELECT current_database(), current_schema()").fetchone()
    try:
        yield
    finally:
        for name, value in saved.items():
            con.execute(f"SET GLOBAL {name} = ?", [value])
        con.execute("SET search_path = ?", [search_path])
        if con.execute("SELECT current_database(), current_schema()").fetchone() != where:
            con.execute("USE " + ".".join('"' + part.replace('"', '""') + '"' for part in where))


def _last_value(state: dict[str, Any], resource: str) -> datetime | None:
    for source in state.get("sources", {}).values():
        inc = source.get("resources", {}).get(resource, {}).get("incremental", {})
        if CURSOR_COLUMN in inc:
            value = inc[CURSOR_COLUMN].get("last_value")
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value
    return None


def extract_contacts(
    con: duckdb.DuckDBPyConnection,
    dsn: str,
    schema: str = "crm",
    table: str = "contacts",
    *,
    pipelines_dir: str | Path,
) -> CrmExtract:
    """Land new and changed CRM contacts in `landing_crm_postgres.<table>` through `con`.

    `con` comes from `kizuna.warehouse.connect`; dlt writes through it, and the settings dlt changes
    on it (TimeZone, checkpoint_threshold, search_path) are put back afterwards. `pipelines_dir`
    holds dlt's working state for this warehouse (one folder per warehouse).
    """
    _quiet_dlt()
    import dlt
    from dlt.sources.sql_database import sql_table

    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir),
        destination=_destination(con),
        dataset_name=DATASET_NAME,
        dev_mode=False,
        progress=None,
    )
    _quiet_dlt()
    with _source_engine(dsn) as engine:
        resource = sql_table(
            credentials=engine,
            schema=schema,
            table=table,
            backend="pyarrow",  # ~10x faster than "sqlalchemy" (100k contacts: 1.5 s against 16 s)
            reflection_level="full",  # column types from the table, so all-NULL columns still land
            incremental=dlt.sources.incremental(CURSOR_COLUMN),
            write_disposition="append",
        )
        overrides = {
            # arrow items get no dlt columns by default; the caller selects a run by _dlt_load_id
            "normalize.parquet_normalizer.add_dlt_load_id": True,
            "normalize.parquet_normalizer.add_dlt_id": True,
            # do not keep copies of the rows (PII) in pipelines_dir once they are loaded
            "load.delete_completed_jobs": True,
        }
        with dlt.config.values(overrides), _connection_kept_as_it_was(con):
            info = pipeline.run(resource)

    landed = pipeline.default_schema.naming.normalize_table_identifier(resource.table_name)
    qualified = f"{DATASET_NAME}.{landed}"
    load_id, rows = None, 0
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ? AND table_name = ?",
        [DATASET_NAME, landed],
    ).fetchone()[0]
    if info.loads_ids and exists:
        # normally one load per run; a package left by a failed run is loaded first, in its own load
        counts = dict(
            con.execute(
                f"SELECT _dlt_load_id, count(*) FROM {qualified} WHERE _dlt_load_id IN "
                f"({', '.join('?' for _ in info.loads_ids)}) GROUP BY 1",
                list(info.loads_ids),
            ).fetchall()
        )
        with_rows = [lid for lid in info.loads_ids if counts.get(lid)]
        if len(with_rows) > 1:
            log.warning("extract_contacts: this run completed %d loads with rows: %s", len(with_rows), with_rows)
        if with_rows:
            load_id, rows = with_rows[-1], int(counts[with_rows[-1]])
    return CrmExtract(
        load_id=load_id,
        rows=rows,
        table=qualified,
        cursor=_last_value(pipeline.state, resource.name),
    )
