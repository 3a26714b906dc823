"""The dbt models as assets, in two parts around identity resolution (DESIGN.md, Identity).

`kizuna_dbt_models` builds staging and intermediate (the inputs of identity resolution);
`kizuna_dbt_marts` builds the marts, which read the identity tables as dbt sources. Both share one
translator, so the sources `identity.*` are the identity asset's keys and the order raw → dbt
staging/intermediate → identity → dbt marts follows from the asset graph, in any run.

The staging views and intermediate tables read whole raw tables, so they are not partitioned even
though most raw assets are daily: a run over a range of days rebuilds them once at the end.
"""

from pathlib import Path

import dagster as dg
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.project import dbt_cli, dbt_project, ensure_manifest
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.dbt_profile import write_profiles
from kizuna.settings import project_root

kizuna_dbt_project = ensure_manifest(dbt_project())

# dbt selections of the two parts: before identity resolution, and after it. The profile's
# intermediate models (models/intermediate/profile) read the identity tables, so they come after.
PROFILE_MODELS = "path:models/intermediate/profile"
BEFORE_IDENTITY = "path:models/staging path:models/intermediate"
AFTER_IDENTITY = f"path:models/marts {PROFILE_MODELS}"


def build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of a materialization (a pure helper: tests call it without dbt)."""
    return ["build", *(["--full-refresh"] if full_refresh else [])]


def profile_vars_args(root: Path | None = None) -> list[str]:
    """`--vars` with config/profile.yml (survivorship and consent rules of customer_profile).

    The file is written as dbt vars, so dbt reads it unchanged; without it the models' safe
    defaults apply (every attribute most recent, every purpose opt-in).
    """
    path = (root or project_root()) / "config" / "profile.yml"
    return ["--vars", path.read_text(encoding="utf-8")] if path.is_file() else []


def _build(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    # The profile follows the run's settings (a test's or the UI's), not those seen at load time.
    dbt = dbt_cli(kizuna_dbt_project, write_profiles(kizuna.settings()))
    yield from dbt.cli([*build_args(), *profile_vars_args()], context=context).stream()


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=BEFORE_IDENTITY,
    exclude=PROFILE_MODELS,
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
