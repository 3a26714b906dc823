"""Act end to end on the shared world (`full_world`: main_job from collect to act): audiences from
config/audiences and dbt, the same members by SQL and by the Python evaluator on real data, syncs
that send only what governance allows, a second run that sends nothing, and audiences that follow
their inputs by themselves. Slow: one shared world."""

from __future__ import annotations

import glob
import re
from collections import defaultdict

import dagster as dg
import pandas as pd
import pytest

from kizuna.audiences import membership
from kizuna.audiences.config import compile_audience, load_audiences
from kizuna.audiences.expressions import is_member
from kizuna.warehouse import warehouse

pytestmark = pytest.mark.slow
RULE_AUDIENCES = ("cart_abandoners", "churn_winback", "new_customers")


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {"/".join(e.asset_key.path): e.step_materialization_data.materialization.metadata
            for e in result.get_asset_materialization_events()}


def current_members(world, audience: str) -> set[str]:
    return set(world.read(f"select person_id from {membership.MEMBERSHIP} "
                          f"where audience = '{audience}' and exited_at is null")["person_id"])


def test_every_audience_and_enabled_sync_materializes_with_size_overlap_and_a_masked_preview(full_world):
    assert full_world.result.success
    found = materialized(full_world.result)
    for audience in (*RULE_AUDIENCES, "high_value_at_risk"):
        meta = found[f"act/audiences/{audience}"]
        assert meta["members"].value == len(current_members(full_world, audience))
        assert "overlap" in meta and "preview" in meta
        assert "@" not in meta["preview"].value  # no email reaches the UI
    assert sum(found[f"act/audiences/{a}"]["members"].value for a in RULE_AUDIENCES) > 50
    syncs = [k for k in found if k.startswith("act/destinations/")]
    assert {"act/destinations/audience_exports/churn_winback",
            "act/destinations/google_customer_match/churn_winback",
            "act/destinations/meta_custom_audiences/cart_abandoners"} <= set(syncs)
    assert not any("/crm_audience_members/" in k or "/journey_webhook/" in k for k in syncs)  # disabled
    checks = [e.event_specific_data for e in full_world.result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == "failure_share_within_limit"]
    assert len(checks) == len(syncs) and all(c.passed for c in checks)


def test_the_python_evaluator_selects_the_same_members_as_sql_on_the_world(full_world):
    profiles = full_world.read(f"select * from {'.'.join(membership.PROFILES)}")
    events = full_world.read(f"select person_id, event_name, occurred_at from {'.'.join(membership.EVENTS)} "
                             "where event_name is not null")
    now = full_world.read(f"select max(occurred_at) as now from {'.'.join(membership.EVENTS)}")["now"][0]
    now = now.to_pydatetime()
    by_person = defaultdict(list)
    for row in events[events["occurred_at"] >= now - pd.Timedelta(days=31)].itertuples(index=False):
        by_person[row.person_id].append({"event_name": row.event_name, "occurred_at": row.occurred_at.to_pydatetime()})
    with warehouse(full_world.settings, read_only=True) as con:
        schema = membership.profile_schema(con)
    records = [{k: (None if v is pd.NaT or (isinstance(v, float) and v != v) else
                    v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
               for row in profiles.to_dict("records")]
    catalogue = load_audiences()
    for name in RULE_AUDIENCES:
        tree = compile_audience(catalogue, catalogue.audiences[name], schema)
        in_python = {p["person_id"] for p in records if is_member(tree, p, by_person[p["person_id"]], now, schema)}
        assert in_python == current_members(full_world, name), name


def exported(full_world, destination: str, audience: str, pattern: str) -> list[str]:
    return sorted(glob.glob(str(full_world.root / "exports" / destination / audience / pattern)))


def test_files_hold_only_members_the_destination_may_receive_and_only_allowed_fields(full_world):
    profiles = full_world.read("select person_id, consent_analytics, consent_advertising from marts.audience_profiles")
    suppressed = set(full_world.read("select person_id from act.suppressions where channel in ('all', 'files')")
                     ["person_id"])
    granted = set(profiles.loc[profiles["consent_analytics"] == "granted", "person_id"])
    rows = pd.concat([pd.read_parquet(f) for f in exported(full_world, "audiences", "churn_winback", "*.parquet")])
    assert set(rows.columns) == {"idempotency_key", "action", "audience", "person_id", "journey_stage",
                                 "churn_decile", "purchase_decile", "lifetime_value_decile"}
    assert rows["idempotency_key"].is_unique and set(rows["person_id"]) <= granted - suppressed
    eligible = current_members(full_world, "churn_winback") & granted - suppressed
    assert set(rows.loc[rows["action"] == "add", "person_id"]) == eligible
    # The ad platform receives hashes only, and only of people who allow advertising.
    google = pd.concat([pd.read_csv(f, dtype=str) for f in
                        exported(full_world, "google_customer_match", "churn_winback", "*-add.csv")])
    values = pd.concat([google[c].dropna() for c in google.columns])
    assert len(values) and all(re.fullmatch(r"[0-9a-f]{64}", v) for v in values)
    sent = full_world.read("select sum(added) as n from act.sync_log where destination = 'google_customer_match'")
    assert len(google) == sent["n"][0]


def test_a_second_run_on_the_same_data_sends_nothing(full_world):
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("main_job")
    act = [k for k in job.asset_layer.asset_graph.get_all_asset_keys()
           if defs.resolve_asset_graph().get(k).group_name == "act"]
    result = job.execute_in_process(instance=full_world.instance, asset_selection=act, raise_on_error=False)
    assert result.success
    last = full_world.read("""select destination, audience, added, removed, updated, failed, resent
        from act.sync_log
        qualify row_number() over (partition by destination, audience order by finished_at desc) = 1""")
    assert len(last) >= 6 and (last[["added", "removed", "updated", "failed", "resent"]] == 0).all().all(), last
    evaluations = full_world.read("""select audience, entered, exited from act.audience_evaluations
        qualify row_number() over (partition by audience order by evaluated_at desc) = 1""")
    assert (evaluations[["entered", "exited"]] == 0).all().all()


def test_audiences_and_syncs_re_evaluate_when_what_they_read_changes(full_world):
    from dagster_project.definitions import defs
    from dagster_project.defs.act.audiences import PROFILES

    act = dg.AssetSelection.groups("act")
    first = dg.evaluate_automation_conditions(defs=defs, instance=full_world.instance, asset_selection=act)
    full_world.instance.report_runless_asset_event(dg.AssetMaterialization(PROFILES))
    second = dg.evaluate_automation_conditions(defs=defs, instance=full_world.instance, asset_selection=act,
                                               cursor=first.cursor)
    audiences = {dg.AssetKey(["act", "audiences", a]) for a in (*RULE_AUDIENCES, "high_value_at_risk")}
    # The SQL audience's dbt model reads audience_profiles too, so it is rebuilt in the same tick.
    assert {k for k in audiences if second.get_num_requested(k)} == audiences
    assert second.get_num_requested(dg.AssetKey(["act", "destinations", "audience_exports", "churn_winback"]))
    quiet = dg.evaluate_automation_conditions(defs=defs, instance=full_world.instance, asset_selection=act,
                                              cursor=second.cursor)
    assert quiet.total_requested == 0  # nothing changed since: nothing runs


def test_the_audiences_commands_check_every_definition_and_show_the_last_runs(full_world):
    from typer.testing import CliRunner

    from kizuna.cli import app

    checked = CliRunner().invoke(app, ["audiences", "check"])
    assert checked.exit_code == 0, checked.output
    assert "ok       audience cart_abandoners" in checked.output
    assert "ok       destination journey_webhook (config/destinations/journey_webhook.yml, disabled)" in checked.output
    status = CliRunner().invoke(app, ["audiences", "status"])
    assert status.exit_code == 0 and "churn_winback" in status.output and "google_customer_match" in status.output
