"""Web and app sessions of one day: which device, which cookie, logged in or not, what happens.

A session here is a summary (source, shop or browse, cart, checkout, order...); `event_stream`
later expands it into Segment events. What matters for the truth (product interest, carts,
orders, sign-ups, payment failures, app bugs) is decided here, inside the day loop.
"""

from __future__ import annotations

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.accounts import consent, register
from kizuna.sample_world.catalog import BUGGY_APP_VERSION
from kizuna.sample_world.clock import DAY_S, LATEST_SESSION_START, day_seconds
from kizuna.sample_world.devices import APP
from kizuna.sample_world.marketing import (
    FLAG_REDEEM,
    FLAG_REFERRAL,
    FLAG_REVIEW,
    SOURCE_EMAIL,
    SOURCE_ORGANIC,
    Seeds,
)
from kizuna.sample_world.state import CONSIDERATION, STAGES, State

SHOP_P = np.array([rates.STAGE_SHOP_SESSION[s] for s in STAGES])
CART_P = np.array([0.04, 0.3, 0.15, 0.18, 0.18, 0.2, 0.2, 0.15])  # by stage, for browsing sessions
WEB_LOGIN_P = 0.3
SIGNUP_P = 0.05  # a considering prospect signs up during a shopping session
LOGOUT_P = 0.03
APP_BUG_P = 0.35  # sessions on the buggy app version that hit the bug
APP_BUG_TICKET_P = 0.04


def choose_devices(s: State, person: np.ndarray, source: np.ndarray) -> np.ndarray:
    """A device for each session without one: app or browser by habit, the family tablet sometimes."""
    dv, p, rng = s.devices, s.people, s.rng
    k = len(person)
    has_app = dv.app[person] >= 0
    has_web = dv.web_a[person] >= 0
    # Email links open in a browser unless there is none; push opens the app.
    use_app = has_app & (~has_web | ((source != SOURCE_EMAIL) & (rng.random(k) < p.app_share[person])))
    web = np.where((dv.web_b[person] >= 0) & (rng.random(k) < 0.35), dv.web_b[person], dv.web_a[person])
    device = np.where(use_app, dv.app[person], web)
    tablet = (dv.shared[person] >= 0) & (rng.random(k) < 0.4)
    return np.where(tablet, dv.shared[person], device)


def run_sessions(s: State, d: int, seeds: Seeds, buyer: np.ndarray) -> dict[str, np.ndarray]:
    """Turn today's seeds into sessions; returns the day's session table (sorted by time).

    `buyer` marks persons who buy online today: each gets exactly one purchase session (their
    redemption session if they redeem an offer, else their last session of the day).
    """
    rng, dv = s.rng, s.devices
    # A buyer without any session today opens one to buy.
    has = np.zeros(s.n, bool)
    has[seeds.person] = True
    lonely = np.flatnonzero(buyer & ~has)
    seeds = Seeds.concat([seeds, Seeds.make(lonely, day_seconds(rng, len(lonely)), SOURCE_ORGANIC)])
    order = np.argsort(seeds.t, kind="stable")
    sd = {f: getattr(seeds, f)[order] for f in Seeds.FIELDS}
    person, t, source = sd["person"], sd["t"], sd["source"]
    k = len(person)
    device = np.where(sd["device"] >= 0, sd["device"], choose_devices(s, person, source))
    app = dv.kind[device] == APP

    # Purchase sessions: the redemption session, else the person's last session of the day.
    purchase = np.zeros(k, bool)
    redeem = sd["flag"] == FLAG_REDEEM
    purchase |= redeem
    cand = buyer[person] & ~np.isin(person, person[redeem])
    idx = np.flatnonzero(cand)
    if len(idx):
        by_person = idx[np.lexsort((t[idx], person[idx]))]
        ends = np.r_[np.flatnonzero(np.diff(person[by_person])), len(by_person) - 1]
        purchase[by_person[ends]] = True

    stage = s.stage[person]
    p_shop = SHOP_P[stage]
    p_shop = np.where((source >= 1) & (source <= 8), np.maximum(p_shop, 0.55), p_shop)
    p_shop = np.where(source == SOURCE_EMAIL, np.maximum(p_shop, 0.5), p_shop)
    p_shop = np.where(np.isin(sd["flag"], (FLAG_REVIEW, FLAG_REFERRAL)), 0.3, p_shop)
    shop = purchase | (rng.random(k) < p_shop)
    n_add = np.where(purchase, 0, (shop & (rng.random(k) < CART_P[stage])) * (1 + (rng.random(k) < 0.3)))
    abandon = (n_add > 0) & (rng.random(k) < 0.25)
    version = np.where(app, s.dev_version[device], -1)
    buggy = app & (version == BUGGY_APP_VERSION)
    payfail = np.where(purchase, rng.random(k) < rates.PAYMENT_FAIL_RATE * np.where(buggy, 4, 1),
                       abandon & (rng.random(k) < 0.12))
    crash = buggy & (rng.random(k) < APP_BUG_P)

    install = np.zeros(k, bool)
    banner = np.zeros(k, bool)
    anon = np.full(k, -1, np.int64)
    logged_start = np.zeros(k, bool)
    login = np.zeros(k, bool)
    signup = np.zeros(k, bool)
    logout = np.zeros(k, bool)
    shared = dv.household[device] >= 0
    # Rounds: the r-th session of every device today, so device state (cookie, login) evolves
    # in time order while each round stays vectorized.
    by_dev = np.lexsort((t, device))
    dev_sorted = device[by_dev]
    first = np.r_[0, np.flatnonzero(np.diff(dev_sorted)) + 1]
    rank = np.empty(k, np.int64)
    rank[by_dev] = np.arange(k) - np.repeat(first, np.diff(np.r_[first, k]))
    for r in range(int(rank.max()) + 1 if k else 0):
        rr = np.flatnonzero(rank == r)
        dev, who, tt = device[rr], person[rr], t[rr]
        ins = app[rr] & ~s.dev_installed[dev]
        install[rr] = ins
        s.dev_installed[dev[ins]] = True
        anon[rr] = s.dev_anon[dev]
        if ins.any():
            a = anon[rr][ins]
            consent(s, who[ins], d * DAY_S + tt[ins] + 3, "analytics", s.analytics_ok[who[ins]], "app", a)
            consent(s, who[ins], d * DAY_S + tt[ins] + 4, "advertising", s.ad_ok[who[ins]], "app", a)
        web_new = ~app[rr] & np.array([a not in s.banner_seen for a in anon[rr].tolist()], bool)
        banner[rr] = web_new
        if web_new.any():
            s.banner_seen.update(anon[rr][web_new].tolist())
            a = anon[rr][web_new]
            w = who[web_new]
            for purpose, ok in (("analytics", s.analytics_ok), ("personalization", s.personal_ok),
                                ("advertising", s.ad_ok)):
                consent(s, w, d * DAY_S + tt[web_new] + 2, purpose, ok[w], "web_banner", a)
        # Sign-ups: a purchase needs an account; considering prospects sometimes sign up anyway.
        want = ~s.registered[who] & (purchase[rr] | (shop[rr] & (stage[rr] == CONSIDERATION)
                                                     & (rng.random(len(rr)) < SIGNUP_P)))
        want &= ~s.people.is_store_only[who]
        cand = np.flatnonzero(want)
        if len(cand):
            # One sign-up per person, preferably in the purchase session.
            pri = np.lexsort((~purchase[rr][cand], who[cand]))
            keep = cand[pri][np.r_[True, np.diff(who[cand][pri]) != 0]]
            signup[rr[keep]] = True
            register(s, who[keep], d * DAY_S + tt[keep] + 20, d)
            s.dev_logged[dev[keep]] = who[keep]
        reg = s.registered[who] & ~signup[rr]
        ls = reg & (s.dev_logged[dev] == who)
        logged_start[rr] = ls
        need = reg & ~ls & (purchase[rr] | app[rr] | shared[rr]
                            | np.isin(sd["flag"][rr], (FLAG_REVIEW, FLAG_REFERRAL))
                            | (rng.random(len(rr)) < WEB_LOGIN_P))
        login[rr] = need
        s.dev_logged[dev[need]] = who[need]
        out = shared[rr] | (~app[rr] & (rng.random(len(rr)) < LOGOUT_P))
        out &= s.dev_logged[dev] == who
        logout[rr] = out
        s.dev_logged[dev[out]] = -1

    ids = np.arange(s.next_session, s.next_session + k)
    s.next_session += k
    table = {
        "id": ids, "person": person, "day": np.full(k, d), "t": d * DAY_S + t, "device": device, "app": app,
        "anon": anon, "version": version, "source": source, "campaign": sd["campaign"], "click": sd["click"],
        "flag": sd["flag"], "ref": sd["ref"], "logged_start": logged_start, "login": login, "signup": signup,
        "logout": logout, "install": install, "banner": banner, "shop": shop, "n_add": n_add,
        "abandon": abandon, "payfail": payfail, "crash": crash, "purchase": purchase,
        "order": np.full(k, -1), "stage": stage,
    }
    # What the sessions did to the persons.
    s.active(person, d)
    s.last_consider[person[shop]] = d
    s.cart_day[person[n_add > 0]] = d
    s.experience(person[payfail], "payment_failure")
    s.experience(person[crash], "app_bugs", 0.5)
    bug_ticket = crash & (rng.random(k) < APP_BUG_TICKET_P) & s.registered[person]
    if bug_ticket.any():
        s.cal.add("ticket", np.full(int(bug_ticket.sum()), d), person=person[bug_ticket],
                  category=np.full(int(bug_ticket.sum()), 5), reason=np.full(int(bug_ticket.sum()), 7),
                  order=np.full(int(bug_ticket.sum()), -1),
                  t=np.minimum(t[bug_ticket] + 900, LATEST_SESSION_START))
    pay_ticket = payfail & (rng.random(k) < 0.15) & s.registered[person]
    if pay_ticket.any():
        m = int(pay_ticket.sum())
        s.cal.add("ticket", np.full(m, d), person=person[pay_ticket], category=np.full(m, 1),
                  reason=np.full(m, 6), order=np.full(m, -1), t=np.minimum(t[pay_ticket] + 1200, LATEST_SESSION_START))
    s.counters["sessions"] += k
    return table

