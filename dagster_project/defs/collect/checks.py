"""Asset checks of a raw asset, emitted from inside the asset that produced the data.

Check names are constants so that sensors, tests and the UI refer to the same checks.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from data_contracts import Contract
from kizuna.collect.report import IngestReport
from kizuna.collect.summary import SourceSummary

FILES_ACCEPTED = "files_accepted"
COUNTS_ADD_UP = "counts_add_up"
CONTRACT_RULES = "contract_rules"


def check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            FILES_ACCEPTED, asset=key, blocking=True,
            description="No file was rejected for a missing required column (blocking); unreadable files warn.",
        ),
        dg.AssetCheckSpec(
            COUNTS_ADD_UP, asset=key, blocking=True,
            description="read = loaded + quarantined + deduplicated + suppressed, file by file.",
        ),
        dg.AssetCheckSpec(
            CONTRACT_RULES, asset=key,
            description="The contract's Great Expectations suite over the batch; warns when the quarantined "
            "share passes the threshold, fails when Great Expectations and the SQL split disagree.",
        ),
    ]


def files_accepted(summary: SourceSummary) -> dg.AssetCheckResult:
    """Judged on what the partitions hold, not on this run alone: a rejected file keeps failing the
    check (and blocking downstream) until a corrected version of it is ingested."""
    rejected = summary.rejected_files
    unreadable = summary.unreadable_files
    if rejected:
        severity, passed = dg.AssetCheckSeverity.ERROR, False
    elif unreadable:
        severity, passed = dg.AssetCheckSeverity.WARN, False
    else:
        severity, passed = dg.AssetCheckSeverity.ERROR, True
    messages = [f"{path}: missing required column(s) {', '.join(cols)}" for path, cols in rejected.items()]
    messages += [f"{path}: {why}" for path, why in unreadable.items()]
    return dg.AssetCheckResult(
        check_name=FILES_ACCEPTED,
        passed=passed,
        severity=severity,
        description="; ".join(messages) if messages else "every file had the contract's required columns",
        metadata={
            "rejected_files": dg.MetadataValue.json(rejected),
            "unreadable_files": dg.MetadataValue.json(unreadable),
        },
    )


def counts_add_up(report: IngestReport) -> dg.AssetCheckResult:
    broken = {f.path: f.lost for f in report.files if f.lost != 0}
    return dg.AssetCheckResult(
        check_name=COUNTS_ADD_UP,
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        description="every record read is accounted for" if not broken else f"records lost in {len(broken)} file(s)",
        metadata={"lost_by_file": dg.MetadataValue.json(broken), **{k: v for k, v in report.totals.items()}},
    )


def contract_rules(contract: Contract, report: IngestReport, reference_time: datetime,
                   max_quarantine_share: float) -> dg.AssetCheckResult:
    """Run the contract's Great Expectations suite on the judged records kept for checking (every
    failed or warned record and a sample of the rest) and compare, rule by rule, with the SQL split."""
    from data_contracts.ge_suite import validate_frame  # heavy import: only when the check runs

    batch = report.batch
    read = report.total("read")
    quarantined = report.total("quarantined")
    share = quarantined / read if read else 0.0
    if batch is None or batch.empty:
        return dg.AssetCheckResult(
            check_name=CONTRACT_RULES, passed=True, description="no new records to validate",
            metadata={"quarantined_share": dg.MetadataValue.float(share)},
        )
    ge = validate_frame(contract, batch, reference_time)
    checked = f"Great Expectations judged {report.checked_rows:,} of {report.judged_rows:,} records again"
    sql_counts = {rule: n for rule, n in report.rule_counts.items() if not rule.startswith("column:")}
    ge_counts = {r.rule_id: r.unexpected_count for r in ge.rules if r.kind != "column" and r.unexpected_count}
    # Records of rejected or unreadable files never reach the judged batch: leave them out of the comparison.
    sql_judged = _judged_rule_counts(report)
    disagree = {
        rule: {"sql": sql_judged.get(rule, 0), "great_expectations": ge_counts.get(rule, 0)}
        for rule in set(sql_judged) | set(ge_counts)
        if sql_judged.get(rule, 0) != ge_counts.get(rule, 0)
    }
    if disagree:
        passed, severity = False, dg.AssetCheckSeverity.ERROR
        text = f"Great Expectations and the SQL split disagree; {checked}"
    elif share > max_quarantine_share:
        passed, severity = False, dg.AssetCheckSeverity.WARN
        text = f"{share:.2%} of records quarantined (threshold {max_quarantine_share:.2%}); {checked}"
    else:
        passed, severity = True, dg.AssetCheckSeverity.WARN
        text = f"{share:.2%} of records quarantined, within the threshold of {max_quarantine_share:.2%}; {checked}"
    return dg.AssetCheckResult(
        check_name=CONTRACT_RULES,
        passed=passed,
        severity=severity,
        description=text,
        metadata={
            "quarantined_share": dg.MetadataValue.float(share),
            "records_judged": dg.MetadataValue.int(report.judged_rows),
            "records_judged_again": dg.MetadataValue.int(report.checked_rows),
            "failed_by_rule": dg.MetadataValue.json(dict(sorted(ge_counts.items()))),
            "sql_failed_by_rule": dg.MetadataValue.json(dict(sorted(sql_counts.items()))),
            "disagreements": dg.MetadataValue.json(disagree),
            "expectations": dg.MetadataValue.int(len(ge.rules)),
            "great_expectations": dg.MetadataValue.json(ge.metadata()),
        },
    )


def _judged_rule_counts(report: IngestReport) -> dict[str, int]:
    """Per rule: records failing it among the judged records (the batch), error and warn rules alike."""
    counts = dict(report.judged_rule_counts)
    return {rule: n for rule, n in counts.items() if n}
