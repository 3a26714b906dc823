"""Identifier values: how they are minted, how sources mangle them, how they normalize.

`IdentityBook` records every raw value a person uses, with its normalized form; the truth writer
keeps the values that really appear in the landing files. Normalization here is the sample
world's statement of what the values *mean* (the identity module may implement it differently):
emails are trimmed and lower-cased, and for gmail.com (and googlemail.com) dots and +tags in the
local part are dropped; phones become E.164 (+81...).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

NAMESPACES = ("anonymous_id", "device_id", "user_id", "crm_id", "email", "phone", "loyalty_card_id")


def normalize_email(raw: str) -> str:
    """Trim, lower-case; gmail: googlemail.com -> gmail.com, no dots, no +tag in the local part."""
    value = raw.strip().lower()
    local, _, domain = value.partition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain == "gmail.com":
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def email_variant(email: str, kind: str, rng: np.random.Generator) -> str:
    """The address as one source recorded it (the registered form is `email` itself)."""
    local, _, domain = email.partition("@")
    gmail = domain == "gmail.com"
    if kind == "upper_case":
        return (local[:1].upper() + local[1:] + "@" + domain.capitalize()) if rng.random() < 0.7 else email.upper()
    if kind == "surrounding_space":
        return (" " if rng.random() < 0.5 else "") + email + (" " if rng.random() < 0.7 else "  ")
    if kind == "gmail_dots" and gmail:
        bare = local.replace(".", "")
        if bare != local or len(bare) < 3:
            return bare + "@" + domain
        cut = int(rng.integers(1, len(bare) - 1))
        return bare[:cut] + "." + bare[cut:] + "@" + domain
    if kind == "gmail_plus_tag" and gmail:
        tag = ("shop", "kizuna", "sale", "news")[int(rng.integers(4))]
        return f"{local}+{tag}@{domain}"
    if kind == "googlemail" and gmail:
        return f"{local}@googlemail.com"
    return email


def email_typo(email: str, rng: np.random.Generator) -> str:
    """One letter of the local part changed (a different address: it bounces)."""
    local, _, domain = email.partition("@")
    letters = [i for i, ch in enumerate(local) if ch.isalpha()]
    i = letters[int(rng.integers(len(letters)))] if letters else 0
    swap = "abcdefghijklmnopqrstuvwxyz"
    new = swap[(swap.index(local[i]) + 1 + int(rng.integers(24))) % 26] if local[i] in swap else "x"
    return local[:i] + new + local[i + 1 :] + "@" + domain


def phone_format(national: str, kind: str) -> str:
    """A mobile number (11 digits, 0X0...) as written: dashed, plain or international."""
    if kind == "dashed":
        return f"{national[:3]}-{national[3:7]}-{national[7:]}"
    if kind == "international":
        return f"+81 {national[1:3]} {national[3:7]} {national[7:]}"
    return national


def normalize_phone(raw: str) -> str:
    """E.164 for a Japanese number in any of the formats above."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("81"):
        return "+" + digits
    return "+81" + digits[1:]


def uuid4_strings(rng: np.random.Generator, n: int, upper: bool = False) -> list[str]:
    """n random RFC 4122 version-4 UUIDs (deterministic for the generator's state)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    if upper:
        h = h.upper()
    # One hex string sliced 32 characters at a time: fast enough for a million ids.
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high), in random order."""
    picked: set[int] = set()
    out = np.empty(n, np.int64)
    filled = 0
    while filled < n:
        for v in rng.integers(low, high, 2 * (n - filled) + 8).tolist():
            if v not in picked:
                picked.add(v)
                out[filled] = v
                filled += 1
                if filled == n:
                    break
    return out


@dataclass
class IdentityBook:
    """Every (person, namespace, raw value) minted, with normalized form and notes."""

    rows: dict[tuple[int, str, str], tuple[str, str]] = field(default_factory=dict)
    shared_values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, person: int, namespace: str, raw: str, normalized: str | None = None, note: str = "") -> str:
        """Record that `person` uses `raw` in `namespace`; returns `raw` for chaining."""
        key = (int(person), namespace, raw)
        if key not in self.rows:
            self.rows[key] = (normalized if normalized is not None else raw, note)
        return raw

    def add_email(self, person: int, raw: str, note: str = "") -> str:
        return self.add(person, "email", raw, normalize_email(raw), note)

    def add_phone(self, person: int, raw: str, note: str = "") -> str:
        return self.add(person, "phone", raw, normalize_phone(raw), note)

    def mark_shared(self, namespace: str, raw: str) -> None:
        """A value several persons use (a family tablet, an info@ address): never a merge key."""
        self.shared_values[namespace].add(raw)

    def is_shared(self, namespace: str, raw: str) -> bool:
        return raw in self.shared_values.get(namespace, ())
