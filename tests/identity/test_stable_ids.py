import networkx as nx
import numpy as np
import pandas as pd

from kizuna.identity import graph, resolve
from kizuna.identity.stable_ids import new_person_id
from tests.identity.conftest import observations

FIRST = [
    ("events", "e1", "anonymous_id", "a1"), ("events", "e1", "user_id", "U1"),
    ("crm_contacts", "c1", "crm_id", "C0000001"), ("crm_contacts", "c1", "email", "aya@example.jp"),
]


def person(result, namespace, value):
    m = result.identity_map
    return m.loc[(m["namespace"] == namespace) & (m["value"] == value), "person_id"].item()


def test_ids_are_deterministic_and_stable_over_runs(rules):
    first = resolve(observations(FIRST), rules)
    assert person(first, "crm_id", "C0000001") == new_person_id("crm_id", "C0000001")
    again = resolve(observations(FIRST, "2026-05-02"), rules, previous=first.identity_map)
    pd.testing.assert_series_equal(first.identity_map["person_id"], again.identity_map["person_id"])
    assert again.changes.empty
    assert set(first.changes["kind"]) == {"new"}


def test_merge_keeps_the_oldest_id_and_split_keeps_the_highest_priority_part(rules):
    first = resolve(observations(FIRST), rules)
    web, crm = person(first, "user_id", "U1"), person(first, "crm_id", "C0000001")
    # Day 2: the web user identifies with the CRM email: the two persons merge.
    later = observations(FIRST + [("events", "e2", "user_id", "U1"), ("events", "e2", "email", "Aya@example.jp")],
                         "2026-05-02")
    later.loc[later["source"] == "events", "observed_at"] = pd.Timestamp("2026-04-01", tz="UTC")  # web is older
    merged = resolve(later, rules, previous=first.identity_map)
    assert merged.identity_map["person_id"].nunique() == 1
    survivor = person(merged, "crm_id", "C0000001")
    oldest = min([web, crm], key=lambda p: (first.identity_map.set_index("person_id").loc[p, "first_seen"].min(), p))
    assert survivor == oldest
    log = merged.changes[merged.changes["kind"] == "merge"].iloc[0]
    assert sorted(log["previous_person_ids"]) == sorted([web, crm]) and log["person_id"] == survivor
    assert "user_id:U1" in log["cause"] and "crm_id:C0000001" in log["cause"]

    # Day 3: the email turns out to be shared by another CRM contact: the person splits again.
    split_obs = observations(FIRST + [("events", "e2", "user_id", "U1"), ("events", "e2", "email", "aya@example.jp"),
                                      ("crm_contacts", "c9", "crm_id", "C0000009"),
                                      ("crm_contacts", "c9", "email", "aya@example.jp")], "2026-05-03")
    split = resolve(split_obs, rules, previous=merged.identity_map)
    assert person(split, "crm_id", "C0000001") == survivor  # crm_id is the highest priority
    assert person(split, "user_id", "U1") != survivor
    rows = split.changes[split.changes["kind"] == "split"]
    # Two parts leave the person: the web user, and the now-shared email on its own.
    assert len(rows) == 2 and all(p == [survivor] for p in rows["previous_person_ids"])
    assert all("2 crm_id values" in c for c in rows["cause"])
    assert {"changed_at", "kind", "person_id", "previous_person_ids", "cause"} <= set(split.changes.columns)


def test_components_agree_with_networkx():
    rng = np.random.default_rng(1)
    src, dst = rng.integers(0, 500, 400), rng.integers(0, 500, 400)
    labels = graph.components(src, dst, 500)
    g = nx.Graph()
    g.add_nodes_from(range(500))
    g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    ours = {frozenset(np.flatnonzero(labels == lab).tolist()) for lab in np.unique(labels)}
    assert ours == {frozenset(c) for c in nx.connected_components(g)}
