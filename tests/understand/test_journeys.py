"""Journey stages end to end (the `understood` world) against the sample world's true stages, and
the pictures of person_stage_days and stage_flow on small hand-made marts."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from benchmarks.journeys import found_persons, score
from kizuna.identity import load_rules
from kizuna.understand import journeys
from kizuna.understand.pictures import PICTURES, render


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("create schema marts")
    con.sql("""create table marts.person_stage_days as select * from (values
        ('P1', date '2026-05-01', 'awareness'), ('P1', date '2026-05-02', 'purchase'),
        ('P2', date '2026-05-01', 'consideration'), ('P2', date '2026-05-02', 'consideration'))
        as t(person_id, stage_date, stage)""")
    con.sql("""create table marts.stage_flow as select * from (values
        ('awareness', 1, 10, 0.5, 0.0, 0.3, 4.0), ('purchase', 3, 5, 1.0, 0.0, 0.0, 3.0),
        ('lapsed', 8, 0, null, null, null, null))
        as t(stage, stage_order, spells, share_moved_on, share_dropped_back, share_stalled, median_days_in_stage)""")
    return con


def test_stage_counts_per_day_in_journey_order(marts):
    counts = journeys.stage_counts(marts)
    assert list(counts.columns) == list(journeys.STAGES)
    assert pd.Timestamp(counts.index[0]) == pd.Timestamp("2026-05-01")
    assert counts.iloc[0].to_dict() == {
        "awareness": 1, "consideration": 1, "purchase": 0, "onboarding": 0, "retention": 0, "advocacy": 0,
        "at_risk": 0, "lapsed": 0}
    assert counts.sum().sum() == 4


def test_pictures_are_registered_and_drawn(marts, tmp_path):
    assert PICTURES["person_stage_days"] is journeys.draw_stage_days
    assert PICTURES["stage_flow"] is journeys.draw_stage_flow
    for model in ("person_stage_days", "stage_flow"):
        markdown, path = render(marts, model, tmp_path)
        assert markdown.startswith(f"![{model}](data:image/png;base64,")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_to_draw_without_rows(marts):
    marts.sql("delete from marts.person_stage_days")
    marts.sql("delete from marts.stage_flow")
    assert journeys.draw_stage_days(marts) is None
    assert journeys.draw_stage_flow(marts) is None


@pytest.mark.slow
def test_every_person_has_one_stage_a_day_up_to_the_as_of_day(understood):
    days = understood.read("""
        select count(*) as rows, count(distinct person_id) as persons, count(distinct stage_date) as days,
               min(stage_date) as first_day, max(stage_date) as last_day
        from marts.person_stage_days""").iloc[0]
    persons = understood.read("select count(distinct person_id) as n from marts.person_events").iloc[0]["n"]
    truth_days = pd.read_parquet(understood.truth / "stages.parquet")["date"]
    assert days["persons"] == persons
    assert days["rows"] == days["persons"] * days["days"]
    assert pd.Timestamp(days["first_day"]) == pd.Timestamp(truth_days.min())
    assert pd.Timestamp(days["last_day"]) == pd.Timestamp(truth_days.max())


@pytest.mark.slow
def test_stages_agree_with_the_sample_worlds_truth(understood):
    identity_map = understood.read("select namespace, value, person_id from identity.identity_map")
    stage_days = understood.read("select person_id, stage_date, stage from marts.person_stage_days")
    figures = score(stage_days, found_persons(identity_map, understood.truth, load_rules()), understood.truth)
    # Persons who never left a trace in any source (a tenth of this small world) cannot be staged:
    # judge the persons the data knows, and the rest only as far as they go.
    assert figures["stage_agreement_found"] >= 0.95, figures
    assert figures["stage_agreement"] >= 0.95 * (1 - figures["unseen_share"]), figures
    for stage in ("purchase", "onboarding", "retention", "advocacy"):
        if stage in figures["per_stage"]:
            assert figures["per_stage"][stage]["recall"] >= 0.9, (stage, figures["per_stage"][stage])


@pytest.mark.slow
def test_transitions_are_the_changes_of_stage_days_and_flow_adds_up(understood):
    changes = understood.read("""
        select count(*) as n from (
            select stage, lag(stage) over (partition by person_id order by stage_date) as before
            from marts.person_stage_days) as t
        where before is not null and before <> stage""").iloc[0]["n"]
    transitions = understood.read("select count(*) as n, count(*) filter (where from_stage = to_stage) as same "
                                  "from marts.stage_transitions").iloc[0]
    assert transitions["n"] == changes > 0
    assert transitions["same"] == 0
    flow = understood.read("select * from marts.stage_flow order by stage_order")
    assert list(flow["stage"]) == list(journeys.STAGES)
    with_spells = flow[flow["spells"] > 0]
    outcomes = with_spells[["moved_on", "dropped_back", "stalled", "ongoing"]].sum(axis=1)
    assert (outcomes == with_spells["spells"]).all()
    assert flow.loc[flow["stage"] == "purchase", "share_moved_on"].iloc[0] > 0.9


@pytest.mark.slow
def test_the_pictures_draw_from_the_built_marts(understood, tmp_path):
    from kizuna.warehouse import warehouse

    with warehouse(understood.settings, read_only=True) as con:
        for model in ("person_stage_days", "stage_flow"):
            assert render(con, model, tmp_path) is not None, model
