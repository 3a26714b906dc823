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
RAW_SOURCE = "raw"
# The dbt source the marts read: the tables the identity asset writes, under the same keys.
IDENTITY_SOURCE = "identity"
# The dbt source the understand marts read: the tables the voice-of-the-customer asset writes.
VOICE_SOURCE = "voice"
OWNERS = ["team:data-platform"]


def identity_asset_key(table: str) -> dg.AssetKey:
    """The key of an identity table (`identity.<table>`), as dbt source and as Python asset."""
    return dg.AssetKey([IDENTITY_SOURCE, table])


def voice_asset_key(table: str) -> dg.AssetKey:
    """The key of a voice table (`voice.<table>`), as dbt source and as Python asset."""
    return dg.AssetKey([VOICE_SOURCE, table])


class KizunaDbtTranslator(DagsterDbtTranslator):
    """dbt sources `raw.<name>` are the collect domain's raw assets, `identity.<name>` the identity
    asset's tables; dbt models belong to unify, or to understand when tagged so."""

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
            return spec
        group = UNDERSTAND_GROUP if UNDERSTAND_TAG in props.get("tags", []) else GROUP
        return spec.replace_attributes(group_name=group, owners=OWNERS)
