"""The one Definitions of Kizuna: every domain's assets, checks, jobs, sensors and schedules.

Start here: each domain lives in `defs/<domain>/` and exposes its own small `defs`.
"""

import dagster as dg

from dagster_project.defs import collect, unify
from dagster_project.resources import KizunaSettings

defs = dg.Definitions.merge(
    collect.defs,
    unify.defs,
    # In-process: the steps of a run share one process, so one warehouse writer at a time within a
    # run; the `warehouse` pool keeps runs from writing at the same time.
    dg.Definitions(resources={"kizuna": KizunaSettings()}, executor=dg.in_process_executor),
)
