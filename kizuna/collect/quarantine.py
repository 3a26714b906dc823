"""The quarantine: records that broke a contract rule, with file, line, rules, reason and raw record.

Reasons are sentences a person can act on: the rule's message, and the offending value unless the
field holds PII (then masked).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pandas as pd

from data_contracts import Contract, contract_rules
from data_contracts.rules import PARSE_RULE
from kizuna.collect.readers import FileBatch
from kizuna.collect.report import FileCounts, IngestReport
from kizuna.collect.store import INGEST_SCHEMA
from kizuna.masking import mask_value


def reason(contract: Contract, messages: dict[str, str], rules: list[str], parse_error: str | None,
           values: dict[str, object]) -> str:
    """A sentence per failed rule, with the offending value where it is not PII."""
    if parse_error:
        return parse_error
    parts = []
    masked = contract.masked_fields
    for rule in rules:
        text = messages.get(rule, rule)
        column = rule.split(":", 1)[1] if ":" in rule else None
        if column in values and values[column] is not None and rule.split(":")[0] not in ("required",):
            value = mask_value(values[column]) if column in masked else values[column]
            text += f" (got {str(value)[:80]!r})"
        parts.append(text)
    return "; ".join(parts)


def _insert(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    con.register("_k_quarantine", frame)
    try:
        con.execute(
            f"""INSERT INTO {INGEST_SCHEMA}.quarantine
                SELECT source, file, line, rules, reason, raw, partition, batch_id, quarantined_at
                FROM _k_quarantine"""
        )
    finally:
        con.unregister("_k_quarantine")


def _frame(contract: Contract, report: IngestReport, files: list[str], lines: list, rules: list,
                      reasons: list[str], raws: list, partitions: list) -> pd.DataFrame:
    now = datetime.now(UTC)
    return pd.DataFrame(
        {
            "source": contract.name,
            "file": files,
            "line": pd.array(lines, dtype="Int64"),
            "rules": rules,
            "reason": reasons,
            "raw": pd.array(raws, dtype=object),
            "partition": partitions,
            "batch_id": report.batch_id,
            "quarantined_at": now,
        }
    )


def quarantine_unreadable(con, contract: Contract, b: FileBatch, report: IngestReport, c: FileCounts) -> None:
    why = f"{b.file.url}: {b.file_error}; the whole file is quarantined"
    _insert(
        con,
        _frame(contract, report, [b.file.url], [None], [[PARSE_RULE]], [why], [None], [b.file.partition]),
    )
    c.quarantined = 1
    report.rule_counts[PARSE_RULE] += 1


def quarantine_rejected(con, contract: Contract, b: FileBatch, report: IngestReport, c: FileCounts) -> None:
    """A file without a required column is rejected whole: each of its records is quarantined."""
    rules = [f"column:{m}" for m in b.missing_required]
    why = f"{b.file.url}: required column(s) {', '.join(b.missing_required)} missing; the file is rejected"
    table = b.table
    n = table.num_rows
    _insert(
        con,
        _frame(
            contract, report, [b.file.url] * n, table.column("_line").to_pylist(), [rules] * n, [why] * n,
            table.column("_raw").to_pylist(), [b.file.partition] * n,
        ),
    )
    c.quarantined = n
    for r in rules:
        report.rule_counts[r] += n


def quarantine_failed(con, contract: Contract, report: IngestReport, counts: dict[str, FileCounts],
                      source: str, canonical: Callable[[str], str]) -> None:
    """Quarantine the records that broke an error rule, with their text values and raw record.

    The judged table (`_k_judged`) holds typed values only; the few failed records of `source` are
    read again as text.
    """
    failed_rules = con.execute(
        "SELECT _seq, _errors FROM _k_judged WHERE len(_errors) > 0 ORDER BY _seq"
    ).fetchall()
    if not failed_rules:
        return
    failed_source = f"(SELECT * FROM {source} WHERE _seq IN (SELECT _seq FROM _k_judged WHERE len(_errors) > 0))"
    failed = con.execute(f"SELECT * FROM ({canonical(failed_source)}) ORDER BY _seq").df()
    messages = {r.id: r.message for r in contract_rules(contract)}
    field_names = list(contract.field_names)
    reasons, rules = [], []
    for row, (_, errors) in zip(failed.to_dict("records"), failed_rules, strict=True):
        values = {n: (None if pd.isna(row[n]) else row[n]) for n in field_names}
        parse_error = None if pd.isna(row["_parse_error"]) else row["_parse_error"]
        reasons.append(reason(contract, messages, list(errors), parse_error, values))
        rules.append(list(errors))
        counts[row["_file"]].quarantined += 1
        for r in errors:
            report.rule_counts[r] += 1
    frame = _frame(
        contract, report, failed["_file"].tolist(), failed["_line"].tolist(), rules, reasons,
        failed["_raw"].tolist(), [p.date() if hasattr(p, "date") else p for p in failed["_partition"]],
    )
    _insert(con, frame)
