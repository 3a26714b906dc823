"""The profile with its scores (dbt models tagged `predict`), built once the scores are written."""

import dagster as dg
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.assets import PREDICT, dbt_build, kizuna_dbt_project
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=PREDICT,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="kizuna_dbt_predict",
)
def kizuna_dbt_predict(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Join the latest scores into the profile (customer_360) and run its tests."""
    yield from dbt_build(context, kizuna)
