"""Predict: point-in-time features, propensity models and lifetime value in MLflow, batch scores,
and the profile with its scores."""

import dagster as dg

from dagster_project.defs.predict.assets import (
    customer_scores,
    lifetime_value_model,
    model_assets,
    offer_scores,
    person_features,
    training_examples,
)
from dagster_project.defs.predict.profile import kizuna_dbt_predict

defs = dg.Definitions(assets=[person_features, training_examples, *model_assets, lifetime_value_model,
                              customer_scores, offer_scores, kizuna_dbt_predict])
