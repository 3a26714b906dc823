"""Customer experience: the check of config/experience.yml and the pictures of the funnel, cohort
and delivery marts.

The check mirrors what the dbt models (int_person_segments, int_funnel_sessions,
best_contact_times) accept, so a mistake stops the build with the file and key named instead of
failing inside SQL. `kizuna__support_sla` in the same file belongs to the support-delays part: its
check (`voice.check_support_sla`) is called from here when that module provides one, because a
file has one registered check.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import duckdb
from matplotlib.figure import Figure

from data_contracts import contracts_dir, load_contract
from kizuna.understand.config import ConfigError, config_check
from kizuna.understand.pictures import picture

SEGMENT_NUMERIC_COLUMNS = frozenset({
    "sessions", "orders", "revenue", "average_order_value", "recency_days", "recency_score",
    "frequency_score", "monetary_score", "open_tickets", "last_nps", "email_opens_90d", "email_clicks_90d",
})
SEGMENT_TEXT_COLUMNS = frozenset({"favourite_category", "gender", "prefecture", "channels_used", "devices_used"})
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_segments(rules: Any, path: Path) -> None:
    """`kizuna__segments`: a non-empty list of {name, when?} with known columns and conditions."""
    key = "kizuna__segments"
    if not isinstance(rules, list) or not rules:
        raise ConfigError(path, key, "must be a non-empty list of rules")
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        at = f"{key}[{index}]"
        if not isinstance(rule, dict):
            raise ConfigError(path, at, "must be a mapping with `name` and optional `when`")
        unknown = set(rule) - {"name", "when"}
        if unknown:
            raise ConfigError(path, at, f"unknown keys {sorted(unknown)}")
        name = rule.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(path, f"{at}.name", "must be a lower-case identifier (a-z, 0-9, _)")
        if name in seen:
            raise ConfigError(path, f"{at}.name", f"{name!r} is used by an earlier rule")
        seen.add(name)
        when = rule.get("when")
        if when is None:
            if index < len(rules) - 1:
                raise ConfigError(path, at, "a rule without `when` takes everyone: only the last rule may omit it")
            continue
        if not isinstance(when, dict) or not when:
            raise ConfigError(path, f"{at}.when", "must map profile columns to conditions")
        for column, condition in when.items():
            _check_condition(column, condition, path, f"{at}.when.{column}")


def _check_condition(column: Any, condition: Any, path: Path, at: str) -> None:
    if column in SEGMENT_NUMERIC_COLUMNS:
        if not isinstance(condition, dict) or not condition or set(condition) - {"min", "max"}:
            raise ConfigError(path, at, "must be {min: n} and/or {max: n}")
        for bound, value in condition.items():
            if not _is_number(value):
                raise ConfigError(path, f"{at}.{bound}", f"must be a number, not {value!r}")
        if "min" in condition and "max" in condition and condition["min"] > condition["max"]:
            raise ConfigError(path, at, "min is larger than max: the rule takes nobody")
    elif column in SEGMENT_TEXT_COLUMNS:
        if not isinstance(condition, dict) or set(condition) != {"in"} or not isinstance(condition["in"], list) \
                or not condition["in"]:
            raise ConfigError(path, at, "must be {in: [values]}")
    else:
        known = sorted(SEGMENT_NUMERIC_COLUMNS | SEGMENT_TEXT_COLUMNS)
        raise ConfigError(path, at, f"unknown profile column; one of {', '.join(known)}")


def tracking_plan() -> tuple[str, ...]:
    """The track event names of the events contract (the tracking plan)."""
    contract = load_contract(contracts_dir() / "events.yml")
    return next(f.enum for f in contract.fields if f.name == "event") or ()


def check_funnel(funnel: Any, path: Path) -> None:
    """`kizuna__funnel`: {steps: [2+ distinct tracking-plan events]}."""
    key = "kizuna__funnel"
    if not isinstance(funnel, dict) or set(funnel) != {"steps"}:
        raise ConfigError(path, key, "must be a mapping with `steps` only")
    steps = funnel["steps"]
    if not isinstance(steps, list) or len(steps) < 2:
        raise ConfigError(path, f"{key}.steps", "must list at least two events")
    plan = tracking_plan()
    for index, step in enumerate(steps):
        if step not in plan:
            raise ConfigError(path, f"{key}.steps[{index}]",
                              f"{step!r} is not an event of the tracking plan (data_contracts/events.yml)")
    if len(set(steps)) != len(steps):
        raise ConfigError(path, f"{key}.steps", "lists an event twice")


def check_contact_time(contact: Any, path: Path) -> None:
    """`kizuna__contact_time`: {min_engagements: positive integer}."""
    key = "kizuna__contact_time"
    if not isinstance(contact, dict) or set(contact) - {"min_engagements"}:
        raise ConfigError(path, key, "must be a mapping with `min_engagements`")
    value = contact.get("min_engagements", 5)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(path, f"{key}.min_engagements", f"must be a whole number of at least 1, not {value!r}")


@config_check("experience.yml")
def check_experience(data: Any, path: Path) -> None:
    """Check config/experience.yml: segments, funnel and contact time here, the support SLA by
    the support part's own check when it exists."""
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError(path, "(top level)", "must be a mapping of kizuna__* keys")
    checks = {"kizuna__segments": check_segments, "kizuna__funnel": check_funnel,
              "kizuna__contact_time": check_contact_time}
    for key, check in checks.items():
        if key in data:
            check(data[key], path)
    support_check = _support_sla_check()
    if support_check is not None:
        support_check(data, path)


def _support_sla_check():
    try:
        voice = importlib.import_module("kizuna.understand.voice")
    except ModuleNotFoundError as error:
        if error.name != "kizuna.understand.voice":
            raise
        return None
    return getattr(voice, "check_support_sla", None)


@picture("funnel_steps")
def draw_funnel(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """Sessions reaching each funnel step (bars, with the step conversion), and the share of
    product-viewing sessions left at each step by device type (lines)."""
    steps = con.sql("""
        select step_number, step_name, sum(sessions) as sessions, sum(previous_sessions) as previous
        from marts.funnel_steps group by step_number, step_name order by step_number
    """).df()
    if steps.empty or steps["sessions"].sum() == 0:
        return None
    devices = con.sql("""
        select channel || ' / ' || device_type as device, step_number, sum(sessions) as sessions
        from marts.funnel_steps group by all order by device, step_number
    """).df()
    figure = Figure(figsize=(11, 4.2))
    bars, lines = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    y = list(range(len(steps)))[::-1]
    bars.barh(y, steps["sessions"], color="#3b6ea8")
    for row, position in zip(steps.itertuples(), y, strict=True):
        base = "all sessions" if row.step_number == 1 else "previous step"
        share = f"{row.sessions / row.previous:.0%} of {base}" if row.previous else "none before"
        bars.text(row.sessions, position, f" {int(row.sessions):,}  ({share})", va="center", fontsize=8)
    bars.set_yticks(y, steps["step_name"])
    bars.set_xlim(0, steps["sessions"].max() * 1.6)
    bars.set_xlabel("sessions reaching the step in order")
    bars.set_title("Shop funnel, all months, channels and segments")
    for device, rows in devices.groupby("device"):
        first = rows["sessions"].iloc[0]
        if first:
            lines.plot(rows["step_number"], rows["sessions"] / first, marker="o", label=device)
    lines.set_xticks(steps["step_number"], [f"{n}" for n in steps["step_number"]])
    lines.set_xlabel("step number")
    lines.set_ylabel("share of step-1 sessions")
    lines.set_ylim(0, 1.05)
    lines.set_title("Conversion from step 1 by channel / device")
    lines.legend(fontsize=8)
    figure.tight_layout()
    return figure


@picture("cohort_retention")
def draw_cohorts(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """Heatmap of retention by first-purchase cohort (rows) and months since (columns)."""
    cells = con.sql("""
        select cohort_month, months_since_first, cohort_persons, retention, is_partial_month
        from marts.cohort_retention order by cohort_month, months_since_first
    """).df()
    if cells.empty:
        return None
    grid = cells.pivot(index="cohort_month", columns="months_since_first", values="retention")
    partial = cells.pivot(index="cohort_month", columns="months_since_first", values="is_partial_month")
    sizes = cells.groupby("cohort_month")["cohort_persons"].first()
    figure = Figure(figsize=(1.6 + 0.9 * grid.shape[1], 1.2 + 0.45 * grid.shape[0]))
    axes = figure.subplots()
    image = axes.imshow(grid.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, cohort in enumerate(grid.index):
        for j, month in enumerate(grid.columns):
            value = grid.loc[cohort, month]
            if value == value:  # not NaN: the month exists for this cohort
                mark = "*" if partial.loc[cohort, month] else ""
                axes.text(j, i, f"{value:.0%}{mark}", ha="center", va="center", fontsize=8,
                          color="white" if value > 0.6 else "black")
    axes.set_xticks(range(grid.shape[1]), [str(m) for m in grid.columns])
    axes.set_yticks(range(grid.shape[0]), [f"{c:%Y-%m} (n={sizes[c]})" for c in grid.index])
    axes.set_xlabel("months since first purchase (* month not yet over)")
    axes.set_title("Retention by first-purchase cohort")
    figure.colorbar(image, ax=axes, label="share purchasing in the month")
    return figure


@picture("delivery_problems")
def draw_delivery(con: duckdb.DuckDBPyConnection) -> Figure | None:
    """Weekly shipments with a problem (late, untracked, returned, overdue; all carriers) and the
    late-delivery rate of each carrier."""
    weeks = con.sql("""
        select week_start, carrier, shipments, delivered, delivered_late, untracked, returned_to_sender, overdue
        from marts.delivery_problems order by week_start, carrier
    """).df()
    if weeks.empty:
        return None
    kinds = ["delivered_late", "untracked", "returned_to_sender", "overdue"]
    totals = weeks.groupby("week_start")[kinds].sum()
    figure = Figure(figsize=(11, 4))
    counts, rates = figure.subplots(1, 2)
    bottom = None
    labels = [f"{w:%m-%d}" for w in totals.index]
    for kind in kinds:
        counts.bar(labels, totals[kind], bottom=bottom, label=kind.replace("_", " "))
        bottom = totals[kind] if bottom is None else bottom + totals[kind]
    counts.set_title("Shipments with a problem, by week shipped")
    counts.set_ylabel("shipments")
    counts.tick_params(axis="x", rotation=60)
    counts.legend(fontsize=8)
    # One row per week for every carrier, so each line is placed on the same weeks as the bars.
    late = weeks.pivot_table(index="week_start", columns="carrier", values="delivered_late", aggfunc="sum")
    delivered = weeks.pivot_table(index="week_start", columns="carrier", values="delivered", aggfunc="sum")
    late_rate = (late / delivered.where(delivered > 0)).reindex(totals.index)
    for carrier in late_rate.columns:
        rates.plot(labels, late_rate[carrier], marker="o", label=carrier)
    rates.set_title("Late-delivery rate by carrier")
    rates.set_ylabel("late / delivered")
    rates.set_ylim(0, 1)
    rates.tick_params(axis="x", rotation=60)
    rates.legend(fontsize=8)
    figure.tight_layout()
    return figure
