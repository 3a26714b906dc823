"""events: Segment-spec JSON lines, one file per arrival day (built by `event_stream`)."""

from __future__ import annotations

from kizuna.sample_world.event_stream import EventOutput
from kizuna.sample_world.sources.base import (
    BAD_TIMESTAMP,
    FAR_FUTURE_TIMESTAMP,
    IMPOSSIBLE_DATE,
    IMPOSSIBLE_TIMESTAMP,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    WRONG_TYPE,
    Source,
    dropper,
    json_breaker,
    json_kinds,
    setter,
)

BREAKS = {
    MISSING_REQUIRED: dropper("timestamp"),
    WRONG_TYPE: setter("timestamp", BAD_TIMESTAMP),
    OUT_OF_RANGE: setter("timestamp", FAR_FUTURE_TIMESTAMP),
    IMPOSSIBLE_DATE: setter("timestamp", IMPOSSIBLE_TIMESTAMP),
}


def events_source(out: EventOutput, days: int) -> Source:
    """The events source over the serialized event stream."""

    def unplanned(d: int) -> int:
        lo, hi = int(out.day_bounds[d]), int(out.day_bounds[d + 1])
        return int(out.unplanned[lo:hi].sum())

    return Source(
        name="events", fmt="jsonl", folder="events", prefix="events", ext="jsonl", days=days,
        records=out.lines, eligible=out.planned,
        breaker=json_breaker("messageId", lambda i: f"retry-broken-{i:08d}", BREAKS), kinds=json_kinds(BREAKS),
        unplanned=unplanned, used=out.used,
    )
