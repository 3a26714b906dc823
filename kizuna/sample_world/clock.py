"""Time in the sample world: seconds since the window opened, in the business day (Asia/Tokyo).

The simulation thinks in business days and local seconds; writers turn that into UTC instants.
Japan has no daylight-saving time, so the offset is a constant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

JST_OFFSET_S = 9 * 3600
DAY_S = 86_400
# Latest local start of a session: its events (under 40 minutes) stay inside the business day.
LATEST_SESSION_START = 23 * 3600 + 20 * 60
# Relative weight of each local hour for web/app sessions: a lunch peak and an evening peak.
HOUR_WEIGHTS = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.0, 2.6, 2.6, 2.8, 3.0,
     3.6, 3.4, 3.0, 3.0, 3.2, 3.4, 3.8, 4.4, 5.0, 5.4, 4.6, 2.6]
)
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()


def day_seconds(rng: np.random.Generator, n: int, latest: int = LATEST_SESSION_START) -> np.ndarray:
    """Local second-of-day for n web/app sessions, following the diurnal profile."""
    hours = rng.choice(24, size=n, p=HOUR_P)
    return np.minimum(hours * 3600 + rng.integers(0, 3600, n), latest)


def window_start_utc_ms(start: date) -> int:
    """UTC milliseconds of local midnight on the first day of the window."""
    midnight = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return int(midnight.timestamp() * 1000) - JST_OFFSET_S * 1000


def utc_ms(start: date, local_seconds: np.ndarray) -> np.ndarray:
    """Window-local seconds (day * 86400 + second of day) to UTC epoch milliseconds."""
    return window_start_utc_ms(start) + np.asarray(local_seconds, np.int64) * 1000


def iso_utc(ms: np.ndarray, unit: str = "s") -> np.ndarray:
    """ISO-8601 UTC strings with a trailing Z, at second ('s') or millisecond ('ms') precision."""
    values = np.asarray(ms, np.int64).astype("datetime64[ms]")
    return np.datetime_as_string(values, unit=unit, timezone="UTC")


def iso_local(ms: np.ndarray) -> np.ndarray:
    """ISO-8601 local time with an explicit +09:00 offset (what some store tills export)."""
    values = (np.asarray(ms, np.int64) + JST_OFFSET_S * 1000).astype("datetime64[ms]")
    return np.char.add(np.datetime_as_string(values, unit="s"), "+09:00")


def arrival_day(ms: np.ndarray, start: date) -> np.ndarray:
    """The business day (0 = first day of the window) on which an instant falls."""
    return (np.asarray(ms, np.int64) - window_start_utc_ms(start)) // (DAY_S * 1000)


def day_label(start: date, day: int) -> str:
    return (start + timedelta(days=int(day))).isoformat()
