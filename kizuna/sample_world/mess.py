"""Landing mess that the ingest must catch: broken records and exact duplicates, counted exactly.

A broken record is an extra copy of a real record, given a fresh key and then broken in one way
that the contract quarantines (so it can never be mistaken for a duplicate, and the real record
stays intact for the truth). A duplicate is an exact copy of a valid, planned record, placed
after it in the same file or in one of the next two files. The plan is drawn for the whole
window first, then each day's file is materialized in order, so memory stays per day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizuna.sample_world import rates

# The kinds of broken record, as named in mess.json.
UNPARSEABLE = "unparseable_json"
WRONG_FIELD_COUNT = "wrong_field_count"
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
OUT_OF_RANGE = "out_of_range"
IMPOSSIBLE_DATE = "impossible_date"
PATTERN = "pattern_violation"
DUP_LAG_P = (0.6, 0.3, 0.1)  # same file, next file, the file after


@dataclass
class MessCount:
    """What was injected into one source."""

    broken_kinds: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    lines_written: int = 0
    unplanned: int = 0


Breaker = Callable[[Any, str, np.random.Generator, int], Any]


@dataclass
class MessPlan:
    """Which records of which days are copied (duplicates) or copied and broken, and where."""

    source: str
    kinds: tuple[str, ...]
    dups: dict[int, list[tuple[int, int]]]  # target day -> [(source day, index in source day)]
    broken: dict[int, list[tuple[int, str]]]  # day -> [(index in day, kind)]

    @staticmethod
    def draw(source: str, eligible_by_day: list[np.ndarray], kinds: tuple[str, ...],
             rng: np.random.Generator, file_days: tuple[int, ...]) -> MessPlan:
        """Pick duplicates and broken copies for a source, given per-day eligibility masks.

        A re-send lands in the same file as its original or in one of the next two files.
        """
        position = {d: j for j, d in enumerate(file_days)}
        idx = [np.flatnonzero(mask) for mask in eligible_by_day]
        pool_day = np.concatenate([np.full(len(x), d) for d, x in enumerate(idx)]) if idx else np.zeros(0, int)
        pool_idx = np.concatenate(idx) if idx else np.zeros(0, int)
        total = len(pool_idx)
        n_dup = rng.binomial(total, rates.DUPLICATE_RATE[source]) if total else 0
        n_broken = rng.binomial(total, rates.BROKEN_RATE[source]) if total else 0
        if total >= rates.MIN_MESS_RECORDS:
            n_dup, n_broken = max(n_dup, 1), max(n_broken, 1)
        dups: dict[int, list[tuple[int, int]]] = defaultdict(list)
        broken: dict[int, list[tuple[int, str]]] = defaultdict(list)
        if n_dup:
            for j in rng.choice(total, size=n_dup, replace=False).tolist():
                d, i = int(pool_day[j]), int(pool_idx[j])
                lag = int(rng.choice(3, p=DUP_LAG_P))
                dups[file_days[min(position[d] + lag, len(file_days) - 1)]].append((d, i))
        if n_broken:
            for j, k in zip(rng.choice(total, size=n_broken, replace=False).tolist(),
                            rng.integers(0, len(kinds), n_broken).tolist(), strict=True):
                d, i = int(pool_day[j]), int(pool_idx[j])
                broken[d].append((i, kinds[k]))
        return MessPlan(source, kinds, dups, broken)


class Materializer:
    """Applies a plan day by day (days must come in order) and counts what it wrote."""

    def __init__(self, plan: MessPlan, breaker: Breaker, copy: Callable[[Any], Any], rng: np.random.Generator):
        self.plan = plan
        self.breaker = breaker
        self.copy = copy
        self.rng = rng
        self.pending: dict[int, list[Any]] = defaultdict(list)
        self.count = MessCount(broken_kinds={k: 0 for k in plan.kinds})
        self.serial = 0
        # Re-sends bound for a later file, indexed by the day of their original.
        self.later: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for target, items in plan.dups.items():
            for src_day, i in items:
                if target > src_day:
                    self.later[src_day].append((target, i))

    def day(self, d: int, records: list[Any], unplanned: int = 0) -> list[Any]:
        """The day's file: its records plus duplicates and broken copies at their places."""
        rng = self.rng
        n = len(records)
        keyed: list[tuple[float, int, Any]] = [(float(i), 0, r) for i, r in enumerate(records)]
        for src_day, i in self.plan.dups.get(d, []):
            if src_day == d:
                # A retry right after the original, or a little later in the same file.
                keyed.append((i + 0.5 + rng.random() * min(5, n - i - 0.5) / 10, 1, self.copy(records[i])))
        for target, i in self.later.pop(d, []):
            self.pending[target].append(self.copy(records[i]))
        for rec in self.pending.pop(d, []):
            keyed.append((rng.random() * max(n, 1), 1, rec))
        for i, kind in self.plan.broken.get(d, []):
            self.serial += 1
            keyed.append((rng.random() * max(n, 1), 2, self.breaker(records[i], kind, rng, self.serial)))
            self.count.broken_kinds[kind] += 1
        self.count.duplicates += sum(1 for k in keyed if k[1] == 1)
        keyed.sort(key=lambda x: (x[0], x[1]))
        out = [r for _, _, r in keyed]
        self.count.lines_written += len(out)
        self.count.unplanned += unplanned
        return out

    @property
    def broken(self) -> int:
        return sum(self.count.broken_kinds.values())
