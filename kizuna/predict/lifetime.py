"""Lifetime value as a tracked model: purchases from person_events, a backtest, the fit, MLflow.

The backtest fits on the purchases before `evaluation_days` ago and predicts each person's purchase
days in the evaluation window that followed, against what they did: the run's metrics. The model
that scores is then fitted on every purchase up to now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd

from kizuna.predict import clv, tracking
from kizuna.predict.config import PredictConfig
from kizuna.predict.features import PERSON_EVENTS
from kizuna.settings import Settings

MODEL = "lifetime_value"


def purchases(con: duckdb.DuckDBPyConnection, config: PredictConfig, before: datetime) -> pd.DataFrame:
    """person_id, purchased_at (UTC), amount: every purchase line (the `is_purchase` flag) before `before`."""
    frame = con.execute(f"""
        select person_id, occurred_at as purchased_at, coalesce(amount, 0) as amount
        from {PERSON_EVENTS}
        where ({config.flags['is_purchase']}) and occurred_at < cast($before as timestamp)""",
                        {"before": before}).df()
    frame["purchased_at"] = pd.to_datetime(frame["purchased_at"]).dt.tz_localize("UTC")
    return frame


def _utc(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_localize("UTC")


@dataclass
class LifetimeValueRun:
    model: clv.LifetimeValueModel
    run_id: str
    experiment_id: str
    metrics: dict[str, float]


def backtest(con: duckdb.DuckDBPyConnection, config: PredictConfig, now: datetime) -> tuple[dict[str, float], object]:
    """Metrics of predicting the last `evaluation_days` of purchase days from the purchases before them."""
    days = int(config.lifetime_value.get("evaluation_days", 30))
    period = int(config.lifetime_value["period_days"])
    start = now - timedelta(days=days)
    summary = clv.purchase_summary(purchases(con, config, start), _utc(start), period)
    model = clv.fit_lifetime_value(summary, period, seed=int(config.training["seed"]))
    predicted = model.predict(summary, days)
    window = purchases(con, config, now)
    window = window[window["purchased_at"] >= _utc(start)]
    actual = window.assign(day=window["purchased_at"].dt.date).groupby("person_id")["day"].nunique()
    y = predicted["person_id"].map(actual).fillna(0).to_numpy()
    p = predicted["expected_purchases"].to_numpy()
    metrics = {
        "backtest_persons": float(len(y)),
        "backtest_purchase_days": float(y.sum()),
        "backtest_predicted_purchase_days": float(p.sum()),
        "backtest_mae": float(np.abs(y - p).mean()),
        "backtest_correlation": float(np.corrcoef(y, p)[0, 1]) if y.std() > 0 and p.std() > 0 else float("nan"),
    }
    fig, ax = plt.subplots(figsize=(5, 5))
    bins = pd.cut(pd.Series(p), bins=np.unique(np.quantile(p, np.linspace(0, 1, 11))), include_lowest=True)
    grouped = pd.DataFrame({"p": p, "y": y}).groupby(bins, observed=True).mean()
    ax.plot(grouped["p"], grouped["y"], marker="o", label="persons by predicted decile")
    top = max(float(grouped.max().max()), 0.1)
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    ax.set(xlabel=f"predicted purchase days in {days} days", ylabel="actual", title="lifetime value backtest")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return metrics, fig


def train_lifetime_value(con: duckdb.DuckDBPyConnection, config: PredictConfig, settings: Settings,
                         now: datetime) -> LifetimeValueRun:
    """Backtest, fit on everything before `now`, and log both to the lifetime_value experiment."""
    tracking.client(settings)
    experiment = tracking.experiment_id(config, settings, MODEL)
    period = int(config.lifetime_value["period_days"])
    with mlflow.start_run(experiment_id=experiment, run_name="lifetime_value bgnbd+gamma_gamma") as run:
        metrics, fig = backtest(con, config, now)
        mlflow.log_figure(fig, "backtest.png")
        plt.close(fig)
        summary = clv.purchase_summary(purchases(con, config, now), _utc(now), period)
        model = clv.fit_lifetime_value(summary, period, seed=int(config.training["seed"]))
        mlflow.set_tags({"kizuna.model": MODEL, "kizuna.learner": "bgnbd_gamma_gamma"})
        mlflow.log_params({**model.params(), "horizon_days": config.lifetime_value["horizon_days"],
                           "discount_rate_annual": config.lifetime_value.get("discount_rate_annual", 0.0),
                           "as_of": now.isoformat()})
        mlflow.log_metrics({k: v for k, v in metrics.items() if not math.isnan(v)})
        return LifetimeValueRun(model, run.info.run_id, experiment, metrics)


def latest_run(settings: Settings, config: PredictConfig) -> tuple[clv.LifetimeValueModel, str] | None:
    """The newest finished lifetime value run's model and run id, or None."""
    tracking.client(settings)
    found = mlflow.search_runs(experiment_names=[tracking.experiment_name(config, MODEL)],
                               filter_string="attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"],
                               max_results=1, output_format="list")
    if not found:
        return None
    run = found[0]
    return clv.LifetimeValueModel.from_params(run.data.params), run.info.run_id


def run_link(settings: Settings, run: LifetimeValueRun) -> str:
    return tracking.run_url(settings, run.experiment_id, run.run_id)
