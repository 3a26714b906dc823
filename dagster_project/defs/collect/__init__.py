"""Collect: a raw asset per data contract, its checks, the landing-file sensor and the daily schedule."""

import dagster as dg

from dagster_project.defs.collect.assets import raw_assets
from dagster_project.defs.collect.automation import daily_ingest_schedule, ingest_job, landing_files_sensor

defs = dg.Definitions(
    assets=raw_assets,
    jobs=[ingest_job],
    schedules=[daily_ingest_schedule],
    sensors=[landing_files_sensor],
)
