"""support_tickets and survey_responses (CSV): what customers told the brand, in their words."""

from __future__ import annotations

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.clock import DAY_S, iso_utc, utc_ms
from kizuna.sample_world.fulfilment import TICKET_CATEGORIES, TOUCHPOINTS
from kizuna.sample_world.people import EMAIL_KIND_P
from kizuna.sample_world.sources.base import (
    BAD_TIMESTAMP,
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
)
from kizuna.sample_world.sources.records import esp_email
from kizuna.sample_world.text import (
    TICKET_AGENT_UPDATE,
    TICKET_CUSTOMER_CHASE,
    TICKET_OPENED,
    TICKET_REASONS,
    TICKET_RESOLVED_GOOD,
    TICKET_RESOLVED_POOR,
    pick,
    sentiment_hint,
    survey_comment,
)

TICKET_HEADER = ["ticket_event_id", "ticket_id", "event_type", "event_at", "crm_id", "email", "phone", "order_id",
                 "category", "channel", "priority", "agent_id", "csat", "comment"]
DRIFT_COLUMN = "sentiment_hint"
SURVEY_HEADER = ["response_id", "survey_id", "crm_id", "email", "submitted_at", "nps", "comment", "language",
                 "touchpoint"]
CHANNELS = ("phone", "email", "chat", "store")
PRIORITIES = ("low", "normal", "high", "urgent")


def drift_day(days: int) -> int:
    """First arrival day whose tickets file carries the new `sentiment_hint` column."""
    return max(1, int(rates.SCHEMA_DRIFT_AT * days))


def tickets_source(w) -> Source:
    """Ticket events (opened, updated, resolved with CSAT); a new column appears mid-window."""
    s, days, start, rng = w.state, w.days, w.start, w.rng
    p = s.people
    used: dict[str, set[str]] = {"crm_id": set(), "email": set(), "phone": set()}
    rows, when = [], []
    if s.logs["tickets"].size:
        tk = s.logs["tickets"].table()
        for i in range(len(tk["ticket"])):
            person = int(tk["person"][i])
            english = bool(p.english[person])
            channel = int(tk["channel"][i])
            reason = TICKET_REASONS[int(tk["reason"][i])]
            crm = p.crm_id[person] if s.registered[person] and rng.random() < 0.75 else ""
            email_kind = int(rng.choice(len(EMAIL_KIND_P), p=EMAIL_KIND_P))
            email = p.email_variants[person][email_kind] if p.email_variants[person] and (
                channel == 1 or rng.random() < 0.4) else ""
            phone = p.phone_variants[person][int(rng.integers(3))] if p.phone_variants[person] and (
                channel == 0 and rng.random() < 0.9 or rng.random() < 0.3) else ""
            if not (crm or email or phone):
                crm = p.crm_id[person] if s.registered[person] else ""
                email = "" if crm else (esp_email(s, person) or "")
                phone = "" if (crm or email) else (p.phone_variants[person][0] if p.phone_variants[person] else "")
            if not (crm or email or phone):
                continue  # nobody the helpdesk could name (never happens for online customers)
            for k, v in (("crm_id", crm), ("email", email), ("phone", phone)):
                if v:
                    used[k].add(v)
            order = int(tk["order"][i])
            base = [f"T{int(tk['ticket'][i]) + 1:08d}", crm, email, phone, f"O{order:09d}" if order >= 0 else "",
                    TICKET_CATEGORIES[int(tk["category"][i])], CHANNELS[channel], PRIORITIES[int(tk["priority"][i])],
                    f"A{int(tk['agent'][i]) + 1:03d}"]
            poor = bool(s.catalog.agent_poor[int(tk["agent"][i])])
            open_t, resolve_t = int(tk["open_t"][i]), int(tk["resolve_t"][i])
            events = [("opened", open_t, "", pick(rng, TICKET_OPENED[reason], english))]
            horizon = resolve_t if resolve_t >= 0 else open_t + 10 * DAY_S
            for _ in range(int(tk["n_updates"][i])):
                t = open_t + int(rng.integers(600, max(horizon - open_t, 1200)))
                text = pick(rng, TICKET_CUSTOMER_CHASE if (poor or resolve_t < 0) and rng.random() < 0.6
                            else TICKET_AGENT_UPDATE, english)
                events.append(("updated", t, "", text))
            if resolve_t >= 0:
                events.append(("resolved", resolve_t, str(int(tk["csat"][i])),
                               pick(rng, TICKET_RESOLVED_POOR if poor else TICKET_RESOLVED_GOOD, english)))
            events.sort(key=lambda x: x[1])
            for event_type, t, csat, comment in events:
                hint = sentiment_hint(event_type, int(csat) if csat else None, reason)
                rows.append([event_type, base, csat, comment, hint])
                when.append(t)
    when_a = np.array(when, np.int64)
    order = np.argsort(when_a, kind="stable")
    order = order[when_a[order] < days * DAY_S]
    stamps = iso_utc(utc_ms(start, when_a[order])).tolist()
    final = []
    for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
        event_type, base, csat, comment, hint = rows[i]
        ticket_id, crm, email, phone, order_id, category, channel, priority, agent = base
        final.append([f"TE{n + 1:010d}", ticket_id, event_type, ts, crm, email, phone, order_id, category, channel,
                      priority, agent, csat, comment, hint])
    grouped = by_day(days, when_a[order] // DAY_S if len(order) else order, final)
    drift = drift_day(days)
    for d in range(days):
        if d < drift:
            grouped[d] = [r[:-1] for r in grouped[d]]
    header_old = TICKET_HEADER
    header_new = TICKET_HEADER + [DRIFT_COLUMN]
    breaks = {
        MISSING_REQUIRED: ("category", ""),
        WRONG_TYPE: ("event_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: ("csat", "6"),
        IMPOSSIBLE_DATE: ("event_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("ticket_id", "TK-1"),
    }
    return Source(
        name="support_tickets", fmt="csv", folder="tickets", prefix="tickets", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(header_new, "ticket_event_id", lambda i: f"TEX{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: header_new if d >= drift else header_old, used=used,
        extra={"schema_drift": (rates.SCHEMA_DRIFT_AT, sum(len(grouped[d]) for d in range(drift, days))),
               "schema_drift_from": (rates.SCHEMA_DRIFT_AT, drift)},
    )


def surveys_source(w) -> Source:
    """NPS answers with a comment in the person's language, on what really happened to them."""
    s, days, start, rng = w.state, w.days, w.start, w.rng
    p = s.people
    used: dict[str, set[str]] = {"crm_id": set(), "email": set()}
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    if s.logs["surveys"].size:
        sv = s.logs["surveys"].table()
        order = np.argsort(sv["t"], kind="stable")
        stamps = iso_utc(utc_ms(start, sv["t"][order])).tolist()
        rows = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            person = int(sv["person"][i])
            english = bool(p.english[person])
            touchpoint = TOUCHPOINTS[int(sv["touchpoint"][i])]
            crm = p.crm_id[person] if s.registered[person] and rng.random() < 0.85 else ""
            email = esp_email(s, person) if (not crm or rng.random() < 0.7) else ""
            email = email or ""
            if not (crm or email):
                crm = p.crm_id[person] if s.registered[person] else ""
            if crm:
                used["crm_id"].add(crm)
            if email:
                used["email"].add(email)
            nps = int(sv["nps"][i])
            comment = survey_comment(sv["themes"][i], nps, english) if sv["comment"][i] else ""
            rows.append([f"SR{n + 1:09d}", f"nps_{touchpoint}_v2", crm, email, ts, str(nps), comment,
                         "en" if english else "ja", touchpoint])
        grouped = by_day(days, sv["t"][order] // DAY_S, rows)
    breaks = {
        MISSING_REQUIRED: ("survey_id", ""),
        WRONG_TYPE: ("nps", "ten"),
        OUT_OF_RANGE: ("nps", "11"),
        IMPOSSIBLE_DATE: ("submitted_at", IMPOSSIBLE_TIMESTAMP),
    }
    return Source(
        name="survey_responses", fmt="csv", folder="surveys", prefix="surveys", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(SURVEY_HEADER, "response_id", lambda i: f"SRX{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: SURVEY_HEADER, used=used,
    )

