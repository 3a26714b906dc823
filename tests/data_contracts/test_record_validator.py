"""The per-record validator: API, typed values, conventions and speed."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from data_contracts import Field
from data_contracts.record import (
    RecordVerdict,
    _compiled,
    future_limit,
    is_of_type,
    typed_value,
    validate_record,
)

REF = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
GOOD_EVENT = {
    "message_id": "m-1",
    "type": "track",
    "event": "Order Completed",
    "anonymous_id": "a-1",
    "timestamp": "2026-05-01T10:00:00Z",
}


def test_verdict_is_frozen_and_ok_ignores_warnings():
    verdict = RecordVerdict(errors=(), warnings=("enum:event",))
    assert verdict.ok
    assert not RecordVerdict(errors=("parse",)).ok
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.errors = ("x",)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("ftype", "text", "value"),
    [
        ("integer", "+5", 5),
        ("integer", "-0", 0),
        ("integer", "00012", 12),
        ("integer", "1e3", None),
        ("integer", " 12", None),
        ("number", "1e3", 1000.0),
        ("number", ".5", 0.5),
        ("number", "1.", 1.0),
        ("number", "1_000", None),
        ("number", "NaN", None),
        ("number", "Infinity", None),
        ("number", "1e999", None),
        ("boolean", "TRUE", True),
        ("boolean", "False", False),
        ("boolean", "t", None),
        ("date", "2024-02-29", date(2024, 2, 29)),
        ("date", "2026-02-30", None),
        ("date", "0000-01-01", None),
        ("timestamp", "2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        ("timestamp", "2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("timestamp", "2026-05-01 10:00:00+09:00", datetime(2026, 5, 1, 1, tzinfo=UTC)),
        ("timestamp", "2026-05-01T10:00:00.123456+0900", datetime(2026, 5, 1, 1, 0, 0, 123456,
                                                                  tzinfo=UTC)),
        ("timestamp", "2026-05-01T10:00:00+09", datetime(2026, 5, 1, 1, tzinfo=UTC)),
        ("timestamp", "2026-05-01T10:00:00.1234567Z", None),
        ("timestamp", "0001-01-01T00:00:00+01:00", None),
        ("json", '{"a": [1, 2]}', {"a": [1, 2]}),
        ("json", "[1,]", None),
        ("string", " padded ", " padded "),
    ],
)
def test_typed_value(ftype, text, value):
    f = Field(name="v", type=ftype)
    got = typed_value(f, text)
    assert got == value and type(got) is type(value)
    assert is_of_type(f, text) == (value is not None)
    if isinstance(got, datetime):
        assert got.utcoffset() == timedelta(0)


def test_json_null_is_json_but_has_no_value():
    f = Field(name="v", type="json")
    assert typed_value(f, "null") is None and is_of_type(f, "null")
    assert not is_of_type(f, None) and not is_of_type(f, "")


def test_empty_text_is_absent_and_extra_keys_are_ignored(contracts):
    events = contracts["events"]
    verdict = validate_record(events, {**GOOD_EVENT, "event": "", "surprise": "x"}, REF)
    assert verdict == RecordVerdict(errors=("required_when:event",))


def test_parse_error_fails_parse_only(contracts):
    verdict = validate_record(contracts["events"], {"type": "nope"}, REF, parse_error="bad")
    assert verdict == RecordVerdict(errors=("parse",))


def test_future_limit_counts_from_the_reference_time():
    assert future_limit(REF, 48) == datetime(2026, 5, 4, 12, tzinfo=UTC)
    tokyo = timezone(timedelta(hours=9))
    assert future_limit(REF.astimezone(tokyo), 0) == REF
    assert future_limit(datetime(2026, 5, 2, 12), 0) == REF  # naive means UTC


def test_max_future_on_dates_uses_the_utc_date(contracts):
    """birth_date may not be after the date of reference_time + 0 h, taken in UTC."""
    crm = contracts["crm_contacts"]
    base = {"crm_id": "C0000001", "created_at": "2024-01-01", "updated_at": "2024-01-01"}
    late_evening_utc = datetime(2026, 5, 2, 23, 0, tzinfo=UTC)  # already 05-03 in Tokyo
    assert validate_record(crm, {**base, "birth_date": "2026-05-02"}, late_evening_utc).ok
    assert validate_record(crm, {**base, "birth_date": "2026-05-03"}, late_evening_utc).errors == (
        "max_future:birth_date",
    )


def test_naive_reference_time_is_utc_in_every_judge(contracts, judges, monkeypatch):
    """A naive reference time means UTC, whatever the host's zone (sql.py used to read it as local)."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        events = contracts["events"]
        records = [
            {**GOOD_EVENT, "timestamp": "2026-05-04T12:00:00Z"},
            {**GOOD_EVENT, "timestamp": "2026-05-04T12:00:01Z"},
        ]
        naive = datetime(2026, 5, 2, 12, 0)
        for name, judge in judges.items():
            got = [v.errors for v in judge(events, records, [None, None], naive)]
            assert got == [(), ("max_future:timestamp",)], name
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_compiled_rules_are_cached_per_contract(contracts):
    events = contracts["events"]
    assert _compiled(events) is _compiled(events)
    stricter = dataclasses.replace(
        events,
        fields=tuple(
            dataclasses.replace(f, on_unknown="quarantine") if f.name == "event" else f
            for f in events.fields
        ),
    )
    unplanned = {**GOOD_EVENT, "event": "Product Teleported"}
    assert validate_record(events, unplanned, REF).warnings == ("enum:event",)
    assert validate_record(stricter, unplanned, REF).errors == ("enum:event",)


def test_fast_enough_for_the_collect_api(contracts):
    events = contracts["events"]
    records = [
        {**GOOD_EVENT, "message_id": f"m-{i}", "revenue": str(i), "context": '{"ip": "x"}'}
        for i in range(20_000)
    ]
    started = time.perf_counter()
    verdicts = [validate_record(events, r, REF) for r in records]
    elapsed = time.perf_counter() - started
    assert all(v.ok for v in verdicts)
    assert elapsed < 2.0, f"{elapsed / len(records) * 1e6:.1f} µs per record"
