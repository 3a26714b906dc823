"""What an ingestion did, file by file: the buckets every record lands in, and what was seen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pandas as pd


@dataclass
class FileCounts:
    path: str
    partition: date | None
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    suppressed: int = 0
    warned: int = 0
    new_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    file_error: str | None = None

    @property
    def lost(self) -> int:
        return self.read - self.loaded - self.quarantined - self.deduplicated - self.suppressed


@dataclass
class IngestReport:
    """What one ingestion of one source did, file by file."""

    source: str
    batch_id: str
    files: list[FileCounts] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the ledger: not read again
    rule_counts: Counter = field(default_factory=Counter)  # quarantining rule -> records
    warning_counts: Counter = field(default_factory=Counter)  # reported rule -> records
    # rule -> records failing it among all judged records (duplicates included, whole-file rejects not):
    # what any other judge of the same batch must find too.
    judged_rule_counts: Counter = field(default_factory=Counter)
    batch: pd.DataFrame | None = None  # judged text records to check again (when asked): see _check_sample
    judged_rows: int = 0  # records judged by the SQL split
    checked_rows: int = 0  # of which in `batch`

    def total(self, bucket: str) -> int:
        return sum(getattr(f, bucket) for f in self.files)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add another ingestion of the same source (another input) to this report."""
        self.files.extend(other.files)
        self.skipped.extend(other.skipped)
        self.judged_rows += other.judged_rows
        self.checked_rows += other.checked_rows
        for mine, theirs in (
            (self.rule_counts, other.rule_counts),
            (self.warning_counts, other.warning_counts),
            (self.judged_rule_counts, other.judged_rule_counts),
        ):
            mine.update(theirs)
        frames = [f for f in (self.batch, other.batch) if f is not None and not f.empty]
        self.batch = pd.concat(frames, ignore_index=True) if frames else self.batch
        return self

    @property
    def totals(self) -> dict[str, int]:
        keys = ("read", "loaded", "quarantined", "deduplicated", "suppressed", "warned", "lost")
        return {k: self.total(k) for k in keys}

    @property
    def new_columns(self) -> list[str]:
        return sorted({c for f in self.files for c in f.new_columns})

    @property
    def rejected_files(self) -> dict[str, list[str]]:
        return {f.path: f.missing_columns for f in self.files if f.missing_columns}

    @property
    def unreadable_files(self) -> dict[str, str]:
        return {f.path: f.file_error for f in self.files if f.file_error}
