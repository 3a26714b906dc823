"""The small parts of training and scoring, on synthetic data: splits, metrics, deciles, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kizuna.predict import estimators, evaluation, scoring
from kizuna.predict.examples import split_of


def synthetic(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"recency": rng.exponential(30, n), "visits": rng.poisson(3, n).astype(float),
                          "noise": rng.normal(size=n)})
    frame.loc[rng.random(n) < 0.1, "recency"] = np.nan  # never bought: unknown recency
    logit = -1.0 + 0.04 * frame["recency"].fillna(120) - 0.5 * frame["visits"]
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def test_the_split_depends_on_the_id_alone_and_keeps_the_configured_shares():
    ids = pd.Series([f"P{i:06d}" for i in range(20_000)])
    first, again = split_of(ids, 0.25, 0.2), split_of(ids.sample(frac=1, random_state=3), 0.25, 0.2)
    assert (first == again.sort_index()).all()
    shares = first.value_counts(normalize=True)
    assert abs(shares["holdout"] - 0.25) < 0.015
    assert abs(shares["calibration"] - 0.75 * 0.2) < 0.015


def test_lift_and_metrics_on_a_known_ranking():
    y = np.array([1] * 10 + [0] * 90)
    perfect = np.linspace(1, 0, 100)
    scores = evaluation.metrics(y, perfect)
    assert scores["roc_auc"] == 1.0 and scores["lift_top_decile"] == 10.0
    assert evaluation.metrics(y, perfect[::-1])["roc_auc"] == 0.0
    one_class = evaluation.metrics(np.zeros(5, int), np.full(5, 0.2))
    assert np.isnan(one_class["roc_auc"]) and one_class["brier"] == pytest.approx(0.04)


def test_deciles_cut_ten_equal_groups_highest_first_and_break_ties_by_key():
    scores = pd.Series(np.r_[np.linspace(1, 0.01, 100)])
    d = scoring.deciles(scores, pd.Series([f"P{i:03d}" for i in range(100)]))
    assert d[0] == 1 and d[-1] == 10 and (np.bincount(d)[1:] == 10).all()
    tied = scoring.deciles(pd.Series([0.5] * 20), pd.Series([f"P{i:02d}" for i in reversed(range(20))]))
    assert list(tied[:2]) == [10, 10] and list(tied[-2:]) == [1, 1]


def test_both_learners_calibrate_and_explain_with_the_features_that_drive_the_label():
    frame = synthetic()
    train, calibration, test = frame.iloc[:1800], frame.iloc[1800:2400], frame.iloc[2400:]
    features = ["recency", "visits", "noise"]
    for kind in (estimators.GRADIENT_BOOSTING, estimators.BASELINE):
        model = estimators.fit_calibrated(kind, features, {"n_estimators": 60, "num_leaves": 7}
                                          if kind == estimators.GRADIENT_BOOSTING else {}, 42, train, calibration)
        p = model.predict_proba(test)[:, 1]
        assert evaluation.metrics(test["label"].to_numpy(), p)["roc_auc"] > 0.75
        assert estimators.features_of(model) == features
        reasons = scoring.reason_codes(model, test.head(50))
        named = [r.split(" = ")[0] for row in reasons for r in row]
        assert set(named) <= set(features) and {"recency", "visits"} & set(named)
        # A long-absent, rarely visiting person: recency is among the pushes up.
        absent = pd.DataFrame({"recency": [150.0], "visits": [0.0], "noise": [0.0]})
        assert any(r.startswith("recency = 150") for r in scoring.reason_codes(model, absent)[0])


def test_the_same_data_and_seed_give_the_same_scores():
    frame = synthetic()
    fit = [estimators.fit_calibrated(estimators.GRADIENT_BOOSTING, ["recency", "visits", "noise"],
                                     {"n_estimators": 40}, 7, frame.iloc[:2000], frame.iloc[2000:2500])
           for _ in range(2)]
    np.testing.assert_array_equal(fit[0].predict_proba(frame.iloc[2500:]), fit[1].predict_proba(frame.iloc[2500:]))
