"""Destinations: `config/destinations/*.yml`, one file per tool an audience flows to.

A destination says what it is for (`purpose`: marketing, advertising, analytics, service), which
consent purposes a person must have granted for it (default from `_purposes.yml`), which channel's
suppression lists apply, which audiences it receives, which profile fields it is sent and which
data-usage labels it may receive. Everything is checked when the file is read, so a mistake names
the file and key before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizuna.config_folder import items, read_mapping
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

FOLDER = Path("config") / "destinations"
PURPOSES_FILE = "_purposes.yml"
PURPOSES = ("marketing", "advertising", "analytics", "service")
KINDS = ("file", "crm", "webhook", "esp", "google_customer_match", "meta_custom_audiences")
CONSENTS = ("analytics", "personalization", "email_marketing", "advertising", "sms_marketing", "data_sharing")
CHANNELS = ("email", "sms", "ads", "crm", "files", "webhook")
KEYS = {"name", "description", "kind", "enabled", "purpose", "consent", "channel", "audiences", "fields",
        "require_any", "allowed_labels", "batch_size", "max_failure_share", "options"}
# Fields a kind matches people on: a member with none of them is held back, not failed.
MATCH_FIELDS = {"esp": ("email",), "google_customer_match": ("email", "phone"),
                "meta_custom_audiences": ("email", "phone")}


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    purpose: str
    consent: tuple[str, ...]  # consent purposes that must all be granted
    channel: str  # which suppression lists apply (an email unsubscribe suppresses email)
    audiences: tuple[str, ...]
    fields: tuple[str, ...]  # audience_profiles columns sent, besides person_id
    allowed_labels: frozenset[str]
    source: str
    description: str = ""
    enabled: bool = True
    batch_size: int = 500
    max_failure_share: float = 0.02
    options: Mapping[str, Any] = field(default_factory=dict)
    require_any: tuple[str, ...] = ()  # a member with none of these fields set is held back


def _names(value: Any, label: str, key: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(label, key, "expected a list of names")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise ConfigError(label, key, f"{v!r} is not one of {list(allowed)}")
    return tuple(value)


def purpose_consents(root: Path) -> dict[str, tuple[str, ...]]:
    """purpose -> the consent purposes it needs, from _purposes.yml."""
    path = root / FOLDER / PURPOSES_FILE
    label = str(FOLDER / PURPOSES_FILE)
    if not path.is_file():
        raise ConfigError(label, "(file)", "is missing: it maps each destination purpose to the consent it needs")
    purposes = read_mapping(path, label).get("purposes") or {}
    found = {}
    for purpose in PURPOSES:
        body = purposes.get(purpose)
        if not isinstance(body, Mapping) or "consent" not in body:
            raise ConfigError(label, f"purposes.{purpose}", "expected {consent: [consent purposes]}")
        found[purpose] = _names(body["consent"], label, f"purposes.{purpose}.consent", CONSENTS)
    return found


def _number(data: Mapping, key: str, default: float, label: str, low: float, high: float, integer: bool) -> Any:
    value = data.get(key, default)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise ConfigError(label, key, f"expected a {'whole ' if integer else ''}number from {low} to {high}, "
                          f"got {value!r}")
    return value


def load_destinations(root: Path | None = None) -> dict[str, Destination]:
    """Every destination of config/destinations/ (files starting with `_` are shared settings)."""
    root = root or project_root()
    folder = root / FOLDER
    if not folder.is_dir():
        return {}
    consents = purpose_consents(root)
    found: dict[str, Destination] = {}
    for label, name, data in items(root, FOLDER, KEYS, "destination"):
        for key, allowed in (("kind", KINDS), ("purpose", PURPOSES), ("channel", CHANNELS)):
            if data.get(key) not in allowed:
                raise ConfigError(label, key, f"{data.get(key)!r} is not one of {list(allowed)}")
        options = data.get("options") or {}
        if not isinstance(options, Mapping):
            raise ConfigError(label, "options", "expected a mapping")
        audiences = _names(data.get("audiences"), label, "audiences")
        if not audiences:
            raise ConfigError(label, "audiences", "list at least one audience to send")
        consent = (_names(data["consent"], label, "consent", CONSENTS) if "consent" in data
                   else consents[data["purpose"]])
        fields = _names(data.get("fields"), label, "fields")
        require_any = (_names(data["require_any"], label, "require_any") if "require_any" in data
                       else MATCH_FIELDS.get(data["kind"], ()))
        if set(require_any) - set(fields):
            raise ConfigError(label, "require_any", f"{sorted(set(require_any) - set(fields))} must be among fields")
        found[name] = Destination(
            name=name, kind=data["kind"], purpose=data["purpose"], consent=consent, channel=data["channel"],
            audiences=audiences, fields=fields, require_any=require_any,
            allowed_labels=frozenset(_names(data.get("allowed_labels"), label, "allowed_labels")),
            source=label, description=str(data.get("description") or "").strip(),
            enabled=bool(data.get("enabled", True)),
            batch_size=_number(data, "batch_size", 500, label, 1, 100_000, True),
            max_failure_share=_number(data, "max_failure_share", 0.02, label, 0, 1, False),
            options=dict(options))
    return found
