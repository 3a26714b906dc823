"""The dbt models as assets, in two parts around identity resolution (DESIGN.md, Identity).

`kizuna_dbt_models` builds staging and intermediate (the inputs of identity resolution);
`kizuna_dbt_marts` builds the marts, which read the identity tables as dbt sources. Both share one
translator, so the sources `identity.*` are the identity asset's keys and the order raw → dbt
staging/intermediate → identity → dbt marts follows from the asset graph, in any run.

The staging views and intermediate tables read whole raw tables, so they are not partitioned even
though most raw assets are daily: a run over a range of days rebuilds them once at the end.
"""

import json
from pathlib import Path

import dagster as dg
import yaml
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.project import dbt_cli, dbt_project, ensure_manifest
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.dbt_profile import write_profiles
from kizuna.settings import load_settings, project_root

kizuna_dbt_project = ensure_manifest(dbt_project())

# dbt selections: every model that reads the identity tables, directly or through another model,
# comes after identity resolution, every other model before it; the understand, predict and act
# domains' models (tagged in dbt_project.yml) are their own assets (dagster_project/defs/<domain>).
IDENTITY_READERS = "source:identity+"
UNDERSTAND = "tag:understand"
PREDICT = "tag:predict"
ACT = "tag:act"
BEFORE_IDENTITY = {"select": "fqn:*", "exclude": f"{IDENTITY_READERS} {UNDERSTAND} {PREDICT} {ACT}"}
AFTER_IDENTITY = {"select": IDENTITY_READERS, "exclude": f"{UNDERSTAND} {PREDICT} {ACT}"}
# The user-edited files dbt reads as project variables (each holds top-level `kizuna__*` keys).
VARS_FILES = ("profile.yml", "stages.yml", "kpi_tree.yml", "experience.yml")


def build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of a materialization (a pure helper: tests call it without dbt)."""
    return ["build", *(["--full-refresh"] if full_refresh else [])]


def selection_args(part: dict[str, str]) -> list[str]:
    """`--select`/`--exclude` of one part, for dbt run by hand or in a test."""
    return ["--select", *part["select"].split(), *(["--exclude", *part["exclude"].split()] if part["exclude"] else [])]


def dbt_vars(root: Path | None = None) -> dict:
    """The project variables from config/: the business time zone (settings), survivorship and
    consent (profile.yml), stage rules (stages.yml), the KPI tree (kpi_tree.yml), service levels
    and segments (experience.yml). A missing file leaves the models' defaults."""
    merged: dict = {"kizuna__timezone": load_settings().timezone}
    for name in VARS_FILES:
        path = (root or project_root()) / "config" / name
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of kizuna__* variables")
        for key in data:
            if not str(key).startswith("kizuna__") or key in merged:
                raise ValueError(f"{path}: top-level key {key!r} must be a kizuna__* variable defined once")
        merged |= data
    return merged


def dbt_vars_args(root: Path | None = None) -> list[str]:
    """`--vars` with `dbt_vars`, as one line of JSON (YAML to dbt): the command is logged with every
    run, and the config files' comments and layout would make it hundreds of lines."""
    return ["--vars", json.dumps(dbt_vars(root), ensure_ascii=False, separators=(",", ":"), default=str)]


def dbt_build(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """`dbt build` of the context's selection with the config/ vars; dbt's events as Dagster's."""
    # The profile follows the run's settings (a test's or the UI's), not those seen at load time.
    dbt = dbt_cli(kizuna_dbt_project, write_profiles(kizuna.settings()))
    yield from dbt.cli([*build_args(), *dbt_vars_args()], context=context).stream()


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=BEFORE_IDENTITY["select"],
    exclude=BEFORE_IDENTITY["exclude"],
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def kizuna_dbt_models(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the staging and intermediate models and run their tests."""
    yield from dbt_build(context, kizuna)


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=AFTER_IDENTITY["select"],
    exclude=AFTER_IDENTITY["exclude"],
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="kizuna_dbt_marts",
)
def kizuna_dbt_marts(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the marts (identity graph, person events, profile) on the identity tables."""
    yield from dbt_build(context, kizuna)
