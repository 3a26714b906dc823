"""The landing-zone connector: every kind of broken record, counting, idempotence, increments."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_contracts import load_contracts
from kizuna.collect.ingest import ingest_source
from kizuna.collect.summary import summarize

CONTRACTS = load_contracts()
NOW = datetime(2026, 5, 10, tzinfo=UTC)


def event(message_id: str, **overrides) -> dict:
    record = {
        "messageId": message_id,
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": "anon-1",
        "timestamp": "2026-05-01T10:00:00.000Z",
        "sentAt": "2026-05-01T10:00:01.000Z",
        "context": {"channel": "web", "page": {"path": "/p/1"}},
        "properties": {"product_id": "P00001"},
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def write_jsonl(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n")


def ingest(con, source: str, landing: Path, **kwargs):
    return ingest_source(con, CONTRACTS[source], str(landing), reference_time=NOW, **kwargs)


@pytest.fixture()
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


def quarantine(con, source: str) -> list[tuple]:
    return con.execute(
        "SELECT line, rules, reason FROM ingest.quarantine WHERE source = ? ORDER BY file, line", [source]
    ).fetchall()


def test_each_kind_of_broken_event_is_quarantined_with_line_and_rule(con, tmp_path):
    landing = tmp_path / "landing"
    write_jsonl(
        landing / "events" / "events-2026-05-01.jsonl",
        [
            event("m1"),
            "{this is not json",
            event("m3", timestamp=None),  # missing required field
            event("m4", timestamp="2026-02-30T10:00:00Z"),  # impossible date
            event("m5", event="Order Completed", properties={"revenue": -120}),  # negative amount
            event("m6", properties={"revenue": "lots"}),  # wrong type
            event("m7", type="purchase"),  # unknown type
            event("m8", anonymousId=None),  # neither anonymousId nor userId
            event("m9", event=None),  # track without an event name
            event("m10", timestamp="2031-01-01T00:00:00Z"),  # years in the future
            "[1, 2, 3]",
            event("m12", event="Wishlist Added"),  # unplanned event: kept, reported
        ],
    )
    report = ingest(con, "events", landing)
    assert report.totals == {
        "read": 12, "loaded": 2, "quarantined": 10, "deduplicated": 0, "suppressed": 0, "warned": 1, "lost": 0,
    }
    rows = quarantine(con, "events")
    assert [(line, rules) for line, rules, _ in rows] == [
        (2, ["parse"]),
        (3, ["required:timestamp"]),
        (4, ["type:timestamp"]),
        (5, ["minimum:revenue"]),
        (6, ["type:revenue"]),
        (7, ["enum:type"]),
        (8, ["one_of_required:anonymous_id|user_id"]),
        (9, ["required_when:event"]),
        (10, ["max_future:timestamp"]),
        (11, ["parse"]),
    ]
    reasons = {line: reason for line, _, reason in rows}
    assert reasons[2] == "invalid JSON"
    assert reasons[11] == "not a JSON object"
    assert "2026-02-30" in reasons[4]
    assert report.warning_counts == {"enum:event": 1}
    warned = con.execute("SELECT line, rules FROM ingest.warnings").fetchall()
    assert warned == [(12, ["enum:event"])]
    loaded = con.execute("SELECT message_id, channel, _line, _partition FROM raw.events ORDER BY _line").fetchall()
    assert loaded == [("m1", "web", 1, date(2026, 5, 1)), ("m12", "web", 12, date(2026, 5, 1))]


def test_duplicates_are_counted_not_loaded_within_and_across_files(con, tmp_path):
    landing = tmp_path / "landing"
    write_jsonl(landing / "events" / "events-2026-05-01.jsonl", [event("a"), event("b"), event("a")])
    first = ingest(con, "events", landing)
    assert (first.totals["loaded"], first.totals["deduplicated"]) == (2, 1)
    # A late retry of "b" in the next day's file, and a new event.
    write_jsonl(landing / "events" / "events-2026-05-02.jsonl", [event("b"), event("c")])
    second = ingest(con, "events", landing)
    assert second.skipped == [str(landing / "events" / "events-2026-05-01.jsonl")]
    assert (second.totals["read"], second.totals["loaded"], second.totals["deduplicated"]) == (2, 1, 1)
    assert con.execute("SELECT count(*) FROM raw.events").fetchone()[0] == 3


def test_rerun_changes_nothing_and_rewritten_file_is_read_again(con, tmp_path):
    landing = tmp_path / "landing"
    path = landing / "events" / "events-2026-05-01.jsonl"
    write_jsonl(path, [event("a"), "broken"])
    ingest(con, "events", landing)
    snapshot = con.execute("SELECT count(*) FROM raw.events").fetchone(), quarantine(con, "events")
    again = ingest(con, "events", landing)
    assert again.files == [] and len(again.skipped) == 1
    assert (con.execute("SELECT count(*) FROM raw.events").fetchone(), quarantine(con, "events")) == snapshot
    # The exporter rewrites the file with one more event: read again, the old one is a duplicate.
    write_jsonl(path, [event("a"), "broken", event("b")])
    rewritten = ingest(con, "events", landing)
    assert rewritten.totals == {
        "read": 3, "loaded": 1, "quarantined": 1, "deduplicated": 1, "suppressed": 0, "warned": 0, "lost": 0,
    }
    assert con.execute("SELECT count(*) FROM ingest.ledger").fetchone()[0] == 2


def test_partitions_limit_what_is_read(con, tmp_path):
    landing = tmp_path / "landing"
    write_jsonl(landing / "events" / "events-2026-05-01.jsonl", [event("a")])
    write_jsonl(landing / "events" / "events-2026-05-02.jsonl", [event("b")])
    report = ingest(con, "events", landing, partitions=[date(2026, 5, 2)])
    assert [f.partition for f in report.files] == [date(2026, 5, 2)]
    assert con.execute("SELECT message_id FROM raw.events").fetchall() == [("b",)]


def test_blank_lines_crlf_and_bad_utf8(con, tmp_path):
    landing = tmp_path / "landing"
    path = landing / "events" / "events-2026-05-01.jsonl"
    path.parent.mkdir(parents=True)
    good = json.dumps(event("a")).encode()
    path.write_bytes(good + b"\r\n\r\n" + b'{"messageId": "\xff\xfe"}\n' + json.dumps(event("c")).encode())
    report = ingest(con, "events", landing)
    assert report.totals["read"] == 3
    assert (report.totals["loaded"], report.totals["quarantined"], report.totals["lost"]) == (2, 1, 0)
    (line, rules, reason), = quarantine(con, "events")
    assert (line, rules) == (3, ["parse"]) and "UTF-8" in reason


def write_tickets(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


TICKET_HEADER = (
    "ticket_event_id,ticket_id,event_type,event_at,crm_id,email,phone,order_id,category,channel,priority,agent_id,"
    "csat,comment"
)


def test_csv_quoted_newlines_ragged_rows_and_new_columns(con, tmp_path):
    landing = tmp_path / "landing"
    write_tickets(
        landing / "tickets" / "tickets-2026-05-01.csv",
        TICKET_HEADER + ",sentiment_hint",
        [
            'e1,T00000001,opened,2026-05-01T10:00:00Z,C0000001,,,,delivery,phone,normal,A1,,"届かない\n二行目",neg',
            "e2,T00000002,resolved,2026-05-01T11:00:00Z,C0000002,,,,payment,chat,low,A1,9,ok,pos",
            "e3,T00000003,opened",
            "e4,T00000004,opened,2026-05-01T12:00:00Z,,,,,returns,email,high,A2,,,",
        ],
    )
    report = ingest(con, "support_tickets", landing)
    assert report.totals["read"] == 4 and report.totals["lost"] == 0
    assert report.new_columns == ["sentiment_hint"]
    rows = quarantine(con, "support_tickets")
    assert [(line, rules) for line, rules, _ in rows] == [
        (4, ["maximum:csat"]),
        (5, ["parse"]),
        (6, ["one_of_required:crm_id|email|phone"]),
    ]
    assert rows[1][2] == "expected 15 fields, found 3"
    kept = con.execute("SELECT ticket_event_id, comment, _extra->>'sentiment_hint', _line FROM raw.support_tickets")
    assert kept.fetchall() == [("e1", "届かない\n二行目", "neg", 2)]


def test_csv_missing_required_column_rejects_the_file_naming_it(con, tmp_path):
    landing = tmp_path / "landing"
    header = TICKET_HEADER.replace("event_at,", "")
    write_tickets(
        landing / "tickets" / "tickets-2026-05-01.csv", header,
        ["e1,T00000001,opened,C0000001,,,,delivery,phone,normal,A1,,x"],
    )
    write_tickets(
        landing / "tickets" / "tickets-2026-05-02.csv", TICKET_HEADER,
        ["e2,T00000002,opened,2026-05-02T10:00:00Z,C0000002,,,,delivery,phone,normal,A1,,x"],
    )
    report = ingest(con, "support_tickets", landing)
    path = str(landing / "tickets" / "tickets-2026-05-01.csv")
    assert report.rejected_files == {path: ["event_at"]}
    assert report.totals == {
        "read": 2, "loaded": 1, "quarantined": 1, "deduplicated": 0, "suppressed": 0, "warned": 0, "lost": 0,
    }
    ((line, rules, reason),) = quarantine(con, "support_tickets")
    assert (line, rules) == (2, ["column:event_at"])
    assert path in reason and "event_at" in reason


def test_unreadable_file_is_one_quarantined_record_and_the_run_goes_on(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "orders-2026-05-01.parquet").write_bytes(b"PAR1 this is not parquet")
    table = pa.table(
        {
            "order_id": ["O000000001", "O000000002"],
            "line_no": [1, 1],
            "user_id": ["u1", "u2"],
            "channel": ["web", "app"],
            "ordered_at": pa.array([datetime(2026, 5, 2, 9, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "product_id": ["P00001", "P00002"],
            "quantity": [1, 2],
            "unit_price": [1200.0, -5.0],
            "currency": ["JPY", "JPY"],
            "status": ["paid", "paid"],
            "gift_wrap": [True, False],
        }
    )
    pq.write_table(table, landing / "orders" / "orders-2026-05-02.parquet")
    report = ingest(con, "orders", landing)
    bad = str(landing / "orders" / "orders-2026-05-01.parquet")
    assert list(report.unreadable_files) == [bad]
    assert report.totals == {
        "read": 3, "loaded": 1, "quarantined": 2, "deduplicated": 0, "suppressed": 0, "warned": 0, "lost": 0,
    }
    assert report.new_columns == ["gift_wrap"]
    rows = quarantine(con, "orders")
    assert rows[0][0] is None and rows[0][1] == ["parse"] and bad in rows[0][2]
    assert rows[1][:2] == (2, ["minimum:unit_price"])
    ordered_at = con.execute("SELECT ordered_at FROM raw.orders").fetchone()[0]
    assert ordered_at == datetime(2026, 5, 2, 9, tzinfo=UTC)


def test_previews_mask_pii(con, tmp_path):
    landing = tmp_path / "landing"
    write_tickets(
        landing / "tickets" / "tickets-2026-05-01.csv", TICKET_HEADER,
        [
            "e1,T00000001,opened,2026-05-01T10:00:00Z,,taro.yamada@example.jp,090-1234-5678,,delivery,phone,normal,A1,,"
            "山田です",
            "e2,T00000002,opened,not-a-time,,hanako@example.jp,,,delivery,phone,normal,A1,,x",
        ],
    )
    ingest(con, "support_tickets", landing)
    summary = summarize(con, CONTRACTS["support_tickets"], (date(2026, 5, 1), date(2026, 5, 1)))
    assert (summary.rows, summary.counts["quarantined"], len(summary.preview)) == (1, 1, 1)
    assert summary.quarantined_by_rule == {"type:event_at": 1}
    shown = summary.preview.to_string() + summary.quarantine_preview.to_string()
    for secret in ("taro.yamada", "090-1234-5678", "山田です", "hanako"):
        assert secret not in shown
    # The warehouse keeps the real values: masking is for what leaves it.
    assert con.execute("SELECT email FROM raw.support_tickets").fetchone()[0] == "taro.yamada@example.jp"


def test_landing_zone_on_an_fsspec_url(con):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/kizuna-test/events/events-2026-05-01.jsonl", (json.dumps(event("mem-1")) + "\n").encode())
    report = ingest_source(con, CONTRACTS["events"], "memory://kizuna-test", reference_time=NOW)
    assert report.totals["loaded"] == 1
    assert report.files[0].path == "memory:///kizuna-test/events/events-2026-05-01.jsonl"


def test_truncated_line_among_the_lines_scanned_for_new_keys(con, tmp_path):
    landing = tmp_path / "landing"
    write_jsonl(
        landing / "events" / "events-2026-05-01.jsonl",
        [event("a"), '{"messageId": "b", "type": "tr', event("c", integrations={"All": True})],
    )
    report = ingest(con, "events", landing)
    assert (report.totals["loaded"], report.totals["quarantined"]) == (2, 1)
    assert report.new_columns == ["integrations"]


def test_lenient_json_inside_a_parsed_object_is_judged_like_its_text(con, tmp_path):
    # DuckDB's parser reads NaN and trailing commas; the contract's json type (and Python) do not.
    landing = tmp_path / "landing"
    write_jsonl(
        landing / "events" / "events-2026-05-01.jsonl",
        [
            '{"messageId": "a", "type": "track", "event": "Product Viewed", "anonymousId": "x",'
            ' "timestamp": "2026-05-01T10:00:00Z", "properties": {"price": NaN}}',
            '{"messageId": "b", "type": "track", "event": "Product Viewed", "anonymousId": "x",'
            ' "timestamp": "2026-05-01T10:00:00Z", "properties": {"note": "NaN, Infinity, [1,]"}}',
        ],
    )
    report = ingest(con, "events", landing)
    assert report.rule_counts == {"type:properties": 1}
    assert con.execute("SELECT message_id FROM raw.events").fetchall() == [("b",)]
