"""Accounts and records about persons: CRM contacts (with versions and duplicates), loyalty
sign-ups, and the consent choices made when they are created.

CRM contacts are few (one or two per person plus a handful of updates), so they are kept as
Python dicts, one per version; `sources.crm` writes them.
"""

from __future__ import annotations

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.clock import DAY_S
from kizuna.sample_world.names import PREFECTURES
from kizuna.sample_world.people import EMAIL_KIND_P, PHONE_KIND_P
from kizuna.sample_world.state import State

PURPOSES = ("analytics", "personalization", "email_marketing", "advertising", "sms_marketing", "data_sharing")
CONSENT_SOURCES = ("web_banner", "app", "crm", "store", "email_unsubscribe", "contact_centre")
GENDER_CRM = ("female", "male", "other")
CRM_UPDATE_DAILY = 0.0015


def consent(s: State, persons: np.ndarray, t: np.ndarray, purpose: str, granted: np.ndarray, source: str,
            anon: np.ndarray | None = None) -> None:
    """Log consent events (the writer picks the identifiers each source knows)."""
    k = len(persons)
    if k == 0:
        return
    s.logs["consent"].add(person=persons, t=t, purpose=np.full(k, PURPOSES.index(purpose)),
                          granted=np.asarray(granted, bool), source=np.full(k, CONSENT_SOURCES.index(source)),
                          anon=anon if anon is not None else np.full(k, -1))


def setup(s: State) -> None:
    """Contacts and loyalty members that exist before the window opens (the day-0 exports)."""
    p, rng, n = s.people, s.rng, s.n
    s.crm_email_kind = rng.choice(len(EMAIL_KIND_P), size=n, p=EMAIL_KIND_P)
    s.crm_phone_kind = rng.choice(len(PHONE_KIND_P), size=n, p=PHONE_KIND_P)
    s.card_email_kind = rng.choice(len(EMAIL_KIND_P), size=n, p=EMAIL_KIND_P)
    s.card_gives_email = np.array([e is not None for e in p.email]) & (
        p.is_store_only | (rng.random(n) < 0.3))
    s.contacts = {}  # person -> current field dict of the primary contact
    s.crm_versions = []  # (crm_id, person, created_t, updated_t, fields)
    s.crm_counts = {"duplicate_records": 0, "swapped_kana": 0, "email_typo": 0, "missing_phone": 0}
    # Card holders: most signed up before the window; the rest sign up at their first store visit.
    pre_card = p.has_card & (rng.random(n) < np.where(p.is_store_only, 0.6, 0.7))
    for i in np.flatnonzero(pre_card).tolist():
        sign_card(s, i, -int(rng.integers(1, 1500)) * DAY_S + int(rng.integers(10, 20)) * 3600,
                  int(p.home_store[i]))
    for i in np.flatnonzero(s.registered).tolist():
        created = -int(rng.integers(2, 2500)) * DAY_S + int(rng.integers(0, DAY_S))
        create_contact(s, i, created)
        if rng.random() < 0.5:
            # The contact was edited since it was created (still before the window opens).
            updated = created + int(rng.integers(1, -created))
            _version(s, i, updated)
    dup = np.flatnonzero(s.registered & np.array([x is not None for x in p.crm_dup_id]) & (rng.random(n) < 0.5))
    for i in dup.tolist():
        create_duplicate(s, i, -int(rng.integers(1, 900)) * DAY_S)


def _contact_fields(s: State, i: int) -> dict[str, str]:
    p, rng = s.people, s.rng
    fam, giv = p.names(i)
    email = p.email_variants[i][int(s.crm_email_kind[i])] if p.email_variants[i] else ""
    phone = p.phone_variants[i][int(s.crm_phone_kind[i])] if p.phone_variants[i] and rng.random() < 0.85 else ""
    postcode = p.postcode[i]
    return {
        "last_name": fam[0], "first_name": giv[0], "last_name_kana": fam[1], "first_name_kana": giv[1],
        "email": email, "phone": phone,
        "birth_date": p.birth_date[i] if rng.random() < 0.8 else "",
        "gender": GENDER_CRM[int(p.gender[i])] if rng.random() < 0.85 else "unknown",
        "postcode": postcode[:3] + "-" + postcode[3:] if rng.random() < 0.6 else postcode,
        "prefecture": PREFECTURES[int(p.prefecture[i])][0],
        "loyalty_card_id": p.card_id[i] if (p.card_linked[i] and s.card_signed[i]) else "",
    }


def create_contact(s: State, i: int, t: int) -> None:
    """A new primary CRM contact (registration on the web/app, or before the window)."""
    fields = _contact_fields(s, i)
    s.contacts[i] = {"created": t, "fields": fields}
    s.crm_versions.append((s.people.crm_id[i], i, t, t, dict(fields)))


def _version(s: State, i: int, t: int, **changes: str) -> None:
    contact = s.contacts[i]
    contact["fields"].update(changes)
    s.crm_versions.append((s.people.crm_id[i], i, contact["created"], t, dict(contact["fields"])))


def create_duplicate(s: State, i: int, t: int) -> None:
    """A second contact for the same person, entered by hand with typos."""
    p, rng = s.people, s.rng
    fields = _contact_fields(s, i)
    s.crm_counts["duplicate_records"] += 1
    if rng.random() < rates.CRM_DUPLICATE_FLAWS["swapped_kana"]:
        fields["last_name_kana"], fields["first_name_kana"] = fields["first_name_kana"], fields["last_name_kana"]
        s.crm_counts["swapped_kana"] += 1
    if p.crm_dup_email[i] is not None:
        fields["email"] = p.crm_dup_email[i]
        if p.crm_dup_email[i] != p.email[i]:
            s.crm_counts["email_typo"] += 1
    if rng.random() < rates.CRM_DUPLICATE_FLAWS["missing_phone"] or not fields["phone"]:
        fields["phone"] = ""
        s.crm_counts["missing_phone"] += 1
    if rng.random() < 0.5:
        fields["birth_date"] = ""
    fields["loyalty_card_id"] = ""
    s.crm_versions.append((p.crm_dup_id[i], i, t, t, fields))
    s.dup_created[i] = True


def register(s: State, persons: np.ndarray, t: np.ndarray, d: int) -> None:
    """Persons sign up on the web or in the app: user id, CRM contact, email/SMS consent."""
    if len(persons) == 0:
        return
    s.registered[persons] = True
    s.reg_day[persons] = d
    p, rng = s.people, s.rng
    for i, ti in zip(persons.tolist(), t.tolist(), strict=True):
        create_contact(s, i, int(ti))
        if p.crm_dup_id[i] is not None and not s.dup_created[i] and rng.random() < 0.5:
            s.cal.add("crm_duplicate", np.array([d + int(rng.integers(3, 60))]), person=np.array([i]))
    k = len(persons)
    consent(s, persons, t + 5, "email_marketing", s.email_ok[persons], "crm")
    sms = np.array([p.phone[i] is not None for i in persons.tolist()]) & (rng.random(k) < 0.5)
    consent(s, persons[sms], t[sms] + 6, "sms_marketing", rng.random(int(sms.sum())) < 0.4, "crm")


def sign_card(s: State, i: int, t: int, store: int) -> None:
    """A loyalty-card sign-up at a store (before the window: part of the first export)."""
    p, rng = s.people, s.rng
    s.card_signed[i] = True
    fam, giv = p.names(i)
    style = rng.random()
    if style < 0.5:
        full = fam[0] + rng.choice(["\u3000", " ", ""]) + giv[0]
    elif style < 0.75:
        full = fam[1] + " " + giv[1]
    elif style < 0.9:
        full = f"{giv[2]} {fam[2]}"
    else:
        full = f"{fam[2].upper()} {giv[2].upper()}"
    postcode = p.postcode[i]
    row = {
        "loyalty_card_id": p.card_id[i],
        "full_name": full,
        "full_name_kana": (fam[1] + " " + giv[1]) if rng.random() < 0.7 else "",
        "birth_date": p.birth_date[i] if rng.random() < 0.7 else "",
        "postcode": (postcode[:3] + "-" + postcode[3:] if rng.random() < 0.5 else postcode)
        if rng.random() < 0.8 else "",
        "email": p.email_variants[i][int(s.card_email_kind[i])] if s.card_gives_email[i] else "",
        "phone": p.phone_variants[i][int(rng.integers(3))] if p.phone_variants[i] and rng.random() < 0.5 else "",
        "store_id": s.catalog.store_id[store],
    }
    s.logs["loyalty"].add(person=np.array([i]), t=np.array([t]), row=np.array([row], dtype=object))
    if t >= 0:
        if row["email"]:
            consent(s, np.array([i]), np.array([t + 30]), "email_marketing", np.array([s.email_ok[i]]), "store")
        if p.card_linked[i] and i in s.contacts:
            # The store system pushes the card number to the CRM contact a few days later.
            s.cal.add("crm_card", np.array([t // DAY_S + int(rng.integers(1, 4))]), person=np.array([i]))


def daily(s: State, d: int) -> None:
    """Scheduled CRM work (duplicates entered, cards linked) and random contact edits."""
    rng = s.rng
    due = s.cal.pop(d, "crm_duplicate")
    if due is not None:
        for i in due["person"].tolist():
            if not s.dup_created[i]:
                create_duplicate(s, i, d * DAY_S + int(rng.integers(9 * 3600, 19 * 3600)))
    due = s.cal.pop(d, "crm_card")
    if due is not None:
        for i in np.unique(due["person"]).tolist():
            if i in s.contacts:
                _version(s, i, d * DAY_S + int(rng.integers(3600, 6 * 3600)), loyalty_card_id=s.people.card_id[i])
    regs = np.flatnonzero(s.registered & (rng.random(s.n) < CRM_UPDATE_DAILY))
    p = s.people
    for i in regs.tolist():
        if i not in s.contacts:
            continue
        f = s.contacts[i]["fields"]
        t = d * DAY_S + int(rng.integers(8 * 3600, 22 * 3600))
        if not f["phone"] and p.phone_variants[i]:
            _version(s, i, t, phone=p.phone_variants[i][int(rng.integers(3))])
        elif not f["birth_date"]:
            _version(s, i, t, birth_date=p.birth_date[i])
        elif f["gender"] == "unknown":
            _version(s, i, t, gender=GENDER_CRM[int(p.gender[i])])
        elif p.email_variants[i]:
            # The customer retypes the address in the account page (same mailbox, new spelling);
            # the email service provider syncs the new spelling.
            kind = int(rng.integers(len(p.email_variants[i])))
            s.crm_email_kind[i] = kind
            _version(s, i, t, email=p.email_variants[i][kind])
    s.counters["crm_updates"] += len(regs)

