"""What every landing source has in common: its files, its records per day, and how to break one.

A `Source` holds one list of records per arrival day (a JSON line as bytes, a CSV row as a list
of strings, or a Parquet row as a dict), which records may be copied for mess, and a breaker
that turns a copy into a record the contract must quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from kizuna.sample_world.mess import (
    IMPOSSIBLE_DATE,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    PATTERN,
    UNPARSEABLE,
    WRONG_FIELD_COUNT,
    WRONG_TYPE,
)

# Values that no judge reads as their type (see data_contracts.types): a slashed date, yen signs.
BAD_TIMESTAMP = "2026/05/03 10:00"
IMPOSSIBLE_TIMESTAMP = "2026-02-30T10:15:00Z"
FAR_FUTURE_TIMESTAMP = "2199-01-01T00:00:00Z"
IMPOSSIBLE_DATE_VALUE = "2026-02-30"


@dataclass
class Source:
    """One landing source: records per arrival day and how to mess with them."""

    name: str  # the contract's name
    fmt: str  # jsonl, csv or parquet
    folder: str
    prefix: str
    ext: str
    days: int
    records: Callable[[int], list[Any]]  # records of an arrival day
    eligible: Callable[[int], np.ndarray]  # which of them may be copied (valid, planned)
    breaker: Callable[[Any, str, np.random.Generator, int], Any]
    kinds: tuple[str, ...]
    header: Callable[[int], list[str]] | None = None  # CSV header of a day's file
    schema: Any = None  # Parquet schema
    write_days: tuple[int, ...] | None = None  # None: every day of the window
    unplanned: Callable[[int], int] = lambda d: 0
    used: dict[str, set[str]] = field(default_factory=dict)  # identifiers in valid records
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific mess counts

    def file_name(self, day_label: str) -> str:
        return f"{self.folder}/{self.prefix}-{day_label}.{self.ext}"

    def file_days(self) -> tuple[int, ...]:
        return self.write_days if self.write_days is not None else tuple(range(self.days))


def by_day(days: int, arrival: np.ndarray, rows: list[Any]) -> list[list[Any]]:
    """Group records by arrival day, keeping their order (callers sort by time first)."""
    out: list[list[Any]] = [[] for _ in range(days)]
    for a, r in zip(np.asarray(arrival).tolist(), rows, strict=True):
        out[a].append(r)
    return out


def csv_breaker(header: list[str], key: str, fresh: Callable[[int], str],
                breaks: dict[str, tuple[str, str]]) -> Callable[[list[str], str, np.random.Generator, int], list[str]]:
    """A breaker for CSV rows: fresh key, then one change per kind (column, bad value)."""
    pos = {h: i for i, h in enumerate(header)}

    def brk(row: list[str], kind: str, rng: np.random.Generator, serial: int) -> list[str]:
        row = list(row)
        row[pos[key]] = fresh(serial)
        if kind == WRONG_FIELD_COUNT:
            # One field too many or too few: exactly one bad line (no quotes or newlines added).
            return row + ["extra"] if rng.random() < 0.5 else row[:-1]
        column, value = breaks[kind]
        row[pos[column]] = value
        return row

    return brk


def csv_kinds(breaks: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    return (WRONG_FIELD_COUNT, *breaks)


def json_breaker(key: str, fresh: Callable[[int], str],
                 breaks: dict[str, Callable[[dict], None]]) -> Callable[[bytes, str, np.random.Generator, int], bytes]:
    """A breaker for JSON lines: fresh key, then one change per kind (or a truncated line)."""

    def brk(line: bytes, kind: str, rng: np.random.Generator, serial: int) -> bytes:
        obj = orjson.loads(line)
        obj[key] = fresh(serial)
        if kind == UNPARSEABLE:
            text = orjson.dumps(obj)
            # Any strict prefix of a JSON object is invalid JSON, and stays one line.
            return text[: int(rng.integers(10, len(text) - 1))]
        breaks[kind](obj)
        return orjson.dumps(obj)

    return brk


def json_kinds(breaks: dict[str, Callable[[dict], None]]) -> tuple[str, ...]:
    return (UNPARSEABLE, *breaks)


def setter(field_name: str, value: Any) -> Callable[[dict], None]:
    def apply(obj: dict) -> None:
        obj[field_name] = value

    return apply


def dropper(field_name: str) -> Callable[[dict], None]:
    def apply(obj: dict) -> None:
        obj.pop(field_name, None)

    return apply


__all__ = [
    "BAD_TIMESTAMP", "FAR_FUTURE_TIMESTAMP", "IMPOSSIBLE_DATE", "IMPOSSIBLE_DATE_VALUE", "IMPOSSIBLE_TIMESTAMP",
    "MISSING_REQUIRED", "OUT_OF_RANGE", "PATTERN", "Source", "WRONG_TYPE", "by_day", "csv_breaker", "csv_kinds",
    "dropper", "json_breaker", "json_kinds", "setter",
]
