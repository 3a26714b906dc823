"""Expand the simulated sessions into Segment-spec events (track, identify, page, screen).

Sessions say what happened; this module says how the tracking plan records it: the blocks of
events a session produces, their order, products, properties, page context, timestamps with
device clock skew, and the arrival day (late events land in a later file). Counts and orders are
computed with numpy; `segment_json` then serializes one JSON line per event, a day at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import CATEGORIES
from kizuna.sample_world.clock import DAY_S, arrival_day, utc_ms
from kizuna.sample_world.marketing import FLAG_REDEEM, FLAG_REFERRAL, FLAG_REVIEW, SOURCE_PUSH
from kizuna.sample_world.segment_json import Serializer
from kizuna.sample_world.state import State
from kizuna.sample_world.tracking_plan import BLOCK, BLOCKS, KIND, UNPLANNED


@dataclass
class EventOutput:
    """The window's events by arrival day, serialized on demand (one day's lines at a time), plus
    truth and mess facts.

    Holding every line until the files are written would cost about a kilobyte per event; the
    serializer keeps compact arrays instead and a day's lines exist only while its file is written.
    """

    serializer: Serializer
    order: np.ndarray  # event numbers in arrival order (by arrival day, then received time)
    day_bounds: np.ndarray  # events of arrival day d are order[day_bounds[d]:day_bounds[d + 1]]
    unplanned: np.ndarray  # per event, in arrival order
    order_ms: np.ndarray  # true time of each order's Order Completed (order number -> UTC ms)
    used: dict[str, set[str]] = field(default_factory=dict)  # namespace -> raw values seen
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self, day: int) -> list[bytes]:
        lo, hi = int(self.day_bounds[day]), int(self.day_bounds[day + 1])
        return self.serializer.lines(self.order[lo:hi])

    def planned(self, day: int) -> np.ndarray:
        lo, hi = int(self.day_bounds[day]), int(self.day_bounds[day + 1])
        return ~self.unplanned[lo:hi]


def _block_counts(s: State, sess: dict[str, np.ndarray], n_lines: np.ndarray, rng: np.random.Generator
                  ) -> dict[str, np.ndarray]:
    S = len(sess["id"])
    app, shop, purchase = sess["app"], sess["shop"], sess["purchase"]
    flag, source = sess["flag"], sess["source"]
    one = np.ones(S, np.int64)
    n_pv = np.where(shop, 1 + rng.poisson(1.8, S), 0)
    n_pv = np.where(purchase, np.maximum(n_pv, n_lines), n_pv)
    add = np.where(purchase, n_lines, sess["n_add"])
    abandon = sess["abandon"]
    checkout = np.where(purchase, 4, np.where(abandon, 1 + rng.binomial(3, 0.5, S), 0))
    checkout = np.where(abandon & sess["payfail"], 4, checkout)
    counts = {
        "install": sess["install"].astype(np.int64),
        "push": (source == SOURCE_PUSH) * 2,
        "opened": app.astype(np.int64),
        "landing": one,
        "signup": sess["signup"] * 2,
        "login": sess["login"] * 2,
        "pages": np.where(shop, rng.poisson(0.4, S), 1 + rng.poisson(1.1, S)),
        "search": (shop & (rng.random(S) < 0.35)).astype(np.int64),
        "list": shop * ((rng.random(S) < 0.7).astype(np.int64) + (rng.random(S) < 0.2)),
        "pv": 2 * n_pv,
        "add": add,
        "cartview": (add > 0).astype(np.int64),
        "remove": (~purchase & (add >= 2) & (rng.random(S) < 0.3)).astype(np.int64),
        "coupon": (purchase & (flag == FLAG_REDEEM)).astype(np.int64),
        "checkout": checkout,
        "payfail": sess["payfail"].astype(np.int64),
        "payretry": (purchase & sess["payfail"]).astype(np.int64),
        "order": purchase.astype(np.int64),
        "review": (flag == FLAG_REVIEW).astype(np.int64),
        "referral": (flag == FLAG_REFERRAL).astype(np.int64),
        "logout": sess["logout"].astype(np.int64),
    }
    base = sum(counts.values())
    counts["unplanned"] = rng.poisson(rates.UNPLANNED_EVENT_RATE * base)
    return counts


def build(s: State, start: date, rng: np.random.Generator) -> EventOutput:
    """Every web/app event of the window, serialized and grouped by arrival day."""
    sess = s.logs["sessions"].table()
    orders = s.logs["orders"].table() if s.logs["orders"].size else {"order": np.zeros(0, np.int64)}
    lines = s.logs["order_lines"].table() if s.logs["order_lines"].size else None
    S = len(sess["id"])
    n_orders = len(orders["order"])
    lines_per_order = np.bincount(lines["order"], minlength=n_orders) if lines is not None else np.zeros(0, int)
    order_of_sess = sess["order"]
    n_lines = np.where(order_of_sess >= 0, lines_per_order[np.maximum(order_of_sess, 0)] if n_orders else 0, 0)
    counts = _block_counts(s, sess, n_lines, rng)

    # Lay the events out: (session, block, position in block), in that order.
    sidx, bidx, widx = [], [], []
    for b, (name, _) in enumerate(BLOCKS):
        c = counts[name]
        tot = int(c.sum())
        if tot == 0:
            continue
        sidx.append(np.repeat(np.arange(S), c))
        bidx.append(np.full(tot, b, np.int64))
        widx.append(np.arange(tot) - np.repeat(np.cumsum(c) - c, c))
    ev_s = np.concatenate(sidx) if sidx else np.zeros(0, np.int64)
    ev_b = np.concatenate(bidx) if bidx else np.zeros(0, np.int64)
    ev_w = np.concatenate(widx) if widx else np.zeros(0, np.int64)
    order = np.argsort((ev_s << 20) | (ev_b << 12) | ev_w, kind="stable")
    ev_s, ev_b, ev_w = ev_s[order], ev_b[order], ev_w[order]
    E = len(ev_s)
    kind = np.zeros(E, np.int64)
    for b, (_, kinds) in enumerate(BLOCKS):
        m = ev_b == b
        if m.any():
            codes = np.array([KIND[k] for k in kinds])
            kind[m] = codes[ev_w[m] % len(codes)]

    # Products: each shopping session browses one focus category; purchase sessions start with
    # the order's lines, which are also what goes into the cart.
    cum = np.cumsum(s.people.affinity[sess["person"]], axis=1)
    focus = np.minimum((rng.random(S)[:, None] * cum[:, -1:] > cum).sum(axis=1), len(CATEGORIES) - 1)
    day = sess["day"]
    pv_mask = ev_b == BLOCK["pv"]
    pv_sess = ev_s[pv_mask]
    pv_prod = s.catalog.sample_products(rng, focus[pv_sess], day[pv_sess])
    pv_pos = ev_w[pv_mask] // 2
    pv_start = np.zeros(S, np.int64)
    pv_count = np.bincount(pv_sess, minlength=S) // 2
    if lines is not None and len(lines["order"]):
        # First n_lines product views of a purchase session are the order's lines.
        line_order_start = np.r_[0, np.cumsum(lines_per_order)[:-1]]
        is_line = (order_of_sess[pv_sess] >= 0) & (pv_pos < n_lines[pv_sess])
        li = line_order_start[np.maximum(order_of_sess[pv_sess], 0)] + pv_pos
        order_sorted = np.argsort(lines["order"], kind="stable")
        pv_prod = np.where(is_line, lines["product"][order_sorted][np.minimum(li, len(order_sorted) - 1)], pv_prod)
    # Each PV block has two events; keep the product on both (page and track).
    first_pv = np.flatnonzero(pv_mask)
    pv_first_index = np.full(S, -1, np.int64)
    if len(first_pv):
        starts = np.r_[0, np.flatnonzero(np.diff(pv_sess)) + 1]
        pv_first_index[pv_sess[starts]] = starts
    pv_start[:] = pv_first_index
    product = np.full(E, -1, np.int64)
    product[pv_mask] = pv_prod
    quantity = np.ones(E, np.int64)
    # Cart events reuse the session's viewed products (the k-th add = the k-th viewed product).
    for blk in ("add", "remove", "unplanned", "review"):
        m = ev_b == BLOCK[blk]
        if not m.any():
            continue
        si = ev_s[m]
        has_pv = pv_count[si] > 0
        k = ev_w[m] % np.maximum(pv_count[si], 1)
        pick = np.where(has_pv, pv_prod[np.maximum(pv_start[si], 0) + 2 * k],
                        s.catalog.sample_products(rng, focus[si], day[si]))
        product[m] = pick
    if lines is not None and len(lines["order"]):
        m = (ev_b == BLOCK["add"]) & (order_of_sess[ev_s] >= 0)
        si = ev_s[m]
        li = line_order_start[order_of_sess[si]] + ev_w[m]
        quantity[m] = lines["qty"][order_sorted][li]
    rev = ev_b == BLOCK["review"]
    if rev.any():
        refs = sess["ref"][ev_s[rev]]
        product[rev] = np.array([s.reviews[r][1] for r in refs.tolist()])
    price = np.where(product >= 0, s.catalog.price(np.maximum(product, 0), day[ev_s]), 0)

    # Time: gaps of a few seconds to a couple of minutes, squeezed so a session lasts < 40 min.
    gap = np.minimum(3 + rng.exponential(28, E), 120)
    first = np.r_[True, ev_s[1:] != ev_s[:-1]]
    gap[first] = 0
    offset = np.cumsum(gap)
    sess_base = np.zeros(S)
    sess_base[ev_s[first]] = offset[first]
    offset -= sess_base[ev_s]
    total = np.zeros(S)
    np.maximum.at(total, ev_s, offset)
    offset *= np.minimum(1.0, 2300 / np.maximum(total, 1))[ev_s]
    true_ms = utc_ms(start, sess["t"][ev_s]) + (offset * 1000).astype(np.int64) + rng.integers(0, 1000, E)
    skew = s.devices.skew_ms[sess["device"][ev_s]]
    delay = rng.integers(150, 8000, E)
    net = rng.integers(30, 800, E)
    late_p = np.where(sess["app"], 0.04, 0.006) * (rates.LATE_ARRIVAL_RATE["events"] / 0.02)
    late_sess = rng.random(S) < late_p
    lag = np.where(late_sess, rng.integers(1, 4, S) * DAY_S * 1000 + rng.integers(0, 6 * 3600 * 1000, S), 0)
    received = true_ms + delay + net + lag[ev_s]
    last_ms = utc_ms(start, np.array([s.days * DAY_S - 1]))[0]
    received = np.where(received > last_ms, np.maximum(true_ms + delay + net, last_ms - rng.integers(0, 3600_000, E)),
                        received)
    sent = np.where(lag[ev_s] > 0, received - net, true_ms + delay) + skew
    stamp = true_ms + skew
    arrival = arrival_day(received, start)
    true_day = day[ev_s]
    out_counts = {
        "events": E,
        "late_arrival": int((arrival > true_day).sum()),
        "clock_skew": int((skew != 0).sum()),
        "unplanned_events": int((kind == KIND[UNPLANNED]).sum()),
    }

    # userId: from the start when the device was logged in, else from the sign-up/login block on.
    logged = sess["logged_start"][ev_s] | ((sess["login"] | sess["signup"])[ev_s] & (ev_b >= BLOCK["signup"]))
    order_ms = np.zeros(n_orders, np.int64)
    om = kind == KIND["Order Completed"]
    order_ms[order_of_sess[ev_s[om]]] = true_ms[om]

    ser = Serializer(s, sess, start, rng, ev_s, ev_b, ev_w, kind, product, quantity, price, logged, stamp, sent,
                     received, orders, lines, order_of_sess)
    used = _used_identifiers(s, sess, ev_s, logged)
    used["email"], used["phone"] = ser.emails_used, ser.phones_used
    by_arrival = np.lexsort((received, arrival))
    bounds = np.searchsorted(arrival[by_arrival], np.arange(s.days + 1))
    return EventOutput(ser, by_arrival, bounds, (kind == KIND[UNPLANNED])[by_arrival], order_ms, used, out_counts)


def _used_identifiers(s: State, sess: dict[str, np.ndarray], ev_s: np.ndarray,
                      logged: np.ndarray) -> dict[str, set[str]]:
    dv, p = s.devices, s.people
    anon = np.unique(sess["anon"][np.unique(ev_s)])
    users = np.unique(sess["person"][ev_s[logged]])
    app_devs = np.unique(sess["device"][sess["app"]])
    return {
        "anonymous_id": {dv.anonymous_ids[a] for a in anon.tolist()},
        "user_id": {p.user_id[i] for i in users.tolist()},
        "device_id": {dv.device_id[d] for d in app_devs.tolist()},
    }

