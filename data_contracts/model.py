"""The contract file format, loaded into frozen dataclasses with errors that name file and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "timestamp", "json")
FORMATS = ("jsonl", "csv", "parquet")
PII_CLASSES = ("none", "pseudonymous", "direct", "sensitive")
ON_UNKNOWN = ("quarantine", "report")
PARTITION_KINDS = ("daily", "snapshot")

_FIELD_KEYS = {
    "name", "path", "type", "required", "required_when", "enum", "on_unknown", "pattern",
    "minimum", "maximum", "max_future_hours", "pii", "labels", "description",
}
_CONTRACT_KEYS = {
    "name", "description", "owner", "format", "location", "partition", "primary_key",
    "dedup_key", "event_time", "freshness", "one_of_required", "fields",
}


class ContractError(ValueError):
    """A contract file that cannot be used, with the file and key that are wrong."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    path: str | None = None
    required: bool = False
    required_when: dict[str, str] | None = None
    enum: tuple[str, ...] | None = None
    on_unknown: str = "quarantine"
    pattern: str | None = None
    minimum: Any = None
    maximum: Any = None
    max_future_hours: float | None = None
    pii: str = "none"
    labels: tuple[str, ...] = ()
    description: str = ""

    @property
    def masked(self) -> bool:
        """Whether previews, logs and reports must mask this field's values."""
        return self.pii in ("direct", "sensitive")


@dataclass(frozen=True)
class Contract:
    name: str
    format: str
    location: str
    fields: tuple[Field, ...]
    owner: str = ""
    description: str = ""
    partition_pattern: str | None = None
    # daily: one partition per arrival day; snapshot: files carry a day but the table is not partitioned
    partition_kind: str = "snapshot"
    primary_key: tuple[str, ...] = ()
    dedup_key: tuple[str, ...] = ()
    event_time: str | None = None
    freshness: dict[str, float] = field(default_factory=dict)
    one_of_required: tuple[tuple[str, ...], ...] = ()
    source_file: str = ""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}: no field {name!r}")

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns a tabular file must have: a file without one is rejected whole."""
        return tuple(f.name for f in self.fields if f.required)

    @property
    def masked_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.masked)


def contracts_dir() -> Path:
    """The folder holding the contract YAML files (this package's folder)."""
    return Path(__file__).resolve().parent


def _fail(path: Path, where: str, message: str) -> ContractError:
    return ContractError(f"{path}: {where}: {message}")


def _field(path: Path, i: int, raw: Any) -> Field:
    where = f"fields[{i}]"
    if not isinstance(raw, dict) or "name" not in raw:
        raise _fail(path, where, "each field needs at least a name and a type")
    where = f"fields[{i}] ({raw['name']})"
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}")
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise _fail(path, where, f"type must be one of {FIELD_TYPES}, got {ftype!r}")
    pii = raw.get("pii", "none")
    if pii not in PII_CLASSES:
        raise _fail(path, where, f"pii must be one of {PII_CLASSES}, got {pii!r}")
    on_unknown = raw.get("on_unknown", "quarantine")
    if on_unknown not in ON_UNKNOWN:
        raise _fail(path, where, f"on_unknown must be one of {ON_UNKNOWN}, got {on_unknown!r}")
    enum = raw.get("enum")
    return Field(
        name=str(raw["name"]),
        type=ftype,
        path=raw.get("path"),
        required=bool(raw.get("required", False)),
        required_when={str(k): str(v) for k, v in raw["required_when"].items()}
        if raw.get("required_when")
        else None,
        enum=tuple(str(v) for v in enum) if enum is not None else None,
        on_unknown=on_unknown,
        pattern=raw.get("pattern"),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        max_future_hours=raw.get("max_future_hours"),
        pii=pii,
        labels=tuple(raw.get("labels") or ()),
        description=str(raw.get("description", "")).strip(),
    )


def load_contract(path: str | Path) -> Contract:
    """Load and check one contract file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: a contract is a mapping with name, format, location, fields")
    unknown = set(raw) - _CONTRACT_KEYS
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    for key in ("name", "format", "location", "fields"):
        if key not in raw:
            raise _fail(path, "top level", f"missing required key {key!r}")
    if raw["format"] not in FORMATS:
        raise _fail(path, "format", f"must be one of {FORMATS}, got {raw['format']!r}")
    fields = tuple(_field(path, i, f) for i, f in enumerate(raw["fields"]))
    names = [f.name for f in fields]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise _fail(path, "fields", f"duplicate field names {sorted(dupes)}")
    known = set(names)

    def _check_names(where: str, cols: Any) -> tuple[str, ...]:
        cols = tuple(cols or ())
        missing = [c for c in cols if c not in known]
        if missing:
            raise _fail(path, where, f"names fields that do not exist: {missing}")
        return cols

    for f in fields:
        if f.required_when:
            _check_names(f"fields ({f.name}).required_when", f.required_when)
    groups = tuple(
        _check_names(f"one_of_required[{i}]", g) for i, g in enumerate(raw.get("one_of_required") or ())
    )
    dedup_key = _check_names("dedup_key", raw.get("dedup_key"))
    optional = [c for c in dedup_key if not next(f for f in fields if f.name == c).required]
    if optional:
        # A record without its dedup key could never be recognised as a duplicate.
        raise _fail(path, "dedup_key", f"names fields that are not required: {optional}")
    event_time = raw.get("event_time")
    if event_time is not None:
        _check_names("event_time", [event_time])
    partition = raw.get("partition") or {}
    kind = partition.get("kind", "snapshot")
    if kind not in PARTITION_KINDS:
        raise _fail(path, "partition.kind", f"must be one of {PARTITION_KINDS}, got {kind!r}")
    contract = Contract(
        name=str(raw["name"]),
        format=raw["format"],
        location=str(raw["location"]),
        fields=fields,
        owner=str(raw.get("owner", "")),
        description=str(raw.get("description", "")).strip(),
        partition_pattern=partition.get("pattern"),
        partition_kind=kind,
        primary_key=_check_names("primary_key", raw.get("primary_key")),
        dedup_key=dedup_key,
        event_time=event_time,
        freshness=dict(raw.get("freshness") or {}),
        one_of_required=groups,
        source_file=str(path),
    )
    if path.stem != contract.name:
        raise _fail(path, "name", f"must match the file name ({path.stem!r}), got {contract.name!r}")
    return contract


def load_contracts(folder: str | Path | None = None) -> dict[str, Contract]:
    """Every contract in the folder, by name, in a stable order."""
    folder = Path(folder) if folder else contracts_dir()
    return {c.name: c for c in (load_contract(p) for p in sorted(folder.glob("*.yml")))}
