"""Identity resolution as an asset: the identity tables, between dbt's intermediate models and marts.

It reads the dbt models `int_identifier_observations` and `int_person_attributes`
(`kizuna.identity.inputs`, as the identity benchmark does), scores the
person attribute records with Splink (extra edges, each with its match weight), resolves against
the previous identity map so person ids stay stable, and writes the identity tables in one
transaction (`kizuna.identity.store`). The dbt marts read them back as the source `identity`.
"""

import time

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.unify.assets import kizuna_dbt_models
from dagster_project.defs.unify.translator import GROUP, OWNERS, identity_asset_key
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.identity import store
from kizuna.identity.inputs import anchor_attributes, probabilistic_pairs, read_inputs
from kizuna.identity.normalize import normalize_values
from kizuna.identity.resolve import resolve
from kizuna.identity.rules import IdentityRules, load_rules

# Check names (module constants: tests and the UI refer to them).
SHARED_JOIN_NOBODY = "shared_identifiers_join_nobody"
WITHIN_LIMITS = "persons_within_identifier_limits"

MAP_KEY = identity_asset_key(store.IDENTITY_MAP)
INPUTS = [get_asset_key_for_model([kizuna_dbt_models], m)
          for m in ("int_identifier_observations", "int_person_attributes")]
DESCRIPTIONS = {
    store.IDENTITY_MAP: "One row per normalized identifier: its person id (stable across runs), hash, "
                        "first and last seen, and whether it is a flagged shared identifier.",
    store.IDENTITY_CHANGES: "The identity change log, appended each run: new persons, merges and splits "
                            "with time and cause.",
    store.IDENTITY_FLAGS: "One row per identifier kept from linking (shared device, info@ address, "
                          "override), with the reason.",
    store.IDENTITY_LINKS: "One row per accepted probabilistic (Splink) or forced link, with its match "
                          "weight: why two records merged.",
    store.RECORD_PERSONS: "One row per source record carrying an identifier: its person id.",
}


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    """Persons new, merged and split in this run."""
    kinds = changes["kind"].value_counts() if not changes.empty else pd.Series(dtype="int64")
    return {kind: int(kinds.get(kind, 0)) for kind in ("new", "merge", "split")}


def over_limit(identity_map: pd.DataFrame, rules: IdentityRules, attributes: pd.DataFrame | None = None,
               links: pd.DataFrame | None = None) -> pd.DataFrame:
    """Persons holding more values of a limited namespace (max_per_person) than allowed, where no
    rule allows it: neither `allow_multiple_when` (attributes agree) nor a force_merge link.
    Columns: person_id, namespace, values (count)."""
    rows = []
    for namespace, limit in rules.limited.items():
        held = identity_map[identity_map["namespace"] == namespace]
        counts = held.groupby("person_id")["value"].agg(list)
        for person, values in counts[counts.map(len) > limit].items():
            if not _allowed(namespace, sorted(values), rules, attributes, links):
                rows.append((person, namespace, len(values)))
    return pd.DataFrame(rows, columns=["person_id", "namespace", "values"])


def _allowed(namespace: str, values: list[str], rules: IdentityRules, attributes: pd.DataFrame | None,
             links: pd.DataFrame | None) -> bool:
    forced = set()
    if links is not None and not links.empty:
        f = links[(links["kind"] == "force_merge") & (links["namespace_l"] == namespace)
                  & (links["namespace_r"] == namespace)]
        forced = {frozenset(p) for p in zip(f["value_l"], f["value_r"], strict=True)}
    rule = rules.allow_multiple_when.get(namespace)
    firsts: dict[str, dict] = {}
    if rule is not None and attributes is not None and not attributes.empty:
        attrs = attributes[attributes["namespace"] == namespace].copy()
        attrs["value"] = normalize_values(attrs["namespace"], attrs["value_raw"].astype(str),
                                          region=rules.phone_region, email_rules=rules.email)
        names = [a for a in rule.attributes if a in attrs.columns]
        firsts = attrs[attrs["value"].isin(values)].groupby("value")[names].first().to_dict("index")

    def pair(a: str, b: str) -> bool:
        if frozenset((a, b)) in forced:
            return True
        if rule is None or a not in firsts or b not in firsts:
            return False
        return rule.agree(firsts[a], firsts[b])

    return all(pair(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def shared_joins(identity_map: pd.DataFrame, violations: pd.DataFrame) -> pd.DataFrame:
    """Flagged shared identifiers whose person is over a limit: the flag did not keep two persons
    apart (a flagged identifier is kept from linking, so its person should hold one anchor at most)."""
    flagged = identity_map[identity_map["is_shared"].astype(bool)]
    return flagged[flagged["person_id"].isin(violations["person_id"])][["namespace", "value", "person_id"]]


def _checks(identity_map: pd.DataFrame, rules: IdentityRules, attributes: pd.DataFrame,
            links: pd.DataFrame) -> list[dg.AssetCheckResult]:
    violations = over_limit(identity_map, rules, attributes, links)
    joins = shared_joins(identity_map, violations)
    return [
        dg.AssetCheckResult(
            asset_key=MAP_KEY, check_name=SHARED_JOIN_NOBODY, passed=joins.empty,
            metadata={"flagged": int(identity_map["is_shared"].sum()), "joining_two_persons": len(joins),
                      "persons": dg.MetadataValue.json(sorted(joins["person_id"].unique().tolist())[:20])}),
        dg.AssetCheckResult(
            asset_key=MAP_KEY, check_name=WITHIN_LIMITS, passed=violations.empty,
            metadata={"persons_over_limit": len(violations),
                      "limits": dg.MetadataValue.json(rules.limited),
                      "persons": dg.MetadataValue.json(violations.head(20).to_dict("records"))}),
    ]


@dg.multi_asset(
    specs=[dg.AssetSpec(identity_asset_key(t), deps=INPUTS, group_name=GROUP, owners=OWNERS,
                        description=DESCRIPTIONS[t], kinds={"duckdb", "python"}) for t in store.TABLES],
    check_specs=[dg.AssetCheckSpec(SHARED_JOIN_NOBODY, asset=MAP_KEY, blocking=True,
                                   description="No flagged shared identifier joins two persons."),
                 dg.AssetCheckSpec(WITHIN_LIMITS, asset=MAP_KEY, blocking=True,
                                   description="No person holds more CRM ids (or other limited identifiers) "
                                               "than config/identity.yml allows without an allowing rule.")],
    pool=WAREHOUSE_POOL,
    name="identity_tables",
)
def identity_tables(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Resolve identifiers into persons (rules in config/identity.yml) and write the identity tables."""
    started = time.perf_counter()
    rules = load_rules(phone_region=kizuna.settings().phone_region)
    with kizuna.connect() as con:
        inputs = read_inputs(con)
        previous = store.read_identity_map(con)
        match = probabilistic_pairs(inputs.person_attributes, rules)
        attributes = anchor_attributes(inputs.person_attributes)
        resolution = resolve(inputs.observations, rules, previous=previous, extra_edges=match.pairs,
                             attributes=attributes)
        counts = store.write_resolution(con, resolution, run_id=context.run.run_id)
    if "skipped" in match.stats:
        context.log.warning(f"identity: no probabilistic links this run: {match.stats['skipped']}")
    context.log.info(f"identity: {resolution.stats['persons']} persons from {resolution.stats['identifiers']} "
                     f"identifiers; {match.stats['pairs_accepted']} Splink pairs accepted")
    changes = change_counts(resolution.changes)
    seconds = round(time.perf_counter() - started, 2)
    summary = {
        "persons": resolution.stats["persons"], "identifiers": resolution.stats["identifiers"],
        "new_persons": changes["new"], "merges": changes["merge"], "splits": changes["split"],
        "flagged_shared_identifiers": len(resolution.flags),
        "splink_pairs_compared": match.stats["pairs_compared"],
        "splink_pairs_accepted": match.stats["pairs_accepted"],
        "splink": match.stats.get("skipped", "ok"),
        "seconds": seconds,
    }
    for table in store.TABLES:
        metadata = {"dagster/row_count": counts[table], "table": f"{store.SCHEMA}.{table}"}
        if table == store.IDENTITY_MAP:
            metadata |= summary
        yield dg.MaterializeResult(asset_key=identity_asset_key(table), metadata=metadata)
    yield from _checks(resolution.identity_map, rules, attributes, resolution.links)
