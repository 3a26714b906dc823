"""Store-only loyalty members and duplicate CRM records of one person, scored against the truth."""

from __future__ import annotations

import math

import pytest

from .febrl import precision_recall


def _pairs(result) -> set[tuple[str, str]]:
    return set(zip(result.pairs["record_id_l"], result.pairs["record_id_r"], strict=True))


def test_every_record_belongs_to_a_true_person(world):
    assert world.records["record_id"].is_unique
    assert all(p is not None and p == p for p in world.person.values())
    assert set(world.records["source"]) == {"crm_contacts", "loyalty_members"}


def test_precision_first_recall_second(world):
    """False merges are worse than misses: precision >= 0.99 over every accepted pair, and over
    the pairs the deterministic graph could not make (records with different own keys)."""
    predicted = _pairs(world.result)
    precision, recall = precision_recall(predicted, world.truth)

    def cross(pairs):
        return {p for p in pairs if world.key[p[0]] != world.key[p[1]]}

    x_precision, x_recall = precision_recall(cross(predicted), cross(world.truth))
    print(f"sample world: P={precision:.4f} R={recall:.4f}; across keys P={x_precision:.4f} R={x_recall:.4f}; "
          f"{world.result.stats}")  # fmt: skip
    assert precision >= 0.99 and x_precision >= 0.99
    # Measured 0.979 / 0.970: the misses are till sign-ups that gave a name and nothing else.
    assert recall >= 0.9 and x_recall >= 0.9


def test_duplicate_crm_records_and_store_members_are_found(world):
    ids = world.identifiers
    duplicates = set(ids.loc[ids["note"].eq("duplicate_record") & ids["namespace"].eq("crm_id"), "value"])
    assert duplicates, "the sample world plants duplicate CRM records"
    found = _pairs(world.result)
    linked = {world.key[a] for a, b in found} | {world.key[b] for a, b in found}
    assert len(duplicates & linked) >= len(duplicates) - 1
    cross_source = [p for p in found if world.key[p[0]][0] != world.key[p[1]][0]]
    assert len(cross_source) >= 150  # loyalty sign-ups tied to their person's CRM record


def test_shared_info_address_never_merges_people(world):
    ids = world.identifiers
    shared = ids[ids["shared"] & ids["namespace"].eq("email")]
    assert shared["person_id"].nunique() >= 2
    sharers = set(shared["person_id"])
    for a, b in _pairs(world.result):
        pa, pb = world.person[a], world.person[b]
        assert pa == pb or not ({pa, pb} & sharers), (a, b)
    assert all(world.person[a] == world.person[b] for a, b in _pairs(world.result))


def test_each_pair_says_why(world):
    pairs = world.result.pairs
    assert list(pairs.columns[:6]) == [
        "record_id_l", "record_id_r", "source_l", "source_r", "match_weight", "match_probability",
    ]  # fmt: skip
    assert (pairs["record_id_l"] < pairs["record_id_r"]).all()
    assert (pairs["match_probability"] >= 0.99).all()
    levels = [c for c in pairs.columns if c.endswith("_level")]
    assert {"name_level", "birth_date_level", "postcode_level", "email_level"} <= set(levels)
    assert pairs[levels].notna().all().all()
    # The weights of the levels plus the prior add up to the pair's match weight.
    prior = world.result.stats["probability_two_random_records_match"]
    weights = pairs[[c.replace("_level", "_weight") for c in levels]].sum(axis=1) + math.log2(prior / (1 - prior))
    assert weights.sub(pairs["match_weight"]).abs().max() < 1e-3
    stats = world.result.stats
    assert stats["records"] == len(world.records) and stats["pairs_accepted"] == len(pairs)
    assert stats["pairs_compared"] >= stats["pairs_accepted"] and stats["seconds"] > 0


def test_thresholds_combine_as_the_stricter_weight():
    from kizuna.identity.probabilistic import _least_weight

    assert _least_weight(0.5, None) == 0.0
    assert _least_weight(0.99, None) == pytest.approx(math.log2(99))
    assert _least_weight(0.5, 20.0) == 20.0 and _least_weight(0.999, 1.0) == pytest.approx(math.log2(999))
    assert _least_weight(None, None) is None
    with pytest.raises(ValueError):
        _least_weight(1.0, None)


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_inputs(world, n):
    from kizuna.identity.probabilistic import match_records

    result = match_records(world.records.head(n))
    assert result.pairs.empty and result.stats["records"] == n
