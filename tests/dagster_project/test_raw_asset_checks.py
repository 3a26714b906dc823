"""A raw asset's checks as Dagster runs them: a rejected file blocks until it is sent again fixed."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.collect import checks
from dagster_project.defs.collect.assets import CONTRACTS, build_raw_asset
from dagster_project.resources import KizunaSettings

HEADER = "ticket_event_id,ticket_id,event_type,event_at,crm_id,email,phone,order_id,category,channel,priority,agent_id"
ROW = "e1,T00000001,opened,2026-05-01T10:00:00Z,C0000001,,,,delivery,phone,normal,A1"


def _run(asset, resource):
    result = dg.materialize(
        [asset], resources={"kizuna": resource}, partition_key="2026-05-01", raise_on_error=False
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    return evaluations, {k: v.value for k, v in materialization.metadata.items()}


def test_rejected_file_fails_the_blocking_check_until_fixed(tmp_path):
    path = tmp_path / "landing" / "tickets" / "tickets-2026-05-01.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER.replace(",category", "") + "\n" + ROW.replace(",delivery", "") + "\n")
    resource = KizunaSettings(landing_url=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "wh.duckdb"))
    asset = build_raw_asset(CONTRACTS["support_tickets"])

    evaluations, meta = _run(asset, resource)
    accepted = evaluations[checks.FILES_ACCEPTED]
    assert not accepted.passed and accepted.severity == dg.AssetCheckSeverity.ERROR
    assert "category" in accepted.description and str(path) in accepted.description
    assert evaluations[checks.COUNTS_ADD_UP].passed
    assert (meta["read"], meta["quarantined"], meta["rejected_files"]) == (1, 1, {str(path): ["category"]})

    evaluations, meta = _run(asset, resource)  # nothing new: still what the partition holds
    assert not evaluations[checks.FILES_ACCEPTED].passed and meta["this_run"]["new_files"] == 0

    path.write_text(HEADER + "\n" + ROW + "\n")  # the exporter sends it again, fixed
    evaluations, meta = _run(asset, resource)
    assert all(e.passed for e in evaluations.values()), {k: e.description for k, e in evaluations.items()}
    assert (meta["loaded"], meta["dagster/row_count"], meta["rejected_files"]) == (1, 1, {})
