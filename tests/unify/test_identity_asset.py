"""The identity asset's pure helpers, the identity tables' store, and its place in the asset graph."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.definitions import defs
from dagster_project.defs.unify import identity
from dagster_project.defs.unify.translator import identity_asset_key
from kizuna.identity import load_rules, resolve, store


@pytest.fixture(scope="module")
def rules():
    return load_rules(phone_region="JP")


def observations(rows, day="2026-05-01"):
    frame = pd.DataFrame(rows, columns=["source", "record_id", "namespace", "value_raw"])
    frame["observed_at"] = pd.Timestamp(day, tz="UTC")
    return frame


def person_map(rows):
    return pd.DataFrame(rows, columns=["namespace", "value", "person_id", "is_shared"])


def test_change_counts():
    changes = pd.DataFrame({"kind": ["new", "new", "merge"]})
    assert identity.change_counts(changes) == {"new": 2, "merge": 1, "split": 0}
    assert identity.change_counts(pd.DataFrame(columns=["kind"])) == {"new": 0, "merge": 0, "split": 0}


def test_over_limit_unless_a_rule_allows(rules):
    mapping = person_map([("crm_id", "C1", "P1", False), ("crm_id", "C2", "P1", False),
                          ("email", "info@x.jp", "P1", True), ("crm_id", "C3", "P2", False)])
    violations = identity.over_limit(mapping, rules)
    assert violations.to_dict("records") == [{"person_id": "P1", "namespace": "crm_id", "values": 2}]
    assert identity.shared_joins(mapping, violations)["value"].tolist() == ["info@x.jp"]
    # Duplicate CRM records of one person (same birth date and name) are allowed by allow_multiple_when.
    same = pd.DataFrame({"namespace": "crm_id", "value_raw": ["C1", "C2"], "birth_date": "1990-01-02",
                         "name_key": "okada akemi", "name_kana_key": "okadaakemi"})
    assert identity.over_limit(mapping, rules, attributes=same).empty
    other = same.assign(birth_date=["1990-01-02", "1971-03-04"])
    assert len(identity.over_limit(mapping, rules, attributes=other)) == 1
    forced = pd.DataFrame({"namespace_l": ["crm_id"], "value_l": ["C2"], "namespace_r": ["crm_id"],
                           "value_r": ["C1"], "match_weight": [float("inf")], "kind": ["force_merge"]})
    assert identity.over_limit(mapping, rules, links=forced).empty


def test_store_replaces_tables_and_appends_the_change_log(rules):
    con = duckdb.connect()
    assert store.read_identity_map(con) is None
    obs = observations([("crm_contacts", "c1", "crm_id", "C1"), ("crm_contacts", "c1", "email", "a@x.jp"),
                        ("events", "e1", "email", "A@x.jp"), ("events", "e1", "anonymous_id", "an1")])
    first = resolve(obs, rules)
    counts = store.write_resolution(con, first, run_id="r1")
    assert counts[store.IDENTITY_MAP] == 3 and counts[store.RECORD_PERSONS] == 2
    assert counts[store.IDENTITY_FLAGS] == counts[store.IDENTITY_LINKS] == 0
    previous = store.read_identity_map(con)
    second = resolve(pd.concat([obs, observations([("events", "e2", "anonymous_id", "an1")], "2026-05-02")]),
                     rules, previous=previous)
    store.write_resolution(con, second, run_id="r2")
    assert con.sql("select count(distinct person_id) from identity.identity_map").fetchone()[0] == 1
    assert con.sql("select count(*) from identity.record_persons").fetchone()[0] == 3
    log = con.sql("select run_id, kind from identity.identity_changes order by run_id").fetchall()
    assert log == [("r1", "new")]  # the second run changed nobody
    types = dict(con.sql("select column_name, data_type from information_schema.columns "
                         "where table_name = 'identity_changes'").fetchall())
    assert types["previous_person_ids"] == "VARCHAR[]"


def test_identity_sits_between_dbt_intermediate_and_marts():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"identity/{t}" for t in store.TABLES} <= keys
    map_key = identity_asset_key(store.IDENTITY_MAP)
    assert {p.to_user_string() for p in graph.get(map_key).parent_keys} == {
        "intermediate/int_identifier_observations", "intermediate/int_person_attributes"}
    assert identity_asset_key(store.IDENTITY_MAP) in graph.get(dg.AssetKey(["marts", "identity_graph"])).parent_keys
    assert identity_asset_key(store.RECORD_PERSONS) in graph.get(dg.AssetKey(["marts", "person_events"])).parent_keys
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == map_key}
    assert checks == {identity.SHARED_JOIN_NOBODY, identity.WITHIN_LIMITS}
    job = defs.resolve_job_def("main_job")
    assert job.asset_layer.has(map_key) and job.asset_layer.has(dg.AssetKey(["marts", "person_events"]))
