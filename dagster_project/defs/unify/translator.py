"""One translator decides the Dagster key, group and owners of every dbt node (STYLE.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from dagster_project.defs.collect.assets import raw_asset_key

GROUP = "unify"
# dbt models tagged `understand` (dbt_project.yml) belong to the understand domain.
UNDERSTAND_TAG = UNDERSTAND_GROUP = "understand"
# dbt models tagged `predict` (the profile with its scores) belong to the predict domain.
PREDICT_TAG = PREDICT_GROUP = "predict"
# dbt models tagged `act` (what audiences read, and SQL audiences) belong to the act domain.
ACT_TAG = ACT_GROUP = "act"
RAW_SOURCE = "raw"
# The dbt source the marts read: the tables the identity asset writes, under the same keys.
IDENTITY_SOURCE = "identity"
# The dbt source the understand marts read: the tables the voice-of-the-customer asset writes.
VOICE_SOURCE = "voice"
# The dbt source of the profile with scores: the tables the scoring assets write.
PREDICT_SOURCE = "predict"
OWNERS = ["team:data-platform"]


def identity_asset_key(table: str) -> dg.AssetKey:
    """The key of an identity table (`identity.<table>`), as dbt source and as Python asset."""
    return dg.AssetKey([IDENTITY_SOURCE, table])


def predict_asset_key(table: str) -> dg.AssetKey:
    """The key of a predict table (`predict.<table>`), as dbt source and as Python asset."""
    return dg.AssetKey([PREDICT_SOURCE, table])


def voice_asset_key(table: str) -> dg.AssetKey:
    """The key of a voice table (`voice.<table>`), as dbt source and as Python asset."""
    return dg.AssetKey([VOICE_SOURCE, table])


class KizunaDbtTranslator(DagsterDbtTranslator):
    """dbt sources `raw.<name>` are the collect domain's raw assets, `identity.<name>`, `voice.<name>`
    and `predict.<name>` the tables of those domains' Python assets; dbt models belong to unify, or
    to understand, predict or act when tagged so."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            if props["source_name"] == RAW_SOURCE:
                # The same key as the raw asset that loads the table: one node, not a copy.
                return spec.replace_attributes(key=raw_asset_key(props["name"]))
            if props["source_name"] == IDENTITY_SOURCE:
                return spec.replace_attributes(key=identity_asset_key(props["name"]))
            if props["source_name"] == VOICE_SOURCE:
                return spec.replace_attributes(key=voice_asset_key(props["name"]))
            if props["source_name"] == PREDICT_SOURCE:
                return spec.replace_attributes(key=predict_asset_key(props["name"]))
            return spec
        tags = props.get("tags", [])
        group = next((g for g in (UNDERSTAND_GROUP, PREDICT_GROUP, ACT_GROUP) if g in tags), GROUP)
        spec = spec.replace_attributes(group_name=group, owners=OWNERS)
        if ACT_TAG in tags:
            # What audiences read follows the scores by itself, so audiences re-evaluate when their
            # inputs change, not only when a job runs them.
            spec = spec.replace_attributes(automation_condition=dg.AutomationCondition.eager())
        return spec
