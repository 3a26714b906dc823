"""Customer lifetime value: how many purchases a person will still make (BG/NBD) times how much each
one will be worth (Gamma-Gamma), from nothing but their purchase history.

Why these models: they are the standard for non-contractual businesses (a customer never says they
left, they just stop buying), they need only the purchase dates and amounts that every shop has, and
they are fitted by maximum likelihood on four plus three parameters, so they work on a few thousand
customers where a per-person machine-learning model would not. Fader, Hardie & Lee (2005) for BG/NBD,
Fader & Hardie (2013) for Gamma-Gamma.

How: `purchase_summary` turns purchases into the frequency / recency / T / monetary value summary
both models read (the lifetimes and pymc-marketing convention); `fit_lifetime_value` fits both with
pymc-marketing (maximum a posteriori with flat priors, which is the maximum-likelihood fit of the
papers); the `LifetimeValueModel` it returns scores with the published closed forms (numpy and scipy
only), so a model stored as its seven parameters (`params`, `from_params`, e.g. MLflow params) scores
again without pymc-marketing and without refitting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, hyp2f1

SUMMARY_COLUMNS = ["person_id", "frequency", "recency", "T", "monetary_value"]
PREDICTION_COLUMNS = ["person_id", "expected_purchases", "p_alive", "expected_order_value", "clv"]
# Gamma-Gamma estimates three parameters from the persons with a repeat purchase; below a few dozen of
# them the fit is noise (and the BG/NBD dropout parameters, which also live on repeat buyers, too).
MIN_REPEAT_PERSONS = 20
# The discounted value sums the horizon in steps of about a month (see `LifetimeValueModel.predict`).
DISCOUNT_STEP_DAYS = 30
DAYS_PER_YEAR = 365.0
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "v")


def purchase_summary(purchases: pd.DataFrame, cutoff: pd.Timestamp, period_days: int = 7) -> pd.DataFrame:
    """One row per person who bought before `cutoff`: `person_id, frequency, recency, T, monetary_value`.

    `purchases` has `person_id`, `purchased_at` (time-zone aware) and `amount`. Only purchases strictly
    before `cutoff` count, so a summary at a past cutoff sees exactly what was known then. Purchases on
    the same UTC calendar day are one purchase (their amounts summed): the models count purchase
    occasions, and a basket split into several orders within a day is one occasion.

    `frequency` is the number of purchase days after the first (repeat purchases); `recency` the time
    from the first to the last purchase day and `T` from the first purchase day to `cutoff`, both in
    periods of `period_days` days; `monetary_value` the mean amount of the repeat purchase days (the
    first purchase is left out, as Gamma-Gamma assumes), 0 for a person without a repeat purchase.
    """
    missing = [c for c in ("person_id", "purchased_at", "amount") if c not in purchases.columns]
    if missing:
        raise ValueError(f"purchases lack the column(s) {missing}")
    if period_days <= 0:
        raise ValueError(f"period_days must be positive, got {period_days}")
    cutoff = pd.Timestamp(cutoff)
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be time-zone aware (purchased_at is compared in UTC)")
    cutoff = cutoff.tz_convert("UTC")
    at = purchases["purchased_at"]
    if not isinstance(at.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"purchased_at must be time-zone aware timestamps, got dtype {at.dtype}")
    rows = purchases.loc[at.notna() & purchases["person_id"].notna() & (at < cutoff), ["person_id", "amount"]]
    if rows["amount"].isna().any():
        raise ValueError(f"{int(rows['amount'].isna().sum())} purchase(s) before the cutoff have no amount")
    day = at.loc[rows.index].dt.tz_convert("UTC").dt.floor("D").rename("day")
    days = rows.groupby(["person_id", day], sort=True)["amount"].sum().reset_index()
    if days.empty:
        return pd.DataFrame({"person_id": pd.Series(dtype=purchases["person_id"].dtype),
                             "frequency": pd.Series(dtype="int64"), "recency": pd.Series(dtype="float64"),
                             "T": pd.Series(dtype="float64"), "monetary_value": pd.Series(dtype="float64")})
    per = days.groupby("person_id", sort=True).agg(
        n_days=("day", "size"), first=("day", "min"), last=("day", "max"), total=("amount", "sum"),
        first_amount=("amount", "first"))  # rows are sorted by day within a person: "first" is the first day
    one_day = pd.Timedelta(days=1)
    frequency = (per["n_days"] - 1).astype("int64")
    repeat_total = per["total"] - per["first_amount"]
    return pd.DataFrame({
        "person_id": per.index.to_numpy(),
        "frequency": frequency.to_numpy(),
        "recency": ((per["last"] - per["first"]) / one_day / period_days).to_numpy(dtype="float64"),
        "T": ((cutoff - per["first"]) / one_day / period_days).to_numpy(dtype="float64"),
        "monetary_value": np.where(frequency > 0, repeat_total / frequency.clip(lower=1), 0.0).astype("float64"),
    })


@dataclass(frozen=True)
class LifetimeValueModel:
    """A fitted BG/NBD + Gamma-Gamma pair: seven numbers, the period they are in and how many persons
    they were fitted on. Scoring uses only these, so the model can be stored and reloaded as params.

    BG/NBD: purchase rates are Gamma(r, alpha) across persons (alpha in periods), the chance to drop
    out after each purchase is Beta(a, b). Gamma-Gamma: the amounts of a person are Gamma(p, nu) with
    nu ~ Gamma(q, v) across persons, so the mean order value across persons is p * v / (q - 1).
    """

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    v: float
    period_days: int
    n_persons: int
    n_repeat_persons: int

    def params(self) -> dict[str, float]:
        """Flat parameters (e.g. to log as MLflow params); `from_params` reads them back."""
        out: dict[str, float] = {f"bgnbd_{name}": float(getattr(self, name)) for name in BGNBD_PARAMS}
        out.update({f"gg_{name}": float(getattr(self, name)) for name in GG_PARAMS})
        out.update(period_days=self.period_days, n_persons=self.n_persons, n_repeat_persons=self.n_repeat_persons)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, float | int | str]) -> LifetimeValueModel:
        """The model of `params()`; values may be strings, as MLflow returns its params."""
        try:
            values = {name: float(params[f"bgnbd_{name}"]) for name in BGNBD_PARAMS}
            values.update({name: float(params[f"gg_{name}"]) for name in GG_PARAMS})
            counts = {name: int(float(params[name])) for name in ("period_days", "n_persons", "n_repeat_persons")}
        except KeyError as err:
            raise ValueError(f"lifetime value params lack {err.args[0]!r}") from None
        return cls(**values, **counts)

    def predict(self, summary: pd.DataFrame, horizon_days: int, discount_rate_annual: float = 0.0) -> pd.DataFrame:
        """Per person of `summary` (made by `purchase_summary` with this model's `period_days`):

        - `expected_purchases`: expected number of purchase days in the next `horizon_days`, BG/NBD
          conditional expectation (Fader, Hardie & Lee 2005, eq. 10);
        - `p_alive`: probability the person has not dropped out (Fader, Hardie & Lee 2008, note 021);
          1 for a person without a repeat purchase, as the model lets drop-out happen only after a purchase;
        - `expected_order_value`: Gamma-Gamma conditional mean order value (Fader & Hardie 2013, eq. 5),
          the population mean p * v / (q - 1) moved towards the person's own mean by their repeat count;
        - `clv`: with no discount, expected_purchases * expected_order_value. With an annual rate d, the
          horizon is cut into steps of 30 days (the last one shorter) and each step's expected purchases
          (the growth of the cumulative expectation over the step) are discounted from the end of the
          step: sum_k [E(t_k) - E(t_k-1)] * expected_order_value / (1 + d) ** (t_k / 365 days),
          the lifetimes / pymc-marketing scheme with an annual instead of a monthly rate.

        Deterministic and vectorized (a few hypergeometric evaluations per person and step).
        """
        missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
        if missing:
            raise ValueError(f"summary lacks the column(s) {missing}")
        if horizon_days < 0:
            raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
        if discount_rate_annual <= -1:
            raise ValueError(f"discount_rate_annual must be above -1, got {discount_rate_annual}")
        x = summary["frequency"].to_numpy(dtype="float64")
        t_x = summary["recency"].to_numpy(dtype="float64")
        T = summary["T"].to_numpy(dtype="float64")
        p_alive = self._p_alive(x, t_x, T)
        order_value = self._expected_order_value(x, summary["monetary_value"].to_numpy(dtype="float64"))
        expected = self._purchases_if_alive(x, T, horizon_days / self.period_days) * p_alive
        if discount_rate_annual == 0.0 or horizon_days == 0:
            clv = expected * order_value
        else:
            ends = [*range(DISCOUNT_STEP_DAYS, horizon_days, DISCOUNT_STEP_DAYS), horizon_days]
            clv = np.zeros_like(x)
            before = np.zeros_like(x)
            for end in ends:
                upto = self._purchases_if_alive(x, T, end / self.period_days) * p_alive
                clv += (upto - before) * order_value / (1.0 + discount_rate_annual) ** (end / DAYS_PER_YEAR)
                before = upto
        return pd.DataFrame({"person_id": summary["person_id"].to_numpy(), "expected_purchases": expected,
                             "p_alive": p_alive, "expected_order_value": order_value, "clv": clv})

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) for x > 0, in
        log space (the power overflows for frequent buyers who stopped long ago)."""
        log_odds_dead = (np.log(self.a / (self.b + np.maximum(x, 1.0) - 1.0))
                         + (self.r + x) * np.log((self.alpha + T) / (self.alpha + t_x)))
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def _purchases_if_alive(self, x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
        """The numerator of eq. 10, (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
        * 2F1(r + x, b + x; a + b + x - 1; z)], z = t / (alpha + T + t), so that E = this * P(alive).

        The bracket is computed after Euler's transformation 2F1(A, B; C; z) = (1 - z) ** (C - A - B)
        * 2F1(C - A, C - B; C; z), which turns it into 1 - (1 - z) ** (a - 1) * 2F1(a + b - 1 - r, a - 1;
        a + b + x - 1; z): the same number, but without a huge series times a tiny power for frequent buyers.
        """
        if t == 0:
            return np.zeros_like(x)
        z = t / (self.alpha + T + t)
        c = self.a + self.b + x - 1.0
        with np.errstate(all="ignore"):
            bracket = 1.0 - (1.0 - z) ** (self.a - 1.0) * hyp2f1(self.a + self.b - 1.0 - self.r, self.a - 1.0, c, z)
        lost = ~np.isfinite(bracket)
        if lost.any():
            # Very large a and b (drop-out nearly the same for everybody, as in a simulated world) make
            # the power underflow and the series overflow; the untransformed series, summed in log
            # space, stays finite there.
            log_f = _log_hyp2f1_series(self.r + x[lost], self.b + x[lost], c[lost], z[lost])
            log_power = (self.r + x[lost]) * np.log((self.alpha + T[lost]) / (self.alpha + T[lost] + t))
            bracket[lost] = -np.expm1(log_power + log_f)
        return c / (self.a - 1.0) * bracket

    def _expected_order_value(self, x: np.ndarray, monetary_value: np.ndarray) -> np.ndarray:
        """(1 - w) * p * v / (q - 1) + w * monetary_value with w = p * x / (p * x + q - 1)."""
        weight = self.p * x / (self.p * x + self.q - 1.0)
        own = np.where(x > 0, monetary_value, 0.0)  # a person without repeats has weight 0 and no mean
        return (1.0 - weight) * self.p * self.v / (self.q - 1.0) + weight * own


def _log_hyp2f1_series(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray, max_terms: int = 20_000
                       ) -> np.ndarray:
    """log 2F1(a, b; c; z) for 0 <= z < 1 and positive a, b, c, by its power series summed in log space
    until every remaining term is below 1e-16 of the sum (the term ratio tends to z < 1)."""
    log_term = np.zeros_like(z)
    log_sum = np.zeros_like(z)
    active = np.ones(z.shape, dtype=bool)
    for n in range(max_terms):
        log_term = log_term + np.log((a + n) * (b + n) / ((c + n) * (n + 1.0)) * z)
        log_sum = np.where(active, np.logaddexp(log_sum, log_term), log_sum)
        # Once the ratio is below 1 for good, the tail is at most term / (1 - ratio).
        ratio = (a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2.0)) * z
        active &= ~((ratio < 1) & (log_term - np.log1p(-np.minimum(ratio, 1 - 1e-12)) < log_sum - 37))
        if not active.any():
            return log_sum
    raise ValueError("the BG/NBD hypergeometric series did not converge")


def fit_lifetime_value(summary: pd.DataFrame, period_days: int = 7, seed: int = 42) -> LifetimeValueModel:
    """Fit BG/NBD on every person of `summary` and Gamma-Gamma on those with a repeat purchase of
    positive value, with pymc-marketing's maximum a posteriori fit under flat (HalfFlat) priors.

    PyMC's `find_MAP` optimises the log density without the Jacobian of the log transform, so with flat
    priors it is exactly the maximum-likelihood fit of the papers (it reproduces the published CDNOW
    parameters). `period_days` must be the one `summary` was made with; it is stored with the model.
    Raises ValueError with the reason when the data cannot support a fit (too few repeat buyers, a
    summary that is not one, or parameters for which the expectations are undefined).
    """
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks the column(s) {missing}")
    if summary["person_id"].duplicated().any():
        raise ValueError("summary has more than one row for some person_id")
    if (summary["recency"] > summary["T"]).any() or (summary[["frequency", "recency", "T"]] < 0).any().any():
        raise ValueError("summary has negative values or recency after T: it is not a purchase_summary")
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < MIN_REPEAT_PERSONS:
        raise ValueError(f"lifetime value needs at least {MIN_REPEAT_PERSONS} persons with a repeat purchase of "
                         f"positive value; there are {len(repeat)} among {len(summary)} persons")

    bgnbd_model, gg_model, flat = _pymc_marketing()
    bgnbd = bgnbd_model(model_config={name: flat("HalfFlat") for name in BGNBD_PARAMS})
    bgnbd.fit(data=summary[["person_id", "frequency", "recency", "T"]].rename(columns={"person_id": "customer_id"}),
              method="map", progressbar=False, seed=seed)
    gg = gg_model(model_config={name: flat("HalfFlat") for name in GG_PARAMS})
    gg.fit(data=repeat[["person_id", "frequency", "monetary_value"]].rename(columns={"person_id": "customer_id"}),
           method="map", progressbar=False, seed=seed)
    values = {name: float(bgnbd.fit_result[name].values.item()) for name in BGNBD_PARAMS}
    values.update({name: float(gg.fit_result[name].values.item()) for name in GG_PARAMS})
    bad = [name for name, value in values.items() if not (math.isfinite(value) and value > 0)]
    if bad:
        raise ValueError(f"the lifetime value fit did not converge: {', '.join(f'{n}={values[n]}' for n in bad)}")
    if values["q"] <= 1:
        raise ValueError(f"Gamma-Gamma q={values['q']:.3g} <= 1: the mean order value across persons is infinite "
                         "(the amounts are too heavy-tailed for the model)")
    return LifetimeValueModel(**values, period_days=period_days, n_persons=len(summary),
                              n_repeat_persons=len(repeat))


def _pymc_marketing() -> tuple[type, type, type]:
    """Import pymc-marketing only when fitting: it takes seconds, and scoring does not need it.

    PyTensor compiles the model to C under ~/.pytensor on first use (about 8 s, then cached); a fresh
    HOME as in CI just compiles again, so no PYTENSOR_FLAGS are set here.
    """
    import warnings

    with warnings.catch_warnings():
        # ArviZ (imported by PyMC) announces its 1.0 refactor on import, once a day per HOME: noise here,
        # we use none of its API.
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)
        from pymc_extras.prior import Prior
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    return BetaGeoModel, GammaGammaModel, Prior
