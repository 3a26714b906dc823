"""Ingest landing files under their contract: judge, split, deduplicate, load, and count.

For one source, every file not yet in the ledger is read (see `readers`), judged by the contract's
SQL predicates inside DuckDB, and split: valid records go to `raw.<source>`, the rest to
`ingest.quarantine` with file, line, every failed rule, a readable reason and the raw record.
Valid records whose dedup key was seen before (in the warehouse or earlier in the batch) are
counted as deduplicated and not loaded. Each group of files is written in one transaction together
with its ledger rows, so a crash leaves either all of a file or none of it, and a re-run picks up
exactly what is missing.

Every record read lands in exactly one bucket: loaded, quarantined, deduplicated or suppressed.
`read` comes from the file itself; `lost` (read minus the buckets) must be 0 and is reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from data_contracts import Contract
from data_contracts.sql import PARSED_PREFIX, ident, judged_select, literal, typed_column, typed_columns_sql
from kizuna.collect.landing import LandingFile, checksum, list_files, read_bytes
from kizuna.collect.quarantine import quarantine_failed, quarantine_rejected, quarantine_unreadable
from kizuna.collect.readers import (
    FileBatch,
    jsonl_canonical_sql,
    jsonl_parsed_fields,
    jsonl_unknown_keys,
    read_file,
    read_relation,
)
from kizuna.collect.report import FileCounts, IngestReport
from kizuna.collect.store import INGEST_SCHEMA, ensure_tables, known_files, raw_table

# Files are processed in groups of about this many bytes: bounded memory, one transaction each.
GROUP_BYTES = 512 * 1024 * 1024
READ_THREADS = 4
# At most about this many passing records per group are judged again by the asset check.
CHECK_SAMPLE_ROWS = 50_000


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_url: str,
    partitions: Iterable[date] | None = None,
    *,
    reference_time: datetime | None = None,
    keep_batch: bool = False,
) -> IngestReport:
    """Ingest every new landing file of one source (optionally only some arrival days)."""
    con.execute("SET TimeZone = 'UTC'")
    ensure_tables(con, contract)
    reference_time = reference_time or datetime.now(UTC)
    report = IngestReport(source=contract.name, batch_id=uuid.uuid4().hex)
    wanted = set(partitions) if partitions is not None else None
    files = [f for f in list_files(contract, landing_url) if wanted is None or f.partition in wanted]
    known = known_files(con, contract.name)
    batches: list[pd.DataFrame] = []
    for chunk in _chunks(files):
        read = _read_all(con, contract, landing_url, chunk, known)
        report.skipped.extend(f.url for f, b in zip(chunk, read, strict=True) if b is None)
        group = [b for b in read if b is not None]
        if group:
            _ingest_group(con, contract, group, report, reference_time, batches if keep_batch else None)
    if keep_batch:
        report.batch = pd.concat(batches, ignore_index=True) if batches else pd.DataFrame()
    return report


def _chunks(files: list[LandingFile]) -> Iterator[list[LandingFile]]:
    """Groups of files of about GROUP_BYTES together (sizes as listed)."""
    chunk: list[LandingFile] = []
    size = 0
    for file in files:
        chunk.append(file)
        size += file.size
        if size >= GROUP_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _read_all(con: duckdb.DuckDBPyConnection, contract: Contract, landing_url: str,
              files: list[LandingFile], known: set[tuple[str, str]]) -> list[FileBatch | None]:
    """Read and checksum files, and split those not in the ledger (None for those that are), on a
    few threads: numpy and hashlib release the GIL. Parquet goes through DuckDB, whose connection
    is not shared across threads: those are read in turn."""

    def one(file: LandingFile) -> FileBatch | None:
        data = read_bytes(landing_url, file.path)
        digest = checksum(data)
        if (file.url, digest) in known:
            return None
        return read_file(contract, file, data, digest, con)

    if contract.format != "jsonl" or len(files) < 2:
        return [one(f) for f in files]
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        return list(pool.map(one, files))


def ingest_landed_table(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table: str,
    origin: str,
    *,
    load_column: str = "_dlt_load_id",
    loads: Iterable[str],
    ignore_columns: Iterable[str] = ("_dlt_load_id", "_dlt_id"),
    reference_time: datetime | None = None,
    keep_batch: bool = False,
) -> IngestReport:
    """Judge and split rows that a connector (dlt) landed in a warehouse table, load by load.

    Each load is one ledger entry (`<origin>#load=<id>`): a load already split is not split again,
    and a load landed by a run that crashed before splitting is split by the next run.
    """
    con.execute("SET TimeZone = 'UTC'")
    ensure_tables(con, contract)
    reference_time = reference_time or datetime.now(UTC)
    report = IngestReport(source=contract.name, batch_id=uuid.uuid4().hex)
    known = known_files(con, contract.name)
    ignored = set(ignore_columns)
    header = [
        name
        for (name,) in con.execute(f"SELECT column_name FROM (DESCRIBE SELECT * FROM {table})").fetchall()
        if name not in ignored
    ]
    batches: list[pd.DataFrame] = []
    for load_id in loads:
        url = f"{origin}#load={load_id}"
        if (url, load_id) in known:
            report.skipped.append(url)
            continue
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW _k_landed AS
                SELECT *, row_number() OVER (ORDER BY _dlt_id) AS _line FROM {table}
                WHERE {ident(load_column)} = {literal(load_id)}"""
        )
        file = LandingFile(contract.name, url, url, None, 0)
        batch = read_relation(contract, file, load_id, con, "_k_landed", header)
        _ingest_group(con, contract, [batch], report, reference_time, batches if keep_batch else None)
    con.execute("DROP VIEW IF EXISTS _k_landed")
    if keep_batch:
        report.batch = pd.concat(batches, ignore_index=True) if batches else pd.DataFrame()
    return report


def _ingest_group(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    group: list[FileBatch],
    report: IngestReport,
    reference_time: datetime,
    batches: list[pd.DataFrame] | None,
) -> None:
    counts = {b.file.url: _counts_of(b) for b in group}
    con.execute("BEGIN TRANSACTION")
    try:
        for b in group:
            if b.file_error:
                quarantine_unreadable(con, contract, b, report, counts[b.file.url])
            elif b.missing_required:
                quarantine_rejected(con, contract, b, report, counts[b.file.url])
        judged = [b for b in group if not b.file_error and not b.missing_required and b.read]
        if judged:
            source, canonical = _canonical(con, contract, judged)
            parsed = jsonl_parsed_fields(contract) if contract.format == "jsonl" else frozenset()
            judge = judged_select(contract, f"({canonical('_k_src')})", reference_time, text=False, parsed=parsed)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _k_judged AS {judge}")
            for rule, n in con.execute(
                "SELECT r, count(*) FROM (SELECT unnest(_errors || _warnings) AS r FROM _k_judged) GROUP BY r"
            ).fetchall():
                report.judged_rule_counts[rule] += n
            quarantine_failed(con, contract, report, counts, "_k_src", canonical)
            _load_valid(con, contract, report, counts)
            if batches is not None:
                batches.append(_check_sample(con, "_k_src", source.num_rows, canonical, report))
        for c in counts.values():
            _ledger_row(con, contract, group, c, report.batch_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        try:
            con.unregister("_k_src")
        except duckdb.Error:
            pass
        con.execute("DROP TABLE IF EXISTS _k_judged; DROP TABLE IF EXISTS _k_dup")
    report.files.extend(counts.values())


def _check_sample(con: duckdb.DuckDBPyConnection, source: str, rows: int, canonical: Callable[[str], str],
                  report: IngestReport) -> pd.DataFrame:
    """The judged records another judge should see again, as text: every record that failed or
    warned, and the others in full up to CHECK_SAMPLE_ROWS, beyond that an even sample of them.

    Great Expectations on pandas takes seconds per 100k records: judging every record again would
    make a backfill of a million events crawl, while this keeps each verdict of the split checked.
    """
    stride = max(1, -(-rows // CHECK_SAMPLE_ROWS))
    chosen = (
        f"(SELECT * FROM {source} WHERE _seq % {stride} = 0 OR _seq IN "
        "(SELECT _seq FROM _k_judged WHERE len(_errors) > 0 OR len(_warnings) > 0))"
    )
    text_only = f"COLUMNS(c -> c NOT IN ('_seq', '_partition') AND NOT starts_with(c, {literal(PARSED_PREFIX)}))"
    sample = con.execute(f"SELECT {text_only} FROM ({canonical(chosen)}) ORDER BY _seq").df()
    report.checked_rows += len(sample)
    report.judged_rows += rows
    return sample


def _counts_of(b: FileBatch) -> FileCounts:
    return FileCounts(
        path=b.file.url,
        partition=b.file.partition,
        read=b.read if not b.file_error else 1,
        new_columns=list(b.new_columns),
        missing_columns=list(b.missing_required),
        file_error=b.file_error,
    )


def _canonical(con: duckdb.DuckDBPyConnection, contract: Contract,
               judged: list[FileBatch]) -> tuple[pa.Table, Callable[[str], str]]:
    """Register the group's records as `_k_src` (with a row number `_seq`); return them and a
    function giving the SQL that reads any such table as canonical text records."""
    table = pa.concat_tables([b.table for b in judged], promote_options="permissive")
    table = table.append_column("_seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    partitions = pa.array([b.file.partition for b in judged], pa.date32())
    per_row = np.repeat(np.arange(len(judged)), [b.table.num_rows for b in judged])
    table = table.append_column("_partition", partitions.take(pa.array(per_row, pa.int64())))
    con.register("_k_src", table)
    if contract.format == "jsonl":
        extra_keys = jsonl_unknown_keys(con, contract, "_k_src")
        for b in judged:
            b.new_columns = extra_keys
        return table, lambda view: jsonl_canonical_sql(contract, view, extra_keys)
    return table, lambda view: f"SELECT * FROM {view}"


def _load_valid(con, contract: Contract, report: IngestReport, counts: dict[str, FileCounts]) -> None:
    """Load the valid records that are not duplicates; count loaded, deduplicated and warned."""
    target = raw_table(contract)
    keys = [typed_column(k) for k in (contract.dedup_key or contract.primary_key)]
    if keys:
        on = " AND ".join(f"v.{k} = d.{k}" for k in keys)
        seen = " AND ".join(f"r.{ident(name)} = v.{k}" for name, k in zip(contract.dedup_key or contract.primary_key,
                                                                          keys, strict=True))
        key_list = ", ".join(keys)
        # Duplicates are rare: the window runs only over keys that occur twice in the batch.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _k_dup AS
                WITH valid AS (SELECT _seq, _file, _line, {key_list} FROM _k_judged WHERE len(_errors) = 0),
                     repeated AS (SELECT {key_list} FROM valid GROUP BY ALL HAVING count(*) > 1)
                SELECT _seq FROM valid v WHERE EXISTS (SELECT 1 FROM {target} r WHERE {seen})
                UNION
                SELECT v._seq FROM valid v JOIN repeated d ON {on}
                QUALIFY row_number() OVER (PARTITION BY {", ".join("v." + k for k in keys)}
                                           ORDER BY v._file, v._line) > 1"""
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _k_dup AS SELECT CAST(NULL AS BIGINT) AS _seq WHERE FALSE")
    columns = ", ".join(ident(n) for n in contract.field_names)
    has_dups = con.execute("SELECT count(*) FROM _k_dup").fetchone()[0] > 0
    keep = "len(_errors) = 0" + (" AND _seq NOT IN (SELECT _seq FROM _k_dup)" if has_dups else "")
    con.execute(
        f"""INSERT INTO {target} ({columns}, _extra, _file, _line, _partition, _ingested_at, _batch_id)
            SELECT {typed_columns_sql(contract)}, CAST(_extra AS JSON), _file, _line, _partition,
                   now(), {literal(report.batch_id)}
            FROM _k_judged WHERE {keep}"""
    )
    con.execute(
        f"""INSERT INTO {INGEST_SCHEMA}.warnings
            SELECT {literal(contract.name)}, _file, _line, _warnings, _partition, {literal(report.batch_id)}, now()
            FROM _k_judged WHERE {keep} AND len(_warnings) > 0"""
    )
    for path, loaded, dedup, warned in con.execute(
        """SELECT _file, count(*) FILTER (WHERE d._seq IS NULL), count(*) FILTER (WHERE d._seq IS NOT NULL),
                  count(*) FILTER (WHERE d._seq IS NULL AND len(_warnings) > 0)
           FROM _k_judged j LEFT JOIN _k_dup d USING (_seq)
           WHERE len(_errors) = 0 GROUP BY _file"""
    ).fetchall():
        counts[path].loaded += loaded
        counts[path].deduplicated += dedup
        counts[path].warned += warned
    for rule, n in con.execute(
        """SELECT r, count(*) FROM (SELECT unnest(_warnings) AS r FROM _k_judged
           WHERE len(_errors) = 0 AND _seq NOT IN (SELECT _seq FROM _k_dup)) GROUP BY r"""
    ).fetchall():
        report.warning_counts[rule] += n


def _ledger_row(con, contract: Contract, group: list[FileBatch], c: FileCounts, batch_id: str) -> None:
    b = next(b for b in group if b.file.url == c.path)
    c.new_columns = list(b.new_columns)
    con.execute(
        f"""INSERT INTO {INGEST_SCHEMA}.ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())""",
        [
            contract.name, c.path, b.checksum, b.file.size, c.partition, c.read, c.loaded, c.quarantined,
            c.deduplicated, c.suppressed, c.warned, c.new_columns, c.missing_columns, c.file_error, batch_id,
        ],
    )
