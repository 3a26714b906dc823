"""Identity as it stood at a cutoff (DESIGN.md, Prediction): which records made one person then.

Resolution runs again, as the identity asset runs it, over what was known before the cutoff: the
identifier observations made before it, and Splink over the CRM and loyalty records written before
it. Persons merged later (a cookie that logged in after the cutoff, a CRM record that only matched a
loyalty card once its address changed) are still apart, so a training example knows only what
could have been known at its cutoff. Person ids here are the run's own: `current_person_id` says
which person of today each one became, for labels and the fixed holdout.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from kizuna.identity import store
from kizuna.identity.inputs import ATTRIBUTES_MODEL, OBSERVATIONS_MODEL, anchor_attributes, probabilistic_pairs
from kizuna.identity.resolve import resolve
from kizuna.identity.rules import IdentityRules


def records_as_of(con: duckdb.DuckDBPyConnection, cutoff: datetime, rules: IdentityRules) -> pd.DataFrame:
    """source, record_id, person_id (as of the cutoff), current_person_id: one row per record
    observed before the cutoff."""
    params = {"cutoff": cutoff}
    observations = con.execute(f"select * from {OBSERVATIONS_MODEL} where observed_at < $cutoff", params).df()
    if observations.empty:
        return pd.DataFrame(columns=["source", "record_id", "person_id", "current_person_id"])
    attributes = con.execute(f"select * from {ATTRIBUTES_MODEL} where updated_at < $cutoff", params).df()
    match = probabilistic_pairs(attributes, rules)
    resolution = resolve(observations, rules, extra_edges=match.pairs, attributes=anchor_attributes(attributes),
                         now=cutoff)
    records = resolution.records.astype({"record_id": str})
    current = con.sql(f"select source, cast(record_id as varchar) as record_id, person_id as current_person_id "
                      f"from {store.SCHEMA}.{store.RECORD_PERSONS}").df()
    return records.merge(current, on=["source", "record_id"], how="left")


def current_person_of(records: pd.DataFrame) -> pd.DataFrame:
    """person_id (as of the cutoff) -> current_person_id: the person of today holding most of its
    records (one, unless a shared identifier was split off since)."""
    counted = (records.dropna(subset=["current_person_id"])
               .groupby(["person_id", "current_person_id"], as_index=False).size()
               .sort_values(["person_id", "size", "current_person_id"], ascending=[True, False, True]))
    return counted.drop_duplicates("person_id")[["person_id", "current_person_id"]].reset_index(drop=True)
