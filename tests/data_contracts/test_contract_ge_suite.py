"""The Great Expectations suite: its shape, and what a report carries (and must not carry)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from data_contracts import contract_rules
from data_contracts.ge_suite import (
    PARSE_COLUMN,
    _runner,
    build_suite,
    shadow_column,
    typed_frame,
    validate_frame,
)

REF = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)


def _by_rule(suite):
    return {e.meta["rule_id"]: e for e in suite.expectations}


def test_one_expectation_per_rule_with_its_id(contracts):
    for contract in contracts.values():
        suite = build_suite(contract, REF)
        assert [e.meta["rule_id"] for e in suite.expectations] == [
            r.id for r in contract_rules(contract)
        ]


def test_expectation_kinds_conditions_and_severities(contracts):
    events = _by_rule(build_suite(contracts["events"], REF))
    assert events["parse"].expectation_type == "expect_column_values_to_be_null"
    assert events["parse"].column == PARSE_COLUMN
    # warn rules are GE warnings, error rules critical
    assert events["enum:event"].severity == "warning"
    assert events["enum:event"].meta["contract_severity"] == "warn"
    assert events["enum:type"].severity == "critical"
    # row conditions are GE 1.24 Condition objects, and exclude unreadable records
    assert repr(events["required:message_id"].row_condition) == "_parse_error IS NULL"
    assert repr(events["required_when:event"].row_condition) == (
        "(type == track AND _parse_error IS NULL)"
    )
    assert repr(events["one_of_required:anonymous_id|user_id"].row_condition) == (
        "(anonymous_id IS NULL AND _parse_error IS NULL)"
    )
    assert events["one_of_required:anonymous_id|user_id"].column == "user_id"
    typed = events["type:timestamp"]
    assert typed.expectation_type == "expect_column_values_to_not_be_null"
    assert typed.column == shadow_column("timestamp")
    assert repr(typed.row_condition) == "(timestamp IS NOT NULL AND _parse_error IS NULL)"
    assert events["max_future:timestamp"].max_value == datetime(2026, 5, 4, 12, tzinfo=UTC)
    assert events["minimum:revenue"].min_value == 0
    orders = _by_rule(build_suite(contracts["orders"], REF))
    assert orders["column:order_id"].expectation_type == "expect_column_to_exist"
    assert orders["pattern:order_id"].regex == r"^(?:O[0-9]{9})\Z"


def test_without_reference_time_the_limit_is_a_parameter(contracts):
    suite = _by_rule(build_suite(contracts["crm_contacts"]))
    assert set(suite["max_future:birth_date"].max_value) == {"$PARAMETER"}


def test_the_suite_is_built_once_per_contract(contracts):
    assert _runner(contracts["events"]) is _runner(contracts["events"])


def _crm_frame(make_batch, contracts, records, parse_errors=None):
    return make_batch(contracts["crm_contacts"], records, parse_errors or [None] * len(records))


CRM_GOOD = {
    "crm_id": "C0000001",
    "email": "hanako@example.com",
    "created_at": "2024-01-01",
    "updated_at": "2026-05-01",
}


def test_report_masks_direct_and_sensitive_values(contracts, make_batch):
    crm = contracts["crm_contacts"]
    records = [
        {**CRM_GOOD, "postcode": "999-99999", "birth_date": "1850-01-01", "gender": "F"},
        {**CRM_GOOD, "crm_id": "C12"},
        CRM_GOOD,
    ]
    frame = _crm_frame(make_batch, contracts, records, [None, None, "line 3: secret@x.example"])
    report = validate_frame(crm, frame, REF)
    assert report.rule("pattern:postcode").unexpected_rows == (0,)  # pii direct
    assert report.rule("pattern:postcode").sample_values is None
    assert report.rule("minimum:birth_date").sample_values is None  # pii sensitive
    assert report.rule("enum:gender").sample_values is None  # pii sensitive
    assert report.rule("pattern:crm_id").sample_values == ("C12",)  # pseudonymous: shown
    assert report.rule("parse").unexpected_rows == (2,)
    assert report.rule("parse").sample_values is None  # messages may quote the record
    text = json.dumps(report.metadata(), ensure_ascii=False)
    for secret in ("999-99999", "1850-01-01", '"F"', "secret@x.example"):
        assert secret not in text
    assert "C12" in text
    assert not report.success


def test_warnings_do_not_fail_the_check(contracts, make_batch):
    events = contracts["events"]
    record = {
        "message_id": "m-1", "type": "track", "event": "Product Teleported",
        "anonymous_id": "a-1", "timestamp": "2026-05-01T10:00:00Z",
    }
    report = validate_frame(events, make_batch(events, [record], [None]), REF)
    assert report.success and not report.ge_success
    assert report.rule("enum:event").unexpected_count == 1
    assert report.metadata()["failed_rules"] == {"enum:event": 1}


def test_missing_required_column_fails_the_file_rule(contracts):
    orders = contracts["orders"]
    frame = pd.DataFrame({"order_id": ["O000000001"], "line_no": ["1"]}, dtype=object)
    report = validate_frame(orders, frame, REF)
    assert not report.rule("column:status").success
    assert report.rule("column:order_id").success
    assert report.rule("required:status").exception  # its column is not there to judge
    assert report.rule("pattern:order_id").success
    assert not report.success
    # an optional column a file leaves out is simply absent
    assert report.rule("minimum:discount").success
    assert report.rule("minimum:discount").exception is None


def test_frame_conventions(contracts):
    """NaN and '' are absent, non-text is str()-ed, rows are positions whatever the index."""
    survey = contracts["survey_responses"]
    frame = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "survey_id": ["s", "s", ""],
            "email": ["a@example.com", None, float("nan")],
            "crm_id": [None, "C0000001", None],
            "submitted_at": ["2026-05-01T10:00:00Z"] * 3,
            "nps": [11, "7", "x"],
        },
        index=[10, 20, 30],
    )
    report = validate_frame(survey, frame, REF)
    assert report.rule("maximum:nps").unexpected_rows == (0,)
    assert report.rule("type:nps").unexpected_rows == (2,)
    assert report.rule("required:survey_id").unexpected_rows == (2,)
    assert report.rule("one_of_required:crm_id|email").unexpected_rows == (2,)
    assert [v.errors for v in report.row_verdicts()] == [
        ("maximum:nps",),
        (),
        ("required:survey_id", "type:nps", "one_of_required:crm_id|email"),
    ]
    typed = typed_frame(survey, frame)
    assert typed[shadow_column("nps")].tolist()[:2] == [11, 7]


def test_a_daily_partition_is_validated_in_reasonable_time(contracts, make_batch):
    events = contracts["events"]
    record = {
        "message_id": "m", "type": "track", "event": "Product Viewed", "anonymous_id": "a",
        "timestamp": "2026-05-01T10:00:00+09:00", "context": '{"ip": "203.0.113.9"}',
        "properties": '{"product_id": "P00001"}', "revenue": "4980", "channel": "web",
    }
    records = [record] * 50_000
    frame = make_batch(events, records, [None] * len(records))
    validate_frame(events, frame.head(10), REF)  # warm the cached suite
    started = time.perf_counter()
    report = validate_frame(events, frame, REF)
    elapsed = time.perf_counter() - started
    assert report.success and report.row_count == 50_000
    assert elapsed < 30, f"{elapsed:.1f} s for 50k rows"


@pytest.mark.parametrize("contract_name", ["events", "orders"])
def test_metadata_is_json(contracts, make_batch, contract_name):
    contract = contracts[contract_name]
    report = validate_frame(contract, make_batch(contract, [{}], ["unreadable"]), REF)
    meta = json.loads(json.dumps(report.metadata()))
    assert meta["failed_rules"] == {"parse": 1}
    assert meta["rows"] == 1 and meta["success"] is False
