"""crm_contacts and loyalty_members (CSV), consent_events (JSON lines).

Records that exist before the window opens (contacts, members) all land in the first day's file:
the first export is a full one, later ones carry what was created or changed that day.
"""

from __future__ import annotations

import numpy as np
import orjson

from kizuna.sample_world import rates
from kizuna.sample_world.accounts import CONSENT_SOURCES, PURPOSES
from kizuna.sample_world.clock import DAY_S, iso_utc, utc_ms
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

CRM_HEADER = ["crm_id", "last_name", "first_name", "last_name_kana", "first_name_kana", "email", "phone",
              "birth_date", "gender", "postcode", "prefecture", "loyalty_card_id", "created_at", "updated_at"]
LOYALTY_HEADER = ["loyalty_card_id", "full_name", "full_name_kana", "birth_date", "postcode", "email", "phone",
                  "store_id", "signed_up_at"]


def _arrival(t: np.ndarray, days: int) -> np.ndarray:
    """Day of a window-local time; everything from before the window is in the first export."""
    return np.clip(np.asarray(t, np.int64) // DAY_S, 0, days - 1)


def crm_source(w) -> Source:
    """Every version of every contact, in the export of the day it was created or changed."""
    s, days, start = w.state, w.days, w.start
    versions = sorted(s.crm_versions, key=lambda v: (v[3], v[0]))
    used: dict[str, set[str]] = {"crm_id": set(), "email": set(), "phone": set(), "loyalty_card_id": set()}
    seen: set[tuple[str, int]] = set()
    rows, when = [], []
    for crm_id, _person, created, updated, fields in versions:
        while (crm_id, updated) in seen:  # the dedup key must be unique per version
            updated += 1
        seen.add((crm_id, updated))
        row = [crm_id] + [fields[c] for c in CRM_HEADER[1:12]] + ["", ""]
        rows.append(row)
        when.append((created, updated))
        used["crm_id"].add(crm_id)
        for c, ns in (("email", "email"), ("phone", "phone"), ("loyalty_card_id", "loyalty_card_id")):
            if fields[c]:
                used[ns].add(fields[c])
    if rows:
        created = iso_utc(utc_ms(start, np.array([c for c, _ in when]))).tolist()
        updated = iso_utc(utc_ms(start, np.array([u for _, u in when]))).tolist()
        for r, c, u in zip(rows, created, updated, strict=True):
            r[12], r[13] = c, u
    grouped = by_day(days, _arrival(np.array([u for _, u in when], np.int64), days), rows)
    breaks = {
        MISSING_REQUIRED: ("created_at", ""),
        WRONG_TYPE: ("created_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: ("created_at", FAR_FUTURE_TIMESTAMP),
        IMPOSSIBLE_DATE: ("created_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("crm_id", "C12345"),
    }
    return Source(
        name="crm_contacts", fmt="csv", folder="crm", prefix="contacts", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(CRM_HEADER, "crm_id", lambda i: f"C99{i:05d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: CRM_HEADER, used=used,
        extra={"duplicate_record": (rates.CRM_DUPLICATE_RATE, s.crm_counts["duplicate_records"]),
               **{f"duplicate_record.{k}": (rates.CRM_DUPLICATE_FLAWS[k], s.crm_counts[k])
                  for k in rates.CRM_DUPLICATE_FLAWS}},
    )


def loyalty_source(w) -> Source:
    """Loyalty sign-ups; members from before the window are in the first day's full export."""
    s, days, start = w.state, w.days, w.start
    used: dict[str, set[str]] = {"loyalty_card_id": set(), "email": set(), "phone": set()}
    grouped: list[list[list[str]]] = [[] for _ in range(days)]
    if s.logs["loyalty"].size:
        lt = s.logs["loyalty"].table()
        order = np.argsort(lt["t"], kind="stable")
        stamps = iso_utc(utc_ms(start, lt["t"][order])).tolist()
        rows = []
        for i, ts in zip(order.tolist(), stamps, strict=True):
            r = lt["row"][i]
            rows.append([r[c] for c in LOYALTY_HEADER[:-1]] + [ts])
            for c in ("loyalty_card_id", "email", "phone"):
                if r[c]:
                    used[c].add(r[c])
        grouped = by_day(days, _arrival(lt["t"][order], days), rows)
    breaks = {
        MISSING_REQUIRED: ("full_name", ""),
        WRONG_TYPE: ("signed_up_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: ("signed_up_at", FAR_FUTURE_TIMESTAMP),
        IMPOSSIBLE_DATE: ("signed_up_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: ("store_id", "S9"),
    }
    return Source(
        name="loyalty_members", fmt="csv", folder="loyalty", prefix="members", ext="csv", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=csv_breaker(LOYALTY_HEADER, "loyalty_card_id", lambda i: f"L9{i:09d}", breaks),
        kinds=csv_kinds(breaks), header=lambda d: LOYALTY_HEADER, used=used,
    )


def esp_email(s, person: int) -> str | None:
    """The address the email service provider (and the CRM) holds for a person."""
    p = s.people
    if not p.email_variants[person]:
        return None
    if s.registered[person]:
        return p.email_variants[person][int(s.crm_email_kind[person])]
    return p.email_variants[person][int(s.card_email_kind[person])]


def consent_source(w) -> Source:
    """Consent changes; each source names the person by the identifiers it knows."""
    s, days, start = w.state, w.days, w.start
    p, dv = s.people, s.devices
    used: dict[str, set[str]] = {k: set() for k in ("user_id", "anonymous_id", "email", "crm_id", "loyalty_card_id")}
    grouped: list[list[bytes]] = [[] for _ in range(days)]
    if s.logs["consent"].size:
        c = s.logs["consent"].table()
        order = np.argsort(c["t"], kind="stable")
        order = order[(c["t"][order] >= 0) & (c["t"][order] < days * DAY_S)]
        stamps = iso_utc(utc_ms(start, c["t"][order])).tolist()
        lines = []
        for n, (i, ts) in enumerate(zip(order.tolist(), stamps, strict=True)):
            person, source = int(c["person"][i]), CONSENT_SOURCES[int(c["source"][i])]
            rec: dict[str, object] = {"consent_event_id": f"CE{n + 1:09d}"}
            if source in ("web_banner", "app"):
                rec["anonymous_id"] = dv.anonymous_ids[int(c["anon"][i])]
            elif source == "crm":
                rec["crm_id"], rec["user_id"] = p.crm_id[person], p.user_id[person]
                if esp_email(s, person):
                    rec["email"] = esp_email(s, person)
            elif source == "store":
                rec["loyalty_card_id"] = p.card_id[person]
                email = p.email_variants[person][int(s.card_email_kind[person])] if s.card_gives_email[person] else None
                if email:
                    rec["email"] = email
            elif source == "email_unsubscribe":
                rec["email"] = esp_email(s, person)
                if s.registered[person]:
                    rec["crm_id"] = p.crm_id[person]
            else:  # contact_centre
                if s.registered[person]:
                    rec["crm_id"] = p.crm_id[person]
                else:
                    rec["loyalty_card_id"] = p.card_id[person]
            for k in used:
                if rec.get(k):
                    used[k].add(rec[k])  # type: ignore[arg-type]
            rec.update(purpose=PURPOSES[int(c["purpose"][i])], status="granted" if c["granted"][i] else "withdrawn",
                       source=source, occurred_at=ts)
            lines.append(bytes(memoryview(orjson.dumps(rec))))  # a compact copy: orjson over-allocates
        grouped = by_day(days, c["t"][order] // DAY_S, lines)
    breaks = {
        MISSING_REQUIRED: dropper("purpose"),
        WRONG_TYPE: setter("occurred_at", BAD_TIMESTAMP),
        OUT_OF_RANGE: setter("occurred_at", FAR_FUTURE_TIMESTAMP),
        IMPOSSIBLE_DATE: setter("occurred_at", IMPOSSIBLE_TIMESTAMP),
        PATTERN: setter("crm_id", "C12-34"),
    }
    return Source(
        name="consent_events", fmt="jsonl", folder="consent", prefix="consent", ext="jsonl", days=days,
        records=lambda d: grouped[d], eligible=lambda d: np.ones(len(grouped[d]), bool),
        breaker=json_breaker("consent_event_id", lambda i: f"CEX{i:09d}", breaks), kinds=json_kinds(breaks),
        used=used,
    )
