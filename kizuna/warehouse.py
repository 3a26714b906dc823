"""The one connection factory for the warehouse.

Nothing else in Kizuna builds a DuckDB path: assets, the command line, tests and (later) dbt's
profile all come through here, so that encryption at rest and the warehouse location are decided
in one place.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from kizuna.settings import Settings, load_settings

ALIAS = "wh"


def extension_directory() -> str | None:
    """The folder of DuckDB extensions shipped by PyPI's duckdb-ext-* packages (no downloads here)."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    return str(folder) if folder.is_dir() else None


def connect(settings: Settings | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. With an encryption key configured, the file is attached encrypted."""
    settings = settings or load_settings()
    path = Path(settings.warehouse_path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {"threads": settings.threads, "memory_limit": settings.memory_limit}
    key = settings.encryption_key
    if key is None:
        return _utc(duckdb.connect(str(path), read_only=read_only, config=config))
    ext_dir = extension_directory()
    if ext_dir is None:
        raise RuntimeError(
            "An encryption key is set but the duckdb-ext-httpfs package is missing: "
            "DuckDB writes encrypted files only with httpfs loaded."
        )
    con = duckdb.connect(":memory:", config={**config, "extension_directory": ext_dir})
    con.execute("LOAD httpfs")
    mode = ", READ_ONLY" if read_only else ""
    # The key is bound by DuckDB's parser only as a literal; it never reaches logs from here.
    con.execute(f"ATTACH '{_quote(str(path))}' AS {ALIAS} (ENCRYPTION_KEY '{_quote(key)}'{mode})")
    con.execute(f"USE {ALIAS}")
    return _utc(con)


def _utc(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Timestamps are stored and shown in UTC whatever the host's zone (business days use settings.tz)."""
    con.execute("SET TimeZone = 'UTC'")
    return con


def _quote(value: str) -> str:
    return value.replace("'", "''")


@contextmanager
def warehouse(settings: Settings | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around `connect` that always closes the connection."""
    con = connect(settings, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All of the block's writes or none: tables a domain writes together are never seen half written."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
