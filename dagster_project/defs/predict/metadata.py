"""What the predict assets show in the Dagster UI: MLflow links, holdout figures, decisions, previews."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from kizuna.predict import tracking
from kizuna.predict.train import TrainingResult, finite
from kizuna.settings import Settings


def model_metadata(settings: Settings, result: TrainingResult) -> dict:
    return {
        "trained": True,
        "mlflow_run": dg.MetadataValue.url(tracking.run_url(settings, result.experiment_id, result.run_id)),
        "registered_model": result.registered_name,
        "version": result.version,
        "champion_decision": dg.MetadataValue.json({k: str(v) for k, v in result.decision.items()}),
        "holdout": dg.MetadataValue.json(finite(result.metrics)),
        "baseline_holdout": dg.MetadataValue.json(finite(result.baseline_metrics)),
        "roc_auc": finite(result.metrics).get("roc_auc", -1.0),
        "roc_auc_baseline": finite(result.baseline_metrics).get("roc_auc", -1.0),
        "features": dg.MetadataValue.json(result.features),
    }


def table_preview(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False) if len(frame) else "(no rows)")


def _run_links(settings: Settings, runs: dict[str, str]) -> dict[str, str]:
    """model -> the page of the MLflow run that scored it."""
    client = tracking.client(settings)
    return {model: tracking.run_url(settings, client.get_run(run_id).info.experiment_id, run_id)
            for model, run_id in runs.items()}


def scoring_metadata(settings: Settings, report, scores: pd.DataFrame, by: str | None) -> dict:
    meta = {
        "scored": dg.MetadataValue.json(report.scored),
        "versions": dg.MetadataValue.json({k: str(v) for k, v in report.versions.items()}),
        "mlflow_runs": dg.MetadataValue.json(_run_links(settings, report.runs)),
        "not_scored": dg.MetadataValue.json(report.skipped),
    }
    if by and len(scores):
        meta["preview"] = table_preview(scores.groupby(by, group_keys=False).head(3))
    return meta
