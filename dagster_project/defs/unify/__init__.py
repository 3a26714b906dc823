"""Unify: dbt staging and intermediate, identity resolution, then the dbt marts on the identity tables."""

import dagster as dg

from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models
from dagster_project.defs.unify.identity import identity_tables

defs = dg.Definitions(assets=[kizuna_dbt_models, identity_tables, kizuna_dbt_marts])
