"""Fixtures of the sample-world tests: one tiny world per session, and an independent contract check.

The check here reads the YAML contracts itself and judges every landing record with a few lines
of Python (not the project's judges), so that it can disagree with them if either is wrong.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from kizuna.sample_world import generate

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = ROOT / "data_contracts"
TINY = {"customers": 200, "days": 20, "seed": 11}
START = date(2026, 5, 1)

# Contract field (or extra JSON path) -> identifier namespace of the truth.
NAMESPACE_OF = {
    "anonymous_id": "anonymous_id", "user_id": "user_id", "device_id": "device_id", "crm_id": "crm_id",
    "email": "email", "phone": "phone", "loyalty_card_id": "loyalty_card_id",
}
EXTRA_IDENTIFIER_PATHS = {"events": {"$.context.device.id": "device_id", "$.traits.email": "email",
                                     "$.traits.phone": "phone"}}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?")
INTEGER = re.compile(r"[+-]?\d{1,18}")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load_contracts() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(CONTRACTS_DIR.glob("*.yml"))}


def _path_get(obj: Any, path: str) -> Any:
    for part in path[2:].split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _text(value: Any) -> str | None:
    """A value as the judges see it: text, None when absent or empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def _instant(text: str) -> datetime | None:
    if not TIMESTAMP.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(text: str) -> date | None:
    if not DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def judge(contract: dict, values: dict[str, str | None], reference: datetime) -> tuple[list[str], list[str]]:
    """(error rules, warning rules) a record breaks, from the contract's own words."""
    errors, warnings = [], []
    for f in contract["fields"]:
        name, kind, v = f["name"], f["type"], values.get(f["name"])
        if v is None:
            when = f.get("required_when")
            if f.get("required") or (when and all(values.get(k) == w for k, w in when.items())):
                errors.append(f"required:{name}")
            continue
        typed: Any = v
        if kind == "integer":
            typed = int(v) if INTEGER.fullmatch(v) else None
        elif kind == "number":
            typed = float(v) if NUMBER.fullmatch(v) else None
        elif kind == "timestamp":
            typed = _instant(v)
        elif kind == "date":
            typed = _day(v)
        elif kind == "json":
            typed = v if v[:1] in "{[" else None
        if typed is None:
            errors.append(f"type:{name}")
            continue
        if "enum" in f and v not in [str(x) for x in f["enum"]]:
            (warnings if f.get("on_unknown") == "report" else errors).append(f"enum:{name}")
        if "pattern" in f and not re.fullmatch(f["pattern"], v):
            errors.append(f"pattern:{name}")
        for bound, bad in (("minimum", lambda a, b: a < b), ("maximum", lambda a, b: a > b)):
            if bound in f:
                limit: Any = f[bound]
                if kind == "timestamp":
                    limit = _instant(str(limit))
                elif kind == "date":
                    limit = date.fromisoformat(str(limit))
                if bad(typed, limit):
                    errors.append(f"{bound}:{name}")
        if "max_future_hours" in f:
            limit = reference + timedelta(hours=float(f["max_future_hours"]))
            late = typed > (limit if kind == "timestamp" else limit.date())
            if late:
                errors.append(f"max_future:{name}")
    for group in contract.get("one_of_required") or []:
        if all(values.get(c) is None for c in group):
            errors.append("one_of_required")
    return errors, warnings


@dataclass
class SourceScan:
    """What the independent check found in one source's files."""

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    broken: int = 0
    duplicates: int = 0
    unplanned: int = 0
    headers: dict[str, list[str]] = field(default_factory=dict)
    valid: list[dict[str, str | None]] = field(default_factory=list)  # unique valid records
    identifiers: dict[str, set[str]] = field(default_factory=dict)
    raw: list[Any] = field(default_factory=list)  # unique valid JSON objects (jsonl sources)


def _records(contract: dict, path: Path) -> tuple[list[tuple[dict | None, Any]], list[str]]:
    """(values or None when unreadable, raw object) per record, and the header (CSV/Parquet)."""
    fmt, out, header = contract["format"], [], []
    if fmt == "jsonl":
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                out.append((None, None))
                continue
            if not isinstance(obj, dict):
                out.append((None, None))
                continue
            values = {f["name"]: _text(_path_get(obj, f.get("path") or f"$.{f['name']}")) for f in contract["fields"]}
            out.append((values, obj))
    elif fmt == "csv":
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        for row in rows[1:]:
            if len(row) != len(header):
                out.append((None, None))
                continue
            values = {f["name"]: None for f in contract["fields"]}
            values.update({h: (v if v != "" else None) for h, v in zip(header, row, strict=True)})
            out.append((values, None))
    else:
        table = pq.read_table(path)
        header = table.column_names
        for row in table.to_pylist():
            out.append(({f["name"]: _text(row.get(f["name"])) for f in contract["fields"]}, None))
    return out, header


def scan_source(contract: dict, landing: Path, reference: datetime) -> SourceScan:
    """Judge every record of a source's files, in file (arrival day) order."""
    folder, pattern = contract["location"].split("/")
    scan = SourceScan(files=sorted((landing / folder).glob(pattern)))
    seen: set[tuple] = set()
    extra_paths = EXTRA_IDENTIFIER_PATHS.get(contract["name"], {})
    for path in scan.files:
        records, header = _records(contract, path)
        scan.headers[path.name] = header
        for values, obj in records:
            scan.lines += 1
            if values is None or judge(contract, values, reference)[0]:
                scan.broken += 1
                continue
            key = tuple(values.get(k) for k in contract["dedup_key"])
            if key in seen:
                scan.duplicates += 1
                continue
            seen.add(key)
            if judge(contract, values, reference)[1]:
                scan.unplanned += 1
            scan.valid.append(values)
            if obj is not None:
                scan.raw.append(obj)
            for name, ns in NAMESPACE_OF.items():
                if values.get(name) is not None:
                    scan.identifiers.setdefault(ns, set()).add(values[name])
            for p, ns in extra_paths.items():
                v = _path_get(obj, p) if obj is not None else None
                if v:
                    scan.identifiers.setdefault(ns, set()).add(v)
    return scan


@pytest.fixture(scope="session")
def tiny() -> dict[str, Any]:
    """The arguments of the shared tiny world."""
    return {**TINY, "start": START}


@pytest.fixture(scope="session")
def contracts() -> dict[str, dict]:
    return load_contracts()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A tiny world (200 customers x 20 days) shared by the tests of this folder."""
    root = tmp_path_factory.mktemp("sample_world")
    summary = generate(**TINY, landing=root / "landing", truth=root / "truth", start=START)
    mess = json.loads((root / "truth" / "mess.json").read_text(encoding="utf-8"))
    return SimpleNamespace(root=root, landing=root / "landing", truth=root / "truth", summary=summary, mess=mess)


@pytest.fixture(scope="session")
def scans(world: SimpleNamespace, contracts: dict[str, dict]) -> dict[str, SourceScan]:
    # Reference time for max_future: the end of the last arrival day (a load right after it).
    reference = datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(days=TINY["days"] + 1)
    return {name: scan_source(c, world.landing, reference) for name, c in contracts.items()}
