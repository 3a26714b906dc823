"""`kizuna demo`: the sample world, every asset materialized in-process, and a summary.

The run goes through the same Definitions and the same project-local Dagster instance as the UI,
so every materialization of the demo is there when the user opens `make ui`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb

from dagster_project.instance import project_instance
from data_contracts import load_contracts
from kizuna.collect.landing import list_files
from kizuna.collect.summary import summarize
from kizuna.settings import Settings
from kizuna.warehouse import warehouse

# Everything a user gets from the embedded default: ingestion, then the dbt models built and tested.
MAIN_JOB = "main_job"


@dataclass
class DemoResult:
    success: bool
    run_id: str
    first_day: date | None
    last_day: date | None
    per_source: list[dict]
    failed_checks: list[str]
    models: list[str]  # the assets built after ingestion (dbt models, identity), by key
    checks_passed: int


def landing_days(settings: Settings) -> tuple[date | None, date | None]:
    """The first and last arrival day among the landing files of daily-partitioned sources."""
    days = [
        f.partition
        for c in load_contracts().values()
        if c.partition_kind == "daily"
        for f in list_files(c, settings.landing_url)
        if f.partition
    ]
    return (min(days), max(days)) if days else (None, None)


def run_main_job(settings: Settings) -> DemoResult:
    """Materialize every asset of the main job over every arrival day found in the landing zone."""
    from dagster_project.definitions import defs

    first, last = landing_days(settings)
    instance = project_instance(settings)
    job = defs.resolve_job_def(MAIN_JOB)
    tags = {}
    if first and last:
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
    result = job.execute_in_process(
        instance=instance,
        tags=tags,
        raise_on_error=False,
        # Each asset logs one line of counts; Dagster's own step events stay in the UI.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    failed = [
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
    ]
    models = sorted(
        {
            e.asset_key.to_user_string()
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION and e.asset_key.path[0] != "raw"
        }
    )
    passed = sum(
        1
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and e.asset_check_evaluation_data.passed
    )
    return DemoResult(result.success, result.run_id, first, last, ledger_summary(settings), failed, models, passed)


def ledger_summary(settings: Settings) -> list[dict]:
    """Per source: files and records read, loaded, quarantined, deduplicated, warned, lost."""
    with warehouse(settings, read_only=True) as con:
        summaries = [summarize(con, c, preview_rows=0) for c in load_contracts().values()]
    return [{"source": s.source, "files": s.files, **s.counts} for s in summaries if s.files]


def insights(settings: Settings) -> list[str]:
    """A few lines of what the understand marts say, for the demo's summary (empty before they exist)."""
    lines = []
    with warehouse(settings, read_only=True) as con:
        try:
            stages = con.sql(
                "select stage, count(*) as persons from marts.person_stage_days "
                "where is_seen and stage_date = (select max(stage_date) from marts.person_stage_days) "
                "group by stage order by persons desc").fetchall()
            # The latest whole month; a world shorter than a month has only a month to date.
            revenue = con.sql(
                "select period_start, value, relative_change, is_complete from marts.kpi_values "
                "where node_id = 'revenue' and grain = 'month' "
                "order by is_complete desc, period_start desc limit 1").fetchone()
            nps = con.sql("select nps, responses from marts.nps_summary where dimension = 'overall'").fetchone()
        except duckdb.CatalogException:  # the understand marts are not built yet
            return []
        lines.append("Journey stages today (persons seen): " + ", ".join(f"{s} {n:,}" for s, n in stages))
        if revenue:
            month, value, change, complete = revenue
            explained = con.sql(
                "select k.node_name, c.contribution_to_kgi from marts.kpi_contributions c "
                "join marts.kpi_values k on k.node_id = c.child_id and k.grain = c.grain "
                "and k.period_start = c.period_start where c.grain = 'month' and c.period_start = ? "
                "and c.parent_id = 'revenue' order by abs(c.contribution_to_kgi) desc limit 1",
                params=[month]).fetchone()
            line = f"Revenue {month:%B %Y}{'' if complete else ' to date'}: ¥{value:,.0f}"
            if change is not None:
                line += f" ({change:+.1%} on the month before)"
            if explained and explained[1] is not None:
                sign = "-" if explained[1] < 0 else "+"
                line += f"; {explained[0]} explains {sign}¥{abs(explained[1]):,.0f} of the change"
            lines.append(line + ".")
        if nps and nps[1]:
            lines.append(f"NPS {nps[0]:.1f} over {nps[1]:,} answers.")
        lines.extend(_scores(con))
        lines.extend(_audiences(con, settings))
    return lines


def _scores(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the scores say: per model, persons scored, the champion version and the top decile."""
    try:
        rows = con.sql(
            "select model, count(*) as persons, any_value(model_version) as version, "
            "avg(score) filter (where decile = 1) as top_decile, avg(score) as overall "
            "from predict.customer_scores group by model order by model").fetchall()
    except duckdb.CatalogException:  # not scored yet
        return []
    lines = []
    for model, persons, version, top, overall in rows:
        if model == "lifetime_value":
            lines.append(f"Lifetime value: {persons:,} customers, ¥{overall:,.0f} on average, "
                         f"¥{top:,.0f} in the top tenth.")
        else:
            lines.append(f"{model.capitalize()} (champion v{version}): {persons:,} persons scored, "
                         f"{top:.0%} in the top decile against {overall:.0%} overall.")
    if not rows:
        lines.append("No model scored yet: the sample world is too short to train them (see the predict assets).")
    else:
        lines.append("Compare the runs with `make mlflow` (http://127.0.0.1:5000).")
    return lines


def _audiences(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Audience sizes and what each destination received in the last sync."""
    try:
        sizes = con.sql("select audience, members from act.audience_evaluations "
                        "qualify row_number() over (partition by audience order by evaluated_at desc) = 1 "
                        "order by audience").fetchall()
        syncs = con.sql("select destination, sum(added), sum(removed), sum(updated), sum(failed), sum(skipped) "
                        "from (from act.sync_log qualify row_number() over "
                        "(partition by destination, audience order by finished_at desc) = 1) "
                        "group by destination order by destination").fetchall()
    except duckdb.CatalogException:  # no audience evaluated yet
        return []
    lines = ["Audiences: " + ", ".join(f"{name} {members:,}" for name, members in sizes) + "."]
    for destination, added, removed, updated, failed, skipped in syncs:
        lines.append(f"Sent to {destination}: {added:,} added, {removed:,} removed, {updated:,} updated, "
                     f"{failed:,} failed; {skipped:,} held back (no consent, suppressed, or nothing to match on).")
    lines.append(f"Check them with `kizuna audiences check`; file destinations write to {settings.exports_dir}.")
    return lines
