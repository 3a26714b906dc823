"""Audience files: the shipped ones compile, the shared exclusion works as the seeds ask, and a
wrong file names the file and the key."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kizuna.audiences.config import compile_audience, load_audiences
from kizuna.audiences.expressions import RuleError, Schema, is_member
from kizuna.understand.config import ConfigError

SCHEMA = Schema(profile={"person_id": "string", "open_tickets": "number", "churn_decile": "number",
                         "orders": "number", "journey_stage": "string"})
NOW = datetime(2026, 10, 28, 12)


def test_the_shipped_audiences_load_with_the_sql_audience_beside_them():
    catalogue = load_audiences(sql_models={"high_value_at_risk": "dbt_project/models/audiences/high_value_at_risk.sql"})
    assert {"cart_abandoners", "churn_winback", "new_customers", "high_value_at_risk"} <= set(catalogue.audiences)
    assert catalogue.audiences["cart_abandoners"].exclude == ("open_support_ticket",)
    assert catalogue.audiences["high_value_at_risk"].is_sql


def test_an_open_support_ticket_excludes_but_not_knowing_does_not():
    catalogue = load_audiences()
    tree = compile_audience(catalogue, catalogue.audiences["cart_abandoners"], SCHEMA)
    browsing = [{"event_name": "Product Viewed", "occurred_at": NOW - timedelta(hours=h)} for h in (1, 20, 50)]
    for tickets, member in ((0, True), (None, True), (1, False)):
        profile = {"person_id": "p1", "open_tickets": tickets}
        assert is_member(tree, profile, browsing, NOW, SCHEMA) is member, tickets
    bought = [*browsing, {"event_name": "Order Completed", "occurred_at": NOW - timedelta(days=2)}]
    assert not is_member(tree, {"person_id": "p1", "open_tickets": 0}, bought, NOW, SCHEMA)


def write(root: Path, name: str, text: str) -> None:
    folder = root / "config" / "audiences"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


@pytest.mark.parametrize(("text", "message"), [
    ("where: {field: orders, op: gt, value: 1}\nsegment: x\n", "segment: unknown key"),
    ("description: no rule\n", "where: is missing"),
    ("name: Big Spenders\nwhere: {field: orders, op: gt, value: 1}\n", "name: 'Big Spenders'"),
    ("where: {field: orders, op: gt, value: 1}\nexclude: [vip_only]\n", "exclude: 'vip_only' is not a rule"),
])
def test_a_wrong_audience_file_names_the_file_and_key(tmp_path, text, message):
    write(tmp_path, "_rules.yml", "rules:\n  open_support_ticket: {where: {field: open_tickets, op: gt, value: 0}}\n")
    write(tmp_path, "bad.yml", text)
    with pytest.raises(ConfigError, match=message) as error:
        load_audiences(tmp_path)
    assert str(error.value).startswith("config/audiences/bad.yml: ")


def test_a_yaml_and_a_sql_audience_of_one_name_are_refused(tmp_path):
    write(tmp_path, "vip.yml", "where: {field: orders, op: gt, value: 1}\n")
    with pytest.raises(ConfigError, match="audience 'vip' is also defined in config/audiences/vip.yml"):
        load_audiences(tmp_path, sql_models={"vip": "dbt_project/models/audiences/vip.sql"})


def test_a_rule_on_a_field_the_profile_lacks_is_refused_when_the_audience_is_compiled(tmp_path):
    write(tmp_path, "x.yml", "where: {all: [{field: orders, op: gt, value: 1}, {field: ltv, op: gt, value: 9}]}\n")
    catalogue = load_audiences(tmp_path)
    with pytest.raises(RuleError, match=r"config/audiences/x.yml: where.all\[1\].field: 'ltv' is not a profile field"):
        compile_audience(catalogue, catalogue.audiences["x"], SCHEMA)
