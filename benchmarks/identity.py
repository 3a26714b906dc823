"""Identity resolution on a generated sample world, scored against its truth.

    python benchmarks/identity.py [--quick] [--customers N --days D]

Runs the pipeline's own path up to identity: the landing files are ingested under their data
contracts into a warehouse, the dbt models before identity are built through their Dagster asset
(`int_identifier_observations`, `int_person_attributes`), and `kizuna.identity.inputs` reads them as
the identity asset does. Then Splink matches CRM and loyalty records (unless --no-splink), the rules
of `config/identity.yml` resolve everything, and the result is scored:

* Unit of scoring: a truth identifier value (namespace, normalized value) from identifiers.parquet.
  Values flagged `shared` (the family tablet's cookie and device, info@ addresses) belong to several
  persons, so no clustering can place them right: they are left out of the pairs, and judged
  separately by `false_merges_shared` and `shared_flagged`. A value is placed in the found person of
  its raw form normalized by our rules (looked up in the identity map); a value we never saw is a
  person of its own.
* Pairwise: over all pairs of scored values, TP = pairs in the same true AND the same found person;
  precision = TP / pairs in the same found person; recall = TP / pairs in the same true person;
  f1 their harmonic mean. `true_persons` / `found_persons`: distinct true / found persons over the
  scored values.
* `recall_linkable`: the same recall over the values the data ties to anything: a value seen in at
  least one record together with another identifier, or a CRM id or loyalty card (whose records
  Splink can match by name and birth date). A cookie that only ever appears alone (ad impressions
  on a browser that never logged in, a cookie reset before any login) is a person of its own to
  any method reading these sources; `recall` counts those misses, `recall_linkable` does not.
* `recall_ceiling`: the recall of a perfect resolver over these sources: every linkable value of a
  person in one cluster, every other value alone. `recall` cannot pass it.
* `false_merges_shared`: found persons holding values of two or more true persons who share a
  household tablet or an info@ address (must be 0).
* `split_pairs_by_reason`: the true pairs we miss, by why the detached part stays apart; this is the
  work list of the probabilistic (Splink) stage.
* Graph speed: the world's record star edges tiled to at least 1M edges; wall time of our
  components stage (scipy) and of networkx.connected_components (graph build included) on the same
  edges; `speedup_vs_networkx` is their ratio.

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import networkx as nx
import numpy as np
import pandas as pd

from data_contracts import load_contracts
from kizuna.collect.ingest import ingest_source
from kizuna.identity import graph, load_rules, prepare_observations, resolve
from kizuna.identity.inputs import IdentityInputs, anchor_attributes, probabilistic_pairs, read_inputs
from kizuna.identity.normalize import normalize_values
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

EDGES_TARGET = 1_000_000


def generate(customers: int, days: int, folder: Path) -> tuple[Path, Path]:
    from kizuna.sample_world import generate as generate_world

    landing, truth = folder / "landing", folder / "truth"
    generate_world(customers=customers, days=days, seed=7, landing=str(landing), truth=str(truth))
    return landing, truth


def identity_inputs(landing: Path, folder: Path) -> tuple[IdentityInputs, dict[str, float]]:
    """Ingest `landing` into a warehouse under `folder`, build the dbt models before identity with
    their tests (the Dagster asset `kizuna_dbt_models`), and read identity's inputs from them."""
    from dagster_project.defs.unify.assets import kizuna_dbt_models
    from dagster_project.resources import KizunaSettings

    settings = load_settings().with_overrides(
        landing_url=str(landing), warehouse_path=str(folder / "warehouse" / "kizuna.duckdb"))
    timings = {}
    t = time.perf_counter()
    with warehouse(settings) as con:
        for contract in load_contracts().values():
            ingest_source(con, contract, settings.landing_url, reference_time=datetime.now(UTC))
    timings["ingest_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    built = dg.materialize(
        [kizuna_dbt_models], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        resources={"kizuna": KizunaSettings(landing_url=settings.landing_url,
                                            warehouse_path=settings.warehouse_path)})
    if not built.success:
        failures = [e.message for e in built.all_events if e.is_failure]
        raise RuntimeError(f"dbt build of the models before identity failed: {failures[:3]}")
    timings["dbt_seconds"] = round(time.perf_counter() - t, 1)
    with warehouse(settings, read_only=True) as con:
        return read_inputs(con), timings


def linkable_units(observations: pd.DataFrame, rules) -> set[str]:
    """Values ("namespace:normalized") the data ties to something (see `recall_linkable`)."""
    obs = prepare_observations(observations, rules)
    obs["unit"] = obs["namespace"] + ":" + obs["value"]
    per_record = obs.groupby(["source", "record_id"])["unit"].transform("nunique")
    tied = set(obs.loc[per_record > 1, "unit"])
    anchors = set(obs.loc[obs["namespace"].isin(["crm_id", "loyalty_card_id"]), "unit"])
    return tied | anchors


def score(identity_map: pd.DataFrame, truth_dir: Path, rules, linkable: set[str] | None = None) -> dict:
    """Pairwise precision/recall/F1 of found persons against true persons (see module docstring)."""
    ids = pd.read_parquet(truth_dir / "identifiers.parquet")
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    ids["ours"] = normalize_values(ids["namespace"], ids["value"], region=rules.phone_region, email_rules=rules.email)
    lookup = identity_map.set_index(["namespace", "value"])["person_id"]
    ids["found"] = pd.MultiIndex.from_frame(ids[["namespace", "ours"]]).map(lookup.to_dict()).to_numpy()
    shared = ids[ids["shared"]]
    units = ids[~ids["shared"]].copy()
    units["unit"] = units["namespace"] + ":" + units["normalized"]
    missing = units["found"].isna()
    units.loc[missing, "found"] = "unseen:" + units.loc[missing, "unit"]
    units = units.drop_duplicates(["person_id", "unit"])
    found = units.groupby(["unit"])["found"].agg(lambda s: s.mode().iloc[0])
    units["found"] = units["unit"].map(found)

    def pairs(sizes: pd.Series) -> int:
        s = sizes.to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    tp = pairs(units.groupby(["person_id", "found"]).size())
    true_pairs = pairs(units.groupby("person_id").size())
    found_pairs = pairs(units.drop_duplicates("unit").groupby("found").size())
    precision = tp / found_pairs if found_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    recall_linkable = recall_ceiling = None
    if linkable is not None:
        tied = units[units["unit"].isin(linkable)]
        tied_true = pairs(tied.groupby("person_id").size())
        tied_tp = pairs(tied.groupby(["person_id", "found"]).size())
        recall_linkable = round(tied_tp / tied_true, 5) if tied_true else 1.0
        recall_ceiling = round(tied_true / true_pairs, 5) if true_pairs else 1.0

    groups = persons[["person_id", "household_id", "shared_email_group"]]
    mixed = units.groupby("found")["person_id"].agg(lambda s: sorted(set(s)))
    mixed = mixed[mixed.map(len) > 1]
    hh = groups.set_index("person_id")
    false_shared = 0
    for members in mixed:
        sub = hh.loc[members]
        if sub["household_id"].dropna().duplicated().any() or sub["shared_email_group"].dropna().duplicated().any():
            false_shared += 1
    flagged = identity_map[identity_map["is_shared"]].set_index(["namespace", "value"]).index
    shared_keys = pd.MultiIndex.from_frame(shared[["namespace", "ours"]].drop_duplicates())
    return {
        "precision": round(precision, 5), "recall": round(recall, 5), "recall_linkable": recall_linkable,
        "recall_ceiling": recall_ceiling,
        "f1": round(2 * precision * recall / (precision + recall), 5) if precision + recall else 0.0,
        "true_persons": int(units["person_id"].nunique()), "found_persons": int(units["found"].nunique()),
        "false_merges_shared": false_shared, "wrongly_merged_found_persons": int(len(mixed)),
        "shared_values": int(len(shared_keys)), "shared_flagged": int(shared_keys.isin(flagged).sum()),
        "unseen_values": int(missing.sum()), "split": split_reasons(units),
    }


def split_reasons(units: pd.DataFrame) -> dict:
    """Missed true pairs, by why each detached part (not the person's largest part) stays apart."""
    reasons: dict[str, int] = {}
    persons_split = 0
    for _, person in units.groupby("person_id"):
        parts = person.groupby("found")
        if parts.ngroups < 2:
            continue
        persons_split += 1
        sizes = parts.size().sort_values(ascending=False)
        main = sizes.index[0]
        for found_id, part in parts:
            if found_id == main:
                continue
            if (part["note"] == "duplicate_record").any():
                why = "duplicate CRM record (no shared key, or attributes differ)"
            elif (part["note"] == "typo").any():
                why = "typo email"
            elif part["sources"].eq("ad_touchpoints").all():
                why = "cookie/device seen only in ad touchpoints"
            elif part["namespace"].isin(["anonymous_id", "device_id"]).all():
                why = "cookie/device never logged in (cookie reset, reinstall)"
            elif part["namespace"].eq("loyalty_card_id").any():
                why = "loyalty member with no shared email/phone (store-only)"
            else:
                why = "other: " + "+".join(sorted(set(part["namespace"])))
            reasons[why] = reasons.get(why, 0) + int(len(part)) * int(sizes[main])
    return {"persons_split": persons_split, "missed_pairs_by_reason": dict(sorted(reasons.items(),
                                                                                   key=lambda kv: -kv[1]))}


def graph_speed(observations: pd.DataFrame, rules) -> dict:
    """Our components vs networkx on the world's star edges tiled to >= 1M edges."""
    obs = prepare_observations(observations, rules)
    node, _ = pd.factorize(pd.MultiIndex.from_frame(obs[["namespace", "value"]]))
    rec, _ = pd.factorize(pd.MultiIndex.from_frame(obs[["source", "record_id"]].astype(str)))
    inc = pd.DataFrame({"rec": rec, "node": node}).drop_duplicates()
    n = int(node.max()) + 1
    priority = np.zeros(n, dtype=np.int64)
    src, dst = graph.star_edges(inc, priority)
    pairs = pd.DataFrame({"a": src, "b": dst}).drop_duplicates()
    copies = max(1, -(-EDGES_TARGET // max(len(pairs), 1)))
    offsets = np.repeat(np.arange(copies, dtype=np.int64) * n, len(pairs))
    big_src = np.tile(pairs["a"].to_numpy(), copies) + offsets
    big_dst = np.tile(pairs["b"].to_numpy(), copies) + offsets
    nodes = n * copies
    t = time.perf_counter()
    labels = graph.components(big_src, big_dst, nodes)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(nodes))
    g.add_edges_from(zip(big_src.tolist(), big_dst.tolist(), strict=True))
    nx_count = sum(1 for _ in nx.connected_components(g))
    theirs = time.perf_counter() - t
    assert nx_count == len(np.unique(labels)), "scipy and networkx disagree"
    return {"graph_edges": int(len(big_src)), "graph_nodes": int(nodes), "components_seconds": round(ours, 3),
            "networkx_seconds": round(theirs, 3), "speedup_vs_networkx": round(theirs / ours, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 customers x 90 days (about a minute)")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--no-splink", action="store_true", help="the deterministic stage alone")
    args = parser.parse_args(argv)
    customers = args.customers or (2_000 if args.quick else 10_000)
    days = args.days or (90 if args.quick else 180)
    started = time.perf_counter()
    rules = load_rules()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        landing, truth = generate(customers, days, Path(tmp))
        generated = time.perf_counter() - t
        inputs, pipeline = identity_inputs(landing, Path(tmp))
        observations = inputs.observations
        attributes = anchor_attributes(inputs.person_attributes)
        splink: dict = {}
        extra_edges = None
        if not args.no_splink:
            t = time.perf_counter()
            match = probabilistic_pairs(inputs.person_attributes, rules)
            extra_edges = match.pairs
            splink = {
                "splink_seconds": round(time.perf_counter() - t, 3),
                "splink_records": match.stats["records"],
                "splink_pairs_compared": match.stats["pairs_compared"],
                "splink_pairs_accepted": match.stats["pairs_accepted"],
            }
        t = time.perf_counter()
        result = resolve(observations, rules, attributes=attributes, extra_edges=extra_edges)
        resolved = time.perf_counter() - t
        figures = score(result.identity_map, truth, rules, linkable_units(observations, rules))
    split = figures.pop("split")
    print(f"world {customers} x {days}d: generated {generated:.1f}s, ingested {pipeline['ingest_seconds']}s, "
          f"dbt {pipeline['dbt_seconds']}s, {len(observations):,} observations resolved in {resolved:.1f}s: "
          f"{result.stats}")
    if splink:
        print(f"splink: {splink}")
    print(f"precision {figures['precision']} recall {figures['recall']} (ceiling {figures['recall_ceiling']}, "
          f"linkable {figures['recall_linkable']}) "
          f"f1 {figures['f1']}; "
          f"{figures['true_persons']} true persons, {figures['found_persons']} found")
    print(f"{split['persons_split']} true persons split; missed pairs by reason:")
    for why, n in split["missed_pairs_by_reason"].items():
        print(f"  {n:>8,}  {why}")
    print("flags:", result.flags["reason"].str.split(" \\(").str[0].value_counts().to_dict())
    speed = graph_speed(observations, rules)
    print(f"{speed['graph_edges']:,} edges: components {speed['components_seconds']}s, networkx "
          f"{speed['networkx_seconds']}s, speedup {speed['speedup_vs_networkx']}x")
    out = {"customers": customers, "days": days, **figures, **split, **speed, **splink, **pipeline,
           "observations": len(observations),
           "resolve_seconds": round(resolved, 3), "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
