"""The two learners of every propensity model, with calibrated probabilities and contributions.

Both are scikit-learn pipelines whose first step picks the model's own features by name, so a
registered model scores any frame that holds them (the champion and a challenger with other
features are judged on one holdout frame). Probabilities are calibrated (isotonic) on a split the
learner never saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

GRADIENT_BOOSTING, BASELINE = "gradient_boosting", "logistic_baseline"


def _select(features: list[str]) -> ColumnTransformer:
    return ColumnTransformer([("features", "passthrough", list(features))], remainder="drop",
                             verbose_feature_names_out=False).set_output(transform="pandas")


def learner(kind: str, features: list[str], params: dict[str, Any], seed: int) -> Pipeline:
    if kind == GRADIENT_BOOSTING:
        # deterministic + one histogram layout: the same data and seed give the same trees.
        model = LGBMClassifier(random_state=seed, deterministic=True, force_col_wise=True, n_jobs=2, verbose=-1,
                               **params)
        return Pipeline([("select", _select(features)), ("model", model)])
    if kind == BASELINE:
        return Pipeline([
            ("select", _select(features)),
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=2000, random_state=seed)),
        ])
    raise ValueError(f"unknown learner {kind!r}")


def fit_calibrated(kind: str, features: list[str], params: dict[str, Any], seed: int, train: pd.DataFrame,
                   calibration: pd.DataFrame) -> CalibratedClassifierCV:
    pipeline = learner(kind, features, params, seed).fit(train, train["label"].to_numpy())
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="isotonic")
    return calibrated.fit(calibration, calibration["label"].to_numpy())


def pipeline_of(model: CalibratedClassifierCV) -> Pipeline:
    return model.calibrated_classifiers_[0].estimator.estimator


def features_of(model: CalibratedClassifierCV) -> list[str]:
    return list(pipeline_of(model).named_steps["select"].transformers[0][2])


def contributions(model: CalibratedClassifierCV, frame: pd.DataFrame) -> pd.DataFrame:
    """Each feature's push on each row's score (log-odds, before calibration): TreeSHAP values
    from LightGBM itself, or coefficient x standardized value for the baseline."""
    pipeline = pipeline_of(model)
    features = features_of(model)
    inner = pipeline[:-1].transform(frame)
    estimator = pipeline.named_steps["model"]
    if isinstance(estimator, LGBMClassifier):
        values = estimator.predict(inner, pred_contrib=True)[:, :-1]  # last column: the expected value
        return pd.DataFrame(values, columns=features, index=frame.index)
    names = pipeline[:-1].get_feature_names_out()
    pushed = pd.DataFrame(np.asarray(inner) * estimator.coef_[0], columns=names, index=frame.index)
    # A missing-value indicator's push belongs to its feature.
    owner = {n: n.removeprefix("missingindicator_") for n in names}
    return pushed.T.groupby(owner).sum().T.reindex(columns=features, fill_value=0.0)


def importance(model: CalibratedClassifierCV) -> pd.Series:
    """Gain per feature (gradient boosting) or |coefficient| (baseline), largest first."""
    pipeline = pipeline_of(model)
    estimator = pipeline.named_steps["model"]
    if isinstance(estimator, LGBMClassifier):
        values = estimator.booster_.feature_importance(importance_type="gain")
        return pd.Series(values, index=features_of(model)).sort_values(ascending=False)
    names = pipeline[:-1].get_feature_names_out()
    return pd.Series(np.abs(estimator.coef_[0]), index=names).sort_values(ascending=False)
