"""The sync ledger: what each destination holds, and the changes on their way to it.

Exactly once rests on four tables (schema act), written in this order:

1. `sync_outbox`: the changes a run decided to send, each with its idempotency key and batch,
   committed before anything leaves. A change's key is a hash of (destination, audience, person,
   version, action, fields): the same change gets the same key in every run, so a receiver that
   has seen it can tell a redelivery from news.
2. `sync_acks`: appended after each batch, one row per change (delivered, or dead after the
   transport's last retry).
3. `fold` (one transaction) applies delivered changes to `sync_ledger`, moves dead ones to
   `sync_dead_letters` and clears both from the outbox and acks.
4. `sync_ledger`: one row per (destination, audience, person) the destination ever held, with the
   fields it was last sent and a version that grows with each delivered change.

A run killed before 2 leaves its changes pending: the next run sends them again under the same
keys and batch ids before it looks for new differences. Killed between 2 and 3, the next run folds
first. Dead letters are not resent as such: the ledger never learnt of them, so the next diff finds
the same change again, under the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from kizuna.warehouse import transaction

SCHEMA = "act"
LEDGER = f"{SCHEMA}.sync_ledger"
OUTBOX = f"{SCHEMA}.sync_outbox"
ACKS = f"{SCHEMA}.sync_acks"
DEAD_LETTERS = f"{SCHEMA}.sync_dead_letters"
LOG = f"{SCHEMA}.sync_log"

_DDL = (
    f"""create table if not exists {LEDGER} (
        destination varchar not null, audience varchar not null, person_id varchar not null,
        present boolean not null, fields_json varchar, fields_hash varchar, version bigint not null,
        synced_at timestamp not null, fields_fingerprint ubigint)""",
    f"""create table if not exists {OUTBOX} (
        destination varchar not null, audience varchar not null, person_id varchar not null,
        idempotency_key varchar not null, action varchar not null, version bigint not null,
        fields_json varchar, fields_hash varchar, batch_id varchar not null, run_id varchar not null,
        created_at timestamp not null, fields_fingerprint ubigint)""",
    f"""create table if not exists {ACKS} (
        idempotency_key varchar not null, destination varchar not null, audience varchar not null,
        delivered boolean not null, attempts integer not null, error varchar, settled_at timestamp not null)""",
    f"""create table if not exists {DEAD_LETTERS} (
        destination varchar not null, audience varchar not null, person_id varchar not null,
        idempotency_key varchar not null, action varchar not null, fields_json varchar, error varchar,
        attempts integer not null, dead_at timestamp not null, run_id varchar not null)""",
    f"""create table if not exists {LOG} (
        run_id varchar not null, destination varchar not null, audience varchar not null,
        started_at timestamp not null, finished_at timestamp not null, members bigint not null,
        added bigint not null, removed bigint not null, updated bigint not null, failed bigint not null,
        skipped bigint not null, resent bigint not null, status varchar not null, error varchar)""",
)

OUTBOX_COLUMNS = ("person_id", "idempotency_key", "action", "fields_json", "batch_id")
# Removals go out first: when identity merges two people, the old id's removal and the new id's
# addition can carry the same email, and a destination matching on email must end with it added.
CHANGE_ORDER = "case action when 'remove' then 0 when 'update' then 1 else 2 end, person_id"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    for ddl in _DDL:
        con.execute(ddl)
    for table in (LEDGER, OUTBOX):  # ledgers written before fingerprints existed
        con.execute(f"alter table {table} add column if not exists fields_fingerprint ubigint")


@dataclass(frozen=True)
class Folded:
    delivered: dict[str, int]  # action -> changes applied to the ledger
    dead: int


def fold(con: duckdb.DuckDBPyConnection, destination: str, audience: str) -> Folded:
    """Apply settled changes (acks) to the ledger and dead letters; clear them from the outbox."""
    scope = {"d": destination, "a": audience}
    if not con.execute(f"select count(*) from {ACKS} where destination = $d and audience = $a", scope).fetchone()[0]:
        return Folded({}, 0)  # nothing settled since the last fold (the usual start of a run)
    with transaction(con):
        # A change acknowledged twice (a resent batch whose first ack was recorded after all) counts
        # once, delivered if either said so.
        con.execute(f"""create or replace temp table _settled as
            select o.*, k.delivered, k.attempts, k.error, k.settled_at
            from {OUTBOX} o join {ACKS} k using (idempotency_key)
            where o.destination = $d and o.audience = $a
            qualify row_number() over (partition by o.idempotency_key order by k.delivered desc, k.settled_at) = 1""",
                    scope)
        con.execute(f"""delete from {LEDGER} where destination = $d and audience = $a
            and person_id in (select person_id from _settled where delivered)""", scope)
        con.execute(f"""insert into {LEDGER} by name
            select destination, audience, person_id, action <> 'remove' as present, fields_json, fields_hash, version,
                   settled_at as synced_at, fields_fingerprint
            from _settled where delivered""")
        con.execute(f"""insert into {DEAD_LETTERS}
            select destination, audience, person_id, idempotency_key, action, fields_json, error, attempts,
                   settled_at, run_id
            from _settled where not delivered""")
        con.execute(f"delete from {OUTBOX} where idempotency_key in (select idempotency_key from _settled)")
        con.execute(f"delete from {ACKS} where idempotency_key in (select idempotency_key from _settled)")
        delivered = dict(con.sql("select action, count(*) from _settled where delivered group by 1").fetchall())
        dead = con.sql("select count(*) from _settled where not delivered").fetchone()[0]
        con.execute("drop table _settled")
    return Folded({k: int(v) for k, v in delivered.items()}, int(dead))


def pending(con: duckdb.DuckDBPyConnection, destination: str, audience: str) -> pd.DataFrame:
    """Changes in the outbox without an ack: sent by a run that did not live to record it, or never
    sent. In batch order, so they go out again in the batches they were written in."""
    return con.execute(f"""select {', '.join(OUTBOX_COLUMNS)} from {OUTBOX}
        where destination = $d and audience = $a
          and idempotency_key not in (select idempotency_key from {ACKS})
        order by batch_id, {CHANGE_ORDER}""", {"d": destination, "a": audience}).df()


def plan(con: duckdb.DuckDBPyConnection, destination: str, audience: str, desired: str, run_id: str,
         batch_size: int, now: datetime) -> pd.DataFrame:
    """Write the changes that take the destination from what the ledger says it holds to `desired`
    (a relation: person_id, fields: a struct of the values to send) into the outbox, committed;
    return them in batch order.

    add: desired, not held. remove: held, not desired (sent with the fields last sent, so the
    destination can find the person). update: held and desired with other fields.

    Every member is compared on a fast fingerprint (DuckDB's `hash` of the fields); only where it
    differs are the fields written out as JSON and compared with what was sent. The fingerprint
    may change with a DuckDB version, so it only ever narrows the comparison, and the key of a
    change rests on the JSON's md5."""
    scope = {"d": destination, "a": audience, "r": run_id}
    with transaction(con):
        con.execute(f"""create or replace temp table _changes as
            with wanted as (select person_id, fields, hash(fields) as fields_fingerprint from ({desired})),
            held as (select * from {LEDGER} where destination = $d and audience = $a),
            diff as (
                select coalesce(w.person_id, h.person_id) as person_id,
                    case when w.person_id is null then 'remove'
                         when h.present then 'update' else 'add' end as action,
                    case when w.person_id is null then h.fields_json else to_json(w.fields)::varchar end
                        as fields_json,
                    coalesce(w.fields_fingerprint, h.fields_fingerprint) as fields_fingerprint,
                    coalesce(h.version, 0) + 1 as version
                from wanted w full outer join held h on w.person_id = h.person_id
                where (w.person_id is not null and not coalesce(h.present, false))
                   or (w.person_id is null and h.present)
                   or (w.person_id is not null and h.present
                       and w.fields_fingerprint is distinct from h.fields_fingerprint
                       and to_json(w.fields)::varchar is distinct from h.fields_json)
            ),
            hashed as (select *, md5(coalesce(fields_json, '')) as fields_hash from diff)
            select *,
                substr(sha256(concat_ws('|', $d, $a, person_id, version::varchar, action, fields_hash)), 1, 32)
                    as idempotency_key,
                $r || '-' || lpad(((row_number() over (order by {CHANGE_ORDER}) - 1) // $n)::varchar, 6, '0')
                    as batch_id
            from hashed""", {**scope, "n": batch_size})
        con.execute(f"""insert into {OUTBOX} by name
            select $d as destination, $a as audience, person_id, idempotency_key, action, version, fields_json,
                   fields_hash, batch_id, $r as run_id, $t as created_at, fields_fingerprint
            from _changes""", {**scope, "t": now})
        changes = con.sql(f"select {', '.join(OUTBOX_COLUMNS)} from _changes order by batch_id, {CHANGE_ORDER}").df()
        con.execute("drop table _changes")
    return changes


def acknowledge(con: duckdb.DuckDBPyConnection, destination: str, audience: str, outcomes: pd.DataFrame,
                now: datetime) -> None:
    """Append one batch's outcomes (idempotency_key, delivered, attempts, error)."""
    con.register("_outcomes", outcomes)
    con.execute(f"""insert into {ACKS} select idempotency_key, $d, $a, delivered, attempts, error, $t
        from _outcomes""", {"d": destination, "a": audience, "t": now})
    con.unregister("_outcomes")


def log(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    frame = pd.DataFrame([row])
    con.register("_log", frame)
    con.execute(f"insert into {LOG} by name select * from _log")
    con.unregister("_log")
