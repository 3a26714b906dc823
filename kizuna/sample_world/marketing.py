"""Paid media, email, push and offers: the touches that pull people into sessions and purchases.

Each function runs one day for everybody at once and returns the sessions its touches start
(ad clicks, email clicks, push taps) as `Seeds`; the planted channel effects act through
`State.last_touch` in the purchase hazard (see `simulate.purchase_hazard`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import AD_CHANNEL_SPECS, AD_CHANNELS, CATEGORIES, CHANNELS, OFFERS
from kizuna.sample_world.clock import DAY_S, LATEST_SESSION_START, day_label, day_seconds
from kizuna.sample_world.devices import APP
from kizuna.sample_world.state import (
    AT_RISK,
    LAPSED,
    State,
)

SOURCE_ORGANIC = 0  # sessions: 1..8 = ad channel + 1, then email and push
SOURCE_EMAIL = len(AD_CHANNELS) + 1
SOURCE_PUSH = len(AD_CHANNELS) + 2
CH = {c: i for i, c in enumerate(CHANNELS)}

# Campaigns: three per ad channel. (campaign_id, name, channel)
CAMPAIGN_CODES = {"paid_search": "SRCH", "paid_social": "SOCL", "display": "DISP", "video": "VIDE",
                  "affiliate": "AFFI", "line": "LINE", "retargeting": "RTGT", "influencer": "INFL"}
CAMPAIGNS: tuple[tuple[str, str, str], ...] = tuple(
    (f"CP-{CAMPAIGN_CODES[c]}-{k + 1:03d}", f"{c}_{theme}", c)
    for c in AD_CHANNELS
    for k, theme in enumerate(("brand_always_on", "season_new_arrivals", "sale_push"))
)
# Ad targeting by stage (rows: STAGES order) for each ad channel (columns: AD_CHANNELS order).
# Prospecting channels chase people who do not buy yet; search follows intent; retargeting
# follows recent visitors (see `ads`).
TARGETING = np.array(
    [
        # search social display video affil  line   retgt  influ
        [0.5, 1.0, 1.0, 1.0, 0.6, 1.0, 1.0, 1.0],  # awareness
        [3.0, 1.0, 1.0, 0.8, 1.5, 1.0, 1.0, 1.0],  # consideration
        [0.3, 0.2, 0.4, 0.2, 0.2, 0.3, 0.2, 0.2],  # purchase
        [0.6, 0.4, 0.6, 0.4, 0.4, 0.6, 0.6, 0.4],  # onboarding
        [1.0, 0.5, 0.6, 0.5, 0.6, 0.7, 0.8, 0.5],  # retention
        [1.0, 0.5, 0.6, 0.5, 0.6, 0.7, 0.8, 0.5],  # advocacy
        [0.8, 0.8, 1.0, 0.6, 0.6, 0.9, 1.2, 0.6],  # at_risk
        [0.3, 0.6, 0.8, 0.5, 0.3, 0.6, 0.6, 0.5],  # lapsed
    ]
)
IMPRESSION_RATE = np.array([AD_CHANNEL_SPECS[c][4] for c in AD_CHANNELS])
CTR = np.array([AD_CHANNEL_SPECS[c][5] for c in AD_CHANNELS])
CPM = np.array([AD_CHANNEL_SPECS[c][6] for c in AD_CHANNELS])
CPC = np.array([AD_CHANNEL_SPECS[c][7] for c in AD_CHANNELS])
RETARGETING = AD_CHANNELS.index("retargeting")
APP_ADS = np.array([c in ("line", "paid_social") for c in AD_CHANNELS])

# Email: campaign names cycle through these; triggered mails have their own campaign ids.
EMAIL_THEMES = ("new_arrivals", "weekend_sale", "style_guide", "beauty_picks", "outdoor_season", "kids_club")
EMAIL_OPEN = np.array([0.14, 0.2, 0.3, 0.3, 0.26, 0.38, 0.13, 0.05])  # by stage
EMAIL_CLICK_GIVEN_OPEN = 0.17
UNSUBSCRIBE_RATE = 0.002
SPAM_RATE = 0.0003
SOFT_BOUNCE_RATE = 0.01
HARD_BOUNCE_RATE = 0.002
EMAIL_KINDS = ("sent", "delivered", "open", "click", "bounce", "unsubscribe", "spamreport")
EK = {k: i for i, k in enumerate(EMAIL_KINDS)}
PUSH_TAP = np.array([0.02, 0.05, 0.06, 0.07, 0.05, 0.08, 0.03, 0.01])  # by stage
OFFER_CHANNELS = ("web", "app", "email", "store", "line")


@dataclass
class Seeds:
    """Sessions to open today: who, when, from which source, on which device (-1: any)."""

    person: np.ndarray
    t: np.ndarray  # second of day
    source: np.ndarray
    device: np.ndarray
    campaign: np.ndarray  # CAMPAIGNS index (ads), email campaign number, or -1
    click: np.ndarray  # ad log row of the click, or -1
    flag: np.ndarray  # FLAG_* below
    ref: np.ndarray  # review number (FLAG_REVIEW) or offer number (FLAG_REDEEM), else -1

    FIELDS = ("person", "t", "source", "device", "campaign", "click", "flag", "ref")

    @staticmethod
    def make(person: np.ndarray, t: np.ndarray, source: int | np.ndarray, device: int | np.ndarray = -1,
             campaign: int | np.ndarray = -1, click: int | np.ndarray = -1, flag: int | np.ndarray = 0,
             ref: int | np.ndarray = -1) -> Seeds:
        k = len(person)

        def col(v: int | np.ndarray) -> np.ndarray:
            return np.full(k, v, np.int64) if np.isscalar(v) else np.asarray(v, np.int64)

        return Seeds(col(person), col(t), col(source), col(device), col(campaign), col(click), col(flag), col(ref))

    @staticmethod
    def empty() -> Seeds:
        return Seeds.make(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)

    @staticmethod
    def concat(parts: list[Seeds]) -> Seeds:
        return Seeds(*(np.concatenate([getattr(p, f) for p in parts]).astype(np.int64) for f in Seeds.FIELDS))

    def __len__(self) -> int:
        return len(self.person)


FLAG_PLAIN, FLAG_REVIEW, FLAG_REFERRAL, FLAG_REDEEM = range(4)


def click_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Opaque click identifiers like gclid/fbclid values."""
    raw = rng.bytes(21 * n)
    return [base64.urlsafe_b64encode(raw[21 * i : 21 * (i + 1)]).decode() for i in range(n)]


def ads(s: State, d: int) -> Seeds:
    """Impressions and clicks of the eight paid channels; clicks open sessions."""
    p, dv, rng = s.people, s.devices, s.rng
    eligible = ~p.is_store_only & s.ad_ok
    lam = TARGETING[s.stage] * IMPRESSION_RATE
    recent = (d - s.last_activity) <= 14
    lam[:, RETARGETING] *= recent * (1 + 2 * ((d - s.cart_day) <= 3))
    lam *= (eligible * np.where(s.churned, 0.5, 1.0))[:, None]
    imp = rng.poisson(lam)
    cells = np.nonzero(imp)
    if len(cells[0]) == 0:
        return Seeds.empty()
    counts = imp[cells]
    clicks = rng.binomial(counts, CTR[cells[1]])
    person = np.repeat(cells[0], counts)
    channel = np.repeat(cells[1], counts)
    within = np.arange(len(person)) - np.repeat(np.cumsum(counts) - counts, counts)
    is_click = within < np.repeat(clicks, counts)
    has_app = dv.app[person] >= 0
    has_web = dv.web_a[person] >= 0
    use_app = has_app & (~has_web | (APP_ADS[channel] & (rng.random(len(person)) < 0.4)))
    web = np.where((dv.web_b[person] >= 0) & (rng.random(len(person)) < 0.35), dv.web_b[person], dv.web_a[person])
    device = np.where(use_app, dv.app[person], web)
    t = day_seconds(rng, len(person), latest=LATEST_SESSION_START)
    campaign = channel * 3 + rng.choice(3, size=len(person), p=[0.5, 0.3, 0.2])
    jitter = rng.uniform(0.6, 1.4, len(person))
    cost = np.where(is_click, np.round(CPC[channel] * jitter), np.round(CPM[channel] / 1000 * jitter, 2))
    anon = np.where(dv.kind[device] == APP, -1, s.dev_anon[device])
    rows = s.logs["ads"].add(
        person=person, day=np.full(len(person), d), t=d * DAY_S + t, channel=channel,
        click=is_click, campaign=campaign, device=device, anon=anon, cost=cost,
    )
    s.counters["ad_impressions"] += int((~is_click).sum())
    s.counters["ad_clicks"] += int(is_click.sum())
    if not is_click.any():
        return Seeds.empty()
    cp, cc = person[is_click], channel[is_click]
    s.last_touch[cp, cc] = d
    return Seeds.make(cp, t[is_click] + 2, cc + 1, device[is_click], campaign[is_click], rows[is_click])


def email_address_ok(s: State) -> np.ndarray:
    """Who the email service provider can mail today (known address, consent, no hard bounce)."""
    p = s.people
    known = np.array([e is not None for e in p.email])
    return known & s.email_ok & (s.registered | (p.is_store_only & s.card_signed))


def emails(s: State, d: int) -> tuple[Seeds, np.ndarray]:
    """Campaign and triggered emails with opens, clicks, bounces and unsubscribes."""
    p, rng, n = s.people, s.rng, s.n
    ok = email_address_ok(s)
    campaign = np.full(n, -1)
    if d % rates.EMAIL_CAMPAIGN_EVERY_DAYS == 1:
        audience = ok & (rng.random(n) < rates.EMAIL_AUDIENCE_SHARE)
        # Each mail has a campaign number 4 * day + variant (0 regular, 1 win-back, 2 abandoned
        # cart, 3 welcome), so campaign ids are stable whatever else happens that day.
        campaign = np.where(audience, 4 * d + np.isin(s.stage, (AT_RISK, LAPSED)), -1)
    cart = ok & (s.cart_day == d - 1) & (s.last_p < d - 1) & (campaign < 0)
    welcome = ok & (s.reg_day == d - 1) & (campaign < 0) & ~cart
    campaign = np.where(cart, 4 * d + 2, campaign)
    campaign = np.where(welcome, 4 * d + 3, campaign)
    mailed = np.flatnonzero(campaign >= 0)
    emailed_today = np.zeros(n, bool)
    if len(mailed) == 0:
        return Seeds.empty(), emailed_today
    emailed_today[mailed] = True
    camp = campaign[mailed]
    trig = cart[mailed] | welcome[mailed]
    send = np.where(cart[mailed], 10 * 3600, np.where(welcome[mailed], 9 * 3600, np.where(d % 2, 12, 19) * 3600))
    send = send + rng.integers(0, 600, len(mailed))
    m = len(mailed)
    bounce = rng.random(m)
    hard = bounce < HARD_BOUNCE_RATE
    soft = (~hard) & (bounce < HARD_BOUNCE_RATE + SOFT_BOUNCE_RATE)
    delivered = ~(hard | soft)
    stage = s.stage[mailed]
    p_open = EMAIL_OPEN[stage] * np.where(s.churned[mailed], 0.4, 1.0) * np.where(trig, 1.7, 1.0)
    opened = delivered & (rng.random(m) < p_open)
    open_t = np.minimum(send + rng.exponential(3 * 3600, m).astype(np.int64) + 30, DAY_S - 120)
    promo = 1 + 0.6 * p.price_sensitivity[mailed]
    p_click = EMAIL_CLICK_GIVEN_OPEN * promo * np.where(cart[mailed], 2.0, 1.0) * np.where(s.churned[mailed], 0.3, 1)
    clicked = opened & (rng.random(m) < p_click) & (open_t + 300 < LATEST_SESSION_START)
    click_t = np.minimum(open_t + rng.integers(5, 300, m), LATEST_SESSION_START)
    unsub = delivered & (rng.random(m) < UNSUBSCRIBE_RATE * (1 + 2 * (s.score()[mailed] > 1.5)))
    spam = delivered & ~unsub & (rng.random(m) < SPAM_RATE)
    unsub_t = np.minimum(open_t + rng.integers(10, 600, m), DAY_S - 60)
    base = d * DAY_S
    log = s.logs["emails"]

    def put(mask: np.ndarray, kind: str, t: np.ndarray, bounce_type: int = 0, crm: int = 0) -> None:
        k = int(mask.sum())
        if k:
            log.add(person=mailed[mask], day=np.full(k, d), campaign=camp[mask], kind=np.full(k, EK[kind]),
                    t=base + t[mask], bounce_type=np.full(k, bounce_type), crm=np.full(k, crm))

    all_ = np.ones(m, bool)
    put(all_, "sent", send)
    put(delivered, "delivered", send + 2)
    put(hard, "bounce", send + 3, bounce_type=1)
    put(soft, "bounce", send + 3, bounce_type=2)
    put(opened, "open", open_t)
    put(clicked, "click", click_t)
    put(unsub, "unsubscribe", unsub_t)
    put(spam, "spamreport", unsub_t)
    # Duplicate CRM records with a mistyped address get one hard bounce, then are suppressed.
    dup = mailed[(camp % 4 == 0)]
    dup = dup[~s.dup_bounced[dup]]
    dup = dup[[p.crm_dup_email[i] is not None and p.crm_dup_email[i] != p.email[i] and s.dup_created[i]
               for i in dup.tolist()]] if len(dup) else dup
    if len(dup):
        k = len(dup)
        t0 = base + np.where(d % 2, 12, 19) * 3600 + rng.integers(0, 600, k)
        for kind, dt, bt in (("sent", 0, 0), ("bounce", 3, 1)):
            log.add(person=dup, day=np.full(k, d), campaign=np.full(k, 4 * d), kind=np.full(k, EK[kind]),
                    t=t0 + dt, bounce_type=np.full(k, bt), crm=np.ones(k, np.int64))
        s.dup_bounced[dup] = True
    s.email_ok[mailed[hard | unsub | spam]] = False
    if unsub.any():
        who = mailed[unsub]
        s.logs["consent"].add(person=who, t=base + unsub_t[unsub] + 1, purpose=np.full(len(who), 2),
                              granted=np.zeros(len(who), bool), source=np.full(len(who), 4),
                              anon=np.full(len(who), -1))
    clickers = mailed[clicked]
    s.last_touch[clickers, CH["email"]] = d
    s.active(clickers, d)
    k = len(clickers)
    seeds = Seeds.make(clickers, click_t[clicked], SOURCE_EMAIL, campaign=camp[clicked])
    return seeds, emailed_today


def pushes(s: State, d: int) -> Seeds:
    """Push campaigns to app users who allow notifications; a tap opens the app."""
    if d % rates.PUSH_CAMPAIGN_EVERY_DAYS != 2:
        return Seeds.empty()
    dv, rng = s.devices, s.rng
    has_app = (dv.app >= 0)
    installed = np.zeros(s.n, bool)
    installed[has_app] = s.dev_installed[dv.app[has_app]]
    who = np.flatnonzero(installed & s.push_ok & s.registered)
    tap = rng.random(len(who)) < PUSH_TAP[s.stage[who]] * np.where(s.churned[who], 0.3, 1.0)
    who = who[tap]
    k = len(who)
    s.last_touch[who, CH["push"]] = d
    t = 18 * 3600 + rng.integers(0, 3 * 3600, k)
    return Seeds.make(who, t, SOURCE_PUSH, device=dv.app[who])


def offer_features(s: State, persons: np.ndarray, offer: np.ndarray, channel: np.ndarray, d: int) -> np.ndarray:
    """True probability that an exposure is redeemed, from features the data shows."""
    p = s.people
    cat = np.array([CATEGORIES.index(o.category) if o.category != "all" else -1 for o in OFFERS])[offer]
    aff = np.where(cat >= 0, p.affinity[persons, np.maximum(cat, 0)], 0.3)
    kind = np.array([o.kind for o in OFFERS])[offer]
    value = np.array([o.value for o in OFFERS])[offer]
    depth = np.select([kind == "percent_off", kind == "yen_off", kind == "free_shipping"],
                      [value, value / 8000.0, 0.07], 0.05)
    target = np.array([o.target for o in OFFERS])[offer]
    at_risk = np.isin(s.stage[persons], (AT_RISK, LAPSED))
    logit = (
        -2.4
        + 3.2 * (aff - 0.125)
        + 7.0 * depth * (0.3 + p.price_sensitivity[persons])
        + 0.6 * ((d - s.last_p[persons]) <= 30)
        + 0.3 * np.log1p(s.n_pdays[persons])
        + 0.7 * ((target == "at_risk") & at_risk)
        + np.select([channel == 1, channel == 2], [0.3, -0.4], 0.0)
        - 1.0 * s.churned[persons]
    )
    p_click = 1 / (1 + np.exp(-logit))
    return p_click


def offers(s: State, d: int, session_today: np.ndarray, emailed_today: np.ndarray,
           app_first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expose offers to people seen today.

    Returns per person the offer redeemed today (-1: none) and the second of day of the
    redemption; a redemption is a purchase, made in a session of its own at that time.
    """
    rng, n = s.rng, s.n
    redeem = np.full(n, -1)
    redeem_t = np.zeros(n, np.int64)
    seen = (session_today | emailed_today) & ~s.people.is_store_only
    cand = np.flatnonzero(seen & (rng.random(n) < rates.OFFER_EXPOSURE_RATE))
    if len(cand) == 0:
        return redeem, redeem_t
    prospects = s.n_pdays[cand] == 0
    at_risk = np.isin(s.stage[cand], (AT_RISK, LAPSED))
    target = np.array([o.target for o in OFFERS])
    ok = np.where(target == "prospects", prospects[:, None], True)
    ok &= np.where(target == "customers", ~prospects[:, None], True)
    ok &= np.where(target == "at_risk", at_risk[:, None], True)
    ok &= ~s.exposed[cand]
    score = np.where(ok, rng.random(ok.shape), -1)
    offer = score.argmax(axis=1)
    has = score.max(axis=1) >= 0
    cand, offer = cand[has], offer[has]
    if len(cand) == 0:
        return redeem, redeem_t
    via_email = emailed_today[cand] & (~session_today[cand] | (rng.random(len(cand)) < 0.4))
    session_channel = np.where(app_first[cand], 1, 0)
    line = rng.random(len(cand)) < 0.15
    channel = np.where(via_email, 2, np.where(line, 4, session_channel))
    allowed = np.array([[c in o.channels for c in OFFER_CHANNELS] for o in OFFERS])
    fine = allowed[offer, channel]
    cand, offer, channel = cand[fine], offer[fine], channel[fine]
    if len(cand) == 0:
        return redeem, redeem_t
    k = len(cand)
    s.exposed[cand, offer] = True
    p_click = offer_features(s, cand, offer, channel, d)
    clicked = rng.random(k) < p_click
    redeemed = clicked & (rng.random(k) < 0.55)
    dismissed = ~clicked & (rng.random(k) < 0.5)
    t0 = d * DAY_S + np.where(via_email[fine], 12 * 3600, day_seconds(rng, k, latest=LATEST_SESSION_START - 900))
    s.logs["offer_truth"].add(person=cand, offer=offer, day=np.full(k, d), channel=channel,
                              p_response=p_click * 0.55, clicked=clicked, redeemed=redeemed)
    log = s.logs["offers"]
    log.add(person=cand, offer=offer, t=t0, channel=channel, outcome=np.zeros(k, np.int64))
    for mask, outcome, dt in ((clicked, 1, 40), (redeemed, 2, 600), (dismissed, 3, 15)):
        if mask.any():
            m = int(mask.sum())
            log.add(person=cand[mask], offer=offer[mask], t=t0[mask] + dt + rng.integers(0, 60, m),
                    channel=channel[mask], outcome=np.full(m, outcome))
    redeem[cand[redeemed]] = offer[redeemed]
    redeem_t[cand[redeemed]] = t0[redeemed] + 540 - d * DAY_S
    return redeem, redeem_t


def email_campaign_id(number: int, start: date) -> str:
    """The ESP's campaign id of email campaign number 4 * day + variant (see marketing.emails)."""
    day, variant = divmod(number, 4)
    label = day_label(start, day).replace("-", "")
    if variant == 0:
        return f"EM-{label}-{EMAIL_THEMES[day % len(EMAIL_THEMES)]}"
    return f"EM-{label}-" + ("winback", "abandoned_cart", "welcome")[variant - 1]
