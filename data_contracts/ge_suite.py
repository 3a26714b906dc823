"""Compile a contract to a Great Expectations 1.x suite and run it on a batch (asset checks).

The batch is a pandas frame of text: one column per contract field (str, None when absent or empty)
plus `_parse_error` (None when the record was read). GE runs on pandas here: its SQL path against
DuckDB does not work (see STACK.md).

Each rule becomes one expectation whose `meta["rule_id"]` names it:

- parse: `ExpectColumnValuesToBeNull("_parse_error")`. GE cannot read an unreadable record, but it
  sees the `_parse_error` column: that expectation counts those rows, and every field expectation
  carries the row condition `_parse_error IS NULL`, so such a record fails `parse` only.
- column:<f> (csv, parquet): `ExpectColumnToExist`.
- required, required_when, one_of_required: `ExpectColumnValuesToNotBeNull` with a row condition
  (GE 1.24 row conditions are Condition objects: `Column("type") == "track"`, `.is_null()`, `&`).
- type: `ExpectColumnValuesToNotBeNull` on a typed shadow column `__typed__<f>` where the text is
  present. The shadow columns come from an independent pandas parse (`str.fullmatch` of the type
  pattern, `to_numeric`, `to_datetime(format="ISO8601", utc=True)`), not from DuckDB; json is
  checked by the record validator's strict reader (pandas has none).
- enum: `ExpectColumnValuesToBeInSet`; pattern: `ExpectColumnValuesToMatchRegex` anchored as
  `^(?:...)\\Z` (GE searches; `$` would let a trailing newline through). pandas runs it with
  Python `re` semantics (RE2 through pyarrow where equivalent), so \\d, \\w, \\s and \\b would be
  Unicode-aware here and ASCII in DuckDB: contracts spell classes out ([0-9]), as shipped ones do.
- minimum, maximum, max_future: `ExpectColumnValuesToBeBetween` on the shadow column. The
  max_future limit depends on the reference time: the cached suite holds a `$PARAMETER` that each
  run fills, so a suite is built once per contract.

Warn rules get GE severity `warning` (GE 1.24 has `Expectation.severity`: critical, warning,
info); error rules `critical`. The report never carries values of fields whose contract `pii` is
direct or sensitive, nor parse error messages: only counts and row positions.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.row_conditions import Column, Condition

from data_contracts.model import Contract, Field
from data_contracts.record import RecordVerdict, bound_value, future_limit, is_of_type, typed_value
from data_contracts.rules import ERROR, WARN, Rule, contract_rules
from data_contracts.types import TYPE_PATTERNS

__all__ = [
    "PARSE_COLUMN",
    "ContractReport",
    "RuleResult",
    "build_suite",
    "shadow_column",
    "typed_frame",
    "validate_frame",
]

PARSE_COLUMN = "_parse_error"
SAMPLE_SIZE = 20
_MIN_INSTANT = pd.Timestamp("0001-01-01", tz="UTC")
_MAX_INSTANT = pd.Timestamp("9999-12-31 23:59:59.999999", tz="UTC")


def shadow_column(field_name: str) -> str:
    """The name of a field's typed shadow column in the validated frame."""
    return f"__typed__{field_name}"


def _parameter(rule: Rule, index: int) -> str:
    # Suite parameter names must be plain identifiers.
    return f"max_future_{index}_" + re.sub(r"\W", "_", rule.field)


def _ge_value(value: Any) -> Any:
    """A typed value as the shadow column holds it (dates as midnight UTC instants)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _and(conditions: Iterable[Condition]) -> Condition:
    return functools.reduce(lambda a, b: a & b, conditions)


def _expectation(
    rule: Rule, contract: Contract, limit: Any, max_future_param: str | None
) -> gxe.Expectation:
    common: dict[str, Any] = {
        "meta": {
            "rule_id": rule.id,
            "rule_kind": rule.kind,
            "contract_severity": rule.severity,
            "fields": list(rule.fields),
        },
        "severity": "warning" if rule.severity == WARN else "critical",
        "description": rule.message,
        "catch_exceptions": True,
    }
    if rule.kind == "parse":
        return gxe.ExpectColumnValuesToBeNull(column=PARSE_COLUMN, **common)
    if rule.kind == "column":
        return gxe.ExpectColumnToExist(column=rule.field, **common)
    readable = Column(PARSE_COLUMN).is_null()
    if rule.kind == "one_of_required":
        *others, last = rule.fields
        cond = _and([*(Column(c).is_null() for c in others), readable])
        return gxe.ExpectColumnValuesToNotBeNull(column=last, row_condition=cond, **common)
    f = contract.field(rule.field)
    n = f.name
    if rule.kind == "required":
        return gxe.ExpectColumnValuesToNotBeNull(column=n, row_condition=readable, **common)
    if rule.kind == "required_when":
        cond = _and([*(Column(k) == v for k, v in rule.params["when"].items()), readable])
        return gxe.ExpectColumnValuesToNotBeNull(column=n, row_condition=cond, **common)
    if rule.kind == "type":
        cond = Column(n).is_not_null() & readable
        return gxe.ExpectColumnValuesToNotBeNull(
            column=shadow_column(n), row_condition=cond, **common
        )
    if rule.kind == "enum":
        if f.type == "string":
            column, values = n, list(rule.params["values"])
        else:
            column = shadow_column(n)
            values = [
                _ge_value(typed_value(f, v)) for v in rule.params["values"] if is_of_type(f, v)
            ]
        return gxe.ExpectColumnValuesToBeInSet(
            column=column, value_set=values, row_condition=readable, **common
        )
    if rule.kind == "pattern":
        regex = r"^(?:" + rule.params["pattern"] + r")\Z"
        return gxe.ExpectColumnValuesToMatchRegex(
            column=n, regex=regex, row_condition=readable, **common
        )
    if rule.kind in ("minimum", "maximum"):
        bound = _ge_value(bound_value(f, rule.params["value"]))
        key = "min_value" if rule.kind == "minimum" else "max_value"
        return gxe.ExpectColumnValuesToBeBetween(
            column=shadow_column(n), row_condition=readable, **{key: bound}, **common
        )
    if rule.kind == "max_future":
        max_value = {"$PARAMETER": max_future_param} if max_future_param else limit
        return gxe.ExpectColumnValuesToBeBetween(
            column=shadow_column(n), max_value=max_value, row_condition=readable, **common
        )
    raise ValueError(f"{contract.name}: rule kind {rule.kind!r} has no expectation")


def _max_future_limits(contract: Contract, reference_time: datetime) -> dict[str, datetime]:
    """The max_future limit of each rule, as the shadow columns compare it."""
    limits = {}
    for rule in contract_rules(contract):
        if rule.kind == "max_future":
            limit = future_limit(reference_time, rule.params["hours"])
            if contract.field(rule.field).type == "date":
                limit = _ge_value(limit.date())
            limits[rule.id] = limit
    return limits


def _suite(contract: Contract, reference_time: datetime | None) -> tuple[Any, dict[str, str]]:
    limits = _max_future_limits(contract, reference_time) if reference_time else {}
    params: dict[str, str] = {}
    expectations = []
    for i, rule in enumerate(contract_rules(contract)):
        param = None
        if rule.kind == "max_future" and reference_time is None:
            param = params[rule.id] = _parameter(rule, i)
        expectations.append(_expectation(rule, contract, limits.get(rule.id), param))
    suite = gx.ExpectationSuite(
        name=f"kizuna.contract.{contract.name}",
        expectations=expectations,
        meta={"contract": contract.name, "source_file": contract.source_file},
    )
    return suite, params


def build_suite(contract: Contract, reference_time: datetime | None = None) -> gx.ExpectationSuite:
    """The contract's expectation suite, one expectation per rule (`meta["rule_id"]`).

    With a reference time the max_future limits are concrete; without one they are `$PARAMETER`s
    named in each expectation (what `validate_frame` caches and fills per run)."""
    return _suite(contract, reference_time)[0]


# --- the batch frame ------------------------------------------------------------------------


def _text(series: pd.Series) -> pd.Series:
    """A column as object text: None for missing or empty, str() for anything that is not text."""
    values = series.to_numpy(dtype=object, na_value=None)
    out = [
        None if v is None or v == "" else v if type(v) is str else str(v)
        for v in values.tolist()
    ]
    return pd.Series(out, dtype=object)


def _in_range(ts: pd.Series) -> pd.Series:
    ts = ts.astype("datetime64[us, UTC]")
    return ts.where((ts >= _MIN_INSTANT) & (ts <= _MAX_INSTANT))


def _shadow(f: Field, text: pd.Series) -> pd.Series:
    """The text parsed by pandas into the field's type; null where absent or not of the type."""
    if f.type == "json":
        return pd.Series([t if t is not None and is_of_type(f, t) else None for t in text],
                         dtype=object)
    matched = text.str.fullmatch(TYPE_PATTERNS[f.type]).fillna(False).astype(bool)
    candidates = text.where(matched, None)
    if f.type == "integer":
        return pd.to_numeric(candidates, errors="coerce", dtype_backend="numpy_nullable").astype(
            "Int64"
        )
    if f.type == "number":
        numbers = pd.to_numeric(candidates, errors="coerce").astype("float64")
        return numbers.where(np.isfinite(numbers))
    if f.type == "boolean":
        lowered = candidates.str.lower().map({"true": True, "false": False})
        return pd.Series(lowered.to_numpy(dtype=object, na_value=None), dtype=object)
    if f.type == "date":
        return _in_range(pd.to_datetime(candidates, format="%Y-%m-%d", errors="coerce", utc=True))
    if f.type == "timestamp":
        return _in_range(pd.to_datetime(candidates, format="ISO8601", errors="coerce", utc=True))
    raise ValueError(f"no shadow column for type {f.type!r}")


def _frame_columns(contract: Contract, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    has_file_rules = contract.format in ("csv", "parquet")
    missing = tuple(
        c for c in contract.required_columns if has_file_rules and c not in df.columns
    )
    n = len(df)
    columns: dict[str, pd.Series] = {}
    for f in contract.fields:
        if f.name in df.columns:
            columns[f.name] = _text(df[f.name])
        elif f.name not in missing:  # an optional column a file may leave out
            columns[f.name] = pd.Series([None] * n, dtype=object)
    columns[PARSE_COLUMN] = (
        _text(df[PARSE_COLUMN]) if PARSE_COLUMN in df.columns else pd.Series([None] * n, dtype=object)
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(n)), missing


def typed_frame(contract: Contract, df: pd.DataFrame) -> pd.DataFrame:
    """The frame GE validates: text columns (None for missing or empty) plus typed shadow columns.

    A required column that a csv/parquet batch lacks stays missing (its `column:` rule fails)."""
    frame, _ = _frame_columns(contract, df)
    for f in contract.fields:
        if f.type != "string" and f.name in frame.columns:
            frame[shadow_column(f.name)] = _shadow(f, frame[f.name])
    return frame


# --- running and reporting ------------------------------------------------------------------


@dataclass(frozen=True)
class RuleResult:
    """How one contract rule fared on a batch."""

    rule_id: str
    kind: str
    severity: str  # the contract's: error or warn
    expectation: str  # the GE expectation type
    success: bool
    unexpected_count: int
    unexpected_rows: tuple[int, ...]  # row positions in the frame (0-based)
    sample_values: tuple[Any, ...] | None  # offending texts; None when masked (pii) or parse
    exception: str | None = None  # GE could not evaluate it (e.g. its column is missing)


@dataclass(frozen=True)
class ContractReport:
    """The GE verdict on a batch, rule by rule."""

    contract: str
    row_count: int
    reference_time: datetime
    rules: tuple[RuleResult, ...]
    ge_success: bool  # GE's own verdict: False when any expectation failed, warnings included

    @property
    def success(self) -> bool:
        """No error rule failed (warn rules report, they do not fail the check)."""
        return all(r.success for r in self.rules if r.severity == ERROR)

    def rule(self, rule_id: str) -> RuleResult:
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def failing_rows(self, rule_id: str) -> frozenset[int]:
        return frozenset(self.rule(rule_id).unexpected_rows)

    def row_verdicts(self) -> list[RecordVerdict]:
        """Per row, the failed row rules in contract order (comparable with the SQL split)."""
        errors: list[list[str]] = [[] for _ in range(self.row_count)]
        warnings: list[list[str]] = [[] for _ in range(self.row_count)]
        for r in self.rules:
            if r.kind == "column":
                continue
            target = errors if r.severity == ERROR else warnings
            for i in r.unexpected_rows:
                target[i].append(r.rule_id)
        return [RecordVerdict(tuple(e), tuple(w)) for e, w in zip(errors, warnings, strict=True)]

    def metadata(self) -> dict[str, Any]:
        """A JSON-safe summary for Dagster asset-check metadata (no masked values)."""
        failed = [r for r in self.rules if not r.success]
        return {
            "contract": self.contract,
            "rows": self.row_count,
            "reference_time": self.reference_time.isoformat(),
            "success": self.success,
            "failed_rules": {r.rule_id: r.unexpected_count for r in failed},
            "rules": [
                {
                    "rule_id": r.rule_id,
                    "severity": r.severity,
                    "expectation": r.expectation,
                    "success": r.success,
                    "unexpected_count": r.unexpected_count,
                    "sample_rows": list(r.unexpected_rows[:SAMPLE_SIZE]),
                    **({"sample_values": list(r.sample_values)} if r.sample_values else {}),
                    **({"exception": r.exception} if r.exception else {}),
                }
                for r in self.rules
            ],
        }


class _Runner:
    """An ephemeral GE context holding one contract's suite and validation definition."""

    def __init__(self, contract: Contract):
        suite, self.params = _suite(contract, None)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch = (
            context.data_sources.add_pandas("kizuna")
            .add_dataframe_asset(contract.name)
            .add_batch_definition_whole_dataframe("batch")
        )
        suite = context.suites.add(suite)
        self.validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"contract.{contract.name}", data=batch, suite=suite)
        )
        self.context = context
        self.lock = threading.Lock()


_RUNNERS: dict[int, tuple[Contract, _Runner]] = {}
_RUNNERS_LOCK = threading.Lock()


def _runner(contract: Contract) -> _Runner:
    with _RUNNERS_LOCK:
        hit = _RUNNERS.get(id(contract))
        if hit is not None and hit[0] is contract:
            return hit[1]
        runner = _Runner(contract)
        if len(_RUNNERS) >= 64:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        _RUNNERS[id(contract)] = (contract, runner)  # keeps the contract (and its id) alive
        return runner


def _sample(frame: pd.DataFrame, rule: Rule, contract: Contract, rows: list[int]) -> Any:
    if rule.kind in ("parse", "column") or not rule.fields:
        return None
    if any(contract.field(c).masked for c in rule.fields):
        return None
    if rule.kind == "one_of_required" or rule.field not in frame.columns:
        return ()
    column = frame[rule.field]
    return tuple(column.iat[i] for i in rows[:SAMPLE_SIZE])


def _exception_message(info: dict) -> str | None:
    # Either {"raised_exception": ...} or, when a metric failed, {metric id: {...}}.
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def validate_frame(
    contract: Contract, df: pd.DataFrame, reference_time: datetime
) -> ContractReport:
    """Run the contract's suite on a batch of text (one validation) and report rule by rule.

    Rows are reported by position in `df` (0-based), whatever its index."""
    runner = _runner(contract)
    frame = typed_frame(contract, df)
    limits = _max_future_limits(contract, reference_time)
    params = {name: limits[rule_id] for rule_id, name in runner.params.items()}
    with runner.lock:
        result = runner.validation.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=params,
            result_format={"result_format": "COMPLETE"},
        )
    by_id = {r.expectation_config.meta["rule_id"]: r for r in result.results}
    rules = []
    for rule in contract_rules(contract):
        r = by_id[rule.id]
        exception = _exception_message(r.exception_info or {})
        rows = [int(i) for i in (r.result or {}).get("unexpected_index_list") or []]
        rules.append(
            RuleResult(
                rule_id=rule.id,
                kind=rule.kind,
                severity=rule.severity,
                expectation=r.expectation_config.type,
                success=bool(r.success) and exception is None,
                unexpected_count=int((r.result or {}).get("unexpected_count") or 0),
                unexpected_rows=tuple(rows),
                sample_values=None if exception else _sample(frame, rule, contract, rows),
                exception=exception,
            )
        )
    return ContractReport(
        contract=contract.name,
        row_count=len(frame),
        reference_time=reference_time,
        rules=tuple(rules),
        ge_success=bool(result.success),
    )
