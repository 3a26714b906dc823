"""The dbt models as assets, in two parts around identity resolution (DESIGN.md, Identity).

`kizuna_dbt_models` builds staging and intermediate (the inputs of identity resolution);
`kizuna_dbt_marts` builds the marts, which read the identity tables as dbt sources. Both share one
translator, so the sources `identity.*` are the identity asset's keys and the order raw → dbt
staging/intermediate → identity → dbt marts follows from the asset graph, in any run.

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

# dbt selections of the two parts: before identity resolution, and after it.
BEFORE_IDENTITY = "path:models/staging path:models/intermediate"
AFTER_IDENTITY = "path:models/marts"


def build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of a materialization (a pure helper: tests call it without dbt)."""
    return ["build", *(["--full-refresh"] if full_refresh else [])]


def _build(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    # The profile follows the run's settings (a test's or the UI's), not those seen at load time.
    dbt = dbt_cli(kizuna_dbt_project, write_profiles(kizuna.settings()))
    yield from dbt.cli(build_args(), context=context).stream()


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=BEFORE_IDENTITY,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def kizuna_dbt_models(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the staging and intermediate models and run their tests."""
    yield from _build(context, kizuna)


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=AFTER_IDENTITY,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="kizuna_dbt_marts",
)
def kizuna_dbt_marts(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the marts (identity graph, person events, profile) on the identity tables."""
    yield from _build(context, kizuna)
