"""Understand: journey stages, the KPI tree, funnels, pain points and the voice of the customer."""

import dagster as dg

from dagster_project.defs.understand.assets import kizuna_dbt_understand
from dagster_project.defs.understand.voice import voice_tables

defs = dg.Definitions(assets=[kizuna_dbt_understand, voice_tables])
