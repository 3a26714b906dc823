"""Readers: turn one landing file into records whose values are text, with file and line.

Every judge of a contract works on text, so each format is brought to the same shape: one text
column per contract field (None when absent or empty), `_file`, `_line` (line of a JSONL or CSV
file, row of a Parquet file, counted from 1), `_raw` (the record as found), `_parse_error` (why
the record could not be read) and `_extra` (JSON of columns the contract does not know).
`read` is counted here, from the file itself, before anything is judged.

JSONL is split into lines with numpy and parsed inside DuckDB (one `from_json` per line): the hot
path for a million events. CSV goes through Python's csv module, which knows quoted newlines and
tells exactly which line a record came from. Parquet is read with pyarrow.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import Contract
from data_contracts.sql import ident, literal, parsed_column
from kizuna.collect.landing import LandingFile

META_COLUMNS = ("_file", "_line", "_raw", "_parse_error", "_extra")
# Top-level JSON keys are looked for in this many leading lines plus every 97th line after:
# a full scan would cost one more parse of every event.
KEY_SCAN_HEAD = 1000
KEY_SCAN_STRIDE = 97


@dataclass
class FileBatch:
    """What a reader made of one file."""

    file: LandingFile
    checksum: str
    read: int = 0
    table: pa.Table | None = None  # JSONL: lines; CSV and Parquet: records as text
    header: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    file_error: str | None = None  # the file could not be read at all


def _text_table(file: LandingFile, columns: dict[str, list], lines: list[int], raws: list[str],
                errors: list[str | None], extras: list[str | None], contract: Contract) -> pa.Table:
    data = {name: pa.array(columns.get(name, [None] * len(lines)), pa.string()) for name in contract.field_names}
    data["_file"] = pa.array([file.url] * len(lines), pa.string())
    data["_line"] = pa.array(lines, pa.int64())
    data["_raw"] = pa.array(raws, pa.string())
    data["_parse_error"] = pa.array(errors, pa.string())
    data["_extra"] = pa.array(extras, pa.string())
    return pa.table(data)


# --- JSONL -------------------------------------------------------------------------------------

def read_jsonl(contract: Contract, file: LandingFile, data: bytes, checksum: str) -> FileBatch:
    """Split into lines (blank lines are not records); parsing happens in `jsonl_canonical_sql`."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    lengths = ends - starts
    # A trailing carriage return (CRLF files) does not make a line non-blank.
    has_cr = lengths > 0
    has_cr[has_cr] = buf[ends[has_cr] - 1] == 13
    nonblank = (lengths - has_cr) > 0
    starts = starts[nonblank]
    line_numbers = np.flatnonzero(nonblank) + 1
    batch = FileBatch(file=file, checksum=checksum, read=len(starts))
    # Each string runs to the start of the next record: trailing newlines and blank lines are
    # JSON whitespace, and the offsets stay contiguous (zero-copy over the file's bytes).
    offsets = np.append(starts, len(data)).astype(np.int64)
    raw = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
    pre_error: pa.Array = pa.nulls(len(starts), pa.string())
    try:
        raw.validate(full=True)
    except pa.ArrowInvalid:
        raw, pre_error = _repair_utf8(data, starts, offsets)
    batch.table = pa.table(
        {
            "_file": pa.array([file.url] * len(starts), pa.string()).dictionary_encode(),
            "_line": pa.array(line_numbers, pa.int64()),
            "_raw": raw,
            "_pre_error": pre_error,
        }
    )
    return batch


def _repair_utf8(data: bytes, starts: np.ndarray, offsets: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Slow path for files with bytes that are not UTF-8: such lines are parse errors."""
    texts, errors = [], []
    for i in range(len(starts)):
        chunk = data[offsets[i] : offsets[i + 1]]
        try:
            texts.append(chunk.decode("utf-8"))
            errors.append(None)
        except UnicodeDecodeError as exc:
            texts.append(chunk.decode("utf-8", errors="replace"))
            errors.append(f"not valid UTF-8 at byte {exc.start} of the line")
    return pa.array(texts, pa.large_string()), pa.array(errors, pa.string())


def _json_parts(contract: Contract) -> tuple[dict[str, str], dict[str, tuple[str, str | None]]]:
    """The from_json struct spec, and per field: (top-level key, rest of the path or None)."""
    spec: dict[str, str] = {}
    where: dict[str, tuple[str, str | None]] = {}
    json_tops = {(f.path or f"$.{f.name}")[2:] for f in contract.fields if f.type == "json"}
    for f in contract.fields:
        path = (f.path or f"$.{f.name}")[2:]
        top, _, rest = path.partition(".")
        if rest:
            spec[top] = "JSON"
            where[f.name] = (top, "$." + rest)
        else:
            spec.setdefault(top, "JSON" if top in json_tops else "VARCHAR")
            where[f.name] = (top, None)
    return spec, where


def jsonl_unknown_keys(con: duckdb.DuckDBPyConnection, contract: Contract, lines_view: str) -> list[str]:
    spec, _ = _json_parts(contract)
    rows = con.execute(
        f"""SELECT DISTINCT k FROM (
              SELECT unnest(CASE WHEN json_valid(_raw) AND starts_with(ltrim(_raw), '{{')
                                 THEN json_keys(_raw) END) AS k
              FROM {lines_view}
              WHERE (_line <= {KEY_SCAN_HEAD} OR _line % {KEY_SCAN_STRIDE} = 0) AND _pre_error IS NULL)
            ORDER BY k"""
    ).fetchall()
    return [k for (k,) in rows if k not in spec]


def jsonl_parsed_fields(contract: Contract) -> frozenset[str]:
    """The json fields whose parsed value `jsonl_canonical_sql` hands to the judge."""
    return frozenset(
        f.name for f in contract.fields if f.type == "json" and "." not in (f.path or f"$.{f.name}")[2:]
    )


def jsonl_canonical_sql(contract: Contract, lines_view: str, extra_keys: list[str]) -> str:
    """SQL turning a lines view (with a row number `_seq`) into canonical text records (one JSON
    parse per line), with the parsed value of top-level json fields beside their text."""
    spec, where = _json_parts(contract)
    for key in extra_keys:
        spec.setdefault(key, "JSON")
    spec_sql = literal(json.dumps(spec, ensure_ascii=False))
    cols = []
    for f in contract.fields:
        top, rest = where[f.name]
        value = f"_s.{ident(top)}"
        if rest is not None:
            value = f"json_extract_string({value}, {literal(rest)})"
        elif spec[top] == "JSON":
            if f.type == "json":
                # The value DuckDB just parsed, so that judging its text need not parse it again.
                cols.append(f"{value} AS {parsed_column(f.name)}")
            value = f"CAST({value} AS VARCHAR)"
        cols.append(f"nullif({value}, '') AS {ident(f.name)}")
    if extra_keys:
        pairs = ", ".join(f"{literal(k)}, _s.{ident(k)}" for k in extra_keys)
        present = " OR ".join(f"_s.{ident(k)} IS NOT NULL" for k in extra_keys)
        extra = f"CASE WHEN {present} THEN CAST(json_object({pairs}) AS VARCHAR) END"
    else:
        extra = "CAST(NULL AS VARCHAR)"
    return f"""
        WITH parsed AS (
            SELECT _file, _line, _seq, _partition, _raw, _pre_error,
                   CASE WHEN _pre_error IS NULL AND starts_with(ltrim(_raw), '{{')
                        THEN try(from_json(_raw, {spec_sql})) END AS _s
            FROM {lines_view})
        SELECT {", ".join(cols)},
               CAST(_file AS VARCHAR) AS _file, _line, _seq, _partition,
               rtrim(CAST(_raw AS VARCHAR), chr(13) || chr(10)) AS _raw,
               coalesce(_pre_error, CASE WHEN _s IS NOT NULL THEN NULL
                                         WHEN starts_with(ltrim(_raw), '{{') THEN 'invalid JSON'
                                         ELSE 'not a JSON object' END) AS _parse_error,
               {extra} AS _extra
        FROM parsed"""


# --- CSV ---------------------------------------------------------------------------------------

def read_csv(contract: Contract, file: LandingFile, data: bytes, checksum: str) -> FileBatch:
    batch = FileBatch(file=file, checksum=checksum)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        batch.file_error = f"not valid UTF-8 at byte {exc.start}"
        return batch
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    reader = csv.reader((line + "\n" for line in physical), strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        batch.file_error = "empty file: no header line"
        return batch
    batch.header = header
    known = set(contract.field_names)
    position = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    batch.missing_required = [c for c in contract.required_columns if c not in position]
    batch.new_columns = [h for h in header if h not in known and h]
    extra_idx = [(h, position[h]) for h in batch.new_columns]
    field_idx = [(n, position[n]) for n in contract.field_names if n in position]
    columns: dict[str, list] = {n: [] for n, _ in field_idx}
    lines, raws, errors, extras = [], [], [], []
    width = len(header)
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row, problem = None, f"unreadable CSV record: {exc}"
        else:
            problem = None
        start, end = previous_end + 1, reader.line_num
        previous_end = end
        if row == []:
            continue  # a blank line is not a record
        lines.append(start)
        raws.append("\n".join(p.rstrip("\r") for p in physical[start - 1 : end]))
        if problem is None and len(row) != width:
            problem = f"expected {width} fields, found {len(row)}"
        errors.append(problem)
        if problem is not None:
            for name, _ in field_idx:
                columns[name].append(None)
            extras.append(None)
            continue
        for name, i in field_idx:
            value = row[i]
            columns[name].append(value if value != "" else None)
        extras.append(
            orjson.dumps({h: (row[i] if row[i] != "" else None) for h, i in extra_idx}).decode()
            if extra_idx
            else None
        )
    batch.read = len(lines)
    batch.table = _text_table(file, columns, lines, raws, errors, extras, contract)
    return batch


# --- Parquet -----------------------------------------------------------------------------------

def read_parquet(contract: Contract, file: LandingFile, data: bytes, checksum: str,
                 con: duckdb.DuckDBPyConnection) -> FileBatch:
    batch = FileBatch(file=file, checksum=checksum)
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any failure to read means an unreadable file
        batch.file_error = f"unreadable Parquet file: {exc}"
        return batch
    table = table.append_column("_line", pa.array(np.arange(1, table.num_rows + 1), pa.int64()))
    name = "_kizuna_parquet_rows"
    con.register(name, table)
    try:
        return read_relation(contract, file, checksum, con, name, [c for c in table.column_names if c != "_line"])
    finally:
        con.unregister(name)


def read_relation(contract: Contract, file: LandingFile, checksum: str, con: duckdb.DuckDBPyConnection,
                  relation: str, header: list[str]) -> FileBatch:
    """Records of a typed relation (a Parquet file, a table landed by dlt) as text.

    The relation has a `_line` column; `header` names its data columns. Values are cast to text
    in a UTC session, so a timestamp reads the same as it would in a file.
    """
    batch = FileBatch(file=file, checksum=checksum, header=list(header))
    batch.missing_required = [c for c in contract.required_columns if c not in header]
    batch.new_columns = [h for h in header if h not in set(contract.field_names)]
    cols = [
        f"nullif(CAST({ident(n)} AS VARCHAR), '') AS {ident(n)}" if n in header
        else f"CAST(NULL AS VARCHAR) AS {ident(n)}"
        for n in contract.field_names
    ]
    everything = ", ".join(ident(h) for h in header)
    extra = (
        f"CAST(to_json(struct_pack({', '.join(ident(h) for h in batch.new_columns)})) AS VARCHAR)"
        if batch.new_columns
        else "CAST(NULL AS VARCHAR)"
    )
    con.execute("SET TimeZone = 'UTC'")
    batch.table = con.execute(
        f"""SELECT {", ".join(cols)}, {literal(file.url)} AS _file, _line,
                   CAST(to_json(struct_pack({everything})) AS VARCHAR) AS _raw,
                   CAST(NULL AS VARCHAR) AS _parse_error, {extra} AS _extra
            FROM {relation} ORDER BY _line"""
    ).fetch_arrow_table()
    batch.read = batch.table.num_rows
    return batch


def read_file(contract: Contract, file: LandingFile, data: bytes, checksum: str,
              con: duckdb.DuckDBPyConnection) -> FileBatch:
    if contract.format == "jsonl":
        return read_jsonl(contract, file, data, checksum)
    if contract.format == "csv":
        return read_csv(contract, file, data, checksum)
    if contract.format == "parquet":
        return read_parquet(contract, file, data, checksum, con)
    raise ValueError(f"{contract.source_file}: format {contract.format!r} has no reader")
