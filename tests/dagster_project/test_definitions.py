"""The one Definitions: every contract has its raw asset, checks, and a place in the automation."""

from __future__ import annotations

import json

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.collect import checks
from dagster_project.defs.collect.automation import landing_files_sensor
from dagster_project.resources import KizunaSettings
from data_contracts import load_contracts


def test_every_contract_is_a_raw_asset_with_its_checks():
    contracts = load_contracts()
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    for name, contract in contracts.items():
        key = dg.AssetKey(["raw", name])
        assert key in specs, name
        assert specs[key].group_name == "collect"
        partitioned = specs[key].partitions_def is not None
        assert partitioned == (contract.partition_kind == "daily"), name
    check_keys = {k for k in defs.resolve_asset_graph().asset_check_keys}
    for name in contracts:
        for check in (checks.FILES_ACCEPTED, checks.COUNTS_ADD_UP, checks.CONTRACT_RULES):
            assert dg.AssetCheckKey(dg.AssetKey(["raw", name]), check) in check_keys


def test_blocking_checks_are_the_ones_that_must_stop_downstream():
    specs = checks.check_specs(dg.AssetKey(["raw", "events"]))
    assert {s.name: s.blocking for s in specs} == {
        checks.FILES_ACCEPTED: True,
        checks.COUNTS_ADD_UP: True,
        checks.CONTRACT_RULES: False,
    }


def test_job_schedule_and_sensor_are_defined():
    assert defs.resolve_job_def("ingest_job") is not None
    assert defs.resolve_schedule_def("daily_ingest_schedule") is not None
    assert defs.resolve_sensor_def("landing_files_sensor") is not None


def _landing(tmp_path):
    (tmp_path / "events").mkdir()
    (tmp_path / "crm").mkdir()
    (tmp_path / "events" / "events-2026-05-01.jsonl").write_text('{"messageId": "a"}\n')
    (tmp_path / "events" / "events-2026-05-03.jsonl").write_text('{"messageId": "b"}\n')
    (tmp_path / "crm" / "contacts-2026-05-01.csv").write_text("crm_id\n")
    return tmp_path


def _evaluate(cursor, landing):
    context = dg.build_sensor_context(cursor=cursor, resources={"kizuna": KizunaSettings(landing_url=str(landing))})
    requests = list(landing_files_sensor(context))
    return requests, context.cursor


def test_sensor_requests_runs_for_new_files_only(tmp_path):
    landing = _landing(tmp_path)
    requests, cursor = _evaluate(None, landing)
    by_asset = {tuple(r.asset_selection[0].path): r for r in requests}
    assert set(by_asset) == {("raw", "events"), ("raw", "crm_contacts")}
    events = by_asset[("raw", "events")]
    assert (events.partition_key_range.start, events.partition_key_range.end) == ("2026-05-01", "2026-05-03")
    assert by_asset[("raw", "crm_contacts")].partition_key_range is None

    requests, cursor = _evaluate(cursor, landing)
    assert requests == []

    (landing / "events" / "events-2026-05-04.jsonl").write_text('{"messageId": "c"}\n')
    (landing / "events" / "events-2026-05-01.jsonl").write_text('{"messageId": "a"}\n{"messageId": "a2"}\n')
    requests, cursor = _evaluate(cursor, landing)
    ((request),) = requests
    assert (request.partition_key_range.start, request.partition_key_range.end) == ("2026-05-01", "2026-05-04")
    assert set(json.loads(cursor)) == {
        "events/events-2026-05-01.jsonl", "events/events-2026-05-03.jsonl",
        "events/events-2026-05-04.jsonl", "crm/contacts-2026-05-01.csv",
    }
