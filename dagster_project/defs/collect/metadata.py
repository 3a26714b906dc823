"""Materialization metadata of a raw asset, built from an ingest report (pure: tests call it)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from data_contracts import Contract
from data_contracts.types import SQL_TYPES
from kizuna.collect.ingest import IngestReport


def _markdown(frame: pd.DataFrame | None, rows: int) -> dg.MetadataValue:
    if frame is None or frame.empty:
        return dg.MetadataValue.md("_none_")
    shown = frame.head(rows).astype(object).where(frame.head(rows).notna(), None)
    return dg.MetadataValue.md(shown.to_markdown(index=False))


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


def ingest_metadata(contract: Contract, report: IngestReport, table: str, row_count: int,
                    preview_rows: int) -> dict[str, object]:
    totals = report.totals
    meta: dict[str, object] = {
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "dagster/table_name": dg.MetadataValue.text(table),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(contract)),
        "files_ingested": dg.MetadataValue.int(len(report.files)),
        "files_skipped": dg.MetadataValue.int(len(report.skipped)),
        **{name: dg.MetadataValue.int(value) for name, value in totals.items()},
        "quarantined_by_rule": dg.MetadataValue.json(dict(report.rule_counts.most_common())),
        "warnings_by_rule": dg.MetadataValue.json(dict(report.warning_counts.most_common())),
        "new_columns": dg.MetadataValue.json(report.new_columns),
        "rejected_files": dg.MetadataValue.json(report.rejected_files),
        "unreadable_files": dg.MetadataValue.json(report.unreadable_files),
        "contract": dg.MetadataValue.path(contract.source_file),
        "owner": dg.MetadataValue.text(contract.owner),
        "preview": _markdown(report.preview, preview_rows),
        "quarantine_preview": _markdown(report.quarantine_preview, preview_rows),
    }
    return meta
