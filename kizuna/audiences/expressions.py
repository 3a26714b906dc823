"""Audience rules: one expression tree, two backends (DESIGN.md: rule expressions are shared core).

A rule from `config/audiences/*.yml` is parsed once into a tree of `Compare`, `All`, `Any`, `Not`,
`Unless` and `Events` nodes, checked against the fields it may read (the profile's and the events'
columns, with their types). The tree then becomes SQL through sqlglot's expression API (`to_sql`,
for batch audiences over the warehouse) or is evaluated on one profile and its recent events
(`evaluate`, for the real-time service). Values become typed literals, never SQL text.

Both backends follow SQL's three-valued logic: a comparison with a missing value is unknown, `not`
of unknown is unknown, and a person is a member only when the whole rule is true. A shared test
suite proves they agree on the same data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Union

from sqlglot import exp

# Field types a rule may compare, and the Python values each accepts.
TYPES = {"string": (str,), "number": (int, float), "boolean": (bool,), "date": (date,), "timestamp": (datetime,)}
OPERATORS = {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "is_null", "not_null", "between"}
ORDERED = {"number", "date", "timestamp"}


class RuleError(ValueError):
    """A rule that cannot be used; the message names the file and the place in the rule."""

    def __init__(self, source: str, where: str, message: str):
        super().__init__(f"{source}: {where}: {message}")


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any = None  # a literal, a tuple for in/not_in/between, None for is_null/not_null


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Unless:
    """True unless `item` is true: an exclusion (an open ticket excludes; not knowing does not)."""

    item: Node


@dataclass(frozen=True)
class Events:
    """At least `at_least` (or at most `at_most`) events named `name` in the last `within_days`."""

    name: str
    within_days: int
    at_least: int | None = None
    at_most: int | None = None


Node = Union[Compare, All, Any_, Not, Unless, Events]  # noqa: UP007 (a forward-referenced alias)


@dataclass(frozen=True)
class Schema:
    """The fields rules may read: profile column -> type; the events' name and time columns."""

    profile: Mapping[str, str]
    event_name: str = "event_name"
    event_time: str = "occurred_at"
    person_key: str = "person_id"


# ---- parsing -------------------------------------------------------------------------------------

def parse(rule: Any, schema: Schema, source: str, where: str = "where") -> Node:
    """The tree of one rule (the `where` of an audience file), checked against `schema`."""
    if not isinstance(rule, Mapping) or len(rule) != 1 and "field" not in rule:
        raise RuleError(source, where,
                        "expected one of all, any, not, unless, events, or a {field, op, value} condition")
    if "field" in rule:
        return _compare(rule, schema, source, where)
    (key, body), = rule.items()
    if key in ("all", "any"):
        if not isinstance(body, Sequence) or isinstance(body, str) or not body:
            raise RuleError(source, f"{where}.{key}", "expected a non-empty list of conditions")
        items = tuple(parse(item, schema, source, f"{where}.{key}[{i}]") for i, item in enumerate(body))
        return All(items) if key == "all" else Any_(items)
    if key == "not":
        return Not(parse(body, schema, source, f"{where}.not"))
    if key == "unless":
        return Unless(parse(body, schema, source, f"{where}.unless"))
    if key == "events":
        return _events(body, source, f"{where}.events")
    raise RuleError(source, where, f"unknown key {key!r}: expected all, any, not, unless, events or field")


def _compare(rule: Mapping, schema: Schema, source: str, where: str) -> Compare:
    field, op = rule.get("field"), rule.get("op", "eq")
    unknown = set(rule) - {"field", "op", "value"}
    if unknown:
        raise RuleError(source, where, f"unknown key(s) {sorted(unknown)}")
    if not isinstance(field, str) or field not in schema.profile:
        raise RuleError(source, f"{where}.field", f"{field!r} is not a profile field")
    if op not in OPERATORS:
        raise RuleError(source, f"{where}.op", f"{op!r} is not one of {sorted(OPERATORS)}")
    kind = schema.profile[field]
    if op in ("is_null", "not_null"):
        if "value" in rule:
            raise RuleError(source, f"{where}.value", f"{op} takes no value")
        return Compare(field, op)
    if "value" not in rule:
        raise RuleError(source, f"{where}.value", "is missing")
    if op in ("lt", "le", "gt", "ge", "between") and kind not in ORDERED:
        raise RuleError(source, f"{where}.op", f"{op} needs a number, date or timestamp field; {field} is {kind}")
    if op in ("in", "not_in", "between"):
        values = rule["value"]
        if not isinstance(values, Sequence) or isinstance(values, str) or not values:
            raise RuleError(source, f"{where}.value", f"{op} needs a non-empty list")
        if op == "between" and len(values) != 2:
            raise RuleError(source, f"{where}.value", "between needs [low, high]")
        return Compare(field, op, tuple(_literal(v, kind, source, f"{where}.value") for v in values))
    return Compare(field, op, _literal(rule["value"], kind, source, f"{where}.value"))


def _literal(value: Any, kind: str, source: str, where: str) -> Any:
    """The value as the field's type, or an error: a string never becomes anything but a string."""
    if kind != "boolean" and isinstance(value, bool):
        raise RuleError(source, where, f"{value!r} is not a {kind}")
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise RuleError(source, where, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if kind == "timestamp" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise RuleError(source, where, f"{value!r} is not a timestamp (ISO 8601)") from None
    if not isinstance(value, TYPES[kind]) or isinstance(value, float) and not math.isfinite(value):
        raise RuleError(source, where, f"{value!r} is not a {kind}")
    return value


def _events(body: Any, source: str, where: str) -> Events:
    if not isinstance(body, Mapping) or not isinstance(body.get("name"), str):
        raise RuleError(source, where, "expected {name, within_days, at_least or at_most}")
    unknown = set(body) - {"name", "within_days", "at_least", "at_most"}
    if unknown:
        raise RuleError(source, where, f"unknown key(s) {sorted(unknown)}")
    counts = {}
    for key in ("within_days", "at_least", "at_most"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise RuleError(source, f"{where}.{key}", f"expected a whole number at least 0, got {value!r}")
        counts[key] = value
    if not counts["within_days"]:
        raise RuleError(source, f"{where}.within_days", "is missing")
    if (counts["at_least"] is None) == (counts["at_most"] is None):
        raise RuleError(source, where, "give exactly one of at_least and at_most")
    return Events(body["name"], counts["within_days"], counts["at_least"], counts["at_most"])


# ---- SQL -------------------------------------------------------------------------------------------

def _sql_literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    return exp.Literal.string(str(value))


def to_sql(node: Node, schema: Schema, profile: str = "profile", events: str = "events",
           now: exp.Expression | None = None) -> exp.Expression:
    """The rule as a sqlglot condition over `profile` (one row per person), with `Events` as
    correlated counts over `events`; `now` is the moment event windows end (default: now())."""
    now = now if now is not None else exp.func("now")
    if isinstance(node, All):
        return exp.and_(*(to_sql(i, schema, profile, events, now) for i in node.items))
    if isinstance(node, Any_):
        return exp.or_(*(to_sql(i, schema, profile, events, now) for i in node.items))
    if isinstance(node, Not):
        return exp.not_(exp.paren(to_sql(node.item, schema, profile, events, now)))
    if isinstance(node, Unless):
        return exp.not_(exp.func("coalesce", to_sql(node.item, schema, profile, events, now), exp.false()))
    if isinstance(node, Events):
        since = exp.Sub(this=now, expression=exp.Interval(this=exp.Literal.string(str(node.within_days)),
                                                          unit=exp.var("DAY")))
        count = (exp.select(exp.func("count", exp.Star()))
                 .from_(exp.alias_(exp.to_table(events), "e"))
                 .where(exp.column(schema.person_key, table="e").eq(exp.column(schema.person_key, table=profile)))
                 .where(exp.column(schema.event_name, table="e").eq(exp.Literal.string(node.name)))
                 .where(exp.column(schema.event_time, table="e") >= since)
                 .where(exp.column(schema.event_time, table="e") <= now))
        sub = exp.paren(exp.Subquery(this=count))
        if node.at_least is not None:
            return sub >= exp.Literal.number(node.at_least)
        return sub <= exp.Literal.number(node.at_most)
    column = exp.column(node.field, table=profile)
    if node.op == "is_null":
        return column.is_(exp.null())
    if node.op == "not_null":
        return exp.not_(column.is_(exp.null()))
    if node.op in ("in", "not_in"):
        found = column.isin(*(_sql_literal(v) for v in node.value))
        return found if node.op == "in" else exp.not_(found)
    if node.op == "between":
        return exp.Between(this=column, low=_sql_literal(node.value[0]), high=_sql_literal(node.value[1]))
    binary = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE}[node.op]
    return binary(this=column, expression=_sql_literal(node.value))


# ---- one profile -------------------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or isinstance(value, float) and math.isnan(value)


def evaluate(node: Node, profile: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now: datetime,
             schema: Schema) -> bool | None:
    """True, False, or None (unknown) for one profile and its events, as SQL would decide."""
    if isinstance(node, All):
        results = [evaluate(i, profile, events, now, schema) for i in node.items]
        return False if False in results else None if None in results else True
    if isinstance(node, Any_):
        results = [evaluate(i, profile, events, now, schema) for i in node.items]
        return True if True in results else None if None in results else False
    if isinstance(node, Not):
        inner = evaluate(node.item, profile, events, now, schema)
        return None if inner is None else not inner
    if isinstance(node, Unless):
        return evaluate(node.item, profile, events, now, schema) is not True
    if isinstance(node, Events):
        since = now - timedelta(days=node.within_days)
        n = sum(1 for e in events if e.get(schema.event_name) == node.name
                and not _missing(e.get(schema.event_time)) and since <= e[schema.event_time] <= now)
        return n >= node.at_least if node.at_least is not None else n <= node.at_most
    value = profile.get(node.field)
    if node.op == "is_null":
        return _missing(value)
    if node.op == "not_null":
        return not _missing(value)
    if _missing(value):
        return None
    if node.op in ("in", "not_in"):
        found = value in node.value
        return found if node.op == "in" else not found
    if node.op == "between":
        return node.value[0] <= value <= node.value[1]
    compare = {"eq": value == node.value, "ne": value != node.value}
    if node.op in compare:
        return compare[node.op]
    return {"lt": value < node.value, "le": value <= node.value, "gt": value > node.value,
            "ge": value >= node.value}[node.op]


def is_member(node: Node, profile: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now: datetime,
              schema: Schema) -> bool:
    """Membership: the rule is true (unknown is not a member, as in a SQL WHERE)."""
    return evaluate(node, profile, events, now, schema) is True
