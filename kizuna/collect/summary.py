"""What the warehouse holds of one source, for some arrival days or all: counts, rules, previews.

Read from the ledger, the quarantine and the raw table, not from one run: a run that found nothing
new still describes the table it leaves behind. Previews are PII masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from data_contracts import Contract
from data_contracts.sql import ident
from kizuna.collect.store import INGEST_SCHEMA, raw_table
from kizuna.masking import mask_frame, mask_raw_record

BUCKETS = ("read", "loaded", "quarantined", "deduplicated", "suppressed", "warned")


@dataclass
class SourceSummary:
    source: str
    first_day: date | None
    last_day: date | None
    files: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # BUCKETS and lost
    rows: int = 0  # rows in the raw table for these days
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    warnings_by_rule: dict[str, int] = field(default_factory=dict)
    new_columns: list[str] = field(default_factory=list)
    rejected_files: dict[str, list[str]] = field(default_factory=dict)
    unreadable_files: dict[str, str] = field(default_factory=dict)
    preview: pd.DataFrame | None = None
    quarantine_preview: pd.DataFrame | None = None


def _days_filter(column: str, days: tuple[date, date] | None) -> tuple[str, list]:
    if days is None:
        return "", []
    return f" AND {column} BETWEEN ? AND ?", [days[0], days[1]]


def summarize(con: duckdb.DuckDBPyConnection, contract: Contract, days: tuple[date, date] | None = None,
              preview_rows: int = 5) -> SourceSummary:
    """The source's figures for arrival days `days` (inclusive), or for everything when None."""
    summary = SourceSummary(contract.name, *(days or (None, None)))
    where, params = _days_filter("partition", days)
    args = [contract.name, *params]
    sums = ", ".join(f'coalesce(sum("{b}"), 0)' for b in BUCKETS)
    files, *totals = con.execute(
        f"SELECT count(*), {sums} FROM {INGEST_SCHEMA}.ledger WHERE source = ?{where}", args
    ).fetchone()
    summary.files = int(files)
    summary.counts = dict(zip(BUCKETS, map(int, totals), strict=True))
    summary.counts["lost"] = summary.counts["read"] - sum(
        summary.counts[b] for b in ("loaded", "quarantined", "deduplicated", "suppressed")
    )
    summary.new_columns = sorted(
        c for (c,) in con.execute(
            f"SELECT DISTINCT unnest(new_columns) FROM {INGEST_SCHEMA}.ledger WHERE source = ?{where}", args
        ).fetchall()
    )
    # Only each path's latest version counts: a rejected export that was sent again fixed is fine.
    for path, missing, error in con.execute(
        f"""SELECT path, missing_columns, file_error FROM (
                SELECT path, missing_columns, file_error,
                       row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC) AS version
                FROM {INGEST_SCHEMA}.ledger WHERE source = ?{where})
            WHERE version = 1 AND (len(missing_columns) > 0 OR file_error IS NOT NULL) ORDER BY path""",
        args,
    ).fetchall():
        if missing:
            summary.rejected_files[path] = list(missing)
        if error:
            summary.unreadable_files[path] = error
    for table, target in (("quarantine", summary.quarantined_by_rule), ("warnings", summary.warnings_by_rule)):
        target.update(
            con.execute(
                f"""SELECT r, count(*) AS n FROM (SELECT unnest(rules) AS r FROM {INGEST_SCHEMA}.{table}
                    WHERE source = ?{where}) GROUP BY r ORDER BY n DESC, r""",
                args,
            ).fetchall()
        )
    raw_where, raw_params = _days_filter("_partition", days)
    raw_where = raw_where.replace(" AND ", " WHERE ", 1)
    summary.rows = con.execute(f"SELECT count(*) FROM {raw_table(contract)}{raw_where}", raw_params).fetchone()[0]
    fields = ", ".join(ident(n) for n in contract.field_names)
    loaded = con.execute(
        f"""SELECT {fields} FROM {raw_table(contract)}{raw_where}
            ORDER BY _ingested_at DESC, _file DESC, _line LIMIT {int(preview_rows)}""",
        raw_params,
    ).df()
    summary.preview = mask_frame(loaded, contract.masked_fields)
    quarantined = con.execute(
        f"""SELECT file, line, array_to_string(rules, ', ') AS rules, reason, raw
            FROM {INGEST_SCHEMA}.quarantine WHERE source = ?{where}
            ORDER BY quarantined_at DESC, file DESC, line LIMIT {int(preview_rows)}""",
        args,
    ).df()
    has_pii = bool(contract.masked_fields)
    quarantined["raw"] = [mask_raw_record(r if isinstance(r, str) else None, has_pii) for r in quarantined["raw"]]
    summary.quarantine_preview = quarantined
    return summary
