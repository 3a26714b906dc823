"""Identity resolution's inputs, read from the dbt models that prepare them.

The dbt model `int_identifier_observations` (one row per identifier seen in a source record) feeds
the deterministic graph; `int_person_attributes` (one row per CRM contact version or loyalty
sign-up) feeds Splink and the anchor attributes that `allow_multiple_when` compares. The Dagster
asset and the identity benchmark both read them through this module, so what is measured is what
runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from kizuna.identity.normalize import name_key, normalize_name
from kizuna.identity.probabilistic import ATTRIBUTE_COLUMNS, MatchResult, match_records
from kizuna.identity.rules import IdentityRules

OBSERVATIONS_MODEL = "intermediate.int_identifier_observations"
ATTRIBUTES_MODEL = "intermediate.int_person_attributes"


@dataclass(frozen=True)
class IdentityInputs:
    observations: pd.DataFrame  # int_identifier_observations
    person_attributes: pd.DataFrame  # int_person_attributes


def read_inputs(con: duckdb.DuckDBPyConnection) -> IdentityInputs:
    return IdentityInputs(
        observations=con.sql(f"select * from {OBSERVATIONS_MODEL}").df(),
        person_attributes=con.sql(f"select * from {ATTRIBUTES_MODEL}").df(),
    )


def splink_records(person_attributes: pd.DataFrame) -> pd.DataFrame:
    """`int_person_attributes` as `match_records` reads it (email and phone as typed)."""
    frame = person_attributes.rename(columns={"email_raw": "email", "phone_raw": "phone"})
    frame = frame.reindex(columns=ATTRIBUTE_COLUMNS)
    frame["record_id"] = frame["record_id"].astype(str)
    for column in ("birth_date", "postcode"):
        frame[column] = frame[column].astype("string")
    return frame.reset_index(drop=True)


def probabilistic_pairs(person_attributes: pd.DataFrame, rules: IdentityRules) -> MatchResult:
    """Splink's pairs at or above the configured match weight; none (and the reason in
    `stats["skipped"]`) when its training fails.

    Splink refuses a model it cannot train (ValueError, e.g. an m probability that underflows; the
    fixed priors in `probabilistic` prevent the case seen on small worlds): deterministic identity
    must not stop for that, and the reason shows in the asset's metadata."""
    records = splink_records(person_attributes)
    try:
        return match_records(records, threshold_weight=rules.min_match_weight)
    except ValueError as error:
        empty = pd.DataFrame(columns=["record_id_l", "record_id_r", "source_l", "source_r", "match_weight"])
        return MatchResult(empty, {"records": len(records), "pairs_compared": 0, "pairs_accepted": 0,
                                   "skipped": f"Splink training failed: {str(error)[:200]}"})


def anchor_attributes(person_attributes: pd.DataFrame) -> pd.DataFrame:
    """Attributes of CRM ids and loyalty cards for `allow_multiple_when`, newest record first:
    namespace, value_raw, birth_date, name_key, name_kana_key, name."""
    frame = person_attributes.sort_values("updated_at", ascending=False, kind="stable")
    parts = []
    for namespace, source in (("crm_id", "crm_contacts"), ("loyalty_card_id", "loyalty_members")):
        # A CRM contact's anchor is its crm id; a loyalty sign-up's is its card (a CRM record's
        # card is only an attribute of the contact).
        rows = frame[(frame["source"] == source) & frame[namespace].notna()]
        parts.append(pd.DataFrame({
            "namespace": namespace, "value_raw": rows[namespace].astype(str),
            "birth_date": rows["birth_date"].astype("string"),
            "name_key": rows["full_name"].map(name_key), "name_kana_key": rows["full_name_kana"].map(name_key),
            "name": rows["full_name"].map(normalize_name)}))
    return pd.concat(parts, ignore_index=True)
