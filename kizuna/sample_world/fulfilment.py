"""Orders, store purchases and what follows them: shipments, returns, refunds.

Every outcome that later drives churn (late or untracked parcels, lost parcels, damaged or wrong
items) is decided when the order is placed and scheduled on the calendar for the day the
customer experiences it, together with the contact-centre tickets and surveys it triggers.
"""

from __future__ import annotations

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.accounts import sign_card
from kizuna.sample_world.catalog import CATEGORIES, OFFERS
from kizuna.sample_world.clock import DAY_S
from kizuna.sample_world.marketing import FLAG_REDEEM
from kizuna.sample_world.names import PREFECTURES
from kizuna.sample_world.state import NEVER, State

CARRIERS = ("yamato", "sagawa", "japan_post")
CARRIER_P = np.array([0.5, 0.3, 0.2])
CARRIER_LATE = np.array([0.7, 1.2, 1.8])
CARRIER_UNTRACKED = np.array([0.4, 0.6, 2.6])
ORDER_STATUS = ("placed", "paid", "cancelled")
SHIP_STATUS = ("shipped", "in_transit", "delivered", "returned_to_sender")
REFUND_KINDS = ("refund", "return")
REFUND_REASONS = ("damaged", "wrong_item", "size", "late_delivery", "changed_mind", "other")
PAYMENT_METHODS = ("cash", "card", "qr", "ic", "points")
TICKET_CATEGORIES = ("delivery", "payment", "product_quality", "returns", "account", "app_bug", "store", "other")
TOUCHPOINTS = ("post_purchase", "post_support", "relationship", "store_visit")
REMOTE = np.array([r for _, _, _, r in PREFECTURES])
OFFER_CAT = np.array([CATEGORIES.index(o.category) if o.category != "all" else -1 for o in OFFERS])
OFFER_KIND = np.array([o.kind for o in OFFERS])
OFFER_VALUE = np.array([o.value for o in OFFERS])
SIZE_CATEGORIES = np.isin(np.arange(len(CATEGORIES)), [CATEGORIES.index("apparel"), CATEGORIES.index("shoes")])


def record_purchase(s: State, persons: np.ndarray, d: int) -> None:
    """Count a purchase day for persons (a second order the same day is the same purchase day)."""
    persons = np.unique(persons)
    new_day = s.last_p[persons] != d
    s.n_pdays[persons[new_day]] += 1
    first = s.first_p[persons] == NEVER
    s.first_p[persons[first]] = d
    s.last_p[persons] = d
    s.active(persons, d)


def _categories(s: State, persons: np.ndarray) -> np.ndarray:
    cum = np.cumsum(s.people.affinity[persons], axis=1)
    u = s.rng.random(len(persons)) * cum[:, -1]
    return np.minimum((u[:, None] > cum).sum(axis=1), len(CATEGORIES) - 1)


def _lines(s: State, persons: np.ndarray, d: int, store: bool) -> tuple[np.ndarray, ...]:
    """Basket lines: (basket, line number, category, product, quantity, unit price) per line."""
    rng = s.rng
    # Store baskets run a little bigger: people pick things up on the way to the till.
    n_lines = 1 + rng.binomial(3 if store else 2, 0.35, len(persons))
    basket = np.repeat(np.arange(len(persons)), n_lines)
    line_no = np.arange(len(basket)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    cat = _categories(s, persons[basket])
    product = s.catalog.sample_products(rng, cat, d)
    qty = 1 + (rng.random(len(basket)) < 0.12) + (rng.random(len(basket)) < 0.02)
    price = s.catalog.price(product, d)
    return basket, line_no, cat, product, qty, price


def place_orders(s: State, d: int, sess: dict[str, np.ndarray]) -> None:
    """One order per purchase session, its lines, and everything that follows it."""
    rng = s.rng
    idx = np.flatnonzero(sess["purchase"])
    k = len(idx)
    if k == 0:
        return
    persons = sess["person"][idx]
    order_ids = s.next_order + np.arange(k)
    s.next_order += k
    sess["order"][idx] = order_ids
    offer = np.where(sess["flag"][idx] == FLAG_REDEEM, sess["ref"][idx], -1)
    basket, line_no, cat, product, qty, price = _lines(s, persons, d, store=False)
    # A category offer puts one item of its category in the basket.
    ocat = np.where(offer >= 0, OFFER_CAT[np.maximum(offer, 0)], -1)[basket]
    first_line = line_no == 1
    force = first_line & (ocat >= 0)
    if force.any():
        product[force] = s.catalog.sample_products(rng, ocat[force], d)
        cat[force] = ocat[force]
        price[force] = s.catalog.price(product[force], d)
    lo = offer[basket]
    applies = (lo >= 0) & ((OFFER_CAT[np.maximum(lo, 0)] < 0) | (OFFER_CAT[np.maximum(lo, 0)] == cat))
    kind = np.where(lo >= 0, OFFER_KIND[np.maximum(lo, 0)], "")
    value = np.where(lo >= 0, OFFER_VALUE[np.maximum(lo, 0)], 0)
    gross = price * qty
    pct = applies & (kind == "percent_off")
    # A yen-off offer comes off the first line it applies to.
    first_applicable = applies & (kind == "yen_off")
    seen = set()
    for j in np.flatnonzero(first_applicable).tolist():
        if basket[j] in seen:
            first_applicable[j] = False
        seen.add(basket[j])
    discount = np.where(pct, np.round(gross * value), 0) + np.where(first_applicable, np.minimum(value, gross), 0)
    u = rng.random(k)
    status = np.where(u < rates.ORDER_CANCEL_RATE, 2, np.where(u < 0.16, 0, 1))
    s.logs["orders"].add(order=order_ids, person=persons, day=np.full(k, d), session=sess["id"][idx],
                         t=sess["t"][idx], app=sess["app"][idx], offer=offer, status=status)
    s.logs["order_lines"].add(order=order_ids[basket], line_no=line_no, product=product, qty=qty,
                              price=price, discount=discount.astype(np.int64))
    valid = status != 2
    vp = persons[valid]
    record_purchase(s, vp, d)
    np.add.at(s.cat_bought, (persons[basket][valid[basket]], cat[valid[basket]]), 1)
    line_amount = gross - discount
    _ship(s, d, order_ids[valid], vp, sess["t"][idx][valid] - d * DAY_S,
          basket, line_no, cat, line_amount, np.flatnonzero(valid), product)


def _ship(s: State, d: int, orders: np.ndarray, persons: np.ndarray, tod: np.ndarray, basket: np.ndarray,
          line_no: np.ndarray, cat: np.ndarray, line_amount: np.ndarray, valid_idx: np.ndarray,
          product: np.ndarray) -> None:
    rng, k = s.rng, len(orders)
    if k == 0:
        return
    # Each address is served by one carrier most of the time, so delivery trouble repeats.
    carrier = np.where(rng.random(k) < 0.85, s.carrier_of[persons], rng.choice(3, size=k, p=CARRIER_P))
    remote = REMOTE[s.people.prefecture[persons]]
    after_cutoff = tod >= 14 * 3600
    ship_day = d + after_cutoff
    promised = d + 2 + remote + after_cutoff
    lo, hi = int(0.55 * s.days), int(0.62 * s.days)
    peak = np.where((d >= lo) & (d <= hi), 3.0, 1.0)  # a typhoon week: carriers fall behind
    late = rng.random(k) < rates.LATE_DELIVERY_RATE * CARRIER_LATE[carrier] * np.where(remote, 2.2, 1.0) * peak
    untracked = rng.random(k) < rates.UNTRACKED_SHIPMENT_RATE * CARRIER_UNTRACKED[carrier]
    lost = rng.random(k) < rates.RETURNED_TO_SENDER_RATE
    late &= ~lost
    deliver = np.where(late, promised + 1 + rng.binomial(3, 0.4, k), promised - (rng.random(k) < 0.4))
    deliver = np.maximum(deliver, ship_day + 1)
    s.logs["shipments"].add(order=orders, person=persons, carrier=carrier, tracked=~untracked,
                            promised=promised, ship_day=ship_day, deliver_day=np.where(lost, -1, deliver),
                            lost_day=np.where(lost, promised + 4, -1), late=late)
    s.experience_at(deliver[late], persons[late], "late_delivery")
    s.experience_at(ship_day[untracked] + 1, persons[untracked], "untracked_shipment")
    s.experience_at(promised[lost] + 2, persons[lost], "lost_parcel")
    # Order totals and first lines, for refunds.
    order_of_line = valid_idx.searchsorted(basket)
    in_valid = (order_of_line < len(valid_idx)) & (valid_idx[np.minimum(order_of_line, len(valid_idx) - 1)] == basket)
    line_order = np.where(in_valid, order_of_line, -1)
    total = np.zeros(k)
    np.add.at(total, line_order[in_valid], line_amount[in_valid])
    first_amount = np.zeros(k)
    first_product = np.zeros(k, np.int64)
    firsts = in_valid & (line_no == 1)
    first_amount[line_order[firsts]] = line_amount[firsts]
    first_product[line_order[firsts]] = product[firsts]
    ok = ~lost
    damaged = ok & (rng.random(k) < rates.DAMAGED_ITEM_RATE)
    wrong = ok & ~damaged & (rng.random(k) < rates.WRONG_ITEM_RATE)
    changed = ok & ~damaged & ~wrong & (rng.random(k) < rates.CHANGED_MIND_RATE)
    compensate = late & (rng.random(k) < rates.LATE_REFUND_RATE)
    s.experience_at(deliver[damaged | wrong], persons[damaged | wrong], "product_quality")
    refunds = s.logs["refunds"]

    def refund(mask: np.ndarray, kind: int, reason: str, amount: np.ndarray, lag: tuple[int, int],
               line: np.ndarray | int = 1, base: np.ndarray | None = None) -> None:
        m = int(mask.sum())
        if m:
            day0 = (deliver if base is None else base)[mask]
            t = (day0 + rng.integers(lag[0], lag[1] + 1, m)) * DAY_S + rng.integers(9 * 3600, 20 * 3600, m)
            refunds.add(order=orders[mask], person=persons[mask], line_no=np.broadcast_to(line, (k,))[mask],
                        kind=np.full(m, kind), reason=np.full(m, REFUND_REASONS.index(reason)),
                        amount=-np.asarray(amount)[mask], t=t)

    refund(damaged, 0, "damaged", first_amount, (3, 10))
    refund(wrong, 1, "wrong_item", first_amount, (4, 12))
    refund(changed, 1, "changed_mind", first_amount, (5, 14))
    refund(compensate, 0, "late_delivery", np.minimum(500, total), (1, 3), line=-1)
    refund(lost, 0, "other", total, (5, 8), line=-1, base=promised)
    size_line = in_valid & SIZE_CATEGORIES[cat] & (rng.random(len(cat)) < rates.SIZE_RETURN_RATE)
    size_line &= ~np.isin(line_order, np.flatnonzero(lost))
    if size_line.any():
        lo_ = line_order[size_line]
        m = len(lo_)
        t = (deliver[lo_] + rng.integers(4, 12, m)) * DAY_S + rng.integers(9 * 3600, 20 * 3600, m)
        refunds.add(order=orders[lo_], person=persons[lo_], line_no=line_no[size_line], kind=np.ones(m, np.int64),
                    reason=np.full(m, REFUND_REASONS.index("size")), amount=-line_amount[size_line], t=t)
    # Contact-centre tickets the experiences trigger (category numbers: TICKET_CATEGORIES).
    ask = rng.random(k)
    plans = (  # (who, day, category, reason) with TICKET_CATEGORIES and text.TICKET_REASONS numbers
        (late & (ask < 0.35), promised + 1, 0, 1),
        (untracked & ~late & (ask < 0.2), ship_day + 2, 0, 2),
        (lost & (ask < 0.8), promised + 2, 0, 3),
        (damaged & (ask < 0.5), deliver + 1, 2, 4),
        (wrong & (ask < 0.5), deliver + 1, 3, 5),
    )
    for mask, day, category, reason in plans:
        m = int(mask.sum())
        if m:
            s.cal.add("ticket", day[mask], person=persons[mask], category=np.full(m, category),
                      reason=np.full(m, reason), order=orders[mask], t=rng.integers(9 * 3600, 20 * 3600, m))
    survey = ok & (rng.random(k) < 0.5)
    s.cal.add("survey", deliver[survey] + 5, person=persons[survey], touchpoint=np.zeros(int(survey.sum()), np.int64),
              ref=orders[survey])
    bad = late | damaged | wrong
    review = ok & (rng.random(k) < np.where(bad, 0.05, 0.08))
    m = int(review.sum())
    s.cal.add("review", deliver[review] + rng.integers(3, 21, m), person=persons[review], order=orders[review],
              product=first_product[review], bad=bad[review])


def store_purchases(s: State, d: int, persons: np.ndarray) -> None:
    """Store visits with a purchase: loyalty card shown (signed up on the spot if new)."""
    rng, k = s.rng, len(persons)
    if k == 0:
        return
    p = s.people
    store = np.where(rng.random(k) < 0.85, p.home_store[persons], rng.integers(0, len(s.catalog.store_id), k))
    t = d * DAY_S + rng.integers(10 * 3600, 20 * 3600, k)
    new = ~s.card_signed[persons]
    for i, ti, st in zip(persons[new].tolist(), t[new].tolist(), store[new].tolist(), strict=True):
        sign_card(s, i, ti - 300, st)
    _pos(s, d, persons, store, t)
    record_purchase(s, persons, d)
    good = s.catalog.store_good_staff[store]
    s.good_staff_day[persons[good]] = d
    invite = rng.random(k) < 0.25
    s.cal.add("survey", np.full(int(invite.sum()), d + 1), person=persons[invite],
              touchpoint=np.full(int(invite.sum()), 3), ref=store[invite])


def _pos(s: State, d: int, persons: np.ndarray, store: np.ndarray, t: np.ndarray) -> None:
    rng = s.rng
    basket, line_no, cat, product, qty, price = _lines(s, persons, d, store=True)
    txn = s.counters["transactions"] + np.arange(len(persons))
    s.counters["transactions"] += len(persons)
    pay = rng.choice(len(PAYMENT_METHODS), size=len(persons), p=[0.25, 0.35, 0.2, 0.15, 0.05])
    s.logs["pos"].add(txn=txn[basket], person=persons[basket], store=store[basket], t=t[basket],
                      line_no=line_no, product=product, qty=qty, price=price, pay=pay[basket])
    np.add.at(s.cat_bought, (persons[basket], cat), 1)


def walk_ins(s: State, d: int) -> None:
    """Shoppers without a loyalty card: store revenue no person can be tied to."""
    rng = s.rng
    m = rng.poisson(s.n * 0.012)
    if m == 0:
        return
    store = rng.integers(0, len(s.catalog.store_id), m)
    t = d * DAY_S + rng.integers(10 * 3600, 20 * 3600, m)
    like = rng.integers(0, s.n, m)  # baskets follow the tastes of random persons
    basket, line_no, cat, product, qty, price = _lines(s, like, d, store=True)
    txn = s.counters["transactions"] + np.arange(len(like))
    s.counters["transactions"] += len(like)
    pay = rng.choice(len(PAYMENT_METHODS), size=len(like), p=[0.35, 0.3, 0.2, 0.15, 0.0])
    s.logs["pos"].add(txn=txn[basket], person=np.full(len(basket), -1), store=store[basket], t=t[basket],
                      line_no=line_no, product=product, qty=qty, price=price, pay=pay[basket])
