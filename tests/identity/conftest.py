"""Small hand-made observations and rules for the identity tests."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kizuna.identity import parse_rules

CONFIG = Path(__file__).resolve().parents[2] / "config" / "identity.yml"


@pytest.fixture
def raw_rules() -> dict:
    return copy.deepcopy(yaml.safe_load(CONFIG.read_text(encoding="utf-8")))


@pytest.fixture
def rules(raw_rules):
    return parse_rules(raw_rules, str(CONFIG), phone_region="JP")


def observations(rows: list[tuple[str, str, str, str]], day: str = "2026-05-01") -> pd.DataFrame:
    """Rows of (source, record_id, namespace, value_raw), all observed on `day`."""
    frame = pd.DataFrame(rows, columns=["source", "record_id", "namespace", "value_raw"])
    frame["observed_at"] = pd.Timestamp(day, tz="UTC")
    return frame
