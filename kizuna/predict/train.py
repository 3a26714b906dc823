"""Train one propensity model: both learners on the same examples, every figure in MLflow, the
gradient-boosted model registered, and `champion` moved only when it beats the current champion
on this run's holdout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow.models import infer_signature

from kizuna.predict import estimators, evaluation, tracking
from kizuna.predict.config import ModelSpec, PredictConfig
from kizuna.settings import Settings


class NotTrainable(Exception):
    """Too little data to train a model; the message says what is missing."""


@dataclass
class TrainingResult:
    model: str
    registered_name: str
    version: str
    run_id: str
    baseline_run_id: str
    experiment_id: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    decision: dict = field(default_factory=dict)
    features: list[str] = field(default_factory=list)


def check_trainable(examples: pd.DataFrame, config: PredictConfig, spec: ModelSpec) -> None:
    least, positives = int(config.training["min_examples"]), int(config.training["min_positives"])
    counts = examples.groupby("split")["label"].agg(["size", "sum"]) if len(examples) else pd.DataFrame()
    for split in ("train", "calibration", "holdout"):
        n = int(counts["size"].get(split, 0)) if len(counts) else 0
        k = int(counts["sum"].get(split, 0)) if len(counts) else 0
        need = least if split == "train" else max(1, least // 4)
        if n < need or k < (positives if split == "train" else 1) or k == n:
            raise NotTrainable(
                f"{spec.name}: {split} split has {n} examples with {k} positive; needs at least {need} with "
                f"{positives if split == 'train' else 1} positive and some negative "
                f"(config/models.yml training.min_examples/min_positives; the data may be too short for "
                f"a {spec.label_window_days}-day label window)")


def _log_learner(config: PredictConfig, spec: ModelSpec, kind: str, examples: pd.DataFrame, seed: int,
                 experiment: str, extra_params: dict) -> tuple[str, object, dict[str, float], str]:
    train = examples[examples["split"] == "train"]
    calibration = examples[examples["split"] == "calibration"]
    holdout = examples[examples["split"] == "holdout"]
    params = dict(spec.gradient_boosting) if kind == estimators.GRADIENT_BOOSTING else {}
    with mlflow.start_run(experiment_id=experiment, run_name=f"{spec.name} {kind}") as run:
        model = estimators.fit_calibrated(kind, list(spec.features), params, seed, train, calibration)
        p = model.predict_proba(holdout)[:, 1]
        y = holdout["label"].to_numpy()
        scores = evaluation.metrics(y, p)
        mlflow.set_tags({"kizuna.model": spec.name, "kizuna.learner": kind,
                         "kizuna.role": "candidate" if kind == estimators.GRADIENT_BOOSTING else "baseline"})
        mlflow.log_params({"learner": kind, "seed": seed, "n_features": len(spec.features),
                           "features": ",".join(spec.features)[:6000], **extra_params,
                           **{f"lgbm_{k}": v for k, v in params.items()}})
        mlflow.log_dict({"features": list(spec.features), "label": spec.label, "population": spec.population,
                         "description": spec.description}, "features.json")
        mlflow.log_metrics({k: v for k, v in scores.items() if not math.isnan(v)})
        for name, fig in (("roc.png", evaluation.roc_figure(y, p, f"{spec.name} ({kind})")),
                          ("calibration.png", evaluation.calibration_figure(y, p, f"{spec.name} ({kind})")),
                          ("feature_importance.png", evaluation.importance_figure(
                              estimators.importance(model), f"{spec.name} ({kind})"))):
            mlflow.log_figure(fig, name)
            plt.close(fig)
        sample = holdout[list(spec.features)].head(5)
        signature = infer_signature(sample, model.predict_proba(sample)[:, 1])
        # skops refuses types it does not know; these are the ones this model (built here) is made of.
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        logged = mlflow.sklearn.log_model(model, name="model", signature=signature, input_example=sample,
                                          skops_trusted_types=trusted)
        return run.info.run_id, model, scores, logged.model_uri


def train_model(config: PredictConfig, settings: Settings, spec: ModelSpec, examples: pd.DataFrame) -> TrainingResult:
    """Fit, log, register and judge one model on its examples (from `kizuna.predict.examples`)."""
    check_trainable(examples, config, spec)
    mlflow_client = tracking.client(settings)
    experiment = tracking.experiment_id(config, settings, spec.name)
    seed = int(config.training["seed"])
    cutoffs = sorted(pd.to_datetime(examples["cutoff"]).dt.strftime("%Y-%m-%d %H:%M").unique())
    extra = {"cutoffs": ",".join(cutoffs), "label_window_days": spec.label_window_days,
             **{f"{s}_examples": int((examples["split"] == s).sum()) for s in ("train", "calibration", "holdout")}}
    base_run, _, base_scores, _ = _log_learner(config, spec, estimators.BASELINE, examples, seed, experiment, extra)
    run_id, model, scores, model_uri = _log_learner(config, spec, estimators.GRADIENT_BOOSTING, examples, seed,
                                                    experiment, extra)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({f"baseline_{k}": v for k, v in base_scores.items() if not math.isnan(v)})
        mlflow.set_tag("kizuna.baseline_run_id", base_run)
    name = tracking.registered_name(config, spec.name)
    version = mlflow.register_model(model_uri, name).version
    decision = judge(mlflow_client, config, name, str(version), model, examples[examples["split"] == "holdout"])
    for key, value in decision.items():
        mlflow_client.set_model_version_tag(name, str(version), f"kizuna.{key}", str(value))
    with mlflow.start_run(run_id=run_id):
        mlflow.set_tags({f"kizuna.champion_{k}": str(v) for k, v in decision.items()})
    return TrainingResult(spec.name, name, str(version), run_id, base_run, experiment, scores, base_scores,
                          decision, list(spec.features))


def judge(mlflow_client, config: PredictConfig, name: str, version: str, model, holdout: pd.DataFrame) -> dict:
    """Move `champion` to `version` only if it beats the current champion on this holdout, by the
    configured metric; the decision and both scores are returned (and tagged on the version)."""
    metric = str(config.mlflow["champion_metric"])
    y = holdout["label"].to_numpy()
    challenger = evaluation.metrics(y, model.predict_proba(holdout)[:, 1])[metric]
    current = tracking.champion(mlflow_client, name)
    decision = {"metric": metric, "challenger_version": version, "challenger_score": round(challenger, 6)}
    if current is None:
        decision |= {"champion_version": "", "champion_score": "", "outcome": "promoted: no champion yet"}
    else:
        old = mlflow.sklearn.load_model(f"models:/{name}@{tracking.CHAMPION}")
        missing = [f for f in estimators.features_of(old) if f not in holdout.columns]
        if missing:
            decision |= {"champion_version": current.version, "champion_score": "",
                         "outcome": f"promoted: the champion needs features no longer computed ({', '.join(missing)})"}
        else:
            held = evaluation.metrics(y, old.predict_proba(holdout)[:, 1])[metric]
            decision |= {"champion_version": current.version, "champion_score": round(held, 6)}
            better = challenger < held if metric in ("log_loss", "brier") else challenger > held
            decision["outcome"] = ("promoted: beats the champion" if better
                                   else "kept: the champion is as good or better")
    if decision["outcome"].startswith("promoted"):
        mlflow_client.set_registered_model_alias(name, tracking.CHAMPION, version)
    return decision


def finite(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items() if isinstance(v, float) and np.isfinite(v)}
