"""The sync core on a small warehouse: only differences, governance at the door, and exactly once
when a run dies at each dangerous point (the transports' own tests use real servers)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from kizuna.activation import ledger
from kizuna.activation.destinations import Destination
from kizuna.activation.policy import PolicyError
from kizuna.activation.sync import run_sync
from kizuna.activation.transport import Outcome
from kizuna.audiences import membership

LABELS = {"person_id": ("identity_indirect",), "email": ("identity_direct", "contact"),
          "churn_decile": ("behavioral", "prediction"), "birth_date": ("identity_indirect", "sensitive")}
T0 = datetime(2026, 10, 1)


def destination(**overrides) -> Destination:
    base = dict(name="crm_x", kind="webhook", purpose="marketing", consent=("email_marketing",), channel="email",
                audiences=("vip",), fields=("email", "churn_decile"),
                allowed_labels=frozenset({"identity_indirect", "identity_direct", "contact", "behavioral",
                                          "prediction"}),
                source="config/destinations/crm_x.yml", batch_size=2)
    return Destination(**{**base, **overrides})


class Recorder:
    """A destination that keeps every delivery, as a receiver deduplicating by key would."""

    def __init__(self, fail_keys: set[str] | None = None):
        self.deliveries: list = []
        self.fail_keys = fail_keys or set()

    def send(self, batch_id, changes):
        out = []
        for change in changes:
            if change.key in self.fail_keys:
                out.append(Outcome(change.key, False, 3, "503 after 3 attempts"))
            else:
                self.deliveries.append((batch_id, change))
                out.append(Outcome(change.key, True))
        return out

    def close(self):
        pass

    def state(self) -> dict:
        """What the destination holds after applying every delivery once per key, in order."""
        held, seen = {}, set()
        for _, change in self.deliveries:
            if change.key in seen:
                continue
            seen.add(change.key)
            if change.action == "remove":
                held.pop(change.person_id, None)
            else:
                held[change.person_id] = dict(change.fields)
        return held


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.audience_profiles (person_id varchar, email varchar, churn_decile bigint,
        birth_date date, consent_email_marketing varchar)""")
    con.execute("""insert into marts.audience_profiles values
        ('p1', 'a@x.jp', 1, null, 'granted'), ('p2', 'b@x.jp', 2, null, 'granted'),
        ('p3', 'c@x.jp', 1, null, 'withdrawn'), ('p4', 'd@x.jp', 3, null, 'granted'),
        ('p5', 'e@x.jp', 1, null, 'granted')""")
    con.execute("create schema act")
    con.execute("create table act.suppressions (person_id varchar, reason varchar, channel varchar, "
                "since timestamp, source varchar)")
    con.execute("insert into act.suppressions values ('p5', 'hard_bounced', 'email', null, 'email_events'), "
                "('p4', 'deleted', 'sms', null, 'config')")
    members(con, ["p1", "p2", "p3", "p4", "p5"], T0)
    return con


def members(con, ids, at):
    con.execute("create or replace table wanted (person_id varchar)")
    con.executemany("insert into wanted values (?)", [[i] for i in ids])
    membership.record(con, "vip", "select person_id from wanted", at, None, "test")


def test_first_sync_sends_eligible_members_once_and_counts_the_rest(con):
    sink = Recorder()
    result = run_sync(con, destination(), "vip", sink, LABELS)
    assert sink.state() == {"p1": {"email": "a@x.jp", "churn_decile": 1}, "p2": {"email": "b@x.jp", "churn_decile": 2},
                            "p4": {"email": "d@x.jp", "churn_decile": 3}}
    # p3 withdrew email consent; p5 hard bounced (email); p4's suppression is for sms only.
    assert result.held_back == {"no_consent:email_marketing": 1, "suppressed:hard_bounced": 1}
    assert (result.members, result.added, result.skipped, result.failed) == (5, 3, 2, 0)
    again = run_sync(con, destination(), "vip", sink, LABELS)
    assert (again.added, again.updated, again.removed) == (0, 0, 0) and len(sink.deliveries) == 3
    log = con.sql(f"select added, skipped, status from {ledger.LOG} order by started_at").fetchall()
    assert log == [(3, 2, "ok"), (0, 2, "ok")]


def test_only_differences_are_sent_and_withdrawn_consent_removes(con):
    sink = Recorder()
    run_sync(con, destination(), "vip", sink, LABELS)
    con.execute("update marts.audience_profiles set churn_decile = 9 where person_id = 'p2'")
    con.execute("update marts.audience_profiles set consent_email_marketing = 'withdrawn' where person_id = 'p4'")
    members(con, ["p2", "p3", "p4", "p5"], datetime(2026, 10, 2))  # p1 left the audience
    result = run_sync(con, destination(), "vip", sink, LABELS)
    assert (result.added, result.updated, result.removed) == (0, 1, 2)
    assert sink.state() == {"p2": {"email": "b@x.jp", "churn_decile": 9}}
    removal = [c for _, c in sink.deliveries if c.action == "remove" and c.person_id == "p1"][0]
    assert removal.fields == {"email": "a@x.jp", "churn_decile": 1}  # the destination can find whom to remove


def test_a_forbidden_or_unlabeled_field_fails_before_anything_is_sent(con):
    sink = Recorder()
    with pytest.raises(PolicyError, match="field 'birth_date' carries label 'sensitive', which destination 'crm_x'"):
        run_sync(con, destination(fields=("email", "birth_date")), "vip", sink, LABELS)
    with pytest.raises(PolicyError, match="'consent_email_marketing' has no data-usage label"):
        run_sync(con, destination(fields=("consent_email_marketing",)), "vip", sink, LABELS)
    assert sink.deliveries == []
    assert con.sql("select count(*) from information_schema.tables where table_name = 'sync_outbox'").fetchone()[0] \
        in (0, 1)
    assert not ledger_rows(con)


def ledger_rows(con):
    exists = con.sql("select count(*) from information_schema.tables where table_name = 'sync_ledger'").fetchone()[0]
    return con.sql(f"select * from {ledger.LEDGER}").fetchall() if exists else []


class Killed(Exception):
    pass


@pytest.mark.parametrize(("stage", "batch"), [("planned", -1), ("sent", 0), ("sent", 1), ("recorded", 0)])
def test_a_run_killed_at_a_dangerous_point_delivers_every_change_once_on_the_next_run(con, stage, batch):
    sink = Recorder()

    def die(at, number):
        if (at, number) == (stage, batch):
            raise Killed(f"{at} {number}")

    with pytest.raises(Killed):
        run_sync(con, destination(), "vip", sink, LABELS, checkpoint=die)
    keys_before = [c.key for _, c in sink.deliveries]
    result = run_sync(con, destination(), "vip", sink, LABELS)
    keys = [c.key for _, c in sink.deliveries]
    assert set(sink.state()) == {"p1", "p2", "p4"}
    # Every change went out under one key; a batch acknowledged but not recorded went out again
    # under the same keys (a redelivery), never under new ones.
    per_person = {}
    for _, change in sink.deliveries:
        per_person.setdefault(change.person_id, set()).add(change.key)
    assert all(len(k) == 1 for k in per_person.values())
    assert set(keys_before) <= set(keys)
    assert result.added + len(keys_before) >= 3 - (1 if stage == "recorded" else 0)
    assert con.sql(f"select count(*) from {ledger.OUTBOX}").fetchone()[0] == 0
    assert con.sql(f"select count(*) from {ledger.LEDGER} where present").fetchone()[0] == 3


def test_a_dead_letter_is_kept_and_the_change_goes_out_later_under_the_same_key(con):
    first = Recorder()
    run_sync(con, destination(), "vip", first, LABELS)
    key_p1 = next(c.key for _, c in first.deliveries if c.person_id == "p1")
    con.execute("delete from act.sync_ledger")  # start over so the dead change is an add again
    failing = Recorder(fail_keys={key_p1})
    result = run_sync(con, destination(), "vip", failing, LABELS)
    assert result.failed == 1 and result.failure_share == pytest.approx(1 / 3)
    dead = con.sql(f"select person_id, idempotency_key, error from {ledger.DEAD_LETTERS}").fetchall()
    assert dead == [("p1", key_p1, "503 after 3 attempts")]
    assert con.sql(f"select status from {ledger.LOG} order by started_at desc limit 1").fetchone()[0] == "failed"
    healed = Recorder()
    retry = run_sync(con, destination(), "vip", healed, LABELS)
    assert [(c.person_id, c.key) for _, c in healed.deliveries] == [("p1", key_p1)] and retry.added == 1


def test_a_stale_fingerprint_only_widens_the_comparison_and_sends_nothing_new(con):
    """The fast fingerprint of the fields may change with a DuckDB version (or be missing in a ledger
    written before it existed): members whose fields are unchanged are still not sent again."""
    sink = Recorder()
    run_sync(con, destination(), "vip", sink, LABELS)
    con.execute(f"update {ledger.LEDGER} set fields_fingerprint = null where person_id = 'p1'")
    con.execute(f"update {ledger.LEDGER} set fields_fingerprint = 42 where person_id = 'p2'")
    again = run_sync(con, destination(), "vip", sink, LABELS)
    assert (again.added, again.updated, again.removed) == (0, 0, 0) and len(sink.deliveries) == 3
    con.execute("update marts.audience_profiles set churn_decile = 5 where person_id = 'p2'")
    changed = run_sync(con, destination(), "vip", sink, LABELS)
    assert changed.updated == 1 and sink.deliveries[-1][1].fields == {"email": "b@x.jp", "churn_decile": 5}
