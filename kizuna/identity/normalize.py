"""Normalize identifier values (email, phone, names) and hash them, one unique value at a time.

Every function taking a Series works on its unique values and maps the answers back, so a column of
millions of rows costs one call per distinct value (phonenumbers parsing dominates otherwise).
The email rules come from `config/identity.yml` (`email:`); the defaults below match it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import phonenumbers

# Namespaces whose normalized value is personal data: matched and activated by SHA-256 only.
HASHED_NAMESPACES = frozenset({"email", "phone"})


@dataclass(frozen=True)
class EmailRules:
    """Provider rules: which domains ignore dots, which support +tags, which are aliases."""

    domain_aliases: dict[str, str] = field(default_factory=lambda: {"googlemail.com": "gmail.com"})
    dot_insensitive: frozenset[str] = frozenset({"gmail.com"})
    plus_tags: frozenset[str] = frozenset({"gmail.com"})


DEFAULT_EMAIL_RULES = EmailRules()


def normalize_email(value: str | None, rules: EmailRules = DEFAULT_EMAIL_RULES) -> str | None:
    """Trimmed, lower-cased; provider aliases applied; dots and +tags removed where the provider
    ignores them. None for anything that is not `local@domain`."""
    if value is None or not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or " " in text:
        return None
    domain = rules.domain_aliases.get(domain, domain)
    if domain in rules.plus_tags:
        local = local.split("+", 1)[0]
    if domain in rules.dot_insensitive:
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


@lru_cache(maxsize=200_000)
def normalize_phone(value: str | None, region: str = "JP") -> str | None:
    """E.164 (+81...) via phonenumbers; None when the number is not a possible number."""
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", value), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def normalize_name(value: str | None) -> str | None:
    """NFKC (full-width letters and half-width kana folded), single spaces, trimmed."""
    if value is None or not isinstance(value, str):
        return None
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    return text or None


def name_key(value: str | None) -> str | None:
    """A comparison key insensitive to spacing, case, hiragana/katakana and name order: the
    name's parts, folded to katakana and upper case, sorted. `サカイ マサト` and `まさと さかい`
    share a key; kanji and romaji keep their own (a reading needs a dictionary)."""
    text = normalize_name(value)
    if text is None:
        return None
    parts = sorted(p.translate(_HIRAGANA_TO_KATAKANA).upper() for p in text.replace("・", " ").split())
    return "".join(parts) or None


def sha256_hex(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode("utf-8")).hexdigest()


def by_unique(values: pd.Series | Iterable, func: Callable[[str], str | None]) -> pd.Series:
    """Apply `func` once per distinct value and spread the answers back over the column."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = pd.array([func(u) for u in uniques] + [None], dtype="object")
    return pd.Series(mapped[codes], index=series.index, dtype="object")


def normalize_values(namespaces: pd.Series, values: pd.Series, *, region: str = "JP",
                     email_rules: EmailRules = DEFAULT_EMAIL_RULES) -> pd.Series:
    """The normalized value of each (namespace, raw value): email and phone by their rules, every
    other namespace trimmed (ids are case-sensitive). None where a value does not normalize."""
    out = pd.Series(None, index=values.index, dtype="object")
    is_email = (namespaces == "email").to_numpy()
    is_phone = (namespaces == "phone").to_numpy()
    other = ~(is_email | is_phone)
    if is_email.any():
        out[is_email] = by_unique(values[is_email], lambda v: normalize_email(v, email_rules)).to_numpy()
    if is_phone.any():
        out[is_phone] = by_unique(values[is_phone], lambda v: normalize_phone(v, region)).to_numpy()
    if other.any():
        stripped = values[other].astype("object").str.strip()
        out[other] = stripped.where(stripped != "", None).to_numpy()
    return out


def hash_values(namespaces: pd.Series, normalized: pd.Series) -> pd.Series:
    """SHA-256 hex of normalized email and phone values; None for other namespaces."""
    out = pd.Series(None, index=normalized.index, dtype="object")
    hashed = namespaces.isin(HASHED_NAMESPACES).to_numpy() & normalized.notna().to_numpy()
    if hashed.any():
        out[hashed] = by_unique(normalized[hashed], sha256_hex).to_numpy()
    return out
