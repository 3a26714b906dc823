"""Compile a contract's rules to DuckDB SQL over a batch of text columns.

The batch is a table with one VARCHAR column per contract field (NULL when absent or empty),
plus `_parse_error` (NULL when the record was read). For every row the compiled query gives the
list of failed error rules and warn rules, and each field's typed value; the connector splits on it.
All identifiers and literals are quoted here, never pasted raw: contract values are user input.
"""

from __future__ import annotations

from datetime import UTC, datetime

from data_contracts.model import Contract, Field
from data_contracts.rules import ERROR, PARSE_RULE, Rule, contract_rules
from data_contracts.types import SQL_TYPES, TYPE_PATTERNS


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# What DuckDB converts but no other judge can hold: infinity from an overflowing number ('1e999'),
# dates before year 1 ('0000-01-01' reads as 1 BC), instants outside years 1-9999 in UTC.
_RANGE_GUARDS = {
    "number": "isfinite({v})",
    "date": "{v} >= DATE '0001-01-01'",
    "timestamp": (
        "{v} BETWEEN TIMESTAMPTZ '0001-01-01 00:00:00+00' "
        "AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"
    ),
}
# json_valid (yyjson) also reads trailing commas and NaN/Infinity, which JSON (and Python) do not:
# look for them outside string literals.
_JSON_STRINGS = r'"(?:[^"\\]|\\.)*"'
_JSON_LENIENT = r",[ \t\n\r]*[\]}]|[nN][aA][nN]|[iI][nN][fF]"
_JSON_SUSPECT = (r",[ \t\n\r]*[\]}]", "[nN][aA][nN]", "[iI][nN][fF]")
# Typed values of a judged batch are computed once, in columns with this prefix.
TYPED_PREFIX = "__typed__"
# A reader that has already parsed a json field may pass the value in a column with this prefix.
PARSED_PREFIX = "__parsed__"


def parsed_column(name: str) -> str:
    return ident(PARSED_PREFIX + name)


def typed_sql(f: Field, column: str | None = None, parsed: str | None = None) -> str:
    """The field's value in its contract type, NULL when the text is not of that type.

    `parsed` (json fields only) names a column holding the value DuckDB already parsed from this
    very text: it replaces the cast, not the strictness check, so the verdict is the same.
    """
    col = column or ident(f.name)
    sql_type = SQL_TYPES[f.type]
    if f.type == "string":
        return col
    if f.type == "json":
        stripped = f"regexp_replace({col}, {literal(_JSON_STRINGS)}, '\"\"', 'g')"
        # Stripping string literals is costly; only texts where a lenient form appears at all
        # (rarely, and then mostly inside strings) need it. Three simple patterns scan faster than
        # one alternation. TRY_CAST to JSON is DuckDB's json_valid and the cast in one parse.
        suspect = " OR ".join(f"regexp_matches({col}, {literal(p)})" for p in _JSON_SUSPECT)
        lenient = f"regexp_matches({stripped}, {literal(_JSON_LENIENT)})"
        # Nested CASEs, not AND: DuckDB evaluates a CASE branch only on the rows that reach it.
        value = parsed or f"TRY_CAST({col} AS JSON)"
        return (
            f"CASE WHEN {suspect} THEN (CASE WHEN {lenient} THEN NULL ELSE {value} END) "
            f"ELSE {value} END"
        )
    if f.type == "timestamp":
        # A timestamp written without an offset is UTC (the connection's TimeZone is UTC).
        cast = f"TRY_CAST({col} AS TIMESTAMPTZ)"
    elif f.type == "boolean":
        cast = f"TRY_CAST(lower({col}) AS BOOLEAN)"
    else:
        cast = f"TRY_CAST({col} AS {sql_type})"
    cond = f"regexp_full_match({col}, {literal(TYPE_PATTERNS[f.type])})"
    if f.type in _RANGE_GUARDS:
        cond += " AND " + _RANGE_GUARDS[f.type].format(v=cast)
    return f"CASE WHEN {cond} THEN {cast} END"


def _bound(f: Field, value: object) -> str:
    if f.type == "timestamp":
        return f"CAST({literal(str(value))} AS TIMESTAMPTZ)"
    if f.type == "date":
        return f"CAST({literal(str(value))} AS DATE)"
    return literal(value)


def typed_column(name: str) -> str:
    """The column of a judged batch that holds a field's typed value."""
    return ident(TYPED_PREFIX + name)


def violation_sql(rule: Rule, contract: Contract, reference_time: datetime, *, precomputed: bool = False) -> str:
    """A boolean SQL expression, TRUE when the row breaks the rule.

    With `precomputed`, typed values are read from the batch's typed columns (see `judged_select`)
    instead of being computed again for every rule.
    """
    if rule.kind == "parse":
        return '"_parse_error" IS NOT NULL'
    if rule.kind == "one_of_required":
        return "(" + " AND ".join(f"{ident(c)} IS NULL" for c in rule.fields) + ")"
    f = contract.field(rule.field)
    col = ident(f.name)
    typed = typed_column(f.name) if precomputed else typed_sql(f)
    if rule.kind == "required":
        return f"{col} IS NULL"
    if rule.kind == "required_when":
        conds = " AND ".join(f"{ident(k)} = {literal(v)}" for k, v in rule.params["when"].items())
        return f"({conds} AND {col} IS NULL)"
    if rule.kind == "type":
        return f"({col} IS NOT NULL AND ({typed}) IS NULL)"
    if rule.kind == "enum":
        values = ", ".join(literal(v) for v in rule.params["values"])
        return f"coalesce(({typed}) NOT IN ({values}), FALSE)"
    if rule.kind == "pattern":
        return f"coalesce(NOT regexp_full_match({col}, {literal(rule.params['pattern'])}), FALSE)"
    if rule.kind == "minimum":
        return f"coalesce(({typed}) < {_bound(f, rule.params['value'])}, FALSE)"
    if rule.kind == "maximum":
        return f"coalesce(({typed}) > {_bound(f, rule.params['value'])}, FALSE)"
    if rule.kind == "max_future":
        if reference_time.tzinfo is None:  # naive means UTC, not the host's zone
            reference_time = reference_time.replace(tzinfo=UTC)
        limit = reference_time.timestamp() + rule.params["hours"] * 3600
        if f.type == "date":
            limit_sql = f"CAST(to_timestamp({limit!r}) AS DATE)"
        else:
            limit_sql = f"to_timestamp({limit!r})"
        return f"coalesce(({typed}) > {limit_sql}, FALSE)"
    raise ValueError(f"{contract.name}: rule kind {rule.kind!r} has no SQL form")


def row_rules(contract: Contract) -> list[Rule]:
    return [r for r in contract_rules(contract) if r.scope == "row"]


def failures_sql(contract: Contract, reference_time: datetime, severity: str, *, precomputed: bool = False) -> str:
    """A LIST(VARCHAR) expression of the ids of failed rules of one severity (empty when none).

    A record that could not be parsed fails only `parse`: its fields say nothing.
    """
    rules = [r for r in row_rules(contract) if r.severity == severity]
    items = [
        f"CASE WHEN {violation_sql(r, contract, reference_time, precomputed=precomputed)} THEN {literal(r.id)} END"
        for r in rules
        if r.id != PARSE_RULE
    ]
    listed = "list_filter([" + ", ".join(items) + "]::VARCHAR[], x -> x IS NOT NULL)" if items else "[]::VARCHAR[]"
    if severity == ERROR:
        return f"CASE WHEN \"_parse_error\" IS NOT NULL THEN [{literal(PARSE_RULE)}]::VARCHAR[] ELSE {listed} END"
    return f"CASE WHEN \"_parse_error\" IS NOT NULL THEN []::VARCHAR[] ELSE {listed} END"


def judged_select(contract: Contract, batch: str, reference_time: datetime, *, text: bool = True,
                  parsed: frozenset[str] = frozenset()) -> str:
    """SELECT over the batch adding `_errors` and `_warnings` (lists of rule ids) per row, and each
    field's typed value (`typed_column(name)`), computed once for the rules and for loading.

    With `text=False` the batch's text columns are left out (they are wide, and only the few
    failed records need them again): what remains is every column starting with `_` (file, line,
    sequence, extra columns...) and the typed values. `parsed` names json fields whose parsed
    value the batch carries (see `typed_sql`).
    """
    typed = ", ".join(
        f"{typed_sql(f, parsed=parsed_column(f.name) if f.name in parsed else None)} AS {typed_column(f.name)}"
        for f in contract.fields
    )
    kept = "*" if text else (
        "COLUMNS(c -> starts_with(c, '_') AND c NOT IN ('_raw', '_parse_error') "
        f"AND NOT starts_with(c, {literal(PARSED_PREFIX)}))"
    )
    return (
        f"SELECT {kept}, {failures_sql(contract, reference_time, ERROR, precomputed=True)} AS _errors, "
        f"{failures_sql(contract, reference_time, 'warn', precomputed=True)} AS _warnings "
        f"FROM (SELECT *, {typed} FROM {batch})"
    )


def typed_columns_sql(contract: Contract, qualifier: str = "") -> str:
    """The select list that takes a judged batch's typed values as the raw table's columns."""
    return ", ".join(f"{qualifier}{typed_column(f.name)} AS {ident(f.name)}" for f in contract.fields)


def raw_table_columns(contract: Contract) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each contract field in the raw table."""
    return [(f.name, SQL_TYPES[f.type]) for f in contract.fields]
