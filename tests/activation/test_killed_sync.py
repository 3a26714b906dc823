"""A sync process killed for real (os._exit, no clean-up) at each dangerous point, with the webhook
receiver on loopback failing and timing out on the way: the next run delivers every change once.

The receiver records every delivery as it arrives, without deduplicating; a change may arrive
again under its own key (a redelivery), never under a second key, and none may be missing."""

from __future__ import annotations

import multiprocessing
import os
from datetime import datetime

import duckdb
import pytest

from kizuna.activation.sync import run_sync
from kizuna.activation.webhook import WebhookTransport
from kizuna.audiences import membership

from .receiver import Receiver
from .test_sync import LABELS, destination

SECRET = "test-secret"
PEOPLE = 60


def build_warehouse(path: str) -> None:
    con = duckdb.connect(path)
    con.execute("create schema marts; create schema act")
    con.execute("""create table marts.audience_profiles as
        select 'p' || lpad(i::varchar, 3, '0') as person_id, 'u' || i || '@x.jp' as email, i % 10 as churn_decile,
               null::date as birth_date, case when i % 7 = 0 then 'withdrawn' else 'granted' end
               as consent_email_marketing
        from range(?) t(i)""", [PEOPLE])
    con.execute("create table act.suppressions (person_id varchar, reason varchar, channel varchar, "
                "since timestamp, source varchar)")
    membership.record(con, "vip", "select person_id from marts.audience_profiles", datetime(2026, 10, 1), None, "t")
    con.close()


def sync_in_child(path: str, url: str, kill_at: tuple[str, int] | None) -> None:
    """Run in a spawned process: one sync, killed outright at `kill_at`."""
    def checkpoint(stage: str, batch: int) -> None:
        if (stage, batch) == kill_at:
            os._exit(137)

    con = duckdb.connect(path)
    transport = WebhookTransport(url, secret=SECRET, rate_limit_per_s=1000, max_attempts=3, base_delay_s=0.01,
                                 max_delay_s=0.05, timeout_s=0.5)
    run_sync(con, destination(batch_size=10), "vip", transport, LABELS, checkpoint=checkpoint)
    transport.close()
    con.close()


def run_child(path: str, url: str, kill_at: tuple[str, int] | None) -> int:
    process = multiprocessing.get_context("spawn").Process(target=sync_in_child, args=(path, url, kill_at))
    process.start()
    process.join(120)
    return process.exitcode


def test_a_killed_sync_process_delivers_every_change_exactly_once_on_rerun(tmp_path):
    path = str(tmp_path / "wh.duckdb")
    build_warehouse(path)
    expected = {f"p{i:03d}" for i in range(PEOPLE) if i % 7}
    with Receiver(SECRET, fail_rate=0.2, timeout_rate=0.1, timeout_s=0.8, seed=3) as receiver:
        assert run_child(path, receiver.url, ("planned", -1)) == 137  # killed before anything was sent
        assert receiver.deliveries == []
        assert run_child(path, receiver.url, ("sent", 1)) == 137  # killed after an ack, before recording it
        exits = [run_child(path, receiver.url, None) for _ in range(4)]
        assert exits[0] == 0
        deliveries = list(receiver.deliveries)
    keys_by_person: dict[str, set[str]] = {}
    for d in deliveries:
        keys_by_person.setdefault(d["person_id"], set()).add(d["idempotency_key"])
    assert set(keys_by_person) == expected  # none lost, nobody without consent
    assert all(len(keys) == 1 for keys in keys_by_person.values())  # never one change under two keys
    assert all(d["action"] == "add" and set(d["fields"]) == {"email", "churn_decile"} for d in deliveries)
    con = duckdb.connect(path, read_only=True)
    held = con.sql("select count(*) from act.sync_ledger where present").fetchone()[0]
    pending = con.sql("select count(*) from act.sync_outbox").fetchone()[0]
    assert (held, pending) == (len(expected), 0)
    # The batch acknowledged but not recorded went out again under the same keys: a redelivery.
    assert len(deliveries) > len(expected)


@pytest.mark.parametrize("kill_at", [("sent", 0), ("recorded", 2)])
def test_a_killed_run_leaves_nothing_half_written(tmp_path, kill_at):
    path = str(tmp_path / "wh.duckdb")
    build_warehouse(path)
    with Receiver(SECRET) as receiver:
        assert run_child(path, receiver.url, kill_at) == 137
        con = duckdb.connect(path, read_only=True)
        outbox = con.sql("select count(*) from act.sync_outbox").fetchone()[0]
        con.close()
        assert outbox == len({i for i in range(PEOPLE) if i % 7})  # every change still on its way
        assert run_child(path, receiver.url, None) == 0
        assert len({d["idempotency_key"] for d in receiver.deliveries}) == outbox


def test_a_destination_that_is_down_gets_every_change_later_under_the_same_keys(tmp_path):
    path = str(tmp_path / "wh.duckdb")
    build_warehouse(path)
    with Receiver(SECRET) as receiver:
        receiver.down()
        assert run_child(path, receiver.url, None) == 0
        con = duckdb.connect(path, read_only=True)
        dead = {k for (k,) in con.sql("select idempotency_key from act.sync_dead_letters").fetchall()}
        status = con.sql("select status, failed from act.sync_log").fetchall()
        con.close()
        receiver.up()
        assert run_child(path, receiver.url, None) == 0
        delivered = [d["idempotency_key"] for d in receiver.deliveries]
    assert status == [("failed", len(dead))] and len(dead) == 51
    assert sorted(delivered) == sorted(dead)  # each once, under the key it was first given
