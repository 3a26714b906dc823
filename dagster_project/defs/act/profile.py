"""What audiences read (audience_profiles) and the SQL audiences: the dbt models tagged `act`."""

import dagster as dg
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.assets import ACT, dbt_build, kizuna_dbt_project
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=ACT,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="kizuna_dbt_act",
)
def kizuna_dbt_act(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build audience_profiles (the profile with scores and the current journey stage) and every
    SQL audience (models/audiences/), and run their tests."""
    yield from dbt_build(context, kizuna)
