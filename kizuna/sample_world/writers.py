"""Write a source's files into the landing zone, one per arrival day, with its mess applied.

CSV goes through the csv module (quoting only where needed, '\\n' line ends, UTF-8), JSON lines are
joined bytes, Parquet is written with pyarrow. Landing may be a folder or any fsspec URL.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kizuna.sample_world.clock import day_label
from kizuna.sample_world.mess import Materializer, MessCount, MessPlan
from kizuna.sample_world.sources.base import Source


def put(root: str | Path, relative: str, data: bytes) -> None:
    """Write bytes under a landing folder or URL."""
    root_s = str(root)
    if "://" in root_s and not root_s.startswith("file://"):
        import fsspec

        with fsspec.open(root_s.rstrip("/") + "/" + relative, "wb") as fh:
            fh.write(data)
        return
    path = Path(root_s.removeprefix("file://")) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _copy(record):
    if isinstance(record, list):
        return list(record)
    if isinstance(record, dict):
        return dict(record)
    return record


def encode(src: Source, day: int, records: list) -> bytes:
    """The bytes of one file of a source."""
    if src.fmt == "jsonl":
        return b"".join(r + b"\n" for r in records)
    if src.fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(src.header(day))
        writer.writerows(records)
        return buf.getvalue().encode("utf-8")
    table = pa.Table.from_pylist(records, schema=src.schema) if records else src.schema.empty_table()
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def write_source(src: Source, landing: str | Path, start: date, rng: np.random.Generator) -> MessCount:
    """Draw the source's mess, then materialize and write its files in day order."""
    days = src.file_days()
    eligible = [src.eligible(d) if d in days else np.zeros(0, bool) for d in range(src.days)]
    plan = MessPlan.draw(src.name, eligible, src.kinds, rng, days)
    mat = Materializer(plan, src.breaker, _copy, rng)
    for d in days:
        records = mat.day(d, src.records(d), src.unplanned(d))
        put(landing, src.file_name(day_label(start, d)), encode(src, d, records))
    return mat.count
