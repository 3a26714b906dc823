"""Resolve identifier observations into persons: the public API of the identity module.

    resolution = resolve(observations, rules, previous=last_map, extra_edges=splink_pairs)

`observations` has one row per identifier seen in a record: `source`, `record_id`, `namespace`,
`value_raw`, `observed_at` (the dbt model `int_identifier_observations`, read by
`kizuna.identity.inputs`). Identifiers of one (source, record_id) were seen together. `attributes`
(optional) gives anchor identifiers' attributes (`namespace`, `value_raw`, birth_date, name
keys...; `inputs.anchor_attributes`) for `allow_multiple_when`.
`extra_edges` (optional, e.g. from Splink) are identifier pairs (`namespace_l`, `value_l`,
`namespace_r`, `value_r`, `match_weight`) or record pairs (`source_l`, `record_id_l`,
`source_r`, `record_id_r`, `match_weight`); pairs below `probabilistic.min_match_weight` are
ignored, the others link like a shared identifier and are kept in `links` with their weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from kizuna.identity import graph
from kizuna.identity.normalize import hash_values, normalize_values
from kizuna.identity.rules import IdentityRules, load_rules
from kizuna.identity.stable_ids import assign_person_ids

OBSERVATION_COLUMNS = ["source", "record_id", "namespace", "value_raw", "observed_at"]
MAP_COLUMNS = ["namespace", "value", "value_hash", "person_id", "first_seen", "last_seen", "is_shared", "flag_reason"]
FORCED_RANK, PROBABILISTIC_RANK = -1.0, 1_000.0


@dataclass
class Resolution:
    """What one run produced."""

    identity_map: pd.DataFrame  # one row per identifier: MAP_COLUMNS
    changes: pd.DataFrame  # the identity change log of this run
    flags: pd.DataFrame  # namespace, value, reason: identifiers kept from linking, and why
    links: pd.DataFrame  # forced and probabilistic edges accepted: namespace/value l/r, match_weight, kind
    records: pd.DataFrame  # source, record_id, person_id: the person of each record
    stats: dict


def _frame(data) -> pd.DataFrame:
    if isinstance(data, pa.Table):
        return data.to_pandas()
    return pd.DataFrame(data)


def prepare_observations(observations, rules: IdentityRules) -> pd.DataFrame:
    """Observations with `value` normalized; unknown namespaces and unusable values dropped."""
    obs = _frame(observations)
    missing = [c for c in OBSERVATION_COLUMNS if c not in obs.columns]
    if missing:
        raise ValueError(f"observations lack columns {missing}")
    obs = obs[obs["namespace"].isin(list(rules.namespaces)) & obs["value_raw"].notna()].copy()
    obs["value"] = normalize_values(obs["namespace"], obs["value_raw"].astype(str), region=rules.phone_region,
                                    email_rules=rules.email)
    obs["observed_at"] = pd.to_datetime(obs["observed_at"], utc=True)
    return obs[obs["value"].notna()].reset_index(drop=True)


class _Compatibility:
    """Whether several values of a limited namespace may be one person (allow_multiple_when, force_merge)."""

    def __init__(self, rules: IdentityRules, node_keys: pd.DataFrame, attributes: pd.DataFrame | None,
                 forced: set[tuple[int, int]]):
        self.rules, self.forced, self.attrs = rules, forced, {}
        if attributes is not None and not attributes.empty:
            table = attributes.merge(node_keys.reset_index(names="node"), on=["namespace", "value"])
            names = sorted({a for r in rules.allow_multiple_when.values() for a in r.attributes} & set(table.columns))
            firsts = table.groupby("node")[names].first()
            self.attrs = {int(n): row for n, row in zip(firsts.index, firsts.to_dict("records"), strict=True)}

    def _pair(self, namespace: str, a: int, b: int) -> bool:
        if (a, b) in self.forced or (b, a) in self.forced:
            return True
        rule = self.rules.allow_multiple_when.get(namespace)
        if rule is None or a not in self.attrs or b not in self.attrs:
            return False
        return rule.agree(self.attrs[a], self.attrs[b])

    def __call__(self, namespace: str, nodes: list[int]) -> bool:
        return all(self._pair(namespace, a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:])


def _node_ids(keys: pd.DataFrame, node_index: pd.DataFrame, rules: IdentityRules) -> np.ndarray:
    """Node id of each (namespace, value raw) row, -1 when the identifier was never observed."""
    values = normalize_values(keys["namespace"], keys["value"].astype(str), region=rules.phone_region,
                              email_rules=rules.email)
    probe = pd.DataFrame({"namespace": keys["namespace"].to_numpy(), "value": values.to_numpy()})
    found = probe.merge(node_index.reset_index(names="node"), on=["namespace", "value"], how="left")
    return found["node"].fillna(-1).astype("int64").to_numpy()


def _extra_edges(extra_edges, rules: IdentityRules, node_index: pd.DataFrame, rec_hub: pd.Series,
                 rec_index: pd.DataFrame) -> pd.DataFrame:
    """Probabilistic pairs at or above the threshold, as node pairs with their weight."""
    empty = pd.DataFrame({"a": pd.Series(dtype="int64"), "b": pd.Series(dtype="int64"),
                          "match_weight": pd.Series(dtype="float64")})
    if extra_edges is None:
        return empty
    extra = _frame(extra_edges)
    extra = extra[extra["match_weight"] >= rules.min_match_weight]
    if extra.empty:
        return empty
    if {"namespace_l", "value_l", "namespace_r", "value_r"} <= set(extra.columns):
        a = _node_ids(extra[["namespace_l", "value_l"]].set_axis(["namespace", "value"], axis=1), node_index, rules)
        b = _node_ids(extra[["namespace_r", "value_r"]].set_axis(["namespace", "value"], axis=1), node_index, rules)
    elif {"source_l", "record_id_l", "source_r", "record_id_r"} <= set(extra.columns):
        recs = rec_index.reset_index(names="rec")
        sides = []
        for side in ("l", "r"):
            probe = extra[[f"source_{side}", f"record_id_{side}"]].set_axis(["source", "record_id"], axis=1)
            probe = probe.astype({"record_id": str})
            rec = probe.merge(recs.astype({"record_id": str}), on=["source", "record_id"], how="left")["rec"]
            sides.append(rec.map(rec_hub).fillna(-1).astype("int64").to_numpy())
        a, b = sides
    else:
        raise ValueError("extra_edges needs namespace_l/value_l/namespace_r/value_r or "
                         "source_l/record_id_l/source_r/record_id_r, and match_weight")
    out = pd.DataFrame({"a": a, "b": b, "match_weight": extra["match_weight"].to_numpy(dtype=float)})
    return out[(out["a"] >= 0) & (out["b"] >= 0) & (out["a"] != out["b"])].reset_index(drop=True)


def resolve(observations, rules: IdentityRules | None = None, previous: pd.DataFrame | None = None,
            extra_edges=None, attributes=None, now: datetime | None = None) -> Resolution:
    """Stitch identifiers into persons; see the module docstring for the inputs."""
    rules = rules or load_rules()
    obs = prepare_observations(observations, rules)
    node_codes, node_uniques = pd.factorize(pd.MultiIndex.from_frame(obs[["namespace", "value"]]))
    node_index = node_uniques.to_frame(index=False, name=["namespace", "value"])
    obs["node"] = node_codes
    rec_codes, rec_uniques = pd.factorize(pd.MultiIndex.from_frame(obs[["source", "record_id"]].astype(str)))
    obs["rec"] = rec_codes
    rec_index = rec_uniques.to_frame(index=False, name=["source", "record_id"])
    n = len(node_index)
    node_ns = node_index["namespace"].to_numpy()
    node_priority = node_index["namespace"].map(rules.priority).to_numpy()
    node_label = (node_index["namespace"] + ":" + node_index["value"]).to_numpy()
    incidence = obs[["rec", "node"]].drop_duplicates()

    def ids(pairs: list[tuple[tuple[str, str], tuple[str, str] | None]]) -> list[tuple[int, int]]:
        if not pairs:
            return []
        keys = pd.DataFrame([k for p in pairs for k in p], columns=["namespace", "value"])
        found = _node_ids(keys, node_index, rules).reshape(-1, 2)
        return [(int(a), int(b)) for a, b in found]

    forced_ov = rules.of_kind("force_merge")
    forced = [(a, b, o.reason) for (a, b), o in zip(ids([(o.a, o.b) for o in forced_ov]), forced_ov, strict=True)
              if a >= 0 and b >= 0]
    never: dict[int, set[int]] = {}
    for a, b in ids([(o.a, o.b) for o in rules.of_kind("never_merge")]):
        if a >= 0 and b >= 0:
            never.setdefault(a, set()).add(b)
            never.setdefault(b, set()).add(a)
    compatible = _Compatibility(rules, node_index, None if attributes is None else _attributes(attributes, rules),
                                {(a, b) for a, b, _ in forced})

    # 1. Guards: shared identifiers and unmerge overrides lose their edges.
    flags = graph.shared_identifiers(incidence, node_ns, node_label, rules.limited, rules.guarded, compatible)
    unmerge = rules.of_kind("unmerge")
    unmerged = ids([(o.a, o.a) for o in unmerge])
    flag_of = dict(zip(flags["node"].tolist(), flags["reason"].tolist(), strict=True))
    for (node, _), o in zip(unmerged, unmerge, strict=True):
        if node >= 0:
            flag_of[node] = f"unmerge override: {o.reason}"
    guarded = np.zeros(n, dtype=bool)
    guarded[list(flag_of)] = True
    live = incidence[~guarded[incidence["node"].to_numpy()]]

    # 2. Edges: record stars, forced pairs, probabilistic pairs; then components.
    src, dst = graph.star_edges(live, node_priority)
    hub_frame = live.assign(_p=node_priority[live["node"].to_numpy()]).sort_values(["rec", "_p", "node"])
    rec_hub = hub_frame.groupby("rec")["node"].first()
    prob = _extra_edges(extra_edges, rules, node_index, rec_hub, rec_index)
    prob = prob[~(guarded[prob["a"].to_numpy()] | guarded[prob["b"].to_numpy()])]
    forced_edges = pd.DataFrame([(a, b) for a, b, _ in forced], columns=["a", "b"], dtype="int64")
    all_src = np.concatenate([src, prob["a"].to_numpy(), forced_edges["a"].to_numpy()])
    all_dst = np.concatenate([dst, prob["b"].to_numpy(), forced_edges["b"].to_numpy()])
    labels = graph.components(all_src, all_dst, n)

    # 3. Components over a limit (or holding a never_merge pair) are rebuilt by the constrained union.
    bad = _violations(labels, node_ns, rules, compatible, never)
    if bad:
        in_bad = np.isin(labels, list(bad))
        nodes_bad = np.flatnonzero(in_bad & ~guarded)
        extra = pd.concat([forced_edges.assign(rank=FORCED_RANK), prob[["a", "b"]].assign(rank=PROBABILISTIC_RANK)])
        extra = extra[in_bad[extra["a"].to_numpy()] & in_bad[extra["b"].to_numpy()]]
        roots, refused = graph.constrained_components(
            live[in_bad[live["node"].to_numpy()]], extra, nodes_bad, node_ns, node_priority, rules.limited,
            compatible, never)
        base = labels.max() + 1
        for node, root in roots.items():
            labels[node] = base + root
        for node, why in refused.items():
            flag_of.setdefault(node, why)

    # 4. Stable person ids and the change log.
    seen = obs.groupby("node")["observed_at"].agg(["min", "max"])
    nodes = node_index.assign(component=labels, first_seen=seen["min"].reindex(range(n)).to_numpy(),
                              last_seen=seen["max"].reindex(range(n)).to_numpy())
    causes = {int(labels[a]): f"force_merge override: {r}" for a, _, r in forced}
    for a, w in zip(prob["a"], prob["match_weight"], strict=True):
        causes.setdefault(int(labels[a]), f"probabilistic match (weight {w:.1f})")
    flag_series = pd.Series(flag_of, dtype="object")
    person, changes = assign_person_ids(nodes, previous, priority={k: v.priority for k, v in rules.namespaces.items()},
                                        causes=causes, flags=flag_series, now=now)
    nodes["person_id"] = person.to_numpy()
    if previous is not None and not previous.empty:
        before = nodes.merge(previous[["namespace", "value", "first_seen"]], on=["namespace", "value"],
                             how="left", suffixes=("", "_prev"))
        nodes["first_seen"] = before[["first_seen", "first_seen_prev"]].min(axis=1).to_numpy()
    nodes["value_hash"] = hash_values(nodes["namespace"], nodes["value"])
    nodes["is_shared"] = guarded | np.isin(np.arange(n), list(flag_of))
    nodes["flag_reason"] = flag_series.reindex(range(n)).to_numpy()

    records = rec_index.assign(person_id=nodes["person_id"].to_numpy()[
        rec_hub.reindex(range(len(rec_index))).fillna(
            obs.groupby("rec")["node"].first()).astype("int64").to_numpy()])
    links = _links(node_index, prob, forced)
    flag_frame = nodes.loc[nodes["flag_reason"].notna(), ["namespace", "value", "flag_reason"]].rename(
        columns={"flag_reason": "reason"}).reset_index(drop=True)
    stats = {"observations": len(obs), "identifiers": n, "records": len(rec_index), "edges": int(len(all_src)),
             "persons": int(nodes["person_id"].nunique()), "flagged": len(flag_frame),
             "constrained_components": len(bad)}
    return Resolution(nodes[MAP_COLUMNS], changes, flag_frame, links, records, stats)


def _attributes(attributes, rules: IdentityRules) -> pd.DataFrame:
    attrs = _frame(attributes).copy()
    raw = attrs.pop("value_raw") if "value_raw" in attrs.columns else attrs.pop("value")
    attrs["value"] = normalize_values(attrs["namespace"], raw.astype(str), region=rules.phone_region,
                                      email_rules=rules.email)
    return attrs[attrs["value"].notna()]


def _violations(labels: np.ndarray, node_ns: np.ndarray, rules: IdentityRules, compatible: _Compatibility,
                never: dict[int, set[int]]) -> set[int]:
    """Components holding more values of a limited namespace than allowed, or a never_merge pair."""
    bad: set[int] = set()
    frame = pd.DataFrame({"label": labels, "ns": node_ns})
    for namespace, limit in rules.limited.items():
        sub = frame[frame["ns"] == namespace]
        counts = sub.groupby("label").size()
        for label in counts[counts > limit].index:
            if not compatible(namespace, sorted(sub.index[sub["label"] == label].tolist())):
                bad.add(int(label))
    for a, others in never.items():
        bad.update(int(labels[a]) for b in others if labels[a] == labels[b])
    return bad


def _links(node_index: pd.DataFrame, prob: pd.DataFrame, forced: list[tuple[int, int, str]]) -> pd.DataFrame:
    rows = [(a, b, w, "probabilistic") for a, b, w in zip(prob["a"], prob["b"], prob["match_weight"], strict=True)]
    rows += [(a, b, np.inf, "force_merge") for a, b, _ in forced]
    if not rows:
        return pd.DataFrame(columns=["namespace_l", "value_l", "namespace_r", "value_r", "match_weight", "kind"])
    a, b, w, kind = zip(*rows, strict=True)
    left, right = node_index.iloc[list(a)].reset_index(drop=True), node_index.iloc[list(b)].reset_index(drop=True)
    links = pd.DataFrame({"namespace_l": left["namespace"], "value_l": left["value"], "namespace_r": right["namespace"],
                          "value_r": right["value"], "match_weight": w, "kind": kind})
    # Several record pairs (two versions of one CRM contact, say) can link the same two identifiers,
    # either way round: one row per identifier pair and kind, with the strongest weight.
    swap = (links["namespace_l"] + ":" + links["value_l"]) > (links["namespace_r"] + ":" + links["value_r"])
    for side in ("namespace", "value"):
        links.loc[swap, [f"{side}_l", f"{side}_r"]] = links.loc[swap, [f"{side}_r", f"{side}_l"]].to_numpy()
    links = links.sort_values("match_weight", ascending=False, kind="stable")
    keys = ["namespace_l", "value_l", "namespace_r", "value_r", "kind"]
    return links.drop_duplicates(keys).sort_values(keys, kind="stable").reset_index(drop=True)
