"""The deterministic identity graph: identifier nodes, record star edges, guards, components.

Nodes are identifier values (namespace, normalized value), numbered 0..n-1. Each record (one
source row) links its identifiers with a star: its strongest identifier to each of the others, so
edges grow linearly with identifiers, not quadratically. Components come from
`scipy.sparse.csgraph.connected_components` over a sparse adjacency matrix.

Guards run before the components: an identifier seen in the same records as more values of a
limited namespace than a person may hold (a family tablet's cookie with two user ids, info@ with
three CRM contacts of different people) loses its edges and is flagged with the reason. A chain of
individually innocent identifiers can still join two anchors; the few components that end up over
a limit (or holding both sides of a never_merge) are rebuilt by a constrained union that takes the
strongest records first and refuses any join that breaks a limit, flagging what it refused.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _scipy_components

# compatible(namespace, [anchor node ids]) -> True when those values may be one person.
Compatible = Callable[[str, list[int]], bool]


def components(src: np.ndarray, dst: np.ndarray, n_nodes: int) -> np.ndarray:
    """Component label of each node 0..n_nodes-1 for the undirected edges src[i]-dst[i]."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes)).tocsr()
    _, labels = _scipy_components(graph, directed=False, return_labels=True)
    return labels


def star_edges(incidence: pd.DataFrame, node_priority: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges from each record's strongest identifier to each of its other identifiers.

    `incidence` has one row per (rec, node); guarded nodes must already be removed."""
    if incidence.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    frame = incidence.assign(_p=node_priority[incidence["node"].to_numpy()])
    frame = frame.sort_values(["rec", "_p", "node"], kind="stable")
    hub = frame.groupby("rec", sort=False)["node"].transform("first").to_numpy()
    nodes = frame["node"].to_numpy()
    keep = hub != nodes
    return hub[keep], nodes[keep]


def shared_identifiers(incidence: pd.DataFrame, node_ns: np.ndarray, node_label: np.ndarray,
                       limits: dict[str, int], guarded: frozenset[str], compatible: Compatible) -> pd.DataFrame:
    """Identifiers seen with more values of a limited namespace than one person may hold.

    Returns one row per guarded node: `node`, `reason` (which values it would have joined)."""
    ns_of = pd.Series(node_ns)
    out: dict[int, str] = {}
    inc_ns = node_ns[incidence["node"].to_numpy()]
    watched = incidence[np.isin(inc_ns, list(guarded))]
    for namespace, limit in limits.items():
        anchors = incidence[inc_ns == namespace].rename(columns={"node": "anchor"})
        if anchors.empty:
            continue
        pairs = watched.merge(anchors, on="rec")
        pairs = pairs[pairs["node"] != pairs["anchor"]].drop_duplicates(["node", "anchor"])
        counts = pairs.groupby("node")["anchor"].nunique()
        for node in counts[counts > limit].index:
            values = sorted(pairs.loc[pairs["node"] == node, "anchor"].tolist())
            if compatible(namespace, values):
                continue
            shown = ", ".join(str(node_label[v]) for v in values[:5])
            reason = f"{ns_of[node]} seen with {len(values)} {namespace} values of different persons ({shown})"
            out.setdefault(int(node), reason)
    return pd.DataFrame({"node": list(out), "reason": list(out.values())}, dtype="object").astype({"node": "int64"})


class _Sets:
    """Union-find whose sets remember their anchors (limited-namespace values) and never-merge ends."""

    def __init__(self, nodes: np.ndarray, node_ns: np.ndarray, limits: dict[str, int], compatible: Compatible,
                 never: dict[int, set[int]]):
        self.parent = {int(n): int(n) for n in nodes}
        self.anchors = {int(n): ({node_ns[n]: [int(n)]} if node_ns[n] in limits else {}) for n in nodes}
        self.members = {int(n): {int(n)} for n in nodes}
        self.node_ns, self.limits, self.compatible, self.never = node_ns, limits, compatible, never

    def find(self, n: int) -> int:
        root = n
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[n] != root:
            self.parent[n], n = root, self.parent[n]
        return root

    def can_join(self, a: int, b: int) -> str | None:
        """None when sets a and b may be one person, else why not."""
        for namespace, values in self.anchors[b].items():
            merged = self.anchors[a].get(namespace, []) + values
            if len(merged) > self.limits[namespace] and not self.compatible(namespace, sorted(merged)):
                return f"would join {len(merged)} {namespace} values of different persons"
        small, large = sorted((a, b), key=lambda r: len(self.members[r]))
        for n in self.members[small]:
            if self.never.get(n, set()) & self.members[large]:
                return "never_merge override"
        return None

    def join(self, a: int, b: int) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.members[a] |= self.members.pop(b)
        for namespace, values in self.anchors.pop(b).items():
            self.anchors[a].setdefault(namespace, []).extend(values)


def constrained_components(incidence: pd.DataFrame, extra: pd.DataFrame, nodes: np.ndarray, node_ns: np.ndarray,
                           node_priority: np.ndarray, limits: dict[str, int], compatible: Compatible,
                           never: dict[int, set[int]]) -> tuple[dict[int, int], dict[int, str]]:
    """Rebuild a few over-limit components: records strongest-first, refusing joins that break a
    limit or a never_merge. Returns node -> root and node -> flag reason for refused identifiers.

    `extra` holds forced/probabilistic node pairs (`a`, `b`, `rank`: smaller joins earlier)."""
    sets = _Sets(nodes, node_ns, limits, compatible, never)
    inc = incidence.assign(_p=node_priority[incidence["node"].to_numpy()])
    order = inc.groupby("rec")["_p"].min().sort_values(kind="stable")
    by_rec = inc.sort_values(["_p", "node"]).groupby("rec")["node"].apply(list)
    steps: list[tuple[float, list[int]]] = [(float(p), by_rec[r]) for r, p in order.items()]
    steps += [(float(r.rank), [int(r.a), int(r.b)]) for r in extra.itertuples()]
    steps.sort(key=lambda s: s[0])
    flags: dict[int, str] = {}
    for _, members in steps:
        root = sets.find(members[0])
        for n in members[1:]:
            other = sets.find(n)
            if other == root:
                continue
            why = sets.can_join(root, other)
            if why is None:
                sets.join(root, other)
                root = sets.find(root)
            else:
                # Members come strongest first: the refused one is the identifier that over-links.
                flags.setdefault(int(n), why)
    return {int(n): sets.find(int(n)) for n in nodes}, flags
