"""End to end on a tiny world: raw → dbt staging/intermediate → identity → dbt marts, in one run of
`main_job`; identity against the world's truth; a second run keeps every person id."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from benchmarks.identity import score
from dagster_project.definitions import defs
from data_contracts import load_contracts
from kizuna.collect.landing import list_files
from kizuna.identity import load_rules
from kizuna.identity.normalize import normalize_values
from kizuna.sample_world import generate
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

pytestmark = pytest.mark.slow

IDENTITY_TABLES = ["identity_map", "identity_changes", "identity_flags", "identity_links", "record_persons"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("unify_world")
    env = {"KIZUNA_LANDING_URL": str(root / "landing"), "KIZUNA_TRUTH_DIR": str(root / "truth"),
           "KIZUNA_WAREHOUSE_PATH": str(root / "warehouse" / "kizuna.duckdb"), "DAGSTER_HOME": str(root / "dagster")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("KIZUNA_CRM_POSTGRES", raising=False)
        (root / "dagster").mkdir()
        generate(customers=60, days=15, seed=5, landing=root / "landing", truth=root / "truth")
        settings = load_settings()
        yield settings, root / "truth", run_main_job(settings)


def run_main_job(settings) -> dg.ExecuteInProcessResult:
    days = [f.partition for c in load_contracts().values() if c.partition_kind == "daily"
            for f in list_files(c, settings.landing_url) if f.partition]
    tags = {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
    return defs.resolve_job_def("main_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False)


def read(settings, sql: str) -> pd.DataFrame:
    with warehouse(settings, read_only=True) as con:
        return con.sql(sql).df()


def test_main_job_runs_raw_then_dbt_then_identity_then_marts(world):
    _, _, result = world
    assert result.success
    failed = [e.asset_check_evaluation_data.check_name for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
              and e.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []
    order: dict[str, int] = {}
    for i, e in enumerate(result.get_asset_materialization_events()):
        order.setdefault(e.asset_key.to_user_string(), i)
    raw_last = max(i for k, i in order.items() if k.startswith("raw/"))
    assert raw_last < order["intermediate/int_identifier_observations"] < order["identity/identity_map"]
    assert order["identity/record_persons"] < order["marts/person_events"]
    assert order["identity/identity_map"] < order["marts/identity_graph"]


def test_identity_tables_and_marts_exist_and_cover_every_identifier(world):
    settings, _, _ = world
    tables = read(settings, "select table_schema || '.' || table_name as t from information_schema.tables")["t"]
    assert {f"identity.{t}" for t in IDENTITY_TABLES} | {"marts.identity_graph", "marts.person_events",
                                                                        "marts.customer_profile"} <= set(tables)
    rules = load_rules(phone_region=settings.phone_region)
    observed = read(settings, "select distinct namespace, value_raw from intermediate.int_identifier_observations")
    observed["value"] = normalize_values(observed["namespace"], observed["value_raw"], region=rules.phone_region,
                                         email_rules=rules.email)
    wanted = set(zip(observed["namespace"], observed["value"], strict=True)) - {
        (n, v) for n, v in zip(observed["namespace"], observed["value"], strict=True) if v is None or pd.isna(v)}
    graph = read(settings, "select namespace, value, person_id from marts.identity_graph")
    assert wanted <= set(zip(graph["namespace"], graph["value"], strict=True))
    events = read(settings, "select source, count(*) as n from marts.person_events group by source")
    assert {"events", "orders", "crm_contacts", "email_events"} <= set(events["source"])
    profile = read(settings, "select count(*) as n, count(distinct person_id) as persons from marts.customer_profile")
    assert profile.loc[0, "n"] == profile.loc[0, "persons"] == graph["person_id"].nunique()


def test_no_shared_identifier_joins_two_true_persons(world):
    settings, truth, _ = world
    identity_map = read(settings, "select * from identity.identity_map")
    figures = score(identity_map, truth, load_rules(phone_region=settings.phone_region))
    assert figures["false_merges_shared"] == 0
    assert figures["precision"] >= 0.99


def test_a_second_run_keeps_every_person_id(world):
    settings, _, _ = world
    before = read(settings, "select namespace, value, person_id from identity.identity_map")
    again = run_main_job(settings)
    assert again.success
    after = read(settings, "select namespace, value, person_id from identity.identity_map")
    merged = before.merge(after, on=["namespace", "value"], suffixes=("_before", "_after"))
    assert len(merged) == len(before) == len(after)
    assert (merged["person_id_before"] == merged["person_id_after"]).all()
    changes = read(settings, f"select kind from identity.identity_changes where run_id = '{again.run_id}'")
    assert changes.empty
