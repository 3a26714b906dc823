"""The truth folder covers what the landing files show and plants what later tasks must find."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq

from kizuna.sample_world.catalog import AD_CHANNELS
from kizuna.sample_world.identifiers import normalize_email, normalize_phone
from kizuna.sample_world.state import STAGES


def test_identifiers_cover_every_identifier_in_the_landing_files(scans, world):
    ids = pq.read_table(world.truth / "identifiers.parquet").to_pylist()
    known: dict[str, set[str]] = {}
    for row in ids:
        known.setdefault(row["namespace"], set()).add(row["value"])
    for source, scan in scans.items():
        for ns, values in scan.identifiers.items():
            missing = values - known.get(ns, set())
            assert not missing, (source, ns, sorted(missing)[:5])


def test_identifier_normal_forms(world):
    for row in pq.read_table(world.truth / "identifiers.parquet").to_pylist():
        if row["namespace"] == "email":
            assert row["normalized"] == normalize_email(row["value"])
            assert row["normalized"] == row["normalized"].strip().lower()
            assert "googlemail" not in row["normalized"]
        elif row["namespace"] == "phone":
            assert row["normalized"] == normalize_phone(row["value"])
            assert row["normalized"].startswith("+81") and len(row["normalized"]) == 13


def test_shared_tablet_and_info_address_belong_to_several_persons(world):
    ids = pq.read_table(world.truth / "identifiers.parquet").to_pandas()
    shared = ids[ids["shared"]]
    for ns in ("device_id", "anonymous_id", "email"):
        per_value = shared[shared.namespace == ns].groupby("value").person_id.nunique()
        assert len(per_value) >= 1 and (per_value >= 2).all(), ns
    assert shared[shared.namespace == "email"].value.str.strip().str.lower().str.startswith("info").all()
    # A shared value is never the only link: those persons differ in every non-shared id.
    private = ids[~ids["shared"] & ids.person_id.isin(shared.person_id)]
    assert private.groupby(["namespace", "normalized"]).person_id.nunique().max() == 1


def test_no_private_identifier_belongs_to_two_persons(world):
    """Only values marked shared may link different persons (typos and variants stay personal)."""
    ids = pq.read_table(world.truth / "identifiers.parquet").to_pandas()
    private = ids[~ids["shared"]]
    owners = private.groupby(["namespace", "normalized"]).person_id.nunique()
    assert owners.max() == 1, owners[owners > 1].head()


def test_stages_cover_every_person_day(world, tiny):
    stages = pq.read_table(world.truth / "stages.parquet").to_pandas()
    persons = pq.read_table(world.truth / "persons.parquet").to_pandas()
    assert len(stages) == len(persons) * tiny["days"] == tiny["customers"] * tiny["days"]
    assert set(stages.stage.astype(str)) <= set(STAGES)
    assert {"awareness", "consideration", "purchase", "onboarding"} <= set(stages.stage.astype(str))


def test_purchase_stage_follows_orders(world, scans):
    """A person-day in `purchase` has an order or till receipt that day or in the two before."""
    stages = pq.read_table(world.truth / "stages.parquet").to_pandas()
    churn = pq.read_table(world.truth / "churn.parquet").to_pandas().set_index("person_id")
    buyers = set(stages[stages.stage.astype(str) == "purchase"].person_id.astype(str))
    assert buyers and buyers <= set(churn[churn.customer].index)
    prospects = set(stages[stages.stage.astype(str).isin(["awareness", "consideration"])].person_id.astype(str))
    first = churn.first_purchase_date.dropna()
    assert prospects - set(first.index) or not prospects


def test_churn_and_channel_effects(world):
    churn = pq.read_table(world.truth / "churn.parquet").to_pandas()
    assert not (churn.churned & ~churn.customer).any()
    assert all(len(d) >= 1 for d in churn[churn.churned].drivers)
    with (world.truth / "channel_effects.csv").open(encoding="utf-8") as fh:
        effects = list(csv.DictReader(fh))
    names = [e["channel"] for e in effects]
    assert set(AD_CHANNELS) <= set(names) and {"email", "push"} <= set(names)
    values = [float(e["effect_per_day"]) for e in effects]
    assert len(set(values)) == len(values) and min(values) < 0.001


def test_offers_and_mess_identity(world):
    responses = pq.read_table(world.truth / "offer_responses.parquet").to_pandas()
    assert responses.offer_id.str.fullmatch(r"OF\d{3}").all()
    assert responses.p_response.between(0, 1).all()
    identity = world.mess["identity"]
    assert identity["shared_tablet_household"]["count"] >= 2
    assert identity["shared_info_address"]["persons"] >= 2
    assert (world.truth / "README.md").read_text(encoding="utf-8").count("##") >= 8


def test_readme_explains_every_truth_file(world):
    readme = (world.truth / "README.md").read_text(encoding="utf-8")
    for path in world.truth.iterdir():
        if path.name != "README.md":
            assert path.name in readme, path.name
