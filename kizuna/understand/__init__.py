"""Understand: journey stages, the KPI tree, funnels, pain points and the voice of the customer.

The figures themselves are dbt models (dbt_project/models/*/understand); this package holds what
Python does beside them: reading and checking the user's config (stages, KPI tree), text mining of
comments, and the pictures attached to the marts in the Dagster UI (`pictures`).
"""
