"""PII masking: what previews and messages show of a direct or sensitive value."""

from __future__ import annotations

import pandas as pd

from kizuna.masking import mask_frame, mask_raw_record, mask_record, mask_value


def test_values_keep_their_kind_but_not_their_content():
    assert mask_value("Taro.Yamada+shop@gmail.com") == "T***@***.com"
    assert mask_value("090-1234-5678") == "0***"
    assert mask_value("山田") == "***"
    assert mask_value(None) is None


def test_records_and_frames_mask_only_the_named_fields():
    record = {"email": "hanako@example.jp", "category": "delivery"}
    assert mask_record(record, {"email"}) == {"email": "h***@***.jp", "category": "delivery"}
    frame = pd.DataFrame({"email": ["hanako@example.jp", None], "nps": [9, 3]})
    masked = mask_frame(frame, {"email", "not_a_column"})
    assert masked["email"].tolist()[0] == "h***@***.jp" and pd.isna(masked["email"].tolist()[1])
    assert masked["nps"].tolist() == [9, 3]
    assert frame["email"].tolist()[0] == "hanako@example.jp"  # the input is untouched


def test_raw_records_of_sources_with_pii_are_hidden_whole():
    assert mask_raw_record('{"email": "a@b.jp"}', has_masked_fields=True) == "(masked: 19 characters)"
    assert mask_raw_record("P00001,shoes", has_masked_fields=False) == "P00001,shoes"
