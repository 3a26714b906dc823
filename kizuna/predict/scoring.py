"""Batch scoring: every person's score, decile and reasons from each model's champion, and every
eligible person-by-offer pair's response score (the ranking next best action reads).

Reason codes are the three features pushing a person's score up the most (their contributions to
the log-odds), written `feature = value`, so a marketer reads why without opening MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import mlflow
import numpy as np
import pandas as pd

from kizuna.predict import clv, estimators, lifetime, tracking
from kizuna.predict import features as feats
from kizuna.predict.config import ModelSpec, PredictConfig
from kizuna.settings import Settings

# The tables' columns and types: the same whether or not anything was scored (the dbt mart reads them).
SCORE_COLUMNS = {"person_id": "string", "model": "string", "score": "float64", "decile": "int64",
                 "reason_1": "string", "reason_2": "string", "reason_3": "string", "registered_model": "string",
                 "model_version": "string", "run_id": "string", "scored_as_of": "datetime64[us]"}
OFFER_SCORE_COLUMNS = {"person_id": "string", "offer_id": "string", "score": "float64", "offer_rank": "int64",
                       "reason_1": "string", "reason_2": "string", "reason_3": "string", "model_version": "string",
                       "run_id": "string", "scored_as_of": "datetime64[us]"}
REASONS = 3


@dataclass
class ScoringReport:
    scored: dict[str, int] = field(default_factory=dict)  # model -> persons (or pairs) scored
    versions: dict[str, str] = field(default_factory=dict)  # model -> registered version (or run)
    runs: dict[str, str] = field(default_factory=dict)  # model -> MLflow run id
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why it has no scores


def deciles(scores: pd.Series, keys: pd.Series) -> np.ndarray:
    """1 for the highest tenth of scores ... 10 for the lowest; ties broken by key, so it is stable."""
    order = pd.DataFrame({"s": scores.to_numpy(), "k": keys.to_numpy()}).sort_values(
        ["s", "k"], ascending=[False, True], kind="stable").index.to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return (rank * 10 // max(len(order), 1) + 1).astype(np.int64)


def _format(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    if isinstance(value, float | np.floating):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def reason_codes(model, frame: pd.DataFrame) -> list[list[str]]:
    """The top three upward pushes per row as `feature = value` (fewer when fewer push up)."""
    pushes = estimators.contributions(model, frame)
    names = np.array(pushes.columns)
    values = pushes.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :REASONS]
    reasons = []
    for i, top in enumerate(order):
        row = frame.iloc[i]
        reasons.append([f"{names[j]} = {_format(row[names[j]])}" for j in top if values[i, j] > 0])
    return reasons


def _reason_columns(reasons: list[list[str]]) -> dict[str, list[str | None]]:
    return {f"reason_{k + 1}": [r[k] if len(r) > k else None for r in reasons] for k in range(REASONS)}


def population(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    con.register("scoring_features", frame)
    keep = con.sql(f"select person_id from scoring_features where {spec.population}").df()["person_id"]
    return frame[frame["person_id"].isin(keep)]


def _champion(mlflow_client, config: PredictConfig, spec: ModelSpec):
    name = tracking.registered_name(config, spec.name)
    current = tracking.champion(mlflow_client, name)
    if current is None:
        return None
    return name, current, mlflow.sklearn.load_model(f"models:/{name}@{tracking.CHAMPION}")


def score_persons(con: duckdb.DuckDBPyConnection, config: PredictConfig, settings: Settings, now: datetime,
                  person_features: pd.DataFrame) -> tuple[pd.DataFrame, ScoringReport]:
    """customer_scores: one row per person and model (propensity models and lifetime value)."""
    mlflow_client = tracking.client(settings)
    report, parts = ScoringReport(), []
    for spec in config.models.values():
        if spec.per_offer:
            continue
        found = _champion(mlflow_client, config, spec)
        if found is None:
            report.skipped[spec.name] = "no champion in the registry yet (the model has not been trained)"
            continue
        name, current, model = found
        frame = population(con, person_features, spec).reset_index(drop=True)
        score = model.predict_proba(frame)[:, 1] if len(frame) else np.array([])
        parts.append(pd.DataFrame({
            "person_id": frame["person_id"], "model": spec.name, "score": score,
            "decile": deciles(pd.Series(score), frame["person_id"]), **_reason_columns(reason_codes(model, frame)),
            "registered_model": name, "model_version": str(current.version), "run_id": current.run_id}))
        report.scored[spec.name], report.versions[spec.name], report.runs[spec.name] = len(frame), current.version, \
            current.run_id
    parts.append(_lifetime_value_scores(con, config, settings, now, report))
    parts = [p for p in parts if p is not None and len(p)]
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SCORE_COLUMNS))
    scores["scored_as_of"] = now
    return _typed(scores, SCORE_COLUMNS), report


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    return frame.reindex(columns=list(columns)).astype(columns)


def _lifetime_value_scores(con, config: PredictConfig, settings: Settings, now: datetime,
                           report: ScoringReport) -> pd.DataFrame | None:
    found = lifetime.latest_run(settings, config)
    if found is None:
        report.skipped[lifetime.MODEL] = "no lifetime value run in MLflow yet"
        return None
    model, run_id = found
    summary = clv.purchase_summary(lifetime.purchases(con, config, now), pd.Timestamp(now).tz_localize("UTC"),
                                   model.period_days)
    value = model.predict(summary, int(config.lifetime_value["horizon_days"]),
                          float(config.lifetime_value.get("discount_rate_annual", 0.0)))
    report.scored[lifetime.MODEL], report.versions[lifetime.MODEL], report.runs[lifetime.MODEL] = \
        len(value), f"run {run_id[:8]}", run_id
    return pd.DataFrame({
        "person_id": value["person_id"], "model": lifetime.MODEL, "score": value["clv"],
        "decile": deciles(value["clv"], value["person_id"]),
        "reason_1": [f"expected_purchases = {v:.2f}" for v in value["expected_purchases"]],
        "reason_2": [f"p_alive = {v:.2f}" for v in value["p_alive"]],
        "reason_3": [f"expected_order_value = {v:,.0f}" for v in value["expected_order_value"]],
        "registered_model": None, "model_version": None, "run_id": run_id})


def eligible_pairs(con: duckdb.DuckDBPyConnection, config: PredictConfig, person_features: pd.DataFrame,
                   now: datetime) -> pd.DataFrame:
    """person_id, offer_id of every person matching an offer's target and never shown it before."""
    con.register("scoring_features", person_features)
    parts = []
    for offer in config.offers:
        members = con.sql(f"select person_id from scoring_features where {config.targets[offer.target]}").df()
        parts.append(members.assign(offer_id=offer.offer_id))
    pairs = pd.concat(parts, ignore_index=True)
    shown = feats.offers_shown_before(con, now).assign(_shown=True)
    pairs = pairs.merge(shown, on=["person_id", "offer_id"], how="left")
    return pairs[pairs["_shown"].isna()].drop(columns="_shown").reset_index(drop=True)


def score_offers(con: duckdb.DuckDBPyConnection, config: PredictConfig, settings: Settings, now: datetime,
                 person_features: pd.DataFrame) -> tuple[pd.DataFrame, ScoringReport]:
    """offer_scores: every eligible (person, offer) pair, ranked per person (1 = the best offer)."""
    mlflow_client = tracking.client(settings)
    report = ScoringReport()
    empty = _typed(pd.DataFrame(columns=list(OFFER_SCORE_COLUMNS)), OFFER_SCORE_COLUMNS)
    for spec in (s for s in config.models.values() if s.per_offer):
        found = _champion(mlflow_client, config, spec)
        if found is None:
            report.skipped[spec.name] = "no champion in the registry yet (the model has not been trained)"
            return empty, report
        name, current, model = found
        pairs = eligible_pairs(con, config, person_features, now)
        frame = (pairs.merge(person_features, on="person_id", how="inner")
                 .merge(feats.offer_features(con, config, now, pairs), on=["person_id", "offer_id"], how="left"))
        frame = frame.sort_values(["person_id", "offer_id"], kind="stable").reset_index(drop=True)
        score = model.predict_proba(frame)[:, 1] if len(frame) else np.array([])
        scored = pd.DataFrame({"person_id": frame["person_id"], "offer_id": frame["offer_id"], "score": score,
                               **_reason_columns(reason_codes(model, frame)), "model_version": current.version,
                               "run_id": current.run_id, "scored_as_of": now})
        scored["offer_rank"] = scored.sort_values(["score", "offer_id"], ascending=[False, True], kind="stable") \
            .groupby("person_id").cumcount().reindex(scored.index) + 1
        report.scored[spec.name], report.versions[spec.name], report.runs[spec.name] = len(scored), \
            current.version, current.run_id
        return _typed(scored, OFFER_SCORE_COLUMNS), report
    return empty, report
