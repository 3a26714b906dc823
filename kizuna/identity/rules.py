"""Load `config/identity.yml` into `IdentityRules`; every error names the file and the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kizuna.identity.normalize import EmailRules

KNOWN_KEYS = {"namespaces", "allow_multiple_when", "shared_guard", "email", "phone", "probabilistic", "overrides"}


class IdentityConfigError(ValueError):
    """A problem in the identity rules file, naming the file and the key."""


@dataclass(frozen=True)
class Namespace:
    name: str
    priority: int
    max_per_person: int | None = None
    hashed: bool = False


@dataclass(frozen=True)
class MultipleRule:
    """When several values of a limited namespace may belong to one person."""

    attributes: tuple[str, ...]
    min_agreeing: int = 1

    def agree(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        """Whether two records' attributes allow one person: every attribute present on both sides
        is equal, and at least `min_agreeing` of them are."""
        agreeing = 0
        for name in self.attributes:
            x, y = a.get(name), b.get(name)
            if pd.isna(x) or pd.isna(y):
                continue
            if x != y:
                return False
            agreeing += 1
        return agreeing >= self.min_agreeing


@dataclass(frozen=True)
class Override:
    kind: str  # force_merge, never_merge, unmerge
    a: tuple[str, str]
    b: tuple[str, str] | None
    reason: str


@dataclass(frozen=True)
class IdentityRules:
    namespaces: dict[str, Namespace]
    allow_multiple_when: dict[str, MultipleRule] = field(default_factory=dict)
    guarded: frozenset[str] = frozenset()
    email: EmailRules = field(default_factory=EmailRules)
    phone_region: str = "JP"
    min_match_weight: float = 8.0
    overrides: tuple[Override, ...] = ()
    source: str = "<defaults>"

    def priority(self, namespace: str) -> int:
        """Smaller is stronger; unknown namespaces rank last."""
        ns = self.namespaces.get(namespace)
        return ns.priority if ns else 10_000

    @property
    def limited(self) -> dict[str, int]:
        return {n.name: n.max_per_person for n in self.namespaces.values() if n.max_per_person is not None}

    def of_kind(self, kind: str) -> list[Override]:
        return [o for o in self.overrides if o.kind == kind]


def default_path() -> Path:
    from kizuna.settings import project_root

    return project_root() / "config" / "identity.yml"


def _fail(path: str, key: str, message: str) -> IdentityConfigError:
    return IdentityConfigError(f"{path}: {key}: {message}")


def _mapping(raw: Any, path: str, key: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, key, f"expected a mapping, got {type(raw).__name__}")
    return raw


def _strings(raw: Any, path: str, key: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise _fail(path, key, "expected a list of strings")
    return raw


def _identifier(raw: Any, path: str, key: str, namespaces: dict[str, Namespace]) -> tuple[str, str]:
    if not isinstance(raw, str) or ":" not in raw:
        raise _fail(path, key, f"expected 'namespace:value', got {raw!r}")
    ns, value = raw.split(":", 1)
    if ns not in namespaces:
        raise _fail(path, key, f"unknown namespace {ns!r} (known: {', '.join(namespaces)})")
    return ns, value


def _namespaces(raw: Any, path: str) -> dict[str, Namespace]:
    raw = _mapping(raw, path, "namespaces")
    if not raw:
        raise _fail(path, "namespaces", "at least one namespace is required")
    out = {}
    for name, spec in raw.items():
        key = f"namespaces.{name}"
        spec = _mapping(spec, path, key)
        unknown = set(spec) - {"priority", "max_per_person", "hashed"}
        if unknown:
            raise _fail(path, f"{key}.{sorted(unknown)[0]}", "unknown key")
        priority = spec.get("priority")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise _fail(path, f"{key}.priority", f"expected an integer, got {priority!r}")
        limit = spec.get("max_per_person")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise _fail(path, f"{key}.max_per_person", f"expected a positive integer, got {limit!r}")
        out[name] = Namespace(name, priority, limit, bool(spec.get("hashed", False)))
    priorities = [n.priority for n in out.values()]
    if len(set(priorities)) != len(priorities):
        raise _fail(path, "namespaces", "two namespaces share a priority")
    return out


def _overrides(raw: Any, path: str, namespaces: dict[str, Namespace]) -> tuple[Override, ...]:
    raw = _mapping(raw, path, "overrides")
    out = []
    for kind, items in raw.items():
        if kind not in ("force_merge", "never_merge", "unmerge"):
            raise _fail(path, f"overrides.{kind}", "unknown override (force_merge, never_merge, unmerge)")
        if items is None:
            continue
        if not isinstance(items, list):
            raise _fail(path, f"overrides.{kind}", "expected a list")
        for i, item in enumerate(items):
            key = f"overrides.{kind}[{i}]"
            item = _mapping(item, path, key)
            reason = str(item.get("reason") or kind)
            if kind == "unmerge":
                out.append(Override(kind, _identifier(item.get("identifier"), path, f"{key}.identifier", namespaces),
                                    None, reason))
            else:
                out.append(Override(kind, _identifier(item.get("a"), path, f"{key}.a", namespaces),
                                    _identifier(item.get("b"), path, f"{key}.b", namespaces), reason))
    return tuple(out)


def parse_rules(raw: Any, path: str = "<dict>", *, phone_region: str | None = None) -> IdentityRules:
    """Rules from an already-parsed YAML document (tests build them from dicts)."""
    raw = _mapping(raw, path, "<top>")
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise _fail(path, sorted(unknown)[0], f"unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
    namespaces = _namespaces(raw.get("namespaces"), path)
    multiple = {}
    for ns, spec in _mapping(raw.get("allow_multiple_when"), path, "allow_multiple_when").items():
        key = f"allow_multiple_when.{ns}"
        if ns not in namespaces:
            raise _fail(path, key, f"unknown namespace {ns!r}")
        spec = _mapping(spec, path, key)
        attributes = _strings(spec.get("attributes"), path, f"{key}.attributes")
        if not attributes:
            raise _fail(path, f"{key}.attributes", "list at least one attribute")
        min_agreeing = spec.get("min_agreeing", 1)
        if not isinstance(min_agreeing, int) or not 1 <= min_agreeing <= len(attributes):
            raise _fail(path, f"{key}.min_agreeing", f"expected 1..{len(attributes)}, got {min_agreeing!r}")
        multiple[ns] = MultipleRule(tuple(attributes), min_agreeing)
    guard = _mapping(raw.get("shared_guard"), path, "shared_guard")
    guarded = _strings(guard.get("guarded"), path, "shared_guard.guarded")
    for ns in guarded:
        if ns not in namespaces:
            raise _fail(path, "shared_guard.guarded", f"unknown namespace {ns!r}")
    email = _mapping(raw.get("email"), path, "email")
    aliases = _mapping(email.get("domain_aliases", {"googlemail.com": "gmail.com"}), path, "email.domain_aliases")
    email_rules = EmailRules(
        domain_aliases={str(k).lower(): str(v).lower() for k, v in aliases.items()},
        dot_insensitive=frozenset(d.lower() for d in _strings(email.get("dot_insensitive", ["gmail.com"]), path,
                                                               "email.dot_insensitive")),
        plus_tags=frozenset(d.lower() for d in _strings(email.get("plus_tags", ["gmail.com"]), path,
                                                         "email.plus_tags")),
    )
    region = str(_mapping(raw.get("phone"), path, "phone").get("default_region") or "")
    if not region:
        if phone_region is None:
            from kizuna.settings import load_settings

            phone_region = load_settings().phone_region
        region = phone_region
    weight = _mapping(raw.get("probabilistic"), path, "probabilistic").get("min_match_weight", 8.0)
    if not isinstance(weight, int | float) or isinstance(weight, bool):
        raise _fail(path, "probabilistic.min_match_weight", f"expected a number, got {weight!r}")
    return IdentityRules(
        namespaces=namespaces,
        allow_multiple_when=multiple,
        guarded=frozenset(guarded),
        email=email_rules,
        phone_region=region,
        min_match_weight=float(weight),
        overrides=_overrides(raw.get("overrides"), path, namespaces),
        source=path,
    )


def load_rules(path: str | Path | None = None, *, phone_region: str | None = None) -> IdentityRules:
    """The rules in `path` (default: config/identity.yml of the project)."""
    path = Path(path) if path is not None else default_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IdentityConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise IdentityConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(raw, str(path), phone_region=phone_region)
