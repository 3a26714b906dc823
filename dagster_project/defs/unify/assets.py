"""The dbt models as assets: each downstream of the raw assets it reads; `dbt build` runs its tests.

The staging views and intermediate tables read whole raw tables, so they are not partitioned even
though most raw assets are daily: a run over a range of days rebuilds them once at the end.
"""

import dagster as dg
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.project import dbt_cli, dbt_project, ensure_manifest
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.dbt_profile import write_profiles

kizuna_dbt_project = ensure_manifest(dbt_project())


def build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of a materialization (a pure helper: tests call it without dbt)."""
    return ["build", *(["--full-refresh"] if full_refresh else [])]


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def kizuna_dbt_models(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the selected dbt models and run their tests, on the warehouse the settings name."""
    # The profile follows the run's settings (a test's or the UI's), not those seen at load time.
    dbt = dbt_cli(kizuna_dbt_project, write_profiles(kizuna.settings()))
    yield from dbt.cli(build_args(), context=context).stream()
