"""Reverse ETL into the CRM's PostgreSQL: membership upserted and removed in a table of its own."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql

from kizuna.activation.crm import APPLICATION_NAME, CrmTransport
from kizuna.activation.transport import Change, DestinationError
from kizuna.collect.crm_postgres import ensure_crm_table, upsert_contacts

pytestmark = pytest.mark.postgres

TABLE = "kizuna_audience_members"


@pytest.fixture
def space(crm_dsn):
    """A schema of the test's own in the crm database (never the shared `crm`): (dsn, schema); dropped after."""
    schema = f"t_act_{uuid.uuid4().hex[:10]}"
    transports: list[CrmTransport] = []

    def transport(**kwargs) -> CrmTransport:
        made = CrmTransport(crm_dsn, schema, **kwargs)
        transports.append(made)
        return made

    yield crm_dsn, schema, transport
    for made in transports:
        made.close()
    with psycopg2.connect(crm_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.close()


def members(dsn: str, schema: str, table: str = TABLE) -> dict[tuple[str, str], tuple[dict, str, datetime]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT audience, person_id, fields, idempotency_key, updated_at FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        rows = cur.fetchall()
    conn.close()
    return {(a, p): (fields, key, updated) for a, p, fields, key, updated in rows}


def values(state) -> dict[tuple[str, str], tuple[dict, str]]:
    return {member: (fields, key) for member, (fields, key, _) in state.items()}


def all_delivered(outcomes, changes) -> bool:
    return [o.key for o in outcomes] == [c.key for c in changes] and all(o.delivered for o in outcomes)


def test_add_update_remove(space):
    dsn, schema, transport = space
    crm = transport()
    adds = [
        Change("k1", "vip", "P1", "add", {"email": "a@example.jp", "points": 120, "since": datetime(2025, 3, 1)}),
        Change("k2", "vip", "P2", "add", {"email": "b@example.jp"}),
        Change("k3", "lapsed", "P1", "add", {}),
    ]
    assert all_delivered(crm.send("b1", adds), adds)
    assert values(members(dsn, schema)) == {
        ("vip", "P1"): ({"email": "a@example.jp", "points": 120, "since": "2025-03-01 00:00:00"}, "k1"),
        ("vip", "P2"): ({"email": "b@example.jp"}, "k2"),
        ("lapsed", "P1"): ({}, "k3"),
    }

    changes = [
        Change("k4", "vip", "P1", "update", {"email": "a2@example.jp"}),
        Change("k5", "vip", "P2", "remove", {"email": "b@example.jp"}),
    ]
    assert all_delivered(crm.send("b2", changes), changes)
    assert values(members(dsn, schema)) == {
        ("vip", "P1"): ({"email": "a2@example.jp"}, "k4"),
        ("lapsed", "P1"): ({}, "k3"),
    }


def test_resend_of_a_batch_changes_nothing(space):
    dsn, schema, transport = space
    crm = transport()
    crm.send("b0", [Change("k0", "vip", "P9", "add", {"email": "z@example.jp"})])
    changes = [
        Change("k1", "vip", "P1", "add", {"email": "a@example.jp"}),
        Change("k2", "vip", "P2", "add", {"email": "b@example.jp"}),
        Change("k3", "vip", "P9", "remove", {"email": "z@example.jp"}),
    ]
    assert all_delivered(crm.send("b1", changes), changes)
    first = members(dsn, schema)
    time.sleep(0.01)  # a rewrite would show as a later updated_at
    assert all_delivered(crm.send("b1", changes), changes)
    # and once more from a fresh transport, as after a crash and restart
    assert all_delivered(transport().send("b1", changes), changes)
    assert members(dsn, schema) == first
    assert set(first) == {("vip", "P1"), ("vip", "P2")}


def test_within_a_batch_the_last_change_of_a_member_wins(space):
    dsn, schema, transport = space
    crm = transport()
    crm.send("b0", [Change("k0", "vip", "P2", "add", {"n": 0})])
    changes = [
        Change("k1", "vip", "P1", "add", {"n": 1}),
        Change("k2", "vip", "P1", "remove", {"n": 1}),
        Change("k3", "vip", "P2", "remove", {"n": 0}),
        Change("k4", "vip", "P2", "add", {"n": 4}),
        Change("k5", "vip", "P2", "update", {"n": 5}),
    ]
    assert all_delivered(crm.send("b1", changes), changes)
    assert values(members(dsn, schema)) == {("vip", "P2"): ({"n": 5}, "k5")}


@pytest.mark.parametrize(
    ("schema", "table", "contacts_table"),
    [
        ("crm", "contacts", "contacts"),
        ("crm", "CONTACTS", "contacts"),
        ("elsewhere", "contacts", "contacts"),  # unqualified: refused in every schema
        ("CRM", "Contacts", "crm.contacts"),
        ("ignored", "crm.contacts", "crm.contacts"),
        ("crm", "members", "crm.Members"),
    ],
)
def test_the_contacts_table_ingestion_reads_is_refused(schema, table, contacts_table):
    with pytest.raises(DestinationError, match="contacts table ingestion reads") as refused:
        CrmTransport("postgresql://nobody@127.0.0.1:1/none", schema, table, contacts_table=contacts_table)
    assert table.split(".")[-1] in str(refused.value)


def test_another_schemas_table_of_that_name_is_allowed_when_contacts_is_qualified():
    crm = CrmTransport("postgresql://nobody@127.0.0.1:1/none", "marketing", "contacts", contacts_table="crm.contacts")
    assert crm.name == "marketing.contacts"


def contacts_fingerprint(dsn: str, schema: str) -> tuple[int, str]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT count(*), md5(coalesce(string_agg(c::text, '|' ORDER BY crm_id), '')) FROM {}.{} c").format(
                sql.Identifier(schema), sql.Identifier("contacts")
            )
        )
        count, digest = cur.fetchone()
    conn.close()
    return count, digest


def test_the_contacts_table_is_left_untouched(space):
    dsn, schema, transport = space
    ensure_crm_table(dsn, schema, "contacts")
    now = datetime(2025, 3, 1, 9, tzinfo=UTC).isoformat()
    contacts = pd.DataFrame(
        [{"crm_id": f"C{n:07d}", "email": f"p{n}@example.jp", "created_at": now, "updated_at": now} for n in range(5)]
    )
    assert upsert_contacts(dsn, contacts, schema, "contacts") == 5
    before = contacts_fingerprint(dsn, schema)

    crm = transport(contacts_table=f"{schema}.contacts")
    changes = [Change(f"k{n}", "vip", f"C{n:07d}", "add", {"email": f"p{n}@example.jp"}) for n in range(5)]
    assert all_delivered(crm.send("b1", changes), changes)
    removals = [Change(f"r{n}", "vip", f"C{n:07d}", "remove", {}) for n in range(3)]
    assert all_delivered(crm.send("b2", removals), removals)

    assert contacts_fingerprint(dsn, schema) == before == (5, before[1])
    assert len(members(dsn, schema)) == 2


def test_an_existing_table_of_another_shape_is_not_written(space):
    dsn, schema, transport = space
    ensure_crm_table(dsn, schema, "other")
    changes = [Change("k1", "vip", "P1", "add", {})]
    (outcome,) = transport(table="other").send("b1", changes)
    assert not outcome.delivered
    assert f"{schema}.other" in outcome.error and "idempotency_key" in outcome.error


def test_unreachable_server_fails_the_batch_without_the_password():
    secret = "s3cr3t-" + uuid.uuid4().hex[:6]
    for dsn in (
        f"postgresql://kizuna:{secret}@127.0.0.1:1/crm",
        f"host=127.0.0.1 port=1 user=kizuna password={secret}",
    ):
        crm = CrmTransport(dsn)
        changes = [Change("k1", "vip", "P1", "add", {}), Change("k2", "vip", "P2", "remove", {})]
        outcomes = crm.send("b1", changes)
        assert [o.delivered for o in outcomes] == [False, False]
        assert all("crm.kizuna_audience_members" in o.error and secret not in o.error for o in outcomes)
        crm.close()


def backend_waiting_on_a_lock(dsn: str, schema: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock' "
                    "AND position(%s in query) > 0",
                    (APPLICATION_NAME, schema),
                )
                row = cur.fetchone()
                if row:
                    return row[0]
                time.sleep(0.02)
    finally:
        conn.close()
    raise AssertionError(f"the transport never waited on the lock held on {schema}")


def test_connection_killed_mid_batch_fails_it_then_the_next_send_reconnects(space):
    dsn, schema, transport = space
    crm = transport()
    first = [Change("k1", "vip", "P1", "add", {"n": 1})]
    assert all_delivered(crm.send("b1", first), first)

    # hold the table so the transport's batch is caught in the middle of its transaction
    locker = psycopg2.connect(dsn)
    try:
        with locker.cursor() as cur:
            cur.execute(sql.SQL("LOCK TABLE {}.{} IN ACCESS EXCLUSIVE MODE").format(
                sql.Identifier(schema), sql.Identifier(TABLE)))  # fmt: skip
        second = [Change("k2", "vip", "P1", "update", {"n": 2}), Change("k3", "vip", "P2", "add", {"n": 3})]
        result: list = []
        sender = threading.Thread(target=lambda: result.append(crm.send("b2", second)))
        sender.start()
        pid = backend_waiting_on_a_lock(dsn, schema)
        with locker.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert cur.fetchone() == (True,)
        sender.join(timeout=10)
        assert not sender.is_alive()
    finally:
        locker.rollback()
        locker.close()

    (outcomes,) = result
    assert [o.key for o in outcomes] == ["k2", "k3"]
    assert all(not o.delivered and f"{schema}.{TABLE}" in o.error for o in outcomes), outcomes
    assert values(members(dsn, schema)) == {("vip", "P1"): ({"n": 1}, "k1")}  # nothing of b2 half-applied

    assert all_delivered(crm.send("b2", second), second)
    assert values(members(dsn, schema)) == {("vip", "P1"): ({"n": 2}, "k2"), ("vip", "P2"): ({"n": 3}, "k3")}
