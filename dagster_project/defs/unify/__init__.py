"""Unify: dbt staging and intermediate, identity resolution, then the dbt marts on the identity tables."""

import dagster as dg

from dagster_project.defs.collect.assets import GROUP as COLLECT_GROUP
from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models
from dagster_project.defs.unify.identity import identity_tables
from dagster_project.defs.unify.translator import GROUP

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.groups(COLLECT_GROUP, GROUP),
    description="Ingest the selected arrival days, rebuild the dbt staging and intermediate models, resolve "
                "identities, then build the marts; dbt tests and identity checks run on the way.",
)

defs = dg.Definitions(assets=[kizuna_dbt_models, identity_tables, kizuna_dbt_marts], jobs=[main_job])
