"""Lifetime value (BG/NBD + Gamma-Gamma): the purchase summary, the closed-form scoring against the
published CDNOW numbers and against pymc-marketing's own methods, and the fit against the published
CDNOW parameters (slow: PyTensor compiles the models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kizuna.predict.clv import (
    MIN_REPEAT_PERSONS,
    LifetimeValueModel,
    fit_lifetime_value,
    purchase_summary,
)

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
# Fader, Hardie & Lee (2005), "Counting your customers the easy way", maximum likelihood on CDNOW (weeks).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the 946 CDNOW repeat buyers.
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def published(period_days: int = 7) -> LifetimeValueModel:
    """The published CDNOW model; alpha is a time scale, so it moves with the period."""
    params = {**PUBLISHED_BGNBD, "alpha": PUBLISHED_BGNBD["alpha"] * 7 / period_days}
    return LifetimeValueModel(**params, **PUBLISHED_GG, period_days=period_days, n_persons=2357, n_repeat_persons=946)


def cdnow(period_days: int = 7) -> pd.DataFrame:
    """The CDNOW calibration summary as `purchase_summary` would give it (CDNOW is in weeks)."""
    d = pd.read_csv(CDNOW)
    scale = 7 / period_days
    return pd.DataFrame({"person_id": d["ID"], "frequency": d["x"], "recency": d["t_x"] * scale,
                         "T": d["T"] * scale, "monetary_value": d["zbar"]})


def summary_of(rows: list[tuple[int, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "frequency", "recency", "T", "monetary_value"])


# --- purchase_summary ---------------------------------------------------------------------------------

def test_purchase_summary_collapses_days_excludes_the_cutoff_and_averages_repeats_only() -> None:
    utc = "UTC"
    purchases = pd.DataFrame([
        ("a", pd.Timestamp("2024-01-01 10:00", tz=utc), 10.0),
        ("a", pd.Timestamp("2024-01-01 23:30", tz=utc), 5.0),   # same day: one purchase of 15
        ("a", pd.Timestamp("2024-01-08 09:00", tz=utc), 20.0),
        ("a", pd.Timestamp("2024-01-15 18:00", tz=utc), 30.0),
        ("a", pd.Timestamp("2024-03-01 00:00", tz=utc), 100.0),  # at the cutoff: not seen
        ("a", pd.Timestamp("2024-03-05 00:00", tz=utc), 100.0),  # after the cutoff
        # 2024-02-01 03:00 and 23:00 UTC: one UTC day although two days in Tokyo.
        ("b", pd.Timestamp("2024-02-01 12:00", tz="Asia/Tokyo"), 40.0),
        ("b", pd.Timestamp("2024-02-02 08:00", tz="Asia/Tokyo"), 2.0),
        ("c", pd.Timestamp("2024-03-02 00:00", tz=utc), 7.0),    # only after the cutoff: no row
    ], columns=["person_id", "purchased_at", "amount"])
    purchases["purchased_at"] = pd.to_datetime(purchases["purchased_at"], utc=True)
    cutoff = pd.Timestamp("2024-03-01", tz="UTC")

    weekly = purchase_summary(purchases, cutoff).set_index("person_id")
    assert list(weekly.index) == ["a", "b"]
    a, b = weekly.loc["a"], weekly.loc["b"]
    assert a["frequency"] == 2
    assert a["recency"] == pytest.approx(14 / 7)
    assert a["T"] == pytest.approx(60 / 7)  # 2024 is a leap year: Jan 1 to Mar 1 is 60 days
    assert a["monetary_value"] == pytest.approx(25.0)  # (20 + 30) / 2: the first day's 15 is left out
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0.0, 0.0)
    assert b["T"] == pytest.approx(29 / 7)

    daily = purchase_summary(purchases, cutoff, period_days=1).set_index("person_id")
    assert daily.loc["a", "recency"] == pytest.approx(14.0) and daily.loc["a", "T"] == pytest.approx(60.0)


def test_purchase_summary_refuses_naive_times() -> None:
    purchases = pd.DataFrame({"person_id": ["a"], "purchased_at": [pd.Timestamp("2024-01-01")], "amount": [1.0]})
    with pytest.raises(ValueError, match="time-zone aware"):
        purchase_summary(purchases, pd.Timestamp("2024-02-01", tz="UTC"))
    purchases["purchased_at"] = purchases["purchased_at"].dt.tz_localize("UTC")
    with pytest.raises(ValueError, match="cutoff must be time-zone aware"):
        purchase_summary(purchases, pd.Timestamp("2024-02-01"))


# --- scoring with the published CDNOW parameters (closed forms, no pymc-marketing) --------------------

def test_the_published_example_customer() -> None:
    """Fader, Hardie & Lee (2005): x=2, t_x=30.43, T=38.86 weeks expects 1.226 purchases in the next 39 weeks."""
    out = published().predict(summary_of([(1, 2, 30.43, 38.86, 20.0)]), horizon_days=39 * 7)
    assert out.loc[0, "expected_purchases"] == pytest.approx(1.226, abs=5e-4)


def test_expected_purchases_grow_with_the_horizon_and_p_alive_is_a_probability() -> None:
    model, summary = published(), cdnow()
    by_horizon = [model.predict(summary, horizon_days=h) for h in (0, 30, 90, 365)]
    assert (by_horizon[0]["expected_purchases"] == 0).all()
    alive = by_horizon[1]["p_alive"] > 1e-6
    for shorter, longer in zip(by_horizon, by_horizon[1:], strict=False):
        assert (longer["expected_purchases"] >= shorter["expected_purchases"]).all()
        assert (longer["expected_purchases"][alive] > shorter["expected_purchases"][alive]).all()
    p_alive = by_horizon[-1]["p_alive"]
    assert p_alive.between(0, 1).all() and p_alive.min() < 0.01 and (p_alive[summary["frequency"] == 0] == 1).all()
    assert np.isfinite(by_horizon[-1][["expected_purchases", "expected_order_value", "clv"]].to_numpy()).all()


def test_recent_buyers_expect_more_than_buyers_who_went_quiet() -> None:
    """The BG/NBD signature: same frequency and age, the one whose last purchase is long ago has probably left."""
    out = published().predict(summary_of([(1, 5, 37.0, 38.0, 30.0), (2, 5, 5.0, 38.0, 30.0)]), horizon_days=182)
    recent, quiet = out.iloc[0], out.iloc[1]
    assert recent["expected_purchases"] > 3 * quiet["expected_purchases"]
    assert recent["p_alive"] > quiet["p_alive"]
    assert recent["expected_order_value"] == quiet["expected_order_value"]


def test_order_value_shrinks_towards_the_population_mean() -> None:
    model = published()
    population = model.p * model.v / (model.q - 1)
    out = model.predict(summary_of([(1, 0, 0.0, 30.0, 0.0), (2, 1, 5.0, 30.0, 200.0), (3, 20, 29.0, 30.0, 200.0)]),
                        horizon_days=90)
    assert out.loc[0, "expected_order_value"] == pytest.approx(population)
    assert population < out.loc[1, "expected_order_value"] < out.loc[2, "expected_order_value"] < 200.0


def test_clv_is_purchases_times_value_and_discounting_lowers_it_within_bounds() -> None:
    model, summary = published(), cdnow()
    plain = model.predict(summary, horizon_days=365)
    assert np.allclose(plain["clv"], plain["expected_purchases"] * plain["expected_order_value"], rtol=1e-12)
    discounted = model.predict(summary, horizon_days=365, discount_rate_annual=0.10)
    for column in ("expected_purchases", "p_alive", "expected_order_value"):
        assert discounted[column].equals(plain[column])
    positive = plain["clv"] > 1e-6
    assert (discounted["clv"][positive] < plain["clv"][positive]).all()
    assert (discounted["clv"] >= plain["clv"] / 1.10 - 1e-12).all()  # no purchase is discounted by more than a year
    one_step = model.predict(summary, horizon_days=30, discount_rate_annual=0.10)
    undiscounted = model.predict(summary, horizon_days=30)["clv"]
    assert np.allclose(one_step["clv"], undiscounted / 1.10 ** (30 / 365), rtol=1e-12)


def test_from_params_round_trip_scores_identically_even_from_strings() -> None:
    model, summary = published(), cdnow()
    params = model.params()
    assert set(params) >= {"bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "gg_p", "gg_q", "gg_v", "period_days"}
    as_mlflow = {key: str(value) for key, value in params.items()}  # MLflow gives params back as strings
    again = LifetimeValueModel.from_params(as_mlflow)
    assert again == model
    pd.testing.assert_frame_equal(again.predict(summary, 365, 0.05), model.predict(summary, 365, 0.05))
    del as_mlflow["gg_q"]
    with pytest.raises(ValueError, match="gg_q"):
        LifetimeValueModel.from_params(as_mlflow)


def test_scoring_100k_persons_is_fast() -> None:
    import time

    rng = np.random.default_rng(3)
    n = 100_000
    T = rng.uniform(1, 104, n)
    frequency = rng.poisson(rng.gamma(0.5, 4.0, n))
    recency = np.where(frequency > 0, T * rng.uniform(0, 1, n), 0.0)
    summary = pd.DataFrame({"person_id": np.arange(n), "frequency": frequency, "recency": recency, "T": T,
                            "monetary_value": np.where(frequency > 0, rng.gamma(2.0, 20.0, n), 0.0)})
    started = time.perf_counter()
    out = published().predict(summary, horizon_days=365, discount_rate_annual=0.08)
    assert time.perf_counter() - started < 5.0
    assert len(out) == n and np.isfinite(out[["expected_purchases", "p_alive", "clv"]].to_numpy()).all()


def test_fit_refuses_too_few_repeat_buyers() -> None:
    rows = [(i, 1 if i < MIN_REPEAT_PERSONS - 1 else 0, 3.0 if i < MIN_REPEAT_PERSONS - 1 else 0.0, 10.0,
             12.0 if i < MIN_REPEAT_PERSONS - 1 else 0.0) for i in range(200)]
    rows.append((999, 2, 4.0, 10.0, 0.0))  # a repeat buyer without positive value does not count
    with pytest.raises(ValueError, match=f"at least {MIN_REPEAT_PERSONS} persons with a repeat purchase.*there are 19"):
        fit_lifetime_value(summary_of(rows))


# --- against pymc-marketing and the published fit (slow) ---------------------------------------------

@pytest.mark.slow
def test_closed_forms_agree_with_pymc_marketing_on_cdnow() -> None:
    """Our numpy scoring against pymc-marketing's own methods, including its discounted CLV (monthly steps
    of 30 days when the data are in days, so a monthly rate m is the annual rate (1 + m) ** (365 / 30) - 1)."""
    from kizuna.predict.clv import _pymc_marketing

    beta_geo, gamma_gamma, _ = _pymc_marketing()  # first: it silences ArviZ's import banner
    import arviz as az
    from pymc_marketing.clv.utils import customer_lifetime_value

    model, summary = published(period_days=1), cdnow(period_days=1)
    data = summary.rename(columns={"person_id": "customer_id"})
    bg = beta_geo()
    bg.build_model(data[["customer_id", "frequency", "recency", "T"]])
    bg.idata = az.from_dict(posterior={k: np.array([[getattr(model, k)]]) for k in ("r", "alpha", "a", "b")})
    gg = gamma_gamma()
    gg.idata = az.from_dict(posterior={k: np.array([[getattr(model, k)]]) for k in ("p", "q", "v")})

    monthly = 0.01
    ours = model.predict(summary, horizon_days=360, discount_rate_annual=(1 + monthly) ** (365 / 30) - 1)
    theirs = {
        "expected_purchases": bg.expected_purchases(data=data, future_t=360).values.ravel(),
        "p_alive": bg.expected_probability_alive(data=data).values.ravel(),
        "expected_order_value": gg.expected_customer_spend(data=data).values.ravel(),
    }
    spend = data.assign(future_spend=theirs["expected_order_value"])
    theirs["clv"] = customer_lifetime_value(bg, spend, future_t=12, discount_rate=monthly, time_unit="D").values.ravel()
    for column, expected in theirs.items():
        np.testing.assert_allclose(ours[column].to_numpy(), expected, rtol=1e-4, err_msg=column)


@pytest.fixture(scope="module")
def fitted() -> LifetimeValueModel:
    return fit_lifetime_value(cdnow(), period_days=7)


@pytest.mark.slow
def test_fit_reproduces_the_published_cdnow_bgnbd(fitted: LifetimeValueModel) -> None:
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.02), name
    assert (fitted.n_persons, fitted.n_repeat_persons, fitted.period_days) == (2357, 946, 7)


@pytest.mark.slow
def test_fit_reproduces_the_published_cdnow_gamma_gamma(fitted: LifetimeValueModel) -> None:
    for name, value in PUBLISHED_GG.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.03), name


@pytest.mark.slow
def test_a_fitted_model_round_trips_through_its_params(fitted: LifetimeValueModel) -> None:
    summary = cdnow()
    again = LifetimeValueModel.from_params({k: str(v) for k, v in fitted.params().items()})
    pd.testing.assert_frame_equal(again.predict(summary, 182), fitted.predict(summary, 182))


def test_the_log_series_of_2f1_agrees_with_scipy_where_scipy_is_finite():
    from scipy.special import hyp2f1

    from kizuna.predict.clv import _log_hyp2f1_series

    a = np.array([0.5, 3.2, 10.0, 40.0])
    b = np.array([2.4, 5.0, 30.0, 120.0])
    c = np.array([3.0, 9.0, 41.0, 170.0])
    z = np.array([0.1, 0.5, 0.68, 0.9])
    np.testing.assert_allclose(np.exp(_log_hyp2f1_series(a, b, c, z)), hyp2f1(a, b, c, z), rtol=1e-10)


def test_drop_out_shared_by_everybody_still_predicts_finite_purchases():
    """A fit with very large a and b (the drop-out chance nearly equal for all, as a simulated world
    gives) overflows the transformed series; predictions must stay finite and close to the model
    with a fixed drop-out chance a / (a + b)."""
    summary = pd.DataFrame({"person_id": ["p1", "p2", "p3"], "frequency": [2.0, 7.0, 0.0],
                            "recency": [4.6, 17.6, 0.0], "T": [7.8, 18.2, 17.5],
                            "monetary_value": [9425.0, 33178.0, 0.0]})
    huge = LifetimeValueModel(r=0.946, alpha=4.33, a=36086.0, b=361481.9, p=1.52, q=8.7, v=81772.0, period_days=7,
                              n_persons=3, n_repeat_persons=2)
    moderate = LifetimeValueModel(r=0.946, alpha=4.33, a=3608.6, b=36148.19, p=1.52, q=8.7, v=81772.0, period_days=7,
                                  n_persons=3, n_repeat_persons=2)
    got = huge.predict(summary, 30)
    assert np.isfinite(got[["expected_purchases", "clv"]].to_numpy()).all()
    expected = moderate.predict(summary, 30)["expected_purchases"]
    np.testing.assert_allclose(got["expected_purchases"], expected, rtol=1e-3)
    assert got["expected_purchases"].iloc[1] > got["expected_purchases"].iloc[0] > 0
