"""Where each model stands in MLflow: its champion, the holdout figures beside the baseline's, and
the last decision of the champion rule. Behind `kizuna predict champions`."""

from __future__ import annotations

import pandas as pd

from kizuna.predict import lifetime, tracking
from kizuna.predict.config import PredictConfig
from kizuna.settings import Settings

COLUMNS = ["model", "champion", "versions", "roc_auc", "roc_auc_baseline", "pr_auc", "lift_top_decile",
           "last_decision", "run_id"]


def champions(settings: Settings, config: PredictConfig) -> pd.DataFrame:
    """One row per model of config/models.yml, and one for lifetime value (its latest run)."""
    client = tracking.client(settings)
    rows = []
    for name in config.models:
        registered = tracking.registered_name(config, name)
        versions = client.search_model_versions(f"name = '{registered}'")
        current = tracking.champion(client, registered)
        row = {"model": name, "champion": current.version if current else None, "versions": len(versions)}
        if current is not None:
            metrics = client.get_run(current.run_id).data.metrics
            row |= {"roc_auc": metrics.get("roc_auc"), "roc_auc_baseline": metrics.get("baseline_roc_auc"),
                    "pr_auc": metrics.get("pr_auc"), "lift_top_decile": metrics.get("lift_top_decile"),
                    "run_id": current.run_id}
        if versions:
            newest = max(versions, key=lambda v: int(v.version))
            row["last_decision"] = f"v{newest.version}: {newest.tags.get('kizuna.outcome', 'not judged')}"
        rows.append(row)
    found = lifetime.latest_run(settings, config)
    if found is not None:
        model, run_id = found
        metrics = client.get_run(run_id).data.metrics
        rows.append({"model": lifetime.MODEL, "versions": None, "run_id": run_id,
                     "last_decision": f"latest run; backtest MAE {metrics.get('backtest_mae', float('nan')):.3f}, "
                                      f"correlation {metrics.get('backtest_correlation', float('nan')):.3f}"})
    return pd.DataFrame(rows, dtype=object).reindex(columns=COLUMNS)
