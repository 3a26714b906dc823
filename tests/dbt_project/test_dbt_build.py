"""`dbt build` through Dagster on a tiny ingested world: every model builds, every dbt test passes,
and the identifier observations are exactly the identifiers the sample world's truth lists."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from dagster_project.defs.unify.assets import kizuna_dbt_models
from dagster_project.resources import KizunaSettings
from kizuna.warehouse import warehouse

NAMESPACES = {"anonymous_id", "user_id", "device_id", "crm_id", "email", "phone", "loyalty_card_id"}


@pytest.fixture(scope="module")
def built(tiny_warehouse):
    settings, truth = tiny_warehouse
    result = dg.materialize(
        [kizuna_dbt_models],
        resources={"kizuna": KizunaSettings(landing_url=settings.landing_url, warehouse_path=settings.warehouse_path)},
        raise_on_error=False,
    )
    return settings, truth, result


@pytest.mark.slow
def test_every_model_builds_and_every_dbt_test_passes(built):
    _, _, result = built
    assert result.success
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events() if e.asset_key}
    assert {"stg_segment__events", "int_identifier_observations", "int_person_attributes"} <= materialized
    failed = [
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
    ]
    assert failed == []


@pytest.mark.slow
def test_observations_are_the_identifiers_of_the_truth(built):
    settings, truth, _ = built
    with warehouse(settings, read_only=True) as con:
        observed = con.execute(
            "select distinct namespace, value_raw from intermediate.int_identifier_observations"
        ).df()
        per_source = dict(
            con.execute(
                "select source, count(*) from intermediate.int_identifier_observations group by source"
            ).fetchall()
        )
        raw_events = con.execute(
            "select count(anonymous_id) + count(user_id) from raw.events where trim(coalesce(anonymous_id, '')) != '' "
            "or trim(coalesce(user_id, '')) != ''"
        ).fetchone()[0]
        event_ids = con.execute(
            "select count(*) from intermediate.int_identifier_observations "
            "where source = 'events' and namespace in ('anonymous_id', 'user_id')"
        ).fetchone()[0]
    assert set(observed["namespace"]) == NAMESPACES
    assert event_ids == raw_events
    # A 10-day world of 40 people may have no order or till receipt yet; these sources always have rows.
    assert per_source.keys() >= {"events", "crm_contacts", "email_events", "loyalty_members", "ad_touchpoints"}
    ids = pd.read_parquet(truth / "identifiers.parquet")
    expected = set(zip(ids["namespace"], ids["value"], strict=True))
    assert set(zip(observed["namespace"], observed["value_raw"], strict=True)) == expected
