"""One sync run: an audience to a destination, only the difference, exactly once, governed.

The order of a run (kizuna.activation.ledger explains the tables):
1. refuse at once, before anything leaves, a destination configured to send a field it may not
   receive (policy.check_fields);
2. settle what a killed run left behind: fold its acks, send its pending changes again under
   their own keys and batches;
3. decide who may be sent (members with consent for the purpose, not suppressed) and with which
   fields; write the difference against the ledger to the outbox;
4. send batch by batch, appending acks after each; fold into the ledger; log the counts.

`checkpoint(stage, batch)` is called at the dangerous points ("planned": the outbox is written and
nothing sent; "sent": a batch was acknowledged and is not yet recorded; "recorded"), so tests and
the benchmark can kill the process exactly there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import orjson
import pandas as pd

from kizuna.activation import ledger, policy
from kizuna.activation.destinations import Destination
from kizuna.activation.transport import Change, Transport
from kizuna.audiences import membership

Checkpoint = Callable[[str, int], None]
SUPPRESSIONS = "act.suppressions"


@dataclass
class SyncResult:
    run_id: str
    destination: str
    audience: str
    members: int = 0
    added: int = 0
    removed: int = 0
    updated: int = 0
    failed: int = 0
    skipped: int = 0  # members held back by consent or a suppression list
    resent: int = 0  # changes a killed run left pending, sent again under their keys
    held_back: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failure_share(self) -> float:
        attempted = self.added + self.removed + self.updated + self.failed
        return self.failed / attempted if attempted else 0.0

    def counts(self) -> dict[str, int]:
        return {"members": self.members, "added": self.added, "removed": self.removed, "updated": self.updated,
                "failed": self.failed, "skipped": self.skipped, "resent": self.resent}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _never(stage: str, batch: int) -> None:
    return None


def profile_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute("select column_name from information_schema.columns "
                                            "where table_schema = ? and table_name = ?",
                                            list(membership.PROFILES)).fetchall()}


def _members_sql() -> str:
    return f"select person_id from {membership.MEMBERSHIP} where audience = $a and exited_at is null"


def _fields_sql(destination: Destination) -> str:
    """The destination's fields per eligible person, as a struct (no fields: an empty map); field
    names were checked against the profile's columns, and are quoted as identifiers."""
    if not destination.fields:
        return "map()"
    pairs = ", ".join(f'"{f}" := p."{f}"' for f in destination.fields)
    return f"struct_pack({pairs})"


def _deliver(con: duckdb.DuckDBPyConnection, destination: Destination, audience: str, transport: Transport,
             changes: pd.DataFrame, checkpoint: Checkpoint) -> None:
    for number, (batch_id, batch) in enumerate(changes.groupby("batch_id", sort=True)):
        columns = (batch[c].tolist() for c in ("person_id", "idempotency_key", "action", "fields_json"))
        items = [Change(key, audience, person, action, orjson.loads(fields) if fields else {})
                 for person, key, action, fields in zip(*columns, strict=True)]
        outcomes = transport.send(str(batch_id), items)
        checkpoint("sent", number)
        ledger.acknowledge(con, destination.name, audience, pd.DataFrame(
            {"idempotency_key": [o.key for o in outcomes], "delivered": [o.delivered for o in outcomes],
             "attempts": [o.attempts for o in outcomes], "error": [o.error for o in outcomes]}), _now())
        checkpoint("recorded", number)


def run_sync(con: duckdb.DuckDBPyConnection, destination: Destination, audience: str, transport: Transport,
             labels: Mapping[str, tuple[str, ...]], *, run_id: str | None = None,
             checkpoint: Checkpoint | None = None) -> SyncResult:
    """Sync `audience` to `destination` through `transport`; see the module docstring."""
    started, started_at = time.perf_counter(), _now()
    checkpoint = checkpoint or _never
    policy.check_fields(destination, labels, profile_columns(con))
    ledger.ensure_tables(con)
    membership.ensure_tables(con)
    result = SyncResult(run_id or f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", destination.name, audience)
    settled = [ledger.fold(con, destination.name, audience)]
    leftover = ledger.pending(con, destination.name, audience)
    if len(leftover):
        result.resent = len(leftover)
        _deliver(con, destination, audience, transport, leftover, checkpoint)
        settled.append(ledger.fold(con, destination.name, audience))

    profiles = ".".join(membership.PROFILES)
    con.execute(f"create or replace temp table _eligible as "
                f"{policy.eligible_sql(destination, _members_sql(), profiles, SUPPRESSIONS)}", {"a": audience})
    result.members = con.sql("select count(*) from _eligible").fetchone()[0]
    result.held_back = {k: int(v) for k, v in con.sql(
        "select held_back, count(*) from _eligible where held_back is not null group by 1").fetchall()}
    result.skipped = sum(result.held_back.values())
    desired = (f"select e.person_id, {_fields_sql(destination)} as fields from _eligible e "
               f"left join {profiles} p on p.person_id = e.person_id where e.held_back is null")
    changes = ledger.plan(con, destination.name, audience, desired, result.run_id, destination.batch_size, _now())
    con.execute("drop table _eligible")
    checkpoint("planned", -1)
    _deliver(con, destination, audience, transport, changes, checkpoint)
    settled.append(ledger.fold(con, destination.name, audience))

    for folded in settled:
        result.added += folded.delivered.get("add", 0)
        result.removed += folded.delivered.get("remove", 0)
        result.updated += folded.delivered.get("update", 0)
        result.failed += folded.dead
    result.seconds = round(time.perf_counter() - started, 3)
    ledger.log(con, {"run_id": result.run_id, "destination": destination.name, "audience": audience,
                     "started_at": started_at, "finished_at": _now(), **result.counts(),
                     "status": "failed" if result.failure_share > destination.max_failure_share else "ok",
                     "error": None})
    return result
