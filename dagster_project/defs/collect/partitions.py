"""Daily partitions by arrival day, on the business calendar."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from kizuna.settings import load_settings

_settings = load_settings()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings.partitions_start,
    timezone=_settings.timezone,
    # Files of today arrive during today: today's partition exists before the day is over.
    end_offset=1,
)


def days_of(context: dg.AssetExecutionContext) -> list[date]:
    """The arrival days a (possibly multi-partition, single-run) materialization covers."""
    key_range = context.partition_key_range
    first, last = date.fromisoformat(key_range.start), date.fromisoformat(key_range.end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
