"""customer_profile: the rules file dbt reads, the mart's contract and labels, and (slow) the profile
built on a tiny world. The SQL logic itself is covered by dbt unit tests beside the models."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dagster_project.defs.unify.assets import dbt_vars, dbt_vars_args, kizuna_dbt_marts
from data_contracts import load_contracts

ROOT = Path(__file__).resolve().parents[2]
PROFILE_YML = ROOT / "dbt_project" / "models" / "marts" / "customer_profile.yml"
RULES = {"most_recent", "source_priority"}
RECORD_SOURCES = {"crm_contacts", "loyalty_members"}


def purposes() -> list[str]:
    field = next(f for f in load_contracts()["consent_events"].fields if f.name == "purpose")
    return list(field.enum)


def profile_columns() -> list[dict]:
    (model,) = yaml.safe_load(PROFILE_YML.read_text(encoding="utf-8"))["models"]
    return model["columns"]


def test_profile_rules_are_passed_to_dbt_as_vars_and_valid():
    args = dbt_vars_args(ROOT)
    assert args[0] == "--vars"
    rules = yaml.safe_load(args[1])
    assert {"kizuna__survivorship", "kizuna__consent"} <= set(rules)
    for attribute, rule in rules["kizuna__survivorship"].items():
        assert rule["rule"] in RULES, attribute
        if attribute not in {"email", "phone"}:
            assert set(rule["sources"]) <= RECORD_SOURCES, attribute
        else:
            assert rule["rule"] == "most_recent"
    assert set(rules["kizuna__consent"]["opt_in"]) <= set(purposes())
    assert "analytics" not in rules["kizuna__consent"]["opt_in"]


def test_no_rules_file_leaves_the_time_zone_alone(tmp_path):
    assert dbt_vars(tmp_path) == {"kizuna__timezone": "Asia/Tokyo"}


def test_a_variable_defined_twice_or_not_kizuna_is_refused(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "profile.yml").write_text("kizuna__consent: {opt_in: []}\n", encoding="utf-8")
    (tmp_path / "config" / "stages.yml").write_text("kizuna__consent: {opt_in: [analytics]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="stages.yml.*kizuna__consent"):
        dbt_vars(tmp_path)
    (tmp_path / "config" / "stages.yml").write_text("stages: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'stages'"):
        dbt_vars(tmp_path)


def test_profile_models_build_after_identity():
    after = {key.path[-1] for key in kizuna_dbt_marts.keys}
    assert {"int_person_attributes_survived", "int_person_traits_computed", "int_person_consents_resolved",
            "customer_profile", "identity_graph", "person_events"} <= after


def test_profile_has_one_consent_column_per_contract_purpose():
    names = [c["name"] for c in profile_columns()]
    assert [n.removeprefix("consent_") for n in names if n.startswith("consent_")] == purposes()


def test_every_profile_column_is_typed_and_labelled():
    for column in profile_columns():
        assert column.get("data_type"), column["name"]
        assert column["config"]["meta"]["labels"], column["name"]


@pytest.mark.slow
def test_profile_on_a_tiny_world(tmp_path, monkeypatch):
    import dagster as dg

    from dagster_project.definitions import defs
    from kizuna.collect.landing import list_files
    from kizuna.sample_world import generate
    from kizuna.settings import load_settings
    from kizuna.warehouse import warehouse

    for name, value in {"KIZUNA_LANDING_URL": tmp_path / "landing", "KIZUNA_TRUTH_DIR": tmp_path / "truth",
                        "KIZUNA_WAREHOUSE_PATH": tmp_path / "wh.duckdb", "DAGSTER_HOME": tmp_path}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("KIZUNA_CRM_POSTGRES", raising=False)
    generate(customers=40, days=10, seed=7, landing=tmp_path / "landing", truth=tmp_path / "truth")
    settings = load_settings()
    days = [f.partition for c in load_contracts().values() if c.partition_kind == "daily"
            for f in list_files(c, settings.landing_url) if f.partition]
    tags = {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
    result = defs.resolve_job_def("main_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False)
    assert result.success
    with warehouse(settings, read_only=True) as con:
        persons = con.sql("select count(distinct person_id) from marts.identity_graph").fetchone()[0]
        profile = con.sql("select * from marts.customer_profile").df()
        events = con.sql("select count(*) from intermediate.int_person_consents_resolved"
                         " where not is_default").fetchone()[0]
    assert len(profile) == persons == profile["person_id"].nunique()
    assert events > 0
    # Opt-in purposes without an event are denied, never granted by default.
    assert set(profile["consent_data_sharing"]) <= {"denied", "withdrawn", "granted"}
    buyers = profile[profile["orders"] > 0]
    assert buyers["recency_score"].between(1, 5).all()
    assert (buyers["average_order_value"] * buyers["orders"] - buyers["revenue"]).abs().max() < 1e-6
