"""The KPI tree's config check, formula arithmetic, LMDI contributions and picture (fast)."""

from __future__ import annotations

import copy
import math
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from matplotlib.figure import Figure

from kizuna.settings import project_root
from kizuna.understand.config import CHECKS, ConfigError
from kizuna.understand.kpi_picture import draw
from kizuna.understand.kpi_tree import evaluate, lmdi, load_tree, measures, parse_formula, parse_tree

PATH = Path("config/kpi_tree.yml")


def tree(*extra: dict, **settings) -> dict:
    """A small valid tree: revenue = buyers x orders_per_buyer x average_order_value, buyers =
    new + repeat buyers, and a driver under new buyers."""
    nodes = [
        {"id": "revenue", "level": "kgi", "stage": "purchase", "department": "management", "formula": "revenue",
         "decomposition": "product"},
        {"id": "buyers", "parent": "revenue", "level": "kpi", "stage": "purchase", "department": "sales",
         "formula": "buyers", "decomposition": "sum"},
        {"id": "orders_per_buyer", "parent": "revenue", "level": "kpi", "stage": "purchase", "department": "sales",
         "formula": "orders / buyers"},
        {"id": "average_order_value", "parent": "revenue", "level": "kpi", "stage": "purchase",
         "department": "merchandising", "formula": "revenue / orders"},
        {"id": "new_buyers", "parent": "buyers", "level": "kpi", "stage": "purchase", "department": "ecommerce",
         "formula": "new_buyers"},
        {"id": "repeat_buyers", "parent": "buyers", "level": "kpi", "stage": "retention", "department": "crm",
         "formula": "repeat_buyers"},
        {"id": "view_to_cart_rate", "parent": "new_buyers", "level": "pi", "stage": "consideration",
         "department": "merchandising", "formula": "cart_adders / product_viewers"},
    ]
    return {"kizuna__kpi_tree": {**settings, "nodes": [*nodes, *extra]}}


def changed(node_id: str, **fields) -> dict:
    data = tree()
    for node in data["kizuna__kpi_tree"]["nodes"]:
        if node["id"] == node_id:
            for key, value in fields.items():
                if value is None:
                    node.pop(key, None)
                else:
                    node[key] = value
    return data


def test_the_shipped_tree_passes_and_is_registered():
    nodes = load_tree()
    assert "kpi_tree.yml" in CHECKS
    assert [n.id for n in nodes if n.parent is None] == ["revenue"]
    stages = {n.stage for n in nodes}
    assert {"awareness", "consideration", "purchase", "onboarding", "retention", "advocacy", "at_risk",
            "lapsed"} <= stages
    assert parse_tree(tree(), PATH)


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"kizuna__other": {}}, "kizuna__kpi_tree", "missing"),
    (tree(colour="red"), "kizuna__kpi_tree", "unknown keys colour"),
    (tree(reactivation_days=0), "reactivation_days", "whole number"),
    ({"kizuna__kpi_tree": {"nodes": []}}, "kizuna__kpi_tree.nodes", "non-empty"),
    (tree({"id": "revenue", "parent": "buyers", "level": "pi", "stage": "purchase", "department": "x",
           "formula": "revenue"}), "nodes[7].id", "used by two nodes"),
    (changed("buyers", id="Buyers"), "nodes[1].id", "lower_snake_case"),
    (changed("buyers", colour="red"), "(buyers)", "unknown keys colour"),
    (changed("buyers", parent=None, level="kgi"), "kizuna__kpi_tree.nodes", "exactly one root"),
    (changed("buyers", parent="nobody"), "(buyers).parent", "no node has id 'nobody'"),
    (tree({"id": "a", "parent": "b", "level": "pi", "stage": "purchase", "department": "x", "formula": "orders"},
          {"id": "b", "parent": "a", "level": "pi", "stage": "purchase", "department": "x", "formula": "orders"}),
     "(a).parent", "cycle: a -> b -> a"),
    (changed("buyers", stage="checkout"), "(buyers).stage", "'checkout' is not one of"),
    (changed("buyers", stage=None), "(buyers).stage", "missing"),
    (changed("buyers", department=None), "(buyers).department", "missing"),
    (changed("buyers", level="okr"), "(buyers).level", "not one of kgi, kpi, pi"),
    (changed("revenue", level="kpi"), "(revenue).level", "only the root, is the kgi"),
    (changed("buyers", level="kgi"), "(buyers).level", "only the root, is the kgi"),
    (changed("buyers", unit="EUR"), "(buyers).unit", "not one of"),
    (changed("view_to_cart_rate", formula="cart_adders / page_views"), "(view_to_cart_rate).formula",
     "uses 'page_views', which is no base measure"),
    (changed("view_to_cart_rate", formula="sum(cart_adders)"), "(view_to_cart_rate).formula", "may hold only"),
    (changed("view_to_cart_rate", formula="cart_adders / 'x'"), "(view_to_cart_rate).formula", "no plain number"),
    (changed("view_to_cart_rate", formula="cart_adders * 1e3"), "(view_to_cart_rate).formula", "no plain number"),
    (changed("view_to_cart_rate", formula="t.cart_adders"), "(view_to_cart_rate).formula", "plain name"),
    (changed("view_to_cart_rate", formula="cart_adders /"), "(view_to_cart_rate).formula", "cannot parse"),
    (changed("view_to_cart_rate", formula="cart_adders; drop table x"), "(view_to_cart_rate).formula", ""),
    (changed("view_to_cart_rate", formula=None), "(view_to_cart_rate).formula", "arithmetic text"),
    (changed("buyers", decomposition="ratio"), "(buyers).decomposition", "not one of product, sum"),
    (changed("average_order_value", formula="revenue / buyers"), "(revenue).decomposition", "does not hold"),
    (changed("new_buyers", formula="new_buyers + 1"), "(buyers).decomposition", "does not hold"),
    (changed("new_buyers", decomposition="sum"), "(new_buyers).decomposition", "at least two children, has 1"),
])
def test_a_wrong_tree_is_refused_naming_file_and_key(data, key, words):
    with pytest.raises(ConfigError) as raised:
        CHECKS["kpi_tree.yml"](data, PATH)
    message = str(raised.value)
    assert message.startswith("config/kpi_tree.yml: ")
    assert key in message and words in message


def test_a_sum_decomposition_holds_through_the_measures_identities():
    # buyers = new_buyers + repeat_buyers only because int_kpi_measures_daily says so (meta.identity).
    assert measures()["buyers"] == "new_buyers + repeat_buyers"
    parse_tree(tree(), PATH)
    wrong = changed("repeat_buyers", formula="reactivated_buyers")
    with pytest.raises(ConfigError, match="does not hold"):
        parse_tree(wrong, PATH)


def test_measure_names_are_the_same_in_the_yaml_the_macro_and_the_model():
    root = project_root() / "dbt_project"
    macro = (root / "macros" / "kpi_tree.sql").read_text(encoding="utf-8")
    listed = re.search(r"kpi_measure_names\(\) -%}\s*\{\{ return\(\[(.*?)\]\) \}\}", macro, re.S).group(1)
    in_macro = re.findall(r"'([a-z_]+)'", listed)
    model = (root / "models" / "intermediate" / "understand" / "int_kpi_measures_daily.sql").read_text()
    in_model = re.findall(r"\('([a-z_]+)', '[a-z_]+', '(?:bigint|double)'\)", model)
    assert in_macro == list(measures()) == in_model


@pytest.mark.parametrize(("formula", "values", "expected"), [
    ("(promoters - detractors) / nps_responses * 100", {"promoters": 4, "detractors": 2, "nps_responses": 8}, 25.0),
    ("promoters - detractors / nps_responses", {"promoters": 4, "detractors": 2, "nps_responses": 8}, 3.75),
    ("cart_adders / product_viewers", {"cart_adders": 1, "product_viewers": 0}, None),
    ("-orders + 2.5 * units", {"orders": 1, "units": 2}, 4.0),
])
def test_formulas_evaluate_with_precedence_and_null_division(formula, values, expected):
    assert evaluate(parse_formula(formula, measures()), values) == expected


def test_lmdi_contributions_add_up_to_the_parents_change():
    # revenue = buyers x orders per buyer x average order value: 10 x 1 x 100 -> 12 x 1.25 x 100.
    parts = lmdi((1000.0, 1500.0), {"buyers": (10.0, 12.0), "orders_per_buyer": (1.0, 1.25),
                                    "average_order_value": (100.0, 100.0)})
    assert parts["buyers"] == pytest.approx(224.830143, abs=1e-6)
    assert parts["orders_per_buyer"] == pytest.approx(275.169857, abs=1e-6)
    assert parts["average_order_value"] == 0.0
    assert math.fsum(parts.values()) == pytest.approx(500.0, abs=1e-9)
    # No change: every contribution is zero, the weight is the value itself.
    assert lmdi((6.0, 6.0), {"a": (2.0, 3.0), "b": (3.0, 2.0)}) == pytest.approx({"a": 6 * math.log(1.5),
                                                                                  "b": -6 * math.log(1.5)})
    assert lmdi((0.0, 5.0), {"a": (0.0, 5.0)}) == {"a": None}


@pytest.fixture
def marts(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.sql("create schema marts")
    con.sql("create table marts.kpi_values (node_id varchar, node_name varchar, parent_id varchar, unit varchar, "
            "grain varchar, period_start date, period_end date, is_complete boolean, value double, "
            "previous_value double, change double, relative_change double)")
    con.sql("create table marts.kpi_contributions (grain varchar, period_start date, parent_id varchar, "
            "child_id varchar, contribution_to_kgi double)")
    return con


def test_the_picture_shows_the_latest_full_month_against_the_one_before(marts):
    assert draw(marts) is None
    rows = [("revenue", "Revenue", None, "JPY", date(2026, 5, 1), True, None, None, None),
            ("buyers", "Buyers", "revenue", "count", date(2026, 5, 1), True, None, None, None),
            ("revenue", "Revenue", None, "JPY", date(2026, 6, 1), True, 1500.0, 500.0, 0.5),
            ("buyers", "Buyers", "revenue", "count", date(2026, 6, 1), True, 9.0, -1.0, -0.1)]
    # July has two days of data: its totals are no fall, so June against May is drawn.
    rows += [("revenue", "Revenue", None, "JPY", date(2026, 7, 1), False, 90.0, -1410.0, -0.94),
             ("buyers", "Buyers", "revenue", "count", date(2026, 7, 1), False, 1.0, -8.0, -0.89)]
    for node, name, parent, unit, start, complete, value, change, relative in rows:
        marts.execute("insert into marts.kpi_values values (?, ?, ?, ?, 'month', ?, ?, ?, ?, ?, ?, ?)",
                      [node, name, parent, unit, start, start, complete, value,
                       None if change is None else value - change, change, relative])
    marts.execute("insert into marts.kpi_contributions values ('month', '2026-06-01', 'revenue', 'buyers', -123)")
    figure = draw(marts)
    assert isinstance(figure, Figure)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "Revenue\n¥1,500   +50.0%" in texts
    assert "Buyers\n9   -10.0%\nexplains -¥123 of Revenue" in texts
    assert figure._suptitle.get_text().startswith("KPI tree: June 2026 against May 2026; green up")
    marts.execute("update marts.kpi_values set is_complete = false where period_start = '2026-05-01'")
    title = draw(marts)._suptitle.get_text()
    assert title.startswith("KPI tree: July 2026 against June 2026 (a month the data covers only in part)")


def test_the_config_file_is_a_mapping_of_one_dbt_var():
    data = yaml.safe_load((project_root() / "config" / "kpi_tree.yml").read_text(encoding="utf-8"))
    assert list(data) == ["kizuna__kpi_tree"]
    copied = copy.deepcopy(data)
    copied["kizuna__kpi_tree"]["nodes"][0]["formula"] = "revenue * 2"
    with pytest.raises(ConfigError, match=r"\(revenue\)\.decomposition: does not hold"):
        parse_tree(copied, PATH)
