"""Segments, funnels, cohorts, checkout friction, delivery problems and best contact times on the
small world of the `understood` fixture (the whole main_job), checked against its truth."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _materialized(result, model: str):
    events = [e.event_specific_data.materialization for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    return [m for m in events if m.asset_key.path[-1] == model]


def test_every_profile_person_has_the_segment_of_the_first_matching_rule(understood):
    rows = understood.read("""
        select p.person_id, p.orders, p.monetary_score, s.segment
        from marts.customer_profile p left join intermediate.int_person_segments s using (person_id)
    """)
    assert rows["segment"].notna().all() and rows["person_id"].is_unique
    # config/experience.yml: vip (monetary 5), repeat (2+), first_time (1), prospect
    monetary = rows["monetary_score"].astype("Float64").fillna(0)
    orders = rows["orders"].astype(int)
    expected = pd.Series("prospect", index=rows.index)
    expected[orders == 1] = "first_time"
    expected[orders >= 2] = "repeat"
    expected[monetary == 5] = "vip"
    assert (rows["segment"] == expected).all()
    assert set(rows["segment"]) == {"vip", "repeat", "first_time", "prospect"}


def test_funnel_steps_never_increase(understood):
    steps = understood.read("""
        select period_month, channel, device_type, segment, step_number, all_sessions, previous_sessions,
               sessions, drop_off, step_conversion
        from marts.funnel_steps order by period_month, channel, device_type, segment, step_number
    """)
    assert len(steps) > 0 and steps["sessions"].sum() > 0
    cells = steps.groupby(["period_month", "channel", "device_type", "segment"])
    assert (cells["step_number"].count() == 5).all()  # every step of config/experience.yml
    rises = cells["sessions"].diff().dropna()
    assert (rises <= 0).all()
    assert (steps["sessions"] <= steps["previous_sessions"]).all()
    assert (steps["drop_off"] == steps["previous_sessions"] - steps["sessions"]).all()
    assert (steps.loc[steps["step_number"] == 1, "previous_sessions"]
            == steps.loc[steps["step_number"] == 1, "all_sessions"]).all()


def test_funnel_ends_in_the_online_orders(understood):
    completed = understood.read("""
        select sum(sessions) as n from marts.funnel_steps where step_name = 'Order Completed'
    """)["n"].iloc[0]
    orders = understood.read("""
        select count(distinct order_id) as n from staging.stg_shop__orders where order_status <> 'cancelled'
    """)["n"].iloc[0]
    # One purchase session per order in the world; a few orders' events are lost to the world's mess.
    assert 0.9 * orders <= completed <= orders * 1.02


def test_cohort_month_zero_retention_is_one(understood):
    cohorts = understood.read("select * from marts.cohort_retention")
    assert len(cohorts) > 0
    first = cohorts[cohorts["months_since_first"] == 0]
    assert (first["retention"] == 1.0).all()
    assert cohorts["retention"].between(0, 1).all()
    later = cohorts[cohorts["months_since_first"] > 0]
    assert (later["retention"] < 1.0).all() and later["active_persons"].sum() > 0
    buyers = understood.read("""
        select count(distinct person_id) as n from marts.person_events
        where (source = 'orders' and event_name <> 'cancelled') or source = 'pos_transactions'
    """)["n"].iloc[0]
    assert first["cohort_persons"].sum() == buyers


def test_delivery_problems_match_the_worlds_experiences(understood):
    measured = understood.read("""
        select sum(delivered_late) as late, sum(untracked) as untracked, sum(shipments) as shipments
        from marts.delivery_problems
    """).iloc[0]
    truth = pd.read_parquet(understood.truth / "experiences.parquet")
    for column, true_column in (("late", "late_delivery"), ("untracked", "untracked_shipment")):
        expected = truth[true_column].sum()
        assert expected > 0
        assert abs(measured[column] - expected) <= max(1, 0.1 * expected), column
    assert measured["late"] < 0.5 * measured["shipments"]


def test_checkout_friction_finds_the_worlds_payment_failures(understood):
    friction = understood.read("select * from marts.checkout_friction")
    failed = friction["payment_failed_sessions"].sum()
    expected = pd.read_parquet(understood.truth / "experiences.parquet")["payment_failure"].sum()
    assert expected > 0 and abs(failed - expected) <= max(1, 0.1 * expected)
    assert (friction["checkouts_abandoned"] <= friction["checkout_sessions"]).all()
    assert (friction["abandoned_before_payment"] + friction["abandoned_after_payment"]
            == friction["checkouts_abandoned"]).all()
    assert friction["checkout_seconds_avg"].dropna().between(1, 3600).all()


def test_best_contact_times_fall_back_below_five_engagements(understood):
    times = understood.read("""
        select b.*, p.sessions from marts.best_contact_times b join marts.customer_profile p using (person_id)
    """)
    profile = understood.read("select count(*) as n from marts.customer_profile")["n"].iloc[0]
    assert len(times) == profile and times["person_id"].is_unique
    own = times["basis"] == "person"
    assert own.any() and (~own).any()
    assert (times.loc[own, "engagements"] >= 5).all() and (times.loc[~own, "engagements"] < 5).all()
    assert times["best_hour_of_week"].between(0, 167).all()
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert (times["best_day_of_week"].map(days.index) * 24 + times["best_hour_of_day"]
            == times["best_hour_of_week"]).all()
    # A segment's fallback is one hour for all its members.
    assert (times[times["basis"] == "segment"].groupby("segment")["best_hour_of_week"].nunique() == 1).all()
    # The world's people sleep between 00:00 and 05:59 Tokyo (09:00-14:59 on a UTC clock, when
    # they are busy): few best hours fall there when hours are read on the business clock.
    assert times.loc[own, "best_hour_of_day"].between(0, 5).mean() < 0.15


@pytest.mark.parametrize("model", ["funnel_steps", "cohort_retention", "delivery_problems"])
def test_pictures_are_attached(understood, model: str):
    materializations = _materialized(understood.result, model)
    assert materializations, model
    metadata = materializations[-1].metadata
    assert "picture" in metadata and metadata["picture"].value.startswith(f"![{model}](data:image/png;base64,")
