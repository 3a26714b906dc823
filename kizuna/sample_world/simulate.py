"""The day loop: each person's journey stage is a Markov state that drives the day's behaviour.

Every day, for everybody at once: the stage reached yesterday sets how much a person browses,
what ads target them and how likely they are to buy; experiences (late parcels, poor support,
app bugs, price rises...) shift purchase and churn hazards; the day's behaviour then moves the
stage by the rules of `stage_of` (documented in the truth README). The chain is Markov in
(stage, days since the last purchase / product interest / promoter signal / activity).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from kizuna.sample_world import accounts, fulfilment, marketing, rates, service, visits
from kizuna.sample_world.catalog import APP_VERSIONS, CATEGORIES, CHANNELS, PRICE_INCREASE_CATEGORIES, Catalog
from kizuna.sample_world.clock import day_seconds
from kizuna.sample_world.devices import APP, WEB, Devices
from kizuna.sample_world.identifiers import IdentityBook
from kizuna.sample_world.marketing import FLAG_REDEEM, SOURCE_ORGANIC, Seeds
from kizuna.sample_world.people import OMNI_PERSONA, People
from kizuna.sample_world.state import (
    ADVOCACY,
    AT_RISK,
    AWARENESS,
    CONSIDERATION,
    DRIVERS,
    FAST_HALF_LIFE_DAYS,
    LAPSED,
    ONBOARDING,
    PURCHASE,
    RETENTION,
    STAGES,
    State,
)

STAGE_ACTIVITY = np.array([rates.STAGE_ACTIVITY[s] for s in STAGES])
CHANNEL_EFFECT = np.array([rates.CHANNEL_EFFECTS[c] for c in CHANNELS])
DECAY = 0.5 ** (1 / rates.EXPERIENCE_HALF_LIFE_DAYS)
FAST_DECAY = 0.5 ** (1 / FAST_HALF_LIFE_DAYS)
ENGAGEMENT_DECAY = 0.5 ** (1 / 10)  # recent sessions, half-life 10 days
# Windows of the stage rules (days, inclusive of the day itself); see the truth README.
PURCHASE_DAYS = 3
ONBOARDING_DAYS = 30
CONSIDERATION_DAYS = 14
PROMOTER_DAYS = 60
AT_RISK_AFTER = 45
LAPSED_AFTER = 120
INITIAL_CONSIDERING = 0.3


def stage_of(d: int, n_pdays: np.ndarray, first_p: np.ndarray, last_p: np.ndarray, last_consider: np.ndarray,
             last_promoter: np.ndarray, last_activity: np.ndarray) -> np.ndarray:
    """The journey stage at the end of day d from what the person did up to that day."""
    prospect = n_pdays == 0
    since_order = d - last_p
    return np.select(
        [
            prospect & (d - last_consider < CONSIDERATION_DAYS),
            prospect,
            since_order < PURCHASE_DAYS,
            (n_pdays == 1) & (d - first_p < ONBOARDING_DAYS),
            (since_order < AT_RISK_AFTER) & (d - last_promoter < PROMOTER_DAYS),
            since_order < AT_RISK_AFTER,
            d - last_activity < LAPSED_AFTER,
        ],
        [CONSIDERATION, AWARENESS, PURCHASE, ONBOARDING, ADVOCACY, RETENTION, AT_RISK],
        LAPSED,
    ).astype(np.int8)


def run(people: People, devices: Devices, catalog: Catalog, book: IdentityBook, days: int,
        rng: np.random.Generator, start: date) -> State:
    """Simulate the whole window; returns the final state with every log filled."""
    s = State(people=people, devices=devices, catalog=catalog, book=book, days=days, rng=rng)
    s.weekday0 = start.weekday()
    typical = np.median(people.activity[~people.is_store_only]) if (~people.is_store_only).any() else 1.0
    s.light = people.activity < typical
    # Light users drift away more easily; store-only shoppers count as typical.
    s.engagement_risk = np.where(people.is_store_only, 1.0,
                                 np.clip(typical / np.maximum(people.activity, 1e-6), 0.3, 4.0))
    accounts.setup(s)
    every = np.arange(devices.n)
    s.dev_anon[every] = devices.new_anonymous_ids(rng, every, book)
    online = ~people.is_store_only
    s.stage[online & (rng.random(people.n) < INITIAL_CONSIDERING)] = CONSIDERATION
    s.stage[people.household >= 0] = CONSIDERATION  # families sharing a tablet shop actively
    s.release_day = np.array([int(share * days) for _, _, share in APP_VERSIONS])
    s.dev_is_safari = devices.is_safari()
    for d in range(days):
        step(s, d)
    return s


def step(s: State, d: int) -> None:
    """One business day for everybody."""
    start_of_day(s, d)
    accounts.daily(s, d)
    mail_seeds, emailed = marketing.emails(s, d)
    pre = Seeds.concat([
        marketing.ads(s, d),
        mail_seeds,
        marketing.pushes(s, d),
        organic(s, d),
        service.opinion_sessions(s, d),
    ])
    session_today = np.zeros(s.n, bool)
    session_today[pre.person] = True
    dv = s.devices
    app_first = (dv.app >= 0) & ((dv.web_a < 0) | (s.people.app_share > 0.5))
    redeem, redeem_t = marketing.offers(s, d, session_today, emailed, app_first)
    online_buy, store_buy = purchase_decision(s, d, redeem)
    redeemers = np.flatnonzero(redeem >= 0)
    seeds = Seeds.concat([pre, Seeds.make(redeemers, redeem_t[redeemers], SOURCE_ORGANIC, flag=FLAG_REDEEM,
                                          ref=redeem[redeemers])])
    sess = visits.run_sessions(s, d, seeds, online_buy)
    s.engagement = s.engagement * ENGAGEMENT_DECAY + np.bincount(sess["person"], minlength=s.n)
    fulfilment.place_orders(s, d, sess)
    s.logs["sessions"].add(**sess)
    fulfilment.store_purchases(s, d, store_buy)
    fulfilment.walk_ins(s, d)
    service.tickets(s, d)
    service.surveys(s, d)
    churn(s, d)
    s.stage = stage_of(d, s.n_pdays, s.first_p, s.last_p, s.last_consider, s.last_promoter, s.last_activity)
    s.stages_out[d] = s.stage
    s.exp *= DECAY
    s.exp_fast *= FAST_DECAY


def start_of_day(s: State, d: int) -> None:
    """Experiences that land today, cookie resets, app updates, competitors, price changes."""
    rng, dv = s.rng, s.devices
    due = s.cal.pop(d, "experience")
    if due is not None:
        np.add.at(s.exp, (due["person"], due["driver"]), due["amount"])
        np.add.at(s.exp_fast, (due["person"], due["driver"]), due["amount"])
        np.add.at(s.exp_total, (due["person"], due["driver"]), due["amount"])
    web = dv.kind == WEB
    p_reset = np.where(s.dev_is_safari, rates.COOKIE_RESET_DAILY["safari"], rates.COOKIE_RESET_DAILY["other"])
    reset = np.flatnonzero(web & (rng.random(dv.n) < p_reset))
    reinstall = np.flatnonzero((dv.kind == APP) & s.dev_installed & (rng.random(dv.n) < rates.APP_REINSTALL_DAILY))
    if d > 0 and len(reset):
        s.dev_anon[reset] = dv.new_anonymous_ids(rng, reset, s.book, d)
        s.dev_logged[reset] = -1  # a new cookie is a logged-out browser
        s.counters["cookie_resets"] += len(reset)
    if d > 0 and len(reinstall):
        s.dev_anon[reinstall] = dv.new_anonymous_ids(rng, reinstall, s.book, d)
        s.dev_logged[reinstall] = -1
        s.dev_installed[reinstall] = False
        s.counters["app_reinstalls"] += len(reinstall)
    released = (d - dv.update_lag)[:, None] >= s.release_day[None, :]
    s.dev_version = np.where(dv.kind == APP, released.sum(axis=1) - 1, -1).astype(np.int8)
    s.dev_version = np.maximum(s.dev_version, 0)
    lured = np.flatnonzero(s.people.competitor_day == d)
    s.experience(lured, "competitor", 1.5)
    if d == s.catalog.change_day:
        cats = [CATEGORIES.index(c) for c in PRICE_INCREASE_CATEGORIES]
        bought = s.cat_bought[:, cats].sum(axis=1)
        hit = np.flatnonzero(bought > 0)
        # Regular buyers of the categories that went up feel it most.
        s.experience(hit, "price_increase", np.minimum(0.5 + 0.25 * bought[hit], 1.5).astype(np.float32))


def organic(s: State, d: int) -> Seeds:
    """Sessions people start on their own: habit x stage x (after churn) fading interest."""
    p, rng = s.people, s.rng
    weekend = (s.weekday0 + d) % 7 >= 5
    fade = np.where(s.churned, rates.CHURN_ACTIVITY_DECAY ** np.maximum(d - s.churn_day, 0), 1.0)
    # Dissatisfied customers visit less well before they leave: the observable prelude to churn.
    mu = p.activity * STAGE_ACTIVITY[s.stage] * fade * (1.15 if weekend else 1.0) * np.exp(-0.3 * s.score())
    mu = np.where(p.is_store_only, 0.0, mu)
    n = rng.poisson(mu)
    persons = np.repeat(np.arange(s.n), n)
    return Seeds.make(persons, day_seconds(rng, len(persons)), SOURCE_ORGANIC)


def purchase_hazard(s: State, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(baseline hazard, per-channel incremental hazard) of buying today, per person."""
    p = s.people
    prospect = s.n_pdays == 0
    base = np.where(prospect, np.where(s.stage == CONSIDERATION, rates.PROSPECT_PURCHASE_HAZARD,
                                       rates.AWARENESS_PURCHASE_HAZARD), rates.REPEAT_PURCHASE_HAZARD)
    # Store-only shoppers have no web funnel: their first visit is the first purchase.
    base = np.where(prospect & p.is_store_only, rates.PROSPECT_PURCHASE_HAZARD * 0.5, base)
    h = base * p.propensity
    # Engaged people buy more: recent sessions (a decayed count) scale the hazard.
    h = h * (0.4 + 0.6 * np.minimum(s.engagement, 5.0))
    h = h + rates.CART_ABANDON_BOOST * ((d - s.cart_day) <= 3)
    h = h * np.where(s.stage == AT_RISK, 0.6, 1.0) * np.where(s.stage == LAPSED, 0.25, 1.0)
    h = h * np.exp(-0.3 * s.score())
    h = h * np.where((d - s.last_p) < rates.REFRACTORY_DAYS, 0.15, 1.0)
    h = h * np.where(s.churned, 0.03, 1.0)
    touched = (d - s.last_touch) < rates.CHANNEL_EFFECT_DAYS
    lift = touched * CHANNEL_EFFECT * np.where(s.churned, 0.1, 1.0)[:, None]
    return h, lift


def purchase_decision(s: State, d: int, redeem: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Who buys today, online (mask) and in a store (person numbers)."""
    p, rng = s.people, s.rng
    h, lift = purchase_hazard(s, d)
    total = h + lift.sum(axis=1)
    buy = rng.random(s.n) < np.minimum(total, 0.8)
    s.channel_touch_days += (lift > 0).sum(axis=0)
    s.channel_expected += lift.sum(axis=0)
    s.channel_attributed += (lift[buy] / total[buy, None]).sum(axis=0)
    forced = redeem >= 0
    store_pref = np.where(p.is_store_only, 1.0, np.where(p.persona == OMNI_PERSONA, 0.5,
                                                         np.where(p.has_card, 0.3, 0.0)))
    to_store = buy & ~forced & (rng.random(s.n) < store_pref)
    return (buy | forced) & ~to_store, np.flatnonzero(to_store)


def churn(s: State, d: int) -> None:
    """Customers decide to leave, driven by their recent experiences (and light engagement)."""
    rng = s.rng
    cust = (s.n_pdays > 0) & ~s.churned
    contrib = s.churn_contrib()
    score = contrib.sum(axis=1)
    h = rates.CHURN_BASE_HAZARD * np.exp(rates.CHURN_SCORE_SLOPE * np.minimum(score, 4)) * s.engagement_risk
    leave = np.flatnonzero(cust & (rng.random(s.n) < np.minimum(h, 0.5)))
    if len(leave) == 0:
        return
    s.churned[leave] = True
    s.churn_day[leave] = d
    contrib = contrib[leave]
    for j, i in enumerate(leave.tolist()):
        order = np.argsort(-contrib[j], kind="stable")
        drivers = [DRIVERS[k] for k in order if contrib[j, k] >= 0.3]
        if not drivers:
            drivers = ["low_engagement" if s.light[i] else "no_clear_driver"]
        s.churn_drivers[i] = drivers
