"""The funnel, cohort and delivery pictures, drawn from small hand-made marts in memory."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from matplotlib.figure import Figure

from kizuna.understand import experience
from kizuna.understand.pictures import PICTURES, png_bytes


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.execute("""create table marts.funnel_steps (period_month date, channel varchar, device_type varchar,
        segment varchar, step_number integer, step_name varchar, all_sessions integer, previous_sessions integer,
        sessions integer)""")
    connection.execute("""create table marts.cohort_retention (cohort_month date, months_since_first integer,
        cohort_persons integer, retention double, is_partial_month boolean)""")
    connection.execute("""create table marts.delivery_problems (week_start date, carrier varchar, shipments integer,
        delivered integer, delivered_late integer, untracked integer, returned_to_sender integer, overdue integer)""")
    yield connection
    connection.close()


def test_the_pictures_are_registered_for_their_marts():
    assert PICTURES["funnel_steps"] is experience.draw_funnel
    assert PICTURES["cohort_retention"] is experience.draw_cohorts
    assert PICTURES["delivery_problems"] is experience.draw_delivery


def test_empty_marts_draw_nothing(con):
    assert experience.draw_funnel(con) is None
    assert experience.draw_cohorts(con) is None
    assert experience.draw_delivery(con) is None


def test_the_funnel_labels_each_step_with_its_conversion(con):
    may = dt.date(2026, 5, 1)
    rows = [(may, "web", "desktop", "repeat", 1, "Product Viewed", 10, 10, 8),
            (may, "web", "desktop", "repeat", 2, "Order Completed", 10, 8, 2),
            (may, "app", "ios", "repeat", 1, "Product Viewed", 5, 5, 4),
            (may, "app", "ios", "repeat", 2, "Order Completed", 5, 4, 3)]
    con.executemany("insert into marts.funnel_steps values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    figure = experience.draw_funnel(con)
    assert isinstance(figure, Figure)
    bars, lines = figure.axes
    labels = [text.get_text() for text in bars.texts]
    assert labels == [" 12  (80% of all sessions)", " 5  (42% of previous step)"]
    assert sorted(line.get_label() for line in lines.get_lines()) == ["app / ios", "web / desktop"]
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_the_cohort_heatmap_marks_partial_months(con):
    con.executemany("insert into marts.cohort_retention values (?, ?, ?, ?, ?)", [
        (dt.date(2026, 5, 1), 0, 40, 1.0, False), (dt.date(2026, 5, 1), 1, 40, 0.575, True),
        (dt.date(2026, 6, 1), 0, 39, 1.0, True)])
    figure = experience.draw_cohorts(con)
    axes = figure.axes[0]
    assert sorted(text.get_text() for text in axes.texts) == ["100%", "100%*", "57%*"]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["2026-05 (n=40)", "2026-06 (n=39)"]


def test_the_delivery_picture_stacks_problems_by_week(con):
    con.executemany("insert into marts.delivery_problems values (?, ?, ?, ?, ?, ?, ?, ?)", [
        (dt.date(2026, 5, 4), "yamato", 4, 4, 1, 1, 0, 0), (dt.date(2026, 5, 4), "sagawa", 2, 2, 0, 0, 1, 0),
        (dt.date(2026, 5, 11), "sagawa", 3, 2, 2, 0, 0, 1)])
    figure = experience.draw_delivery(con)
    counts, rates = figure.axes
    heights = sorted(round(patch.get_height()) for patch in counts.patches if patch.get_height() > 0)
    assert heights == [1, 1, 1, 1, 2]  # week 1: late, untracked, returned; week 2: late 2, overdue
    sagawa = next(line for line in rates.get_lines() if line.get_label() == "sagawa")
    assert list(sagawa.get_ydata()) == [0.0, 1.0]
