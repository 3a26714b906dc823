"""email_events (JSON lines), ad_touchpoints and offer_events (CSV)."""

from __future__ import annotations

import bisect

import numpy as np
import orjson

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import AD_CHANNELS, OFFERS
from kizuna.sample_world.clock import DAY_S, iso_utc, utc_ms
from kizuna.sample_world.marketing import CAMPAIGNS, EMAIL_KINDS, OFFER_CHANNELS, email_campaign_id
from kizuna.sample_world.sources.base import (
    BAD_TIMESTAMP,
    FAR_FUTURE_TIMESTAMP,
    IMPOSSIBLE_DATE,
    IMPOSSIBLE_TIMESTAMP,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    PATTERN,
    WRONG_TYPE,
    Source,
    by_day,
    csv_breaker,
    csv_kinds,
    dropper,
    json_breaker,
    json_kinds,
    setter,
)
from kizuna.sample_world.sources.records import esp_email
from kizuna.sample_world.tracking_plan import SITE

AD_HEADER = ["touchpoint_id", "occurred_at", "interaction", "channel", "campaign_id", "campaign_name",
             "anonymous_id", "device_id", "click_id", "cost"]
OFFER_HEADER = ["offer_event_id", "offer_id", "user_id", "crm_id", "anonymous_id", "outcome", "channel", "occurred_at"]
OUTCOMES = ("exposed", "clicked", "redeemed", "dismissed")
MAIL_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Microsoft Outlook 16.0.17328; ms-office; MSOffice 16)",
)


def email_source(w) -> Source:
    """ESP webhook events; a few arrive one to three days late."""
    s, days, start, rng = w.state, w.days, w.start, w.rng
    p = s.people
    used: dict[str, set[str]] = {"email": set(), "crm_id": set()}
    grouped: list[list[bytes]] = [[] for _ in range(days)]
    late_n = 0
    if s.logs["emails"].size:
        e = s.logs["emails"].table()
        order = np.argsort(e["t"], kind="stable")
        order = order[e["t"][order] < days * DAY_S]
        ms = utc_ms(start, e["t"][order])
        stamps = iso_utc(ms).tolist()
        late = rng.random(len(order)) < rates.LATE_ARRIVAL_RATE["email_events"]
        arrival = np.minimum(e["t"][order] // DAY_S + late * rng.integers(1, 4, len(order)), days - 1)
        late_n = int((arrival > e["t"][order] // DAY_S).sum())
        ua = rng.integers(0, len(MAIL_AGENTS), len(order)).tolist()
        lines = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            person = int(e["person"][i])
            kind = EMAIL_KINDS[int(e["kind"][i])]
            campaign = email_campaign_id(int(e["campaign"][i]), start)
            rec: dict[str, object] = {"event_id": f"evt_{n + 1:010d}", "event": kind}
            if e["crm"][i] == 1:
                rec["email"], rec["crm_id"] = p.crm_dup_email[person], p.crm_dup_id[person]
            else:
                rec["email"] = esp_email(s, person)
                if s.registered[person]:
                    rec["crm_id"] = p.crm_id[person]
            rec["campaign_id"] = campaign
            rec["timestamp"] = ts
            if kind == "click":
                rec["url"] = f"{SITE}/?utm_source=newsletter&utm_medium=email&utm_campaign={campaign}"
            if kind == "bounce":
                rec["bounce_type"] = "hard" if e["bounce_type"][i] == 1 else "soft"
            if kind in ("open", "click"):
                rec["user_agent"] = MAIL_AGENTS[ua[n]]
            used["email"].add(rec["email"])  # type: ignore[arg-type]
            if rec.get("crm_id"):
                used["crm_id"].add(rec["crm_id"])  # type: ignore[arg-type]
            lines.append(bytes(memoryview(orjson.dumps(rec))))  # a compact copy: orjson over-allocates
        key = np.lexsort((np.arange(len(lines)), arrival))
        grouped = by_day(days, arrival[key], [lines[i] for i in key.tolist()])
    breaks = {
        MISSING_REQUIRED: dropper("email"),
        WRONG_TYPE: setter("timestamp", BAD_TIMESTAMP),
        OUT_OF_RANGE: setter("timestamp", FAR_FUTURE_TIMESTAMP),
        IMPOSSIBLE_DATE: setter("timestamp", IMPOSSIBLE_TIMESTAMP),
        PATTERN: setter("crm_id", "CRM-1"),
    }
    return Source(
        name="email_events", fmt="jsonl", folder="email", prefix="email", ext="jsonl", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=json_breaker("event_id", lambda i: f"evt_broken_{i:08d}", breaks), kinds=json_kinds(breaks),
        used=used, extra={"late_arrival": (rates.LATE_ARRIVAL_RATE["email_events"], late_n)},
    )


def ads_source(w) -> Source:
    """Impressions and clicks from the ad server, with the cookie or app device they reached."""
    s, days, start = w.state, w.days, w.start
    dv = s.devices
    used: dict[str, set[str]] = {"anonymous_id": set(), "device_id": set()}
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    if s.logs["ads"].size:
        a = s.logs["ads"].table()
        row_no = np.arange(len(a["t"]))
        order = np.argsort(a["t"], kind="stable")
        stamps = iso_utc(utc_ms(start, a["t"][order])).tolist()
        rows = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            click = bool(a["click"][i])
            anon = int(a["anon"][i])
            dev = int(a["device"][i])
            anon_id = dv.anonymous_ids[anon] if anon >= 0 else ""
            device_id = dv.device_id[dev] if anon < 0 else ""
            if anon_id:
                used["anonymous_id"].add(anon_id)
            if device_id:
                used["device_id"].add(device_id)
            cid, cname, _ = CAMPAIGNS[int(a["campaign"][i])]
            cost = a["cost"][i]
            rows.append([f"TP{n + 1:010d}", ts, "click" if click else "impression", AD_CHANNELS[int(a["channel"][i])],
                         cid, cname, anon_id, device_id, w.click_ids[int(row_no[i])] if click else "",
                         str(int(cost)) if click else f"{cost:.2f}"])
        grouped = by_day(days, a["t"][order] // DAY_S, rows)
    breaks = {
        MISSING_REQUIRED: ("campaign_id", ""),
        WRONG_TYPE: ("cost", "¥95"),
        OUT_OF_RANGE: ("cost", "-12.5"),
        IMPOSSIBLE_DATE: ("occurred_at", IMPOSSIBLE_TIMESTAMP),
    }
    return Source(
        name="ad_touchpoints", fmt="csv", folder="ads", prefix="ads", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(AD_HEADER, "touchpoint_id", lambda i: f"TPX{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: AD_HEADER, used=used,
    )


def offers_source(w) -> Source:
    """Offer engine events, naming the person by user id, CRM id or (unknown visitors) cookie."""
    s, days, start = w.state, w.days, w.start
    p, dv = s.people, s.devices
    used: dict[str, set[str]] = {"user_id": set(), "crm_id": set(), "anonymous_id": set()}
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    # Cookies of each device in minting order, to name a visitor by the cookie of that day.
    minted: dict[int, tuple[list[int], list[int]]] = {}
    for idx, (dev, day) in enumerate(zip(dv.anonymous_device, dv.anonymous_day, strict=True)):
        days_l, ids_l = minted.setdefault(dev, ([], []))
        days_l.append(day)
        ids_l.append(idx)
    if s.logs["offers"].size:
        o = s.logs["offers"].table()
        order = np.lexsort((o["outcome"], o["t"]))
        order = order[o["t"][order] < days * DAY_S]
        stamps = iso_utc(utc_ms(start, o["t"][order])).tolist()
        rows = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            person = int(o["person"][i])
            day = int(o["t"][i]) // DAY_S
            channel = OFFER_CHANNELS[int(o["channel"][i])]
            user = crm = anon = ""
            registered = s.registered[person] and s.reg_day[person] <= day
            if channel == "email" and registered:
                crm = p.crm_id[person]
            elif registered:
                user = p.user_id[person]
            else:
                dev = int(dv.web_a[person] if dv.web_a[person] >= 0 else dv.app[person])
                days_l, ids_l = minted[dev]
                anon = dv.anonymous_ids[ids_l[bisect.bisect_right(days_l, day) - 1]]
            for k, v in (("user_id", user), ("crm_id", crm), ("anonymous_id", anon)):
                if v:
                    used[k].add(v)
            rows.append([f"OE{n + 1:09d}", OFFERS[int(o["offer"][i])].offer_id, user, crm, anon,
                         OUTCOMES[int(o["outcome"][i])], channel, ts])
        grouped = by_day(days, o["t"][order] // DAY_S, rows)
    breaks = {
        MISSING_REQUIRED: ("outcome", ""),
        WRONG_TYPE: ("occurred_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: ("occurred_at", FAR_FUTURE_TIMESTAMP),
        IMPOSSIBLE_DATE: ("occurred_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("offer_id", "OFFER1"),
    }
    return Source(
        name="offer_events", fmt="csv", folder="offers", prefix="offers", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(OFFER_HEADER, "offer_event_id", lambda i: f"OEX{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: OFFER_HEADER, used=used,
    )
