"""The understand domain's dbt models as one asset, with pictures on their materializations.

The models tagged `understand` (dbt_project.yml: journeys, KPI tree, funnels, experience) read the
unified profile and person events, so they build after the unify marts. dbt holds the warehouse
while it runs, so the pictures (`kizuna.understand.pictures`) are drawn once it has finished: the
materializations of models with a picture wait until then and carry it in their metadata.
"""

from pathlib import Path

import dagster as dg
from dagster_dbt import dbt_assets

from dagster_project.defs.unify.assets import UNDERSTAND, dbt_build, kizuna_dbt_project
from dagster_project.defs.unify.translator import KizunaDbtTranslator
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.settings import project_root
from kizuna.understand import parts  # noqa: F401  (registers the pictures and config checks)
from kizuna.understand.config import ConfigError, check_config
from kizuna.understand.pictures import PICTURES, render
from kizuna.warehouse import warehouse


@dbt_assets(
    manifest=kizuna_dbt_project.manifest_path,
    project=kizuna_dbt_project,
    select=UNDERSTAND,
    dagster_dbt_translator=KizunaDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="kizuna_dbt_understand",
)
def kizuna_dbt_understand(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Build the journey, KPI, funnel and experience models, run their tests, draw their pictures."""
    try:
        check_config(project_root() / "config")
    except ConfigError as error:
        raise dg.Failure(description=str(error)) from error
    # An event of a model with a picture waits for dbt to finish; every event after it waits too,
    # so no model is reported before a model it depends on.
    held: list = []
    for event in dbt_build(context, kizuna):
        if held or _model_of(context, event) in PICTURES:
            held.append(event)
        else:
            yield event
    if not held:
        return
    folder = Path(kizuna.settings().warehouse_path).parent / "pictures"
    with warehouse(kizuna.settings(), read_only=True) as con:
        for event in held:
            model = _model_of(context, event)
            drawn = render(con, model, folder) if model in PICTURES else None
            if drawn is None:
                yield event
                continue
            markdown, path = drawn
            yield event.with_metadata({**event.metadata, "picture": dg.MetadataValue.md(markdown),
                                       "picture_file": dg.MetadataValue.path(str(path))})


def _model_of(context: dg.AssetExecutionContext, event) -> str | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name).path[-1]
    return None
