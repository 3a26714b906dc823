"""Governance at the door: data-usage labels, consent per purpose and suppression lists.

Labels start on source fields in the data contracts and follow them into dbt column `meta`; a
column a model passes through unchanged (`select profile.*`) keeps the labels of the same-named
column of the model it reads, found by walking the manifest's lineage. A field with no label
anywhere counts as the most restricted: it is never sent. `check_fields` refuses a destination
whose fields carry a label it may not receive, before anything is sent.

Who may be sent is decided in SQL (`eligible_sql`): the audience's members, less anyone without
every consent the destination's purpose needs, less anyone on a suppression list of the
destination's channel (or of every channel: deleted people).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from kizuna.activation.destinations import Destination

PERSON_KEY = "person_id"  # sent with every change, so it is checked like any other field
# Suppression lists that hold for every channel; the others hold for their own channel.
EVERY_CHANNEL = "all"


class PolicyError(RuntimeError):
    """A sync that would send what governance forbids; nothing has been sent."""


def _column_meta_labels(column: Mapping) -> tuple[str, ...] | None:
    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
    labels = meta.get("labels")
    return tuple(labels) if labels else None


def column_labels(manifest: Mapping, model: str) -> dict[str, tuple[str, ...]]:
    """column -> labels of dbt model `model`: its own column meta, else the same column's labels in
    the nearest model or source upstream that declares them (breadth first)."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    start = next((uid for uid, n in manifest.get("nodes", {}).items()
                  if n.get("resource_type") == "model" and n.get("name") == model), None)
    if start is None:
        raise LookupError(f"dbt model {model!r} is not in the manifest")
    found: dict[str, tuple[str, ...]] = {}
    seen, queue = set(), [start]
    while queue:
        uid = queue.pop(0)
        if uid in seen or uid not in nodes:
            continue
        seen.add(uid)
        for name, column in (nodes[uid].get("columns") or {}).items():
            labels = _column_meta_labels(column)
            if labels and name not in found:
                found[name] = labels
        queue.extend((nodes[uid].get("depends_on") or {}).get("nodes", []))
    return found


def load_manifest(path: Path) -> Mapping:
    return json.loads(path.read_text(encoding="utf-8"))


def check_fields(destination: Destination, labels: Mapping[str, tuple[str, ...]],
                 available: set[str] | None = None) -> None:
    """Refuse (PolicyError) a destination configured to send a field it may not receive: one whose
    labels are not all allowed, or one with no label (the most restricted). `available`: the
    columns that exist, when known."""
    problems = []
    for name in (PERSON_KEY, *destination.fields):
        if available is not None and name not in available:
            problems.append(f"field {name!r} is not a column of audience_profiles")
            continue
        field_labels = labels.get(name)
        if not field_labels:
            problems.append(f"field {name!r} has no data-usage label, so it counts as the most restricted "
                            "and is never sent")
            continue
        for label in field_labels:
            if label not in destination.allowed_labels:
                problems.append(f"field {name!r} carries label {label!r}, which destination "
                                f"{destination.name!r} may not receive (allowed: "
                                f"{sorted(destination.allowed_labels)})")
    if problems:
        raise PolicyError(f"{destination.source}: destination {destination.name!r} refused before sending: "
                          + "; ".join(problems))


def eligible_sql(destination: Destination, members: str, profiles: str, suppressions: str) -> str:
    """SQL of the members the destination may receive, with the reason each other member is held
    back: `person_id, held_back` (null = send; 'suppressed:<reason>', 'no_consent:<purpose>', or
    'no_email_or_phone' when the destination has nothing to match the person on).

    `members` is a relation of person ids; the names are the project's own table constants and
    the consent columns come from the closed list of purposes, so no user text reaches the SQL."""
    consent_checks = " ".join(
        f"when coalesce(p.consent_{purpose}, 'denied') <> 'granted' then 'no_consent:{purpose}'"
        for purpose in destination.consent)
    # Field names were checked against the profile's columns (check_fields) and are quoted.
    columns = ", ".join(f'p."{name}"' for name in destination.require_any)
    reason = "no_" + "_or_".join(destination.require_any)
    unmatchable = f"when coalesce({columns}) is null then '{reason}'" if destination.require_any else ""
    channel = destination.channel.replace("'", "")
    return f"""
        select m.person_id,
            case
                when s.reason is not null then 'suppressed:' || s.reason
                {consent_checks}
                {unmatchable}
                else null
            end as held_back
        from ({members}) m
        left join {profiles} p on p.person_id = m.person_id
        left join (
            select person_id, min(reason) as reason from {suppressions}
            where channel in ('{EVERY_CHANNEL}', '{channel}') group by person_id
        ) s on s.person_id = m.person_id"""
