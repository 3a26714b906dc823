"""Unify: the dbt project (staging, the inputs of identity resolution, and later the profile)."""

import dagster as dg

from dagster_project.defs.collect.assets import GROUP as COLLECT_GROUP
from dagster_project.defs.unify.assets import kizuna_dbt_models
from dagster_project.defs.unify.translator import GROUP

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.groups(COLLECT_GROUP, GROUP),
    description="Ingest the selected arrival days, then rebuild the dbt models (staging, intermediate) and test them.",
)

defs = dg.Definitions(assets=[kizuna_dbt_models], jobs=[main_job])
