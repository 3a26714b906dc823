"""Predict end to end on one world through `main_job`: features that never read past their cutoff,
labels from the window after it, MLflow runs with everything an ML engineer compares, the champion
rule, reproducible scores, and scores joined into the profile. Slow: one shared world."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest
from mlflow import MlflowClient

from kizuna.identity.rules import load_rules
from kizuna.predict import as_of, tracking, train
from kizuna.predict import features as feats
from kizuna.predict.config import load_predict_config
from kizuna.settings import load_settings

pytestmark = pytest.mark.slow


def materializations(result, prefix: str = "predict") -> dict[str, dict]:
    found = {}
    for event in result.get_asset_materialization_events():
        m = event.materialization
        if m.asset_key.path[0] == prefix:
            found[m.asset_key.path[-1]] = {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    return found


def truncated_copy(settings, tmp_path, cutoff: datetime, tables: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """A copy of the warehouse (same file name: views name their catalog) without the rows of
    `tables` (table -> time column) at or after the cutoff."""
    (tmp_path / "copy").mkdir()
    path = tmp_path / "copy" / "kizuna.duckdb"
    shutil.copy(settings.warehouse_path, path)
    con = duckdb.connect(str(path))
    for table, column in tables.items():
        con.execute(f"delete from {table} where {column} >= $cutoff", {"cutoff": cutoff})
    return con


def test_main_job_trains_registers_and_scores_every_model(full_world):
    assert full_world.result.success
    found = materializations(full_world.result)
    for model in ("churn", "purchase", "offer_response", "lifetime_value"):
        assert found[f"{model}_model"]["trained"] is True, found[f"{model}_model"]
    assert set(found["training_examples"]["by_model"]) == {"churn", "purchase", "offer_response"}
    assert found["customer_scores"]["not_scored"] == {}
    assert found["churn_model"]["mlflow_run"].endswith(found["churn_model"]["mlflow_run"].split("/")[-1])


def test_no_feature_reads_past_its_cutoff(full_world, tmp_path):
    """Features as of a cutoff, under identity as of the cutoff, are the same from a warehouse that
    holds nothing from the cutoff on (events, identifier observations, CRM and loyalty records)."""
    config, rules = load_predict_config(), load_rules()
    with duckdb.connect(full_world.settings.warehouse_path, read_only=True) as con:
        now = feats.scoring_cutoff(con, full_world.settings.tz)
        cutoff = feats.training_cutoffs(config, config.models["purchase"], now)[-1]
        full = feats.person_features(con, config, cutoff, as_of.records_as_of(con, cutoff, rules))
        later = con.execute("select count(*) from marts.person_events where occurred_at >= $c",
                            {"c": cutoff}).fetchone()
    assert later[0] > 1000, "the world must go on after the cutoff for this test to mean anything"
    con = truncated_copy(full_world.settings, tmp_path, cutoff, {
        "marts.person_events": "occurred_at", "intermediate.int_identifier_observations": "observed_at",
        "intermediate.int_person_attributes": "updated_at"})
    before_only = feats.person_features(con, config, cutoff, as_of.records_as_of(con, cutoff, rules))
    pd.testing.assert_frame_equal(full, before_only)
    assert len(full) > 500


def test_labels_read_only_the_window_after_the_cutoff(full_world, tmp_path):
    config = load_predict_config()
    spec = config.models["churn"]
    with duckdb.connect(full_world.settings.warehouse_path, read_only=True) as con:
        now = feats.scoring_cutoff(con, full_world.settings.tz)
        cutoff = feats.training_cutoffs(config, spec, now)[-1]
        persons = con.sql("select distinct person_id from marts.person_events").df()["person_id"]
        labels = feats.labels(con, config, spec, cutoff, persons)
    assert 0.05 < labels.mean() < 0.95
    end = cutoff + timedelta(days=spec.label_window_days)
    # Nothing after the window counts...
    con = truncated_copy(full_world.settings, tmp_path, end, {"marts.person_events": "occurred_at"})
    assert (feats.labels(con, config, spec, cutoff, persons) == labels).all()
    # ...and with the window emptied, nobody shows activity in it: everybody churned.
    con.execute("delete from marts.person_events where occurred_at >= $c", {"c": cutoff})
    assert feats.labels(con, config, spec, cutoff, persons).eq(1).all()


def test_each_run_records_its_features_holdout_metrics_plots_and_model(full_world):
    client = MlflowClient(tracking_uri=full_world.settings.tracking_uri)
    config = load_predict_config()
    for name, spec in config.models.items():
        experiment = client.get_experiment_by_name(f"kizuna-{name}")
        runs = client.search_runs([experiment.experiment_id])
        assert {r.data.tags["kizuna.learner"] for r in runs} == {"gradient_boosting", "logistic_baseline"}
        for run in runs:
            assert run.data.params["features"].split(",") == list(spec.features)
            assert {"roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile"} <= set(run.data.metrics)
            artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
            assert {"roc.png", "calibration.png", "feature_importance.png", "features.json"} <= artifacts
        candidate = next(r for r in runs if r.data.tags["kizuna.role"] == "candidate")
        assert "baseline_roc_auc" in candidate.data.metrics
        version = client.get_model_version_by_alias(f"kizuna-{name}", "champion")
        signature = __import__("mlflow").models.get_model_info(f"models:/kizuna-{name}/{version.version}").signature
        assert [c.name for c in signature.inputs.inputs] == list(spec.features)


def test_scores_cover_each_population_with_deciles_reasons_and_the_champion_version(full_world):
    scores = full_world.read("select * from predict.customer_scores")
    features = full_world.read("select * from predict.person_features")
    client = MlflowClient(tracking_uri=full_world.settings.tracking_uri)
    churn = scores[scores["model"] == "churn"]
    customers = features[(features["purchase_days"] > 0) & (features["days_since_last_activity"] < 120)]
    assert set(churn["person_id"]) == set(customers["person_id"])
    assert churn["score"].between(0, 1).all() and set(churn["decile"]) == set(range(1, 11))
    assert churn["reason_1"].str.match(r"^\w+ = ").mean() > 0.95
    assert set(churn["model_version"]) == {str(client.get_model_version_by_alias("kizuna-churn", "champion").version)}
    value = scores[scores["model"] == "lifetime_value"]
    assert len(value) and (value["score"] >= 0).all() and value["run_id"].notna().all()
    profile = full_world.read("select * from marts.customer_profile")
    joined = full_world.read("select * from marts.customer_360")
    assert len(joined) == len(profile) and set(joined["person_id"]) == set(profile["person_id"])
    scored = joined[joined["person_id"].isin(churn["person_id"])]
    assert scored["churn_score"].notna().all() and scored["churn_reasons"].str.len().gt(0).all()


def test_offers_are_ranked_per_person_for_eligible_pairs_only(full_world):
    offers = full_world.read("select * from predict.offer_scores")
    features = full_world.read("select person_id, purchase_days from predict.person_features")
    shown = full_world.read("""
        select distinct e.person_id, d.offer_id from marts.person_events e
        join intermediate.int_event_details d using (source, record_id)
        where e.source = 'offer_events' and e.event_name = 'exposed'""")
    assert len(offers) > 1000
    ranks = offers.groupby("person_id")["offer_rank"].agg(["min", "max", "size"])
    assert (ranks["min"] == 1).all() and (ranks["max"] == ranks["size"]).all()
    assert offers.merge(shown, on=["person_id", "offer_id"]).empty
    welcome = offers[offers["offer_id"] == "OF001"].merge(features, on="person_id")  # target: prospects
    assert len(welcome) and (welcome["purchase_days"] == 0).all()


def test_the_champion_moves_only_when_a_new_version_beats_it(full_world, tmp_path, monkeypatch):
    """Fewer features (an ML engineer's edit) make a weaker model: it is registered and recorded,
    but champion moves only to a version that wins on the same holdout."""
    monkeypatch.setenv("KIZUNA_MLFLOW_DIR", str(tmp_path / "mlflow"))
    settings, config = load_settings(), load_predict_config()
    full = config.models["purchase"]
    weak = type(full)(**{**full.__dict__, "features": ("web_share_90d", "email_unsubscribed")})
    with duckdb.connect(full_world.settings.warehouse_path, read_only=True) as con:
        found = con.sql("select * from predict.training_examples where model = 'purchase'").df()
    first = train.train_model(config, settings, weak, found)
    assert first.decision["outcome"].startswith("promoted: no champion")
    better = train.train_model(config, settings, full, found)
    assert better.decision["outcome"] == "promoted: beats the champion"
    assert better.decision["champion_score"] < better.decision["challenger_score"]
    again = train.train_model(config, settings, weak, found)
    assert again.decision["outcome"].startswith("kept")
    client = tracking.client(settings)
    assert str(client.get_model_version_by_alias("kizuna-purchase", "champion").version) == better.version
    tags = client.get_model_version("kizuna-purchase", again.version).tags
    assert tags["kizuna.outcome"].startswith("kept") and float(tags["kizuna.champion_score"]) > float(
        tags["kizuna.challenger_score"])
    run = client.get_run(again.run_id)
    assert run.data.params["features"] == "web_share_90d,email_unsubscribed"


def test_a_second_run_on_the_same_data_gives_the_same_scores_and_keeps_the_champion(full_world):
    before = full_world.read("select * from predict.customer_scores order by model, person_id")
    result = full_world.rerun()
    assert result.success
    after = full_world.read("select * from predict.customer_scores order by model, person_id")
    propensity = ~before["model"].eq("lifetime_value")
    pd.testing.assert_frame_equal(before.loc[propensity, ["person_id", "model", "score", "decile", "reason_1"]],
                                  after.loc[propensity, ["person_id", "model", "score", "decile", "reason_1"]])
    decision = materializations(result)["churn_model"]["champion_decision"]
    assert decision["outcome"].startswith("kept") and decision["champion_score"] == decision["challenger_score"]
    assert re.fullmatch(r"\d+", decision["challenger_version"]) and decision["champion_version"] == "1"
    value_before = before[~propensity].reset_index(drop=True)
    value_after = after[~propensity].reset_index(drop=True)
    pd.testing.assert_series_equal(value_before["score"], value_after["score"], rtol=1e-9)


def test_the_champions_command_lists_every_model_with_its_champion(full_world, monkeypatch):
    from typer.testing import CliRunner

    from kizuna.cli import app

    monkeypatch.setenv("KIZUNA_MLFLOW_DIR", full_world.settings.mlflow_dir)
    result = CliRunner().invoke(app, ["predict", "champions"])
    assert result.exit_code == 0, result.output
    for model in ("churn", "purchase", "offer_response", "lifetime_value"):
        assert model in result.output
    assert "promoted" in result.output or "kept" in result.output
