"""The persons of the world: who they are, how they behave on average, and what ids they carry.

Person-level identifiers (user id, CRM ids, email, phone, loyalty card) are minted here with every
raw variant a source may record; device-level ones (cookies, app device ids) live in `devices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.identifiers import (
    IdentityBook,
    email_typo,
    email_variant,
    normalize_email,
    phone_format,
    unique_numbers,
)
from kizuna.sample_world.names import (
    COMPANY_DOMAINS,
    EMAIL_DOMAINS,
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    PREFECTURES,
)

# name, share of persons, sessions/day while considering, purchase frequency, category weights
# (in CATEGORIES order), share of sessions in the app when the app is installed, price sensitivity
PERSONAS: tuple[tuple[str, float, float, float, tuple[float, ...], float, float], ...] = (
    ("trend_follower", 0.12, 0.30, 1.4, (6, 3, 2, 2, 1, 0.5, 0.2, 0.5), 0.6, 0.3),
    ("bargain_hunter", 0.15, 0.22, 1.0, (3, 2, 1, 1, 2, 2, 1, 0.5), 0.5, 0.9),
    ("family_shopper", 0.15, 0.16, 1.1, (1.5, 1, 0.5, 0.5, 1, 3, 5, 0.5), 0.7, 0.6),
    ("beauty_regular", 0.10, 0.18, 1.6, (1, 0.5, 0.5, 1, 6, 1.5, 0.2, 0.2), 0.6, 0.4),
    ("outdoor_enthusiast", 0.08, 0.15, 0.7, (1, 2, 1, 0.5, 0.3, 0.5, 0.3, 6), 0.4, 0.2),
    ("occasional_browser", 0.22, 0.08, 0.5, (2, 1, 1, 1, 1, 1, 1, 1), 0.3, 0.5),
    ("store_loyalist", rates.STORE_ONLY_SHARE, 0.0, 1.0, (3, 1, 1, 1, 2, 2, 1, 0.5), 0.0, 0.4),
    ("omni_regular", 0.05, 0.25, 1.5, (3, 2, 1, 1, 2, 1, 1, 1), 0.5, 0.4),
)
PERSONA_NAMES = tuple(p[0] for p in PERSONAS)
STORE_ONLY_PERSONA = PERSONA_NAMES.index("store_loyalist")
OMNI_PERSONA = PERSONA_NAMES.index("omni_regular")
GENDERS = ("female", "male", "other")

RESERVED_CRM_FROM = 9_900_000  # crm ids at or above this are only used by broken copies


@dataclass
class People:
    """One entry per person in every array; lists hold strings, None where a person has none."""

    n: int
    person_id: list[str]
    persona: np.ndarray
    gender: np.ndarray
    family: np.ndarray  # index into FAMILY_NAMES
    given: np.ndarray  # index into FEMALE_NAMES or MALE_NAMES (by given_male)
    given_male: np.ndarray
    birth_date: list[str]
    prefecture: np.ndarray  # index into PREFECTURES
    postcode: list[str]  # 7 digits, no hyphen
    is_store_only: np.ndarray
    has_card: np.ndarray
    card_linked: np.ndarray  # card id recorded on the CRM contact
    pre_registered: np.ndarray
    english: np.ndarray
    activity: np.ndarray  # sessions per day while considering (before stage multipliers)
    propensity: np.ndarray  # purchase propensity multiplier
    price_sensitivity: np.ndarray
    affinity: np.ndarray  # n x len(CATEGORIES), rows sum to 1
    app_share: np.ndarray  # share of sessions in the app (if installed)
    competitor_day: np.ndarray  # day a competitor lures the person away (-1: never)
    home_store: np.ndarray
    household: np.ndarray  # shared-tablet household number, -1 if none
    info_group: np.ndarray  # shared info@ group number, -1 if none
    email: list[str | None]  # registered form (what the person typed at sign-up)
    email_variants: list[list[str]]  # raw forms sources may record, first = registered
    phone: list[str | None]  # national form 0X0XXXXXXXX
    phone_variants: list[list[str]]
    user_id: list[str | None]
    crm_id: list[str | None]
    crm_dup_id: list[str | None]  # a second CRM record with typos
    crm_dup_email: list[str | None]
    card_id: list[str | None]

    def names(self, i: int) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        """((family kanji, kana, romaji), (given kanji, kana, romaji)) of person i."""
        table = MALE_NAMES if self.given_male[i] else FEMALE_NAMES
        return FAMILY_NAMES[int(self.family[i])], table[int(self.given[i])]


def _email_local(rng: np.random.Generator, family: str, given: str, year: int) -> str:
    f, g = family.lower(), given.lower()
    style = int(rng.integers(6))
    if style == 0:
        return f"{g}.{f}"
    if style == 1:
        return f"{f}.{g}"
    if style == 2:
        return f"{g[0]}{f}{year % 100:02d}"
    if style == 3:
        return f"{f}_{g}{int(rng.integers(1, 99))}"
    if style == 4:
        return f"{g}{f[:3]}{int(rng.integers(100, 999))}"
    return f"{g}.{f}.{year}"


def build_people(rng: np.random.Generator, n: int, days: int, start: date, book: IdentityBook) -> People:
    """Draw n persons with their traits, ids and every raw form of their email and phone."""
    shares = np.array([p[1] for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())
    is_store_only = persona == STORE_ONLY_PERSONA
    g = rng.random(n)
    gender = np.where(g < 0.62, 0, np.where(g < 0.99, 1, 2))
    given_male = np.where(gender == 2, rng.random(n) < 0.5, gender == 1)
    family = rng.integers(len(FAMILY_NAMES), size=n)
    given = np.where(given_male, rng.integers(len(MALE_NAMES), size=n), rng.integers(len(FEMALE_NAMES), size=n))
    age_days = (np.clip(rng.normal(40, 12, n), 18, 80) * 365.25).astype(np.int64)
    birth = [(start - timedelta(days=int(a))).isoformat() for a in age_days]
    weights = np.array([p[2] for p in PREFECTURES])
    pref = rng.choice(len(PREFECTURES), size=n, p=weights / weights.sum())
    postcode = []
    for i in range(n):
        lo, hi = PREFECTURES[int(pref[i])][1]
        postcode.append(f"{int(rng.integers(lo, hi + 1)):03d}{int(rng.integers(0, 10000)):04d}")

    # Behaviour: a skewed activity level, with purchase propensity correlated to it.
    z = rng.normal(size=n)
    base_activity = np.array([p[2] for p in PERSONAS])[persona]
    activity = base_activity * np.exp(0.95 * z - 0.45)
    propensity = np.array([p[3] for p in PERSONAS])[persona] * np.exp(0.6 * z + 0.55 * rng.normal(size=n) - 0.35)
    price_sensitivity = np.clip(np.array([p[6] for p in PERSONAS])[persona] + rng.normal(0, 0.15, n), 0, 1)
    cat_w = np.array([p[4] for p in PERSONAS], float)[persona]
    affinity = rng.gamma(cat_w * 2.0, 1.0)
    affinity /= affinity.sum(axis=1, keepdims=True)
    app_share = np.array([p[5] for p in PERSONAS])[persona]

    online = ~is_store_only
    has_card = is_store_only | (persona == OMNI_PERSONA) | (online & (rng.random(n) < rates.OMNI_CARD_SHARE))
    card_linked = has_card & online & (rng.random(n) < rates.CARD_LINKED_IN_CRM_RATE)
    pre_registered = online & (rng.random(n) < rates.PRE_REGISTERED_SHARE)
    english = rng.random(n) < rates.ENGLISH_SPEAKER_SHARE
    competitor_day = np.where(rng.random(n) < rates.COMPETITOR_SHARE, rng.integers(0, max(days, 1), n), -1)
    home_store = rng.integers(0, 30, n)

    household = np.full(n, -1)
    n_households = max(2, round(n * rates.SHARED_TABLET_HOUSEHOLDS_PER_10K / 10_000))
    candidates = np.flatnonzero(online)
    if len(candidates) >= 2 * n_households:
        members = rng.choice(candidates, size=2 * n_households, replace=False)
        household[members] = np.repeat(np.arange(n_households), 2)
        # Family members live together, both hold accounts (so both can log in on the tablet),
        # and shop for the family regularly.
        pre_registered[members] = True
        persona[members] = PERSONA_NAMES.index("family_shopper")
        activity[members] = np.maximum(activity[members], 0.8)
        app_share[members] = 0.6
        for h in range(n_households):
            a, b = members[2 * h], members[2 * h + 1]
            family[b], pref[b], postcode[b] = family[a], pref[a], postcode[a]
    info_group = np.full(n, -1)
    n_groups = max(1, round(n * rates.SHARED_INFO_GROUPS_PER_10K / 10_000))
    free = np.flatnonzero(online & (household < 0))
    sizes = rng.integers(2, 5, n_groups)
    if len(free) >= sizes.sum():
        members = rng.choice(free, size=int(sizes.sum()), replace=False)
        info_group[members] = np.repeat(np.arange(n_groups), sizes)
        pre_registered[members] = True

    # Ids: distinct random numbers so that no id gives away the order persons were drawn in.
    user_num = unique_numbers(rng, n, 10_000_000, 99_999_999)
    crm_num = unique_numbers(rng, 2 * n, 1_000_000, RESERVED_CRM_FROM)
    card_num = unique_numbers(rng, n, 1_000_000_000, 9_000_000_000)
    domains = [d for d, _ in EMAIL_DOMAINS]
    dom_w = np.array([w for _, w in EMAIL_DOMAINS])
    dom = rng.choice(len(domains), size=n, p=dom_w / dom_w.sum())
    has_phone = rng.random(n) < 0.85
    store_email = rng.random(n) < rates.STORE_ONLY_EMAIL_RATE
    crm_dup = online & (rng.random(n) < rates.CRM_DUPLICATE_RATE) & (info_group < 0)

    seen_emails: set[str] = set()
    seen_phones: set[str] = set()
    email: list[str | None] = []
    email_variants: list[list[str]] = []
    phone: list[str | None] = []
    phone_variants: list[list[str]] = []
    user_id: list[str | None] = []
    crm_id: list[str | None] = []
    crm_dup_id: list[str | None] = []
    crm_dup_email: list[str | None] = []
    card_id: list[str | None] = []
    variant_kinds = list(rates.EMAIL_VARIANT_SHARES)
    for i in range(n):
        fam = FAMILY_NAMES[int(family[i])][2]
        giv = (MALE_NAMES if given_male[i] else FEMALE_NAMES)[int(given[i])][2]
        if info_group[i] >= 0:
            addr = f"info@{COMPANY_DOMAINS[int(info_group[i]) % len(COMPANY_DOMAINS)]}"
            if info_group[i] >= len(COMPANY_DOMAINS):
                addr = addr.replace("info@", f"info{int(info_group[i]) // len(COMPANY_DOMAINS)}@")
        elif online[i] or store_email[i]:
            year = int(birth[i][:4])
            addr = ""
            # Unique as a mailbox, not just as a string (gmail ignores dots).
            while not addr or normalize_email(addr) in seen_emails:
                local = _email_local(rng, fam, giv, year)
                if addr:
                    local += str(int(rng.integers(2, 99)))
                addr = f"{local}@{domains[int(dom[i])]}"
            seen_emails.add(normalize_email(addr))
        else:
            addr = None
        email.append(addr)
        if addr is None:
            email_variants.append([])
        else:
            # One raw form per variant kind, in the order of rates.EMAIL_VARIANT_SHARES; kinds that
            # do not apply (gmail-only ones elsewhere) repeat the registered form.
            variants = [addr] + [email_variant(addr, kind, rng) for kind in variant_kinds[1:]]
            email_variants.append(variants)
            note = "shared" if info_group[i] >= 0 else ""
            for v in variants:
                book.add_email(i, v, note)
                if info_group[i] >= 0:
                    book.mark_shared("email", v)
        if has_phone[i]:
            national = ""
            while not national or national in seen_phones:
                national = f"0{int(rng.choice([70, 80, 90]))}{int(rng.integers(10_000_000, 99_999_999)):08d}"
            seen_phones.add(national)
            phone.append(national)
            forms = [phone_format(national, k) for k in rates.PHONE_FORMAT_SHARES]
            phone_variants.append(forms)
            for f in forms:
                book.add_phone(i, f)
        else:
            phone.append(None)
            phone_variants.append([])
        if online[i]:
            user_id.append(book.add(i, "user_id", f"U{int(user_num[i]):08d}"))
            crm_id.append(book.add(i, "crm_id", f"C{int(crm_num[i]):07d}"))
        else:
            user_id.append(None)
            crm_id.append(None)
        if crm_dup[i]:
            crm_dup_id.append(book.add(i, "crm_id", f"C{int(crm_num[n + i]):07d}", note="duplicate_record"))
            typo = email_typo(addr, rng) if addr and rng.random() < rates.CRM_DUPLICATE_FLAWS["email_typo"] else addr
            if typo and typo != addr:
                book.add_email(i, typo, "typo")
            crm_dup_email.append(typo)
        else:
            crm_dup_id.append(None)
            crm_dup_email.append(None)
        card_id.append(book.add(i, "loyalty_card_id", f"L{int(card_num[i]):010d}") if has_card[i] else None)

    return People(
        n=n, person_id=[f"PS{i + 1:06d}" for i in range(n)], persona=persona, gender=gender,
        family=family, given=given, given_male=given_male, birth_date=birth, prefecture=pref,
        postcode=postcode, is_store_only=is_store_only, has_card=has_card, card_linked=card_linked,
        pre_registered=pre_registered, english=english, activity=activity, propensity=propensity,
        price_sensitivity=price_sensitivity, affinity=affinity, app_share=app_share,
        competitor_day=competitor_day, home_store=home_store, household=household,
        info_group=info_group, email=email, email_variants=email_variants, phone=phone,
        phone_variants=phone_variants, user_id=user_id, crm_id=crm_id, crm_dup_id=crm_dup_id,
        crm_dup_email=crm_dup_email, card_id=card_id,
    )


EMAIL_KIND_P = np.array(list(rates.EMAIL_VARIANT_SHARES.values()))
PHONE_KIND_P = np.array(list(rates.PHONE_FORMAT_SHARES.values()))


def pick_email(people: People, person: int, kind: int) -> str | None:
    """The raw form of a person's email for a variant kind drawn from EMAIL_KIND_P."""
    variants = people.email_variants[person]
    return variants[kind] if variants else None


def pick_phone(people: People, person: int, kind: int) -> str | None:
    """The raw form of a person's phone for a format drawn from PHONE_KIND_P."""
    variants = people.phone_variants[person]
    return variants[kind] if variants else None


