"""orders (Parquet), shipments, refunds, pos_transactions and products (CSV)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import CATEGORIES, OFFERS
from kizuna.sample_world.clock import DAY_S, day_label, iso_local, iso_utc, utc_ms
from kizuna.sample_world.fulfilment import (
    CARRIERS,
    ORDER_STATUS,
    PAYMENT_METHODS,
    REFUND_KINDS,
    REFUND_REASONS,
)
from kizuna.sample_world.sources.base import (
    BAD_TIMESTAMP,
    IMPOSSIBLE_DATE,
    IMPOSSIBLE_DATE_VALUE,
    IMPOSSIBLE_TIMESTAMP,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    PATTERN,
    WRONG_TYPE,
    Source,
    by_day,
    csv_breaker,
    csv_kinds,
)

ORDER_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("line_no", pa.int64()), ("user_id", pa.string()), ("anonymous_id", pa.string()),
    ("channel", pa.string()), ("ordered_at", pa.timestamp("ms", tz="UTC")), ("product_id", pa.string()),
    ("quantity", pa.int64()), ("unit_price", pa.float64()), ("discount", pa.float64()), ("currency", pa.string()),
    ("offer_id", pa.string()), ("status", pa.string()),
])
SHIPMENT_HEADER = ["shipment_id", "order_id", "carrier", "tracking_number", "status", "status_at", "promised_date"]
REFUND_HEADER = ["refund_id", "order_id", "line_no", "kind", "amount", "reason", "refunded_at"]
POS_HEADER = ["transaction_id", "line_no", "store_id", "loyalty_card_id", "transacted_at", "product_id", "quantity",
              "unit_price", "amount", "payment_method"]
PRODUCT_HEADER = ["product_id", "name", "category", "subcategory", "list_price", "launched_on", "updated_at"]


def _keep(days: int, day: np.ndarray) -> np.ndarray:
    return (day >= 0) & (day < days)


def orders_source(w) -> Source:
    """Order lines, exported on the day of the order; ordered_at is the Order Completed instant."""
    s, days = w.state, w.days
    rows_by_day: list[list[dict]] = [[] for _ in range(days)]
    used = {"user_id": set(), "anonymous_id": set()}
    if s.logs["orders"].size:
        o = s.logs["orders"].table()
        lines = s.logs["order_lines"].table()
        sess = w.sessions
        p, dv, cat = s.people, s.devices, s.catalog
        sess_pos = np.searchsorted(sess["id"], o["session"])
        anon = sess["anon"][sess_pos]
        ordered = w.events.order_ms[lines["order"]]
        order_of_line = lines["order"]
        stamp = (ordered).astype("datetime64[ms]").tolist()
        for j in range(len(order_of_line)):
            oi = int(order_of_line[j])
            person = int(o["person"][oi])
            user, anon_id = p.user_id[person], dv.anonymous_ids[int(anon[oi])]
            used["user_id"].add(user)
            used["anonymous_id"].add(anon_id)
            offer = int(o["offer"][oi])
            rows_by_day[int(o["day"][oi])].append({
                "order_id": f"O{oi:09d}", "line_no": int(lines["line_no"][j]), "user_id": user,
                "anonymous_id": anon_id, "channel": "app" if o["app"][oi] else "web",
                "ordered_at": stamp[j], "product_id": cat.product_id[int(lines["product"][j])],
                "quantity": int(lines["qty"][j]), "unit_price": float(lines["price"][j]),
                "discount": float(lines["discount"][j]), "currency": "JPY",
                "offer_id": OFFERS[offer].offer_id if offer >= 0 else None,
                "status": ORDER_STATUS[int(o["status"][oi])],
            })
    far = np.datetime64("2199-01-01T00:00:00", "ms").astype(object)

    def brk(row: dict, kind: str, rng: np.random.Generator, serial: int) -> dict:
        row = dict(row)
        row["order_id"] = f"O9{serial:08d}"  # order numbers from 900000000 on are never real
        if kind == MISSING_REQUIRED:
            row["user_id"] = None
        elif kind == OUT_OF_RANGE:
            row["unit_price"] = -row["unit_price"] - 100.0
        elif kind == PATTERN:
            row["product_id"] = "P12"
        else:
            row["ordered_at"] = far
        return row

    return Source(
        name="orders", fmt="parquet", folder="orders", prefix="orders", ext="parquet", days=days,
        records=lambda d: rows_by_day[d], eligible=lambda d: np.ones(len(rows_by_day[d]), bool),
        breaker=brk, kinds=(MISSING_REQUIRED, OUT_OF_RANGE, PATTERN, IMPOSSIBLE_DATE), schema=ORDER_SCHEMA,
        used=used,
    )


def shipments_source(w) -> Source:
    """One row per shipment status change, in the file of the day it happened."""
    s, days, start, rng = w.state, w.days, w.start, w.rng
    rows, when = [], []
    if s.logs["shipments"].size:
        sh = s.logs["shipments"].table()
        k = len(sh["order"])
        ids = [f"SH{i + 1:09d}" for i in range(k)]
        tracking = [f"{int(x):012d}" for x in rng.integers(10**11, 10**12 - 1, k)]
        events = [
            ("shipped", sh["ship_day"], (15, 20)),
            ("in_transit", sh["ship_day"] + 1, (6, 10)),
            ("delivered", sh["deliver_day"], (11, 21)),
            ("returned_to_sender", sh["lost_day"], (10, 18)),
        ]
        for status, day, (h0, h1) in events:
            ok = day >= 0
            t = day * DAY_S + rng.integers(h0 * 3600, h1 * 3600, k)
            for i in np.flatnonzero(ok).tolist():
                when.append(int(t[i]))
                rows.append([ids[i], f"O{int(sh['order'][i]):09d}", CARRIERS[int(sh["carrier"][i])],
                             tracking[i] if sh["tracked"][i] else "", status, "",
                             day_label(start, int(sh["promised"][i]))])
    when_a = np.array(when, np.int64)
    stamps = iso_utc(utc_ms(start, when_a)).tolist()
    for r, ts in zip(rows, stamps, strict=True):
        r[5] = ts
    day = when_a // DAY_S if len(when_a) else when_a
    keep = _keep(days, day)
    order = np.argsort(when_a, kind="stable")
    order = order[keep[order]]
    grouped = by_day(days, day[order], [rows[i] for i in order.tolist()])
    breaks = {
        MISSING_REQUIRED: ("carrier", ""),
        WRONG_TYPE: ("status_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: ("promised_date", "1999-12-31"),
        IMPOSSIBLE_DATE: ("promised_date", IMPOSSIBLE_DATE_VALUE),
        PATTERN: ("order_id", "O123"),
    }
    return Source(
        name="shipments", fmt="csv", folder="shipments", prefix="shipments", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(SHIPMENT_HEADER, "shipment_id", lambda i: f"SHX{i:08d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: SHIPMENT_HEADER,
    )


def refunds_source(w) -> Source:
    """Refunds and returns (negative amounts), in the file of the day they were booked."""
    s, days, start = w.state, w.days, w.start
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    if s.logs["refunds"].size:
        r = s.logs["refunds"].table()
        order = np.argsort(r["t"], kind="stable")
        day = r["t"][order] // DAY_S
        order = order[_keep(days, day)]
        stamps = iso_utc(utc_ms(start, r["t"][order])).tolist()
        rows = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            line = int(r["line_no"][i])
            rows.append([f"R{n + 1:09d}", f"O{int(r['order'][i]):09d}", str(line) if line > 0 else "",
                         REFUND_KINDS[int(r["kind"][i])], str(int(r["amount"][i])),
                         REFUND_REASONS[int(r["reason"][i])], ts])
        grouped = by_day(days, r["t"][order] // DAY_S, rows)
    breaks = {
        MISSING_REQUIRED: ("kind", ""),
        WRONG_TYPE: ("amount", "¥3,990"),
        OUT_OF_RANGE: ("amount", "3990"),
        IMPOSSIBLE_DATE: ("refunded_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("order_id", "O12"),
    }
    return Source(
        name="refunds", fmt="csv", folder="refunds", prefix="refunds", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(REFUND_HEADER, "refund_id", lambda i: f"RX{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: REFUND_HEADER,
    )


def pos_source(w) -> Source:
    """Store till lines; a few stores export local time, some uploads arrive days late."""
    s, days, start, rng = w.state, w.days, w.start, w.rng
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    used = {"loyalty_card_id": set()}
    late_lines = 0
    local_lines = 0
    if s.logs["pos"].size:
        pos = s.logs["pos"].table()
        p, cat = s.people, s.catalog
        n_txn = int(pos["txn"].max()) + 1
        late_txn = rng.random(n_txn) < rates.LATE_ARRIVAL_RATE["pos_transactions"]
        lag = np.where(late_txn, rng.integers(1, 4, n_txn), 0)
        order = np.lexsort((pos["line_no"], pos["txn"], pos["t"]))
        ms = utc_ms(start, pos["t"][order])
        store_ids = np.array(cat.store_id, dtype=object)[pos["store"][order]]
        local = np.isin(store_ids, rates.LOCAL_TIME_STORES)
        stamps = np.where(local, iso_local(ms), iso_utc(ms)).tolist()
        arrival = np.minimum(pos["t"][order] // DAY_S + lag[pos["txn"][order]], days - 1)
        late_lines = int((arrival > pos["t"][order] // DAY_S).sum())
        local_lines = int(local.sum())
        rows = []
        for j, i in enumerate(order.tolist()):
            person = int(pos["person"][i])
            card = p.card_id[person] if person >= 0 else ""
            if card:
                used["loyalty_card_id"].add(card)
            price = int(pos["price"][i])
            qty = int(pos["qty"][i])
            rows.append([f"TX{int(pos['txn'][i]):010d}", str(int(pos["line_no"][i])), store_ids[j], card, stamps[j],
                         cat.product_id[int(pos["product"][i])], str(qty), str(price), str(price * qty),
                         PAYMENT_METHODS[int(pos["pay"][i])]])
        # Late uploads land after the day's own lines.
        key = np.lexsort((np.arange(len(rows)), arrival))
        grouped = by_day(days, arrival[key], [rows[i] for i in key.tolist()])
    breaks = {
        MISSING_REQUIRED: ("store_id", ""),
        WRONG_TYPE: ("quantity", "two"),
        OUT_OF_RANGE: ("unit_price", "-500"),
        IMPOSSIBLE_DATE: ("transacted_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("store_id", "S1"),
    }
    return Source(
        name="pos_transactions", fmt="csv", folder="pos", prefix="pos", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(POS_HEADER, "transaction_id", lambda i: f"TXB{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: POS_HEADER, used=used,
        extra={"late_arrival": (rates.LATE_ARRIVAL_RATE["pos_transactions"], late_lines),
               "local_time_offset": (list(rates.LOCAL_TIME_STORES), local_lines)},
    )


def products_source(w) -> Source:
    """The catalog: a full export on the first day, changed and new products on the change day."""
    s, days, start = w.state, w.days, w.start
    cat = s.catalog
    start_ms = utc_ms(start, np.array([0]))[0]

    def row(i: int, updated_ms: int) -> list[str]:
        launched = start - timedelta(days=int(cat.launched_ago[i]))
        return [cat.product_id[i], cat.name[i], CATEGORIES[int(cat.category[i])], cat.subcategory[i], "",
                launched.isoformat(), iso_utc(np.array([updated_ms]))[0]]

    first = []
    for i in np.flatnonzero(~cat.is_new).tolist():
        r = row(i, start_ms - int(cat.last_updated[i]) * 1000)
        r[4] = str(int(cat.price_before[i]))
        first.append(r)
    files = [first]
    write_days = (0,)
    if cat.change_day < days:
        changed = []
        t = utc_ms(start, np.array([cat.change_day * DAY_S + 6 * 3600]))[0]
        for i in np.flatnonzero(cat.is_new | (cat.price_after != cat.price_before)).tolist():
            r = row(i, int(t) + i * 1000)
            r[4] = str(int(cat.price_after[i]))
            changed.append(r)
        files.append(changed)
        write_days = (0, cat.change_day)
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    for d, f in zip(write_days, files, strict=True):
        grouped[d] = f
    breaks = {
        MISSING_REQUIRED: ("name", ""),
        WRONG_TYPE: ("list_price", "¥3,990"),
        OUT_OF_RANGE: ("list_price", "-100"),
        IMPOSSIBLE_DATE: ("updated_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("product_id", "P1"),
    }
    return Source(
        name="products", fmt="csv", folder="catalog", prefix="products", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(PRODUCT_HEADER, "product_id", lambda i: f"P99{i:03d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: PRODUCT_HEADER, write_days=write_days,
    )

