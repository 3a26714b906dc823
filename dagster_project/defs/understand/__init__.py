"""Understand: journey stages, the KPI tree, funnels, pain points and the voice of the customer."""

import dagster as dg

from dagster_project.defs.understand.assets import kizuna_dbt_understand

defs = dg.Definitions(assets=[kizuna_dbt_understand])
