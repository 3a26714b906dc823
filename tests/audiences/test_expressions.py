"""Audience rules: parsing refuses what it cannot trust, and the SQL and Python backends give the
same membership on the same data (randomized profiles, events and rules, through DuckDB)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pytest
import sqlglot

from kizuna.audiences.expressions import (
    All,
    Compare,
    Events,
    Not,
    RuleError,
    Schema,
    is_member,
    parse,
    to_sql,
)

SCHEMA = Schema(profile={"person_id": "string", "churn_decile": "number", "purchase_score": "number",
                         "prefecture": "string", "consent_email_marketing": "boolean", "open_tickets": "number",
                         "last_order_at": "timestamp"})
NOW = datetime(2026, 10, 28, 0, 0)
NAMES = ["Product Viewed", "Order Completed", "Cart Viewed"]


def test_a_rule_parses_into_one_tree():
    rule = {"all": [{"field": "churn_decile", "op": "le", "value": 2},
                    {"not": {"field": "open_tickets", "op": "gt", "value": 0}},
                    {"events": {"name": "Product Viewed", "within_days": 7, "at_least": 3}}]}
    tree = parse(rule, SCHEMA, "config/audiences/winback.yml")
    assert tree == All((Compare("churn_decile", "le", 2), Not(Compare("open_tickets", "gt", 0)),
                        Events("Product Viewed", 7, at_least=3)))


@pytest.mark.parametrize(("rule", "message"), [
    ({"field": "churn_decile; drop table marts.customer_profile", "op": "eq", "value": 1}, "is not a profile field"),
    ({"field": "prefecture", "op": "eq) or (1=1", "value": "Tokyo"}, "is not one of"),
    ({"field": "churn_decile", "op": "eq", "value": "1 or 1=1"}, "is not a number"),
    ({"field": "prefecture", "op": "gt", "value": "A"}, "needs a number, date or timestamp"),
    ({"field": "prefecture", "op": "in", "value": []}, "non-empty list"),
    ({"events": {"name": "Product Viewed", "within_days": 7}}, "exactly one of at_least and at_most"),
    ({"sql": "select 1"}, "unknown key 'sql'"),
])
def test_a_rule_that_cannot_be_trusted_is_refused_naming_file_and_place(rule, message):
    with pytest.raises(RuleError, match=message) as error:
        parse({"any": [{"field": "open_tickets", "op": "eq", "value": 0}, rule]}, SCHEMA, "config/audiences/x.yml")
    assert str(error.value).startswith("config/audiences/x.yml: where.any[1]")


def test_a_quote_in_a_value_stays_a_value():
    tree = parse({"field": "prefecture", "op": "eq", "value": "O'Higgins'); drop table t; --"}, SCHEMA, "f.yml")
    con = duckdb.connect()
    con.execute("create table profile (person_id varchar, prefecture varchar)")
    con.execute("insert into profile values ('p1', 'O''Higgins''); drop table t; --'), ('p2', 'Tokyo')")
    sql = f"select person_id from profile where {to_sql(tree, SCHEMA).sql(dialect='duckdb')}"
    assert con.sql(sql).fetchall() == [("p1",)]


def random_rule(rng: random.Random, depth: int = 0) -> dict:
    if depth < 2 and rng.random() < 0.45:
        kind = rng.choice(["all", "any", "not", "unless"])
        if kind in ("not", "unless"):
            return {kind: random_rule(rng, depth + 1)}
        return {kind: [random_rule(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if rng.random() < 0.25:
        key = rng.choice(["at_least", "at_most"])
        return {"events": {"name": rng.choice(NAMES), "within_days": rng.choice([1, 7, 30]), key: rng.randint(0, 3)}}
    field = rng.choice(["churn_decile", "purchase_score", "prefecture", "consent_email_marketing", "last_order_at"])
    if field == "prefecture":
        op = rng.choice(["eq", "ne", "in", "not_in", "is_null", "not_null"])
        value = ["Tokyo", "Osaka"] if op in ("in", "not_in") else "Tokyo"
    elif field == "consent_email_marketing":
        op, value = rng.choice(["eq", "ne", "is_null"]), rng.random() < 0.5
    elif field == "last_order_at":
        op, value = rng.choice(["lt", "ge", "between"]), (NOW - timedelta(days=30)).isoformat()
        value = [(NOW - timedelta(days=60)).isoformat(), value] if op == "between" else value
    else:
        op = rng.choice(["eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_null"])
        value = {"between": [2, 5], "in": [1, 3, 10]}.get(op, rng.randint(1, 10))
    rule = {"field": field, "op": op}
    if op not in ("is_null", "not_null"):
        rule["value"] = value
    return rule


def random_world(rng: random.Random, persons: int = 200) -> tuple[list[dict], list[dict]]:
    profiles, events = [], []
    for i in range(persons):
        def maybe(value):
            return None if rng.random() < 0.15 else value
        profiles.append({"person_id": f"P{i:04d}", "churn_decile": maybe(rng.randint(1, 10)),
                         "purchase_score": maybe(rng.random()),
                         "prefecture": maybe(rng.choice(["Tokyo", "Osaka", "Kyoto"])),
                         "consent_email_marketing": maybe(rng.random() < 0.5), "open_tickets": rng.randint(0, 2),
                         "last_order_at": maybe(NOW - timedelta(days=rng.randint(0, 90)))})
        for _ in range(rng.randint(0, 8)):
            events.append({"person_id": f"P{i:04d}", "event_name": rng.choice(NAMES),
                           "occurred_at": NOW - timedelta(hours=rng.randint(0, 24 * 40))})
    return profiles, events


def test_sql_and_python_give_the_same_members_on_random_rules_and_data():
    rng = random.Random(5)
    profiles, events = random_world(rng)
    con = duckdb.connect()
    con.execute("create table profile (person_id varchar, churn_decile bigint, purchase_score double, "
                "prefecture varchar, consent_email_marketing boolean, open_tickets bigint, last_order_at timestamp)")
    con.executemany("insert into profile values (?, ?, ?, ?, ?, ?, ?)", [list(p.values()) for p in profiles])
    con.execute("create table events (person_id varchar, event_name varchar, occurred_at timestamp)")
    con.executemany("insert into events values (?, ?, ?)", [list(e.values()) for e in events])
    by_person = {p["person_id"]: [e for e in events if e["person_id"] == p["person_id"]] for p in profiles}
    # Event windows end at the same fixed moment in both backends.
    now = sqlglot.parse_one(f"timestamp '{NOW.isoformat(sep=' ')}'", read="duckdb")
    checked = 0
    for _ in range(300):
        tree = parse(random_rule(rng), SCHEMA, "random.yml")
        where = to_sql(tree, SCHEMA, now=now).sql(dialect="duckdb")
        in_sql = {r[0] for r in con.sql(f"select person_id from profile where {where}").fetchall()}
        in_python = {p["person_id"] for p in profiles if is_member(tree, p, by_person[p["person_id"]], NOW, SCHEMA)}
        assert in_sql == in_python, where
        checked += len(in_sql)
    assert checked > 1000  # the rules select people, not nobody
