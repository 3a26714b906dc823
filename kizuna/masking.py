"""PII masking: the one helper every preview, report, log line and error message goes through.

A field is masked when its contract's PII class is `direct` or `sensitive`. Masking keeps just
enough shape for a person to recognise what kind of value it was (first character, the domain's
last part for an email), never enough to identify anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

MASK = "***"
MASKED_CLASSES = frozenset({"direct", "sensitive"})


def mask_value(value: Any) -> Any:
    """Mask one value. None stays None so that missing values remain visible as missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value).strip()
    if not text:
        return MASK
    if "@" in text:
        tld = text.rsplit(".", 1)[-1] if "." in text.rsplit("@", 1)[-1] else ""
        return f"{text[0]}{MASK}@{MASK}" + (f".{tld}" if tld and len(tld) <= 4 else "")
    return f"{text[0]}{MASK}" if len(text) > 3 else MASK


def mask_record(record: Mapping[str, Any], masked_fields: Iterable[str]) -> dict[str, Any]:
    """A copy of a record with the masked fields' values masked."""
    masked = set(masked_fields)
    return {k: (mask_value(v) if k in masked else v) for k, v in record.items()}


def mask_frame(frame: pd.DataFrame, masked_fields: Iterable[str]) -> pd.DataFrame:
    """A copy of a DataFrame with the masked fields' columns masked."""
    out = frame.copy()
    for column in set(masked_fields) & set(out.columns):
        out[column] = out[column].map(mask_value, na_action="ignore").astype(object)
    return out


def mask_raw_record(raw: str | None, has_masked_fields: bool) -> str | None:
    """A raw record line cannot be masked field by field: hide it whole when its source has PII."""
    if raw is None or not has_masked_fields:
        return raw
    return f"(masked: {len(raw)} characters)"
