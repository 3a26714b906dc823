"""kpi_values and kpi_contributions on a small world built through main_job (slow), and the
formula compiler of macros/kpi_tree.sql through dbt itself."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kizuna.dbt_profile import profiles_dir
from kizuna.settings import project_root
from kizuna.understand.kpi_tree import evaluate, lmdi, load_tree, measures, parse_formula

pytestmark = pytest.mark.slow
GRAINS = ("day", "week", "month")


def test_the_kpi_marts_were_built_and_the_tree_picture_attached(understood):
    materialized = {m.asset_key.path[-1]: m for m in understood.result.asset_materializations_for_node(
        "kizuna_dbt_understand")}
    # dbt builds a model only once its unit tests passed, so these also say the unit tests did.
    assert {"int_kpi_measures_daily", "kpi_values", "kpi_contributions"} <= set(materialized)
    picture = materialized["kpi_values"].metadata["picture"]
    assert picture.value.startswith("![kpi_values](data:image/png;base64,")


def test_every_node_has_a_value_row_for_every_period_of_every_grain(understood):
    nodes = {n.id for n in load_tree()}
    rows = understood.read("select grain, period_start, node_id from marts.kpi_values")
    assert set(rows.grain) == set(GRAINS)
    for (grain, start), group in rows.groupby(["grain", "period_start"]):
        assert set(group.node_id) == nodes, (grain, start)
    days = understood.read("select count(*) as n, min(measure_date) as first, max(measure_date) as last "
                           "from intermediate.int_kpi_measures_daily").iloc[0]
    assert days.n == (days["last"] - days["first"]).days + 1
    assert len(rows[(rows.grain == "day") & (rows.node_id == "revenue")]) == days.n


def test_revenue_is_the_order_and_store_revenue_of_person_events(understood):
    expected = understood.read(
        "select sum(amount) as revenue from marts.person_events "
        "where source = 'pos_transactions' or (source = 'orders' and event_name <> 'cancelled')").revenue[0]
    assert expected > 0
    for grain in GRAINS:
        total = understood.read(f"select sum(value) as revenue from marts.kpi_values "
                                f"where node_id = 'revenue' and grain = '{grain}'").revenue[0]
        assert total == pytest.approx(expected, rel=1e-9), grain


def test_every_value_is_its_formula_over_the_period_sums(understood):
    names = list(measures())
    sums = understood.read(
        "select date_trunc('month', measure_date) as period_start, "
        + ", ".join(f"sum({m}) as {m}" for m in names)
        + " from intermediate.int_kpi_measures_daily group by 1")
    values = understood.read("select node_id, period_start, value from marts.kpi_values where grain = 'month'")
    found = {(r.node_id, r.period_start.date()): r.value for r in values.itertuples()}
    known = measures()
    checked = 0
    for node in load_tree():
        formula = parse_formula(node.formula, known)
        for row in sums.to_dict("records"):
            expected = evaluate(formula, row)
            actual = found[(node.id, row["period_start"].date())]
            if expected is None:
                assert actual is None or math.isnan(actual), node.id
            else:
                assert actual == pytest.approx(expected, rel=1e-9), (node.id, row["period_start"])
                checked += 1
    assert checked >= len(load_tree())


def test_contributions_add_up_to_the_change_and_match_lmdi(understood):
    contributions = understood.read("select * from marts.kpi_contributions")
    assert set(contributions.grain) == set(GRAINS)
    tree = {n.id: n for n in load_tree()}
    assert set(contributions.parent_id) == {n.id for n in tree.values() if n.decomposition}
    explained = 0
    for (_grain, _start, parent), group in contributions.groupby(["grain", "period_start", "parent_id"]):
        assert set(group.child_id) == {n.id for n in tree.values() if n.parent == parent}
        if group.contribution.isna().any():
            continue
        change = group.parent_change.iloc[0]
        assert group.contribution.sum() == pytest.approx(change, abs=1e-5 * len(group) + 1e-9 * abs(change))
        if tree[parent].decomposition == "product":
            reference = lmdi((group.parent_previous_value.iloc[0], group.parent_value.iloc[0]),
                             {r.child_id: (r.child_previous_value, r.child_value) for r in group.itertuples()})
            for row in group.itertuples():
                assert row.contribution == pytest.approx(reference[row.child_id], abs=1e-5)
        explained += 1
    assert explained > 0
    # Down the decomposed path, the KGI's children explain all of its change.
    kgi = contributions[(contributions.parent_id == "revenue") & (contributions.grain == "month")]
    for _, group in kgi.groupby("period_start"):
        assert group.contribution_to_kgi.sum() == pytest.approx(group.parent_change.iloc[0], abs=1e-4)


def _compile(formula: str, settings) -> str:
    project = project_root() / "dbt_project"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "compile", "--project-dir", str(project), "--profiles-dir",
         str(profiles_dir(settings)), "--quiet", "--output", "json", "--inline",
         f"select {{{{ kpi_formula_sql('{formula}', 'node_x', 't') }}}} as v from t order by k"],
        capture_output=True, text=True, cwd=project_root())
    if run.returncode:
        raise RuntimeError(run.stdout + run.stderr)
    return json.loads(run.stdout[run.stdout.index("{"):])["compiled"]


def test_dbt_compiles_a_formula_with_null_safe_divisions(understood):
    sql = _compile("(promoters - detractors) / -(nps_responses - passives) * 100 + revenue / orders / units",
                   understood.settings)
    con = duckdb.connect()
    con.sql("create table t as select * from (values (1, 3, 1, 4, 0, 100.0, 2, 5), (2, 3, 1, 4, 4, 100.0, 0, 5), "
            "(3, 3, 1, 4, 0, 100.0, 2, 0)) as v(k, promoters, detractors, nps_responses, passives, revenue, "
            "orders, units)")
    assert [r[0] for r in con.sql(sql).fetchall()] == [pytest.approx(-50.0 + 10.0), None, None]
    with pytest.raises(RuntimeError, match="node node_x: formula .* uses page_views"):
        _compile("page_views / 2", understood.settings)
