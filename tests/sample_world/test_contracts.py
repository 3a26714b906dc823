"""Every landing file is where its contract says, with its columns, and every record that is not
deliberately broken passes the contract; mess.json counts what the files hold, exactly."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from kizuna.sample_world.sources.care import DRIFT_COLUMN, drift_day

SOURCES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "data_contracts").glob("*.yml"))


@pytest.mark.parametrize("source", SOURCES)
def test_files_are_named_and_dated_as_the_contract_says(source, contracts, scans, tiny):
    contract, scan = contracts[source], scans[source]
    pattern = re.compile(contract["partition"]["pattern"])
    window = {(tiny["start"] + timedelta(days=d)).isoformat() for d in range(tiny["days"])}
    assert scan.files, f"{source}: no files"
    for path in scan.files:
        m = pattern.search(path.name)
        assert m and m.group(1) in window, path.name
    expected = 2 if source == "products" else tiny["days"]
    assert len(scan.files) == expected


@pytest.mark.parametrize("source", SOURCES)
def test_columns_match_the_contract(source, contracts, scans, tiny):
    contract, scan = contracts[source], scans[source]
    names = [f["name"] for f in contract["fields"]]
    if contract["format"] == "jsonl":
        # Every valid record's fields are reachable at the contract's JSON paths.
        required = [f["name"] for f in contract["fields"] if f.get("required")]
        for values in scan.valid:
            assert all(values[n] is not None for n in required)
        return
    drift_from = (tiny["start"] + timedelta(days=drift_day(tiny["days"]))).isoformat()
    for file_name, header in scan.headers.items():
        if source == "support_tickets" and file_name >= f"tickets-{drift_from}":
            assert header == names + [DRIFT_COLUMN], file_name
        else:
            assert header == names, file_name


@pytest.mark.parametrize("source", SOURCES)
def test_mess_counts_are_exact(source, scans, world):
    """lines, broken (quarantined by the contract), duplicates and unplanned events, as an ingest
    would count them, equal what mess.json says was injected."""
    scan, entry = scans[source], world.mess["sources"][source]
    assert scan.lines == entry["lines_written"]
    assert scan.broken == entry["broken"]
    assert scan.duplicates == entry["duplicates"]
    assert scan.unplanned == entry["unplanned_events"]
    broken_kinds = sum(v["count"] for k, v in entry["mess"].items() if k.startswith("broken."))
    assert broken_kinds == entry["broken"]
    summary = world.summary.sources[source]
    assert (summary.lines_written, summary.broken, summary.duplicates) == (
        entry["lines_written"], entry["broken"], entry["duplicates"])


def test_every_source_has_some_mess(world):
    for source, entry in world.mess["sources"].items():
        if entry["lines_written"] - entry["broken"] - entry["duplicates"] >= 20:
            assert entry["broken"] >= 1 and entry["duplicates"] >= 1, source
    assert world.mess["sources"]["events"]["unplanned_events"] >= 1


def test_timestamps_are_utc_with_z_except_local_store_exports(scans):
    for source, scan in scans.items():
        for values in scan.valid:
            for name in ("timestamp", "occurred_at", "event_at", "submitted_at", "status_at", "refunded_at",
                         "signed_up_at", "updated_at", "created_at", "sent_at", "received_at"):
                v = values.get(name)
                if v is not None:
                    assert v.endswith("Z"), (source, name, v)
            v = values.get("transacted_at")
            if v is not None:
                assert v.endswith("Z") or (v.endswith("+09:00") and values["store_id"] in ("S007", "S019"))


def test_orders_match_order_completed_events(scans):
    lines: dict[str, float] = {}
    for row in scans["orders"].valid:
        lines[row["order_id"]] = lines.get(row["order_id"], 0) + (
            float(row["unit_price"]) * int(row["quantity"]) - float(row["discount"] or 0))
    completed = {e["properties"]["order_id"]: e["properties"]["revenue"]
                 for e in scans["events"].raw if e.get("event") == "Order Completed"}
    assert lines and set(lines) == set(completed)
    for order_id, revenue in completed.items():
        assert revenue == pytest.approx(lines[order_id])


def test_a_segment_event_looks_like_segment(scans):
    tracks = [e for e in scans["events"].raw if e["type"] == "track"]
    identifies = [e for e in scans["events"].raw if e["type"] == "identify"]
    assert tracks and identifies
    for e in tracks[:200]:
        assert {"messageId", "anonymousId", "timestamp", "sentAt", "receivedAt", "context", "event"} <= set(e)
        assert e["context"]["channel"] in ("web", "app")
        if e["context"]["channel"] == "app":
            assert e["context"]["device"]["id"] and e["context"]["app"]["version"]
        else:
            assert e["context"]["page"]["url"].startswith("https://")
    assert all("email" in e["traits"] or "firstName" in e["traits"] for e in identifies)


def test_skewed_clocks_are_never_a_day_ahead(scans):
    for e in scans["events"].raw:
        ts, received = date.fromisoformat(e["timestamp"][:10]), date.fromisoformat(e["receivedAt"][:10])
        assert ts <= received + timedelta(days=1)


def test_ad_campaigns_belong_to_one_channel_and_cost_is_never_negative(scans):
    channel_of: dict[str, set[str]] = {}
    for row in scans["ad_touchpoints"].valid:
        channel_of.setdefault(row["campaign_id"], set()).add(row["channel"])
        assert float(row["cost"]) >= 0
        assert (row["click_id"] is not None) == (row["interaction"] == "click")
    assert len({c for chans in channel_of.values() for c in chans}) >= 6
    assert all(len(chans) == 1 for chans in channel_of.values())
