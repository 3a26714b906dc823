"""Judge one record at a time against a contract: the collect API's validator, in pure Python.

It gives the same verdict as the SQL predicates of `data_contracts.sql` on the same record (the
shared cases in tests/data_contracts prove it). A value is text (None when absent; an empty string
counts as absent, as it does in a batch). A value is of its contract type when the text fully
matches `types.TYPE_PATTERNS` and converts: `int`, a finite `float`, `date.fromisoformat` (year 1
or later), a timestamp read by `datetime.fromisoformat` where a missing offset means UTC and the
instant falls in years 1-9999 in UTC, `true`/`false` in any case for booleans, and strict JSON
(no NaN/Infinity, no trailing commas, no lone surrogates) for json. Rules that compare a value
(enum, minimum, maximum, max_future) apply only when the value is of its type; `pattern` is a full
match on the text, as in SQL. A record with a parse error fails only `parse`.

Known difference: JSON nested deeper than Python's recursion limit (about 1,000 levels) is valid
for DuckDB and not here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from data_contracts.model import Contract, Field
from data_contracts.rules import ERROR, PARSE_RULE, Rule, contract_rules
from data_contracts.types import TYPE_PATTERNS

__all__ = [
    "RecordVerdict",
    "future_limit",
    "is_of_type",
    "typed_value",
    "validate_record",
]


@dataclass(frozen=True)
class RecordVerdict:
    """The rule ids a record breaks, in the order of `contract_rules(contract)`."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the record can be loaded (warnings do not stop it)."""
        return not self.errors


_INVALID = object()  # "not of its type", distinct from a JSON null
_PATTERNS = {t: re.compile(p, re.ASCII) for t, p in TYPE_PATTERNS.items()}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_MIN_INSTANT = datetime(1, 1, 1, tzinfo=UTC)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _json(text: str) -> Any:
    try:
        value = _JSON.decode(text)
    except (ValueError, RecursionError):  # trailing commas, NaN, bad syntax; too deep
        return _INVALID
    if _SURROGATE_ESCAPE.search(text):  # a lone surrogate escape is not text
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _INVALID
    return value


def _integer(text: str) -> Any:
    return int(text) if _PATTERNS["integer"].fullmatch(text) else _INVALID


def _number(text: str) -> Any:
    if not _PATTERNS["number"].fullmatch(text):
        return _INVALID
    value = float(text)
    return value if math.isfinite(value) else _INVALID


def _boolean(text: str) -> Any:
    if not _PATTERNS["boolean"].fullmatch(text):
        return _INVALID
    return text.lower() == "true"


def _date(text: str) -> Any:
    if not _PATTERNS["date"].fullmatch(text):
        return _INVALID
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30, year 0
        return _INVALID


def _timestamp(text: str) -> Any:
    if not _PATTERNS["timestamp"].fullmatch(text):
        return _INVALID
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return _INVALID
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # the UTC instant falls before year 1 or after 9999
        return _INVALID


def _string(text: str) -> Any:
    return text


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "timestamp": _timestamp,
    "json": _json,
}


def _convert(f: Field, text: str | None) -> Any:
    if text is None or text == "":
        return _INVALID
    return _CONVERTERS[f.type](text)


def typed_value(f: Field, text: str | None) -> Any:
    """The text as a Python value of the field's type (int, float, bool, date, UTC datetime, str,
    parsed JSON), or None when absent or not of its type. A JSON `null` also gives None: use
    `is_of_type` to tell them apart."""
    value = _convert(f, text)
    return None if value is _INVALID else value


def is_of_type(f: Field, text: str | None) -> bool:
    """Whether a present text is of the field's contract type (False when absent)."""
    return _convert(f, text) is not _INVALID


def future_limit(reference_time: datetime, hours: float) -> datetime:
    """The latest allowed instant (UTC) for a `max_future_hours` rule, computed as the SQL does.

    A naive reference time is UTC."""
    if reference_time.tzinfo is None:
        reference_time = reference_time.replace(tzinfo=UTC)
    return datetime.fromtimestamp(reference_time.timestamp() + hours * 3600, tz=UTC)


def bound_value(f: Field, value: Any) -> Any:
    """A contract bound (minimum, maximum) in the field's type, as the SQL casts it."""
    if f.type == "timestamp":
        parsed = datetime.fromisoformat(str(value))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if f.type == "date":
        text = str(value)
        try:
            return date.fromisoformat(text)
        except ValueError:
            return datetime.fromisoformat(text).date()
    if isinstance(value, (int, float)):
        return value
    return float(value)


# A compiled check: (values by field, typed values by field, max_future limits) -> broken?
_Check = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], bool]


@dataclass(frozen=True)
class _Compiled:
    names: tuple[str, ...]
    converters: tuple[tuple[str, Callable[[str], Any]], ...]  # non-string fields
    checks: tuple[tuple[Rule, _Check], ...]
    futures: tuple[tuple[str, float, bool], ...]  # rule id, hours, date-typed


def _check(rule: Rule, contract: Contract) -> _Check:  # noqa: C901 - one branch per rule kind
    kind = rule.kind
    if kind == "one_of_required":
        group = rule.fields
        return lambda v, t, lim: all(v[c] is None for c in group)
    f = contract.field(rule.field)
    n = f.name
    if kind == "required":
        return lambda v, t, lim: v[n] is None
    if kind == "required_when":
        when = tuple(rule.params["when"].items())
        return lambda v, t, lim: v[n] is None and all(v[k] == val for k, val in when)
    if kind == "type":
        return lambda v, t, lim: v[n] is not None and t[n] is _INVALID
    if kind == "enum":
        if f.type == "string":
            allowed = frozenset(rule.params["values"])
        else:
            allowed = frozenset(
                x for x in (_convert(f, s) for s in rule.params["values"]) if x is not _INVALID
            )
        return lambda v, t, lim: t[n] is not _INVALID and t[n] not in allowed
    if kind == "pattern":
        rx = re.compile(rule.params["pattern"], re.ASCII)
        return lambda v, t, lim: v[n] is not None and rx.fullmatch(v[n]) is None
    if kind == "minimum":
        low = bound_value(f, rule.params["value"])
        return lambda v, t, lim: t[n] is not _INVALID and t[n] < low
    if kind == "maximum":
        high = bound_value(f, rule.params["value"])
        return lambda v, t, lim: t[n] is not _INVALID and t[n] > high
    if kind == "max_future":
        rid = rule.id
        return lambda v, t, lim: t[n] is not _INVALID and t[n] > lim[rid]
    raise ValueError(f"{contract.name}: rule kind {kind!r} has no record form")


def _compile(contract: Contract) -> _Compiled:
    checks = tuple(
        (r, _check(r, contract))
        for r in contract_rules(contract)
        if r.scope == "row" and r.id != PARSE_RULE
    )
    futures = tuple(
        (r.id, r.params["hours"], contract.field(r.field).type == "date")
        for r, _ in checks
        if r.kind == "max_future"
    )
    return _Compiled(
        names=contract.field_names,
        converters=tuple((f.name, _CONVERTERS[f.type]) for f in contract.fields if f.type != "string"),
        checks=checks,
        futures=futures,
    )


_CACHE: dict[int, tuple[Contract, _Compiled]] = {}
_CACHE_SIZE = 256


def _compiled(contract: Contract) -> _Compiled:
    # Keyed by identity (contracts are loaded once and reused); the entry keeps the contract alive
    # so that its id cannot be reused by another object while cached.
    hit = _CACHE.get(id(contract))
    if hit is not None and hit[0] is contract:
        return hit[1]
    compiled = _compile(contract)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(contract)] = (contract, compiled)
    return compiled


_PARSE_FAILED = RecordVerdict(errors=(PARSE_RULE,))


def validate_record(
    contract: Contract,
    record: Mapping[str, str | None],
    reference_time: datetime,
    parse_error: str | None = None,
) -> RecordVerdict:
    """The rules of `contract` that `record` (field name -> text) breaks, as the SQL judges them.

    Keys that are not contract fields are ignored; a missing key is an absent value."""
    if parse_error is not None:
        return _PARSE_FAILED
    c = _compiled(contract)
    values: dict[str, Any] = {}
    for name in c.names:
        text = record.get(name)
        values[name] = None if text is None or text == "" else text
    # A string is its own typed value; other types convert (absent stays absent).
    typed = {n: _INVALID if v is None else v for n, v in values.items()}
    for name, convert in c.converters:
        text = values[name]
        if text is not None:
            typed[name] = convert(text)
    limits: dict[str, Any] = {}
    for rid, hours, is_date in c.futures:
        limit = future_limit(reference_time, hours)
        limits[rid] = limit.date() if is_date else limit
    errors: list[str] = []
    warnings: list[str] = []
    for rule, broken in c.checks:
        if broken(values, typed, limits):
            (errors if rule.severity == ERROR else warnings).append(rule.id)
    return RecordVerdict(errors=tuple(errors), warnings=tuple(warnings))
