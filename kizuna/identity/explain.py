"""Why a person is one person: the identifiers, the records that tie them, and the history.

`explain(con, "email:Taro@Example.jp")` finds the person of one identifier (given raw or
normalized) in the identity tables and gathers what made them: every identifier of the person;
each pair of identifiers seen together in a source record (how many records, which sources);
each probabilistic or forced link with its match weight; flagged shared identifiers met in the
person's records, which linked nobody; and the change log entries that name the person. The
command `kizuna identity explain` prints it with direct PII masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import duckdb
import pandas as pd

from kizuna.identity import store
from kizuna.identity.inputs import OBSERVATIONS_MODEL
from kizuna.identity.normalize import normalize_values
from kizuna.identity.rules import IdentityRules

PAIR_COLUMNS = ["identifier_l", "identifier_r", "records", "sources"]


class UnknownIdentifier(LookupError):
    """The identifier is not in the identity map (never seen, unusable, or not resolved yet)."""


@dataclass(frozen=True)
class Explanation:
    person_id: str
    identifiers: pd.DataFrame  # namespace, value, value_hash, first_seen, last_seen, is_shared
    seen_together: pd.DataFrame  # PAIR_COLUMNS: identifier pairs sharing records ("namespace:value")
    links: pd.DataFrame  # namespace_l, value_l, namespace_r, value_r, match_weight, kind
    shared_met: pd.DataFrame  # namespace, value, reason: flagged identifiers in the person's records
    history: pd.DataFrame  # changed_at, kind, person_id, previous_person_ids, cause, run_id


def parse_identifier(text: str, rules: IdentityRules) -> tuple[str, str]:
    """"namespace:value" → (namespace, normalized value); errors say what is wrong."""
    namespace, sep, raw = text.partition(":")
    if not sep or not raw.strip():
        raise ValueError(f"expected 'namespace:value', got {text!r}")
    if namespace not in rules.namespaces:
        raise ValueError(f"unknown namespace {namespace!r}; one of {', '.join(rules.namespaces)}")
    value = normalize_values(pd.Series([namespace]), pd.Series([raw.strip()]), region=rules.phone_region,
                             email_rules=rules.email).iloc[0]
    if value is None or pd.isna(value):
        raise ValueError(f"{text!r} is not a usable {namespace} (it normalizes to nothing)")
    return namespace, str(value)


def explain(con: duckdb.DuckDBPyConnection, identifier: str, rules: IdentityRules) -> Explanation:
    if not store.table_exists(con, store.IDENTITY_MAP):
        raise UnknownIdentifier("no identity tables yet: materialize identity/identity_map first")
    namespace, value = parse_identifier(identifier, rules)
    found = con.execute(f"select person_id from {store.SCHEMA}.{store.IDENTITY_MAP} where namespace = ? and value = ?",
                        [namespace, value]).fetchone()
    if found is None:
        raise UnknownIdentifier(f"{namespace}:{value} is not in {store.SCHEMA}.{store.IDENTITY_MAP}")
    person = found[0]
    identifiers = con.execute(
        "select namespace, value, value_hash, first_seen, last_seen, is_shared "
        f"from {store.SCHEMA}.{store.IDENTITY_MAP} where person_id = ? order by namespace, value", [person]).df()
    observed = con.execute(
        f"select o.source, o.record_id, o.namespace, o.value_raw from {OBSERVATIONS_MODEL} o "
        f"join {store.SCHEMA}.{store.RECORD_PERSONS} r on r.source = o.source and r.record_id = o.record_id "
        "where r.person_id = ?", [person]).df()
    observed["value"] = normalize_values(observed["namespace"], observed["value_raw"].astype(str),
                                         region=rules.phone_region, email_rules=rules.email)
    observed["identifier"] = observed["namespace"] + ":" + observed["value"].astype(str)
    flags = con.execute(f"select namespace, value, reason from {store.SCHEMA}.{store.IDENTITY_FLAGS}").df()
    flagged = set(flags["namespace"] + ":" + flags["value"])
    links = con.execute(
        f"select l.* from {store.SCHEMA}.{store.IDENTITY_LINKS} l join {store.SCHEMA}.{store.IDENTITY_MAP} m "
        "on m.namespace = l.namespace_l and m.value = l.value_l where m.person_id = ? "
        "order by match_weight desc", [person]).df()
    history = con.execute(
        f"select * from {store.SCHEMA}.{store.IDENTITY_CHANGES} "
        "where person_id = ? or list_contains(previous_person_ids, ?) order by changed_at", [person, person]).df()
    met = flags[(flags["namespace"] + ":" + flags["value"]).isin(set(observed["identifier"]))]
    return Explanation(person, identifiers, _seen_together(observed[~observed["identifier"].isin(flagged)]),
                       links, met.reset_index(drop=True), history)


def _seen_together(observed: pd.DataFrame) -> pd.DataFrame:
    """Pairs of identifiers that appear in the same record, with how many records and which sources."""
    rows: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for (source, _), ids in observed.groupby(["source", "record_id"])["identifier"]:
        for a, b in combinations(sorted(set(ids)), 2):
            count, sources = rows.get((a, b), (0, set()))
            rows[(a, b)] = (count + 1, sources | {source})
    frame = pd.DataFrame([(a, b, n, ", ".join(sorted(s))) for (a, b), (n, s) in rows.items()], columns=PAIR_COLUMNS)
    return frame.sort_values(["records", "identifier_l", "identifier_r"], ascending=[False, True, True],
                             ignore_index=True)
