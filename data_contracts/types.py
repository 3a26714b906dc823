"""What each contract type accepts, shared by every judge so that they agree by construction.

A value arrives as text (a CSV cell, a JSON scalar, a Parquet value cast to text). It is of its
type when it matches the type's pattern in full AND converts: the pattern rules out what one engine
would accept and another would not ('1_000', ' 12', 'Infinity'), the conversion rules out what
only a calendar knows (2026-02-30).
"""

from __future__ import annotations

TYPE_PATTERNS: dict[str, str] = {
    "integer": r"[+-]?[0-9]{1,18}",
    "number": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?",
    "boolean": r"(true|false|TRUE|FALSE|True|False)",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    # Hours 00-23, minutes and seconds 00-59, offsets below 24 h, and an offset only after seconds:
    # DuckDB reads 24:00 and +24:00 (Python does not) and rejects 10:00+09:00 (Python reads it).
    "timestamp": (
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]"
        r"(:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?)?"
    ),
}

# DuckDB storage type of each contract type in raw tables.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "json": "JSON",
}
