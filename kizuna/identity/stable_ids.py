"""Person ids that survive re-runs, and the identity change log.

Given the previous identity map (identifier -> person_id, first_seen) and this run's components:
* a component holding no previous person gets a new id, derived from its strongest identifier
  (`new_person_id`), so the same input always gives the same id, in batch and in the stream;
* a previous person spread over several components (a split) keeps its id in the component holding
  its highest-priority identifier (then the oldest, then the smallest value); each other part gets a
  new id and a `split` row naming the person it came from;
* a component holding several previous persons (a merge) keeps the OLDEST person id (earliest
  first_seen, then the smallest id); the others are retired.
Every merge, split and new person is a row of the change log with time, ids before/after and cause.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pandas as pd

CHANGE_COLUMNS = ["changed_at", "kind", "person_id", "previous_person_ids", "cause"]


def new_person_id(namespace: str, value: str) -> str:
    """A deterministic id for a person first seen through (namespace, value)."""
    return "P" + hashlib.sha256(f"{namespace}\x1f{value}".encode()).hexdigest()[:15]


def assign_person_ids(nodes: pd.DataFrame, previous: pd.DataFrame | None, *, priority: dict[str, int],
                      causes: dict[int, str] | None = None, flags: pd.Series | None = None,
                      now: datetime | None = None
                      ) -> tuple[pd.Series, pd.DataFrame]:
    """Person id per node, and the change log.

    `nodes`: one row per identifier node with `namespace`, `value`, `component`, `first_seen`.
    `previous`: the last identity map (`namespace`, `value`, `person_id`, `first_seen`) or None.
    `causes`: component -> text explaining a merge (overrides, probabilistic links); `flags`: node ->
    flag reason, which explains the splits of the persons those nodes belonged to."""
    now = now or datetime.now(UTC)
    causes = causes or {}
    frame = nodes[["namespace", "value", "component", "first_seen"]].copy()
    frame["_p"] = frame["namespace"].map(priority).fillna(10_000)
    if previous is not None and not previous.empty:
        prev = previous[["namespace", "value", "person_id", "first_seen"]].rename(
            columns={"person_id": "prev_person", "first_seen": "prev_first_seen"})
        frame = frame.merge(prev, on=["namespace", "value"], how="left")
    else:
        frame["prev_person"] = None
        frame["prev_first_seen"] = pd.NaT
    frame.index = nodes.index
    changes: list[dict] = []

    known = frame[frame["prev_person"].notna()]
    keeper: dict[str, int] = {}
    if not known.empty:
        # A previous person's birthday: its earliest identifier, as the previous map recorded it.
        born = previous.groupby("person_id")["first_seen"].min()
        ranked = known.sort_values(["prev_person", "_p", "prev_first_seen", "value"], kind="stable")
        keeper = ranked.groupby("prev_person")["component"].first().to_dict()
        top_of = ranked.groupby("prev_person")[["namespace", "value"]].first()
        top_of = dict(zip(top_of.index, top_of["namespace"] + ":" + top_of["value"], strict=True))
    else:
        born = pd.Series(dtype="datetime64[ns, UTC]")
        top_of = {}

    split_cause: dict[str, str] = {}
    if flags is not None and not known.empty:
        flagged = known.join(flags.rename("_flag"), how="inner")
        split_cause = flagged.groupby("prev_person")["_flag"].agg(lambda s: "; ".join(sorted(set(s))[:3])).to_dict()
    new_nodes = frame[frame["prev_person"].isna()].sort_values(["_p", "value"], kind="stable")
    new_ids = new_nodes.groupby("component")[["namespace", "value"]].agg(lambda s: list(s)[:3])
    taken = set(previous["person_id"].dropna()) if previous is not None and not previous.empty else set()
    strongest = frame.sort_values(["component", "_p", "value"], kind="stable").groupby("component").first()
    candidates = (known.groupby("component")["prev_person"].agg(lambda s: sorted(set(s)))
                  if not known.empty else pd.Series(dtype="object"))
    person_of: dict[int, str] = {}
    for component, top_ns, top_value in zip(strongest.index, strongest["namespace"], strongest["value"], strict=True):
        held = [p for p in candidates.get(component, []) if keeper.get(p) == component]
        if held:
            survivor = min(held, key=lambda p: (born.get(p), p))
            person_of[component] = survivor
            if len(held) > 1:
                changes.append({"kind": "merge", "person_id": survivor, "previous_person_ids": held,
                                "cause": causes.get(component) or _linked_by(new_ids, component, held, top_of)})
            continue
        pid = new_person_id(top_ns, top_value)
        suffix = 1
        while pid in taken:
            pid = new_person_id(top_ns, f"{top_value}#{suffix}")
            suffix += 1
        taken.add(pid)
        person_of[component] = pid
        lost = candidates.get(component, [])
        if lost:
            changes.append({"kind": "split", "person_id": pid, "previous_person_ids": lost,
                            "cause": "; ".join(split_cause.get(p, "its link to the rest was removed") for p in lost)})
        else:
            changes.append({"kind": "new", "person_id": pid, "previous_person_ids": [],
                            "cause": f"first seen via {top_ns}"})
    log = pd.DataFrame(changes, columns=CHANGE_COLUMNS[1:])
    log.insert(0, "changed_at", pd.Timestamp(now))
    return frame["component"].map(person_of), log


def _linked_by(new_ids: pd.DataFrame, component: int, held: list[str], top_of: dict[str, str]) -> str:
    if component not in new_ids.index:
        return "a new record links " + " and ".join(top_of.get(p, p) for p in held)
    row = new_ids.loc[component]
    shown = ", ".join(f"{n}:{v}" for n, v in zip(row["namespace"], row["value"], strict=True))
    return f"linked by new identifiers {shown}"
