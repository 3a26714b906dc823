"""Materialization metadata of a raw asset: the table for the days materialized, and this run.

Table figures come from the warehouse (ledger, quarantine, raw table), so a run that found no new
file still shows what the partitions hold. Previews are PII masked and their cells shortened.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from data_contracts import Contract
from data_contracts.types import SQL_TYPES
from kizuna.collect.report import IngestReport
from kizuna.collect.summary import SourceSummary

CELL_CHARS = 60


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value).replace("\n", " ").replace("|", "/")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _markdown(frame: pd.DataFrame | None) -> dg.MetadataValue:
    if frame is None or frame.empty:
        return dg.MetadataValue.md("_none_")
    return dg.MetadataValue.md(frame.astype(object).map(_cell).to_markdown(index=False))


def column_schema(contract: Contract) -> dg.TableSchema:
    """The raw table's columns, with the contract's type, PII class and labels as description."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=f.name,
                type=SQL_TYPES[f.type],
                description=" ".join(
                    part
                    for part in (f.description, f"PII: {f.pii}.", f"Labels: {', '.join(f.labels) or 'none'}.")
                    if part
                ),
                constraints=dg.TableColumnConstraints(nullable=not f.required),
            )
            for f in contract.fields
        ]
    )


def ingest_metadata(contract: Contract, summary: SourceSummary, run: IngestReport) -> dict[str, object]:
    days = f"{summary.first_day} to {summary.last_day}" if summary.first_day else "all"
    return {
        "dagster/row_count": dg.MetadataValue.int(summary.rows),
        "dagster/table_name": dg.MetadataValue.text(f"raw.{contract.name}"),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(contract)),
        "arrival_days": dg.MetadataValue.text(days),
        "files": dg.MetadataValue.int(summary.files),
        **{name: dg.MetadataValue.int(value) for name, value in summary.counts.items()},
        "quarantined_by_rule": dg.MetadataValue.json(summary.quarantined_by_rule),
        "warnings_by_rule": dg.MetadataValue.json(summary.warnings_by_rule),
        "new_columns": dg.MetadataValue.json(summary.new_columns),
        "rejected_files": dg.MetadataValue.json(summary.rejected_files),
        "unreadable_files": dg.MetadataValue.json(summary.unreadable_files),
        "this_run": dg.MetadataValue.json(
            {"new_files": len(run.files), "files_already_ingested": len(run.skipped), **run.totals}
        ),
        "contract": dg.MetadataValue.path(contract.source_file),
        "owner": dg.MetadataValue.text(contract.owner),
        "preview": _markdown(summary.preview),
        "quarantine_preview": _markdown(summary.quarantine_preview),
    }
