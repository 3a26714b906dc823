"""The tables ingestion writes: raw tables per source, the quarantine, warnings and the file ledger.

`ingest.ledger` keys every file version by path and content checksum: a file already ingested is
not read again, a rewritten file is (deduplication then decides what survives).
"""

from __future__ import annotations

import duckdb

from data_contracts import Contract
from data_contracts.sql import ident, raw_table_columns

RAW_SCHEMA = "raw"
INGEST_SCHEMA = "ingest"
RAW_META_COLUMNS = [
    ("_extra", "JSON"),
    ("_file", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_partition", "DATE"),
    ("_ingested_at", "TIMESTAMPTZ"),
    ("_batch_id", "VARCHAR"),
]

_INGEST_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA};
CREATE SCHEMA IF NOT EXISTS {INGEST_SCHEMA};
CREATE TABLE IF NOT EXISTS {INGEST_SCHEMA}.ledger (
    source VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,
    size BIGINT,
    partition DATE,
    "read" BIGINT NOT NULL,
    loaded BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    deduplicated BIGINT NOT NULL,
    suppressed BIGINT NOT NULL,
    warned BIGINT NOT NULL,
    new_columns VARCHAR[],
    missing_columns VARCHAR[],
    file_error VARCHAR,
    batch_id VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (path, checksum)
);
CREATE TABLE IF NOT EXISTS {INGEST_SCHEMA}.quarantine (
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    rules VARCHAR[] NOT NULL,
    reason VARCHAR NOT NULL,
    raw VARCHAR,
    partition DATE,
    batch_id VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS {INGEST_SCHEMA}.warnings (
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    rules VARCHAR[] NOT NULL,
    partition DATE,
    batch_id VARCHAR NOT NULL,
    noted_at TIMESTAMPTZ NOT NULL
);
"""


def raw_table(contract: Contract) -> str:
    return f"{RAW_SCHEMA}.{ident(contract.name)}"


def ensure_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the ingest tables and the source's raw table; add columns a contract gained since."""
    con.execute(_INGEST_DDL)
    columns = raw_table_columns(contract) + RAW_META_COLUMNS
    body = ", ".join(f"{ident(n)} {t}" for n, t in columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(contract)} ({body})")
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [RAW_SCHEMA, contract.name],
        ).fetchall()
    }
    for name, sql_type in columns:
        if name not in existing:
            con.execute(f"ALTER TABLE {raw_table(contract)} ADD COLUMN {ident(name)} {sql_type}")


def known_files(con: duckdb.DuckDBPyConnection, source: str) -> set[tuple[str, str]]:
    """(path, checksum) of every file version of a source already in the ledger."""
    rows = con.execute(f"SELECT path, checksum FROM {INGEST_SCHEMA}.ledger WHERE source = ?", [source]).fetchall()
    return {(p, c) for p, c in rows}
