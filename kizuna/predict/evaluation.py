"""Holdout metrics and plots of a propensity model: what MLflow records for every run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: figures go to MLflow, never to a screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve  # noqa: E402


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    """Positive rate among the 10 % highest scores over the overall positive rate."""
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 10)]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC, log loss, Brier score and top-decile lift; NaN where the holdout has one class."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "lift_top_decile": lift_top_decile(y, p),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
        "examples": float(len(y)),
    }


def roc_figure(y: np.ndarray, p: np.ndarray, title: str):
    fig, ax = plt.subplots(figsize=(5, 5))
    if 0 < y.sum() < len(y):
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"ROC AUC {roc_auc_score(y, p):.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def calibration_figure(y: np.ndarray, p: np.ndarray, title: str):
    fig, ax = plt.subplots(figsize=(5, 5))
    if 0 < y.sum() < len(y):
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label="holdout")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title=title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def importance_figure(importance: pd.Series, title: str, top: int = 20):
    shown = importance.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(shown) + 1.2))
    ax.barh(shown.index, shown.to_numpy())
    ax.set(title=title, xlabel="importance")
    fig.tight_layout()
    return fig
