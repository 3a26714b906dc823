"""Pictures of the journey-stage marts: how many persons stand in each stage day by day
(person_stage_days), and what each stage leads to (stage_flow). Importing this module also
registers the check of config/stages.yml (`kizuna.understand.stages`)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kizuna.understand import stages  # noqa: F401  (registers the stages.yml check)
from kizuna.understand.pictures import picture
from kizuna.understand.stages import STAGES

# One colour per stage, from cold (not yet a customer) through warm (buying, loyal) to grey (leaving).
COLOURS = {"awareness": "#c6dbef", "consideration": "#6baed6", "purchase": "#fd8d3c", "onboarding": "#fdd0a2",
           "retention": "#74c476", "advocacy": "#238b45", "at_risk": "#fb6a4a", "lapsed": "#969696"}
OUTCOMES = (("share_moved_on", "moved on", "#41ab5d"), ("share_dropped_back", "dropped back", "#ef3b2c"),
            ("share_stalled", "stalled", "#bdbdbd"))


def stage_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Persons per stage (columns, journey order) per day (index)."""
    rows = con.sql("select stage_date, stage, count(*) as persons from marts.person_stage_days "
                   "group by stage_date, stage").df()
    if rows.empty:
        return pd.DataFrame(columns=list(STAGES))
    table = rows.pivot_table(index="stage_date", columns="stage", values="persons", aggfunc="sum", fill_value=0)
    return table.reindex(columns=list(STAGES), fill_value=0).sort_index()


@picture("person_stage_days")
def draw_stage_days(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """Stacked areas of persons per stage per day; customers' stages alone on a second panel, since
    awareness (everyone not yet a buyer) dwarfs them."""
    counts = stage_counts(con)
    if counts.empty:
        return None
    figure = Figure(figsize=(11, 7.5))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1])
    days = pd.to_datetime(counts.index)
    for axes, columns, title in (
        (top, list(STAGES), "Persons per journey stage, by day"),
        (bottom, [s for s in STAGES if s not in ("awareness", "consideration")],
         "Customers only (bought at least once)"),
    ):
        values = [counts[c].to_numpy(dtype=float) for c in columns]
        axes.stackplot(days, values, labels=columns, colors=[COLOURS[c] for c in columns], linewidth=0)
        axes.set_title(title, loc="left", fontsize=11)
        axes.set_ylabel("persons")
        axes.margins(x=0)
        axes.grid(axis="y", alpha=0.3)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    last = counts.iloc[-1]
    top.annotate(f"{pd.Timestamp(counts.index[-1]).date()}: {int(last.sum()):,} persons", xy=(1.0, 1.02),
                 xycoords="axes fraction", ha="right", fontsize=9)
    figure.autofmt_xdate()
    return figure


@picture("stage_flow")
def draw_stage_flow(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """Per stage, horizontal bars of the share of spells that moved on, dropped back or stalled
    (the rest is still ongoing), with the median days spent in a finished spell."""
    flow = con.sql("select * from marts.stage_flow where spells > 0 order by stage_order").df()
    if flow.empty:
        return None
    figure = Figure(figsize=(10, 0.55 * len(flow) + 1.8))
    axes = figure.subplots()
    y = np.arange(len(flow))[::-1]
    left = np.zeros(len(flow))
    for column, label, colour in OUTCOMES:
        share = flow[column].fillna(0).to_numpy(dtype=float)
        axes.barh(y, share, left=left, color=colour, label=label, height=0.6)
        left += share
    axes.barh(y, 1 - left, left=left, color="#f0f0f0", label="ongoing", height=0.6)
    labels = [f"{row.stage} ({int(row.spells):,} spells)" for row in flow.itertuples()]
    axes.set_yticks(y, labels)
    axes.set_xlim(0, 1.22)
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    for yi, median in zip(y, flow["median_days_in_stage"], strict=True):
        text = "" if pd.isna(median) else f"median {median:.0f} d"
        axes.text(1.02, yi, text, va="center", fontsize=9)
    axes.set_title("What each journey stage led to (share of spells) and how long it lasted", loc="left", fontsize=11)
    axes.legend(loc="lower center", bbox_to_anchor=(0.45, -0.3 if len(flow) > 4 else -0.5), ncol=4, frameon=False)
    return figure
