"""The dbt models in the asset graph: downstream of the raw assets, in the unify group."""

from __future__ import annotations

import os

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.unify.assets import build_args, kizuna_dbt_project
from dagster_project.defs.unify.project import manifest_is_stale
from data_contracts import load_contracts


def test_dbt_sources_are_the_raw_assets():
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    events = specs[dg.AssetKey(["staging", "stg_segment__events"])]
    assert events.group_name == "unify"
    assert {d.asset_key for d in events.deps} == {dg.AssetKey(["raw", "events"])}
    staging_deps = {d.asset_key for s in specs.values() if s.group_name == "unify" for d in s.deps}
    assert {dg.AssetKey(["raw", name]) for name in load_contracts()} <= staging_deps
    # No second node for a raw table: every raw key is the collect domain's asset.
    assert all(specs[k].group_name == "collect" for k in specs if k.path[0] == "raw")


def test_main_job_covers_collect_and_unify():
    job = defs.resolve_job_def("main_job")
    keys = {k for k in defs.resolve_asset_graph().get_all_asset_keys() if job.asset_layer.has(k)}
    assert dg.AssetKey(["raw", "events"]) in keys
    assert dg.AssetKey(["intermediate", "int_identifier_observations"]) in keys


def test_build_args():
    assert build_args() == ["build"]
    assert build_args(full_refresh=True) == ["build", "--full-refresh"]


def test_manifest_is_fresh_after_load_and_stale_after_an_edit():
    assert not manifest_is_stale(kizuna_dbt_project)
    model = kizuna_dbt_project.project_dir / "dbt_project.yml"
    built = kizuna_dbt_project.manifest_path.stat().st_mtime
    original = model.stat()
    os.utime(model, (original.st_atime, built + 10))
    try:
        assert manifest_is_stale(kizuna_dbt_project)
    finally:
        os.utime(model, (original.st_atime, original.st_mtime))
