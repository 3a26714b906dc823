"""Shared fixtures: a sample world (the brief's 2,000 customers x 90 days) and its truth."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from benchmarks.identity import identity_inputs
from kizuna.identity.inputs import splink_records
from kizuna.identity.probabilistic import match_records
from kizuna.sample_world import generate

from .febrl import true_pairs

WORLD = {"customers": 2000, "days": 90, "seed": 7}
START = date(2026, 5, 1)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("probabilistic_world")
    generate(**WORLD, landing=root / "landing", truth=root / "truth", start=START)
    inputs, _ = identity_inputs(root / "landing", root)
    records = splink_records(inputs.person_attributes)
    identifiers = pd.read_parquet(root / "truth" / "identifiers.parquet")
    keys = identifiers[identifiers["namespace"].isin(["crm_id", "loyalty_card_id"])]
    person_of = dict(zip(keys["value"], keys["person_id"], strict=True))
    # A record's own key: its CRM id, or the card of a loyalty sign-up (a CRM record's card is an attribute).
    own_key = records["crm_id"].where(records["source"] == "crm_contacts", records["loyalty_card_id"])
    person = own_key.map(person_of)
    result = match_records(records)
    return SimpleNamespace(
        root=root,
        records=records,
        identifiers=identifiers,
        person=dict(zip(records["record_id"], person, strict=True)),
        key=dict(zip(records["record_id"], own_key, strict=True)),
        truth=true_pairs(records["record_id"], person),
        result=result,
    )
