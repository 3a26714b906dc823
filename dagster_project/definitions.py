"""The one Definitions of Kizuna: every domain's assets, checks, jobs, sensors and schedules.

Start here: each domain lives in `defs/<domain>/` and exposes its own small `defs`.
"""

import dagster as dg

from dagster_project.defs import act, collect, predict, understand, unify
from dagster_project.defs.collect.assets import GROUP as COLLECT_GROUP
from dagster_project.defs.unify.translator import ACT_GROUP, PREDICT_GROUP, UNDERSTAND_GROUP
from dagster_project.defs.unify.translator import GROUP as UNIFY_GROUP
from dagster_project.resources import KizunaSettings

# What `make demo` runs: every domain's assets, in the order their dependencies give.
main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.groups(COLLECT_GROUP, UNIFY_GROUP, UNDERSTAND_GROUP, PREDICT_GROUP, ACT_GROUP),
    description="Ingest the selected arrival days, rebuild the dbt staging and intermediate models, resolve "
                "identities, build the profile marts, then the journey, KPI, funnel and experience marts, train "
                "and score the models (MLflow) and join the scores into the profile, evaluate the audiences and "
                "sync them to the enabled destinations; dbt tests and identity checks run on the way.",
)

defs = dg.Definitions.merge(
    collect.defs,
    unify.defs,
    understand.defs,
    predict.defs,
    act.defs,
    # In-process: the steps of a run share one process, so one warehouse writer at a time within a
    # run; the `warehouse` pool keeps runs from writing at the same time.
    dg.Definitions(jobs=[main_job], resources={"kizuna": KizunaSettings()}, executor=dg.in_process_executor),
)
