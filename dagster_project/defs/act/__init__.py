"""Act: audiences (declarative and SQL) with their membership history, suppression lists, and
syncs to destinations, only the difference, exactly once, under consent and data-usage labels."""

import dagster as dg

from dagster_project.defs.act.audiences import audience_assets, suppression_lists
from dagster_project.defs.act.profile import kizuna_dbt_act
from dagster_project.defs.act.syncs import sync_assets
from dagster_project.defs.unify.translator import ACT_GROUP

# Audiences and syncs follow their inputs by themselves (declarative automation, `eager`): when the
# scores or events change, the profile audiences read is rebuilt, the audiences re-evaluate and the
# syncs send the difference. Running by default, unlike Dagster's own default sensor.
act_automation_sensor = dg.AutomationConditionSensorDefinition(
    "act_automation_sensor", target=dg.AssetSelection.groups(ACT_GROUP),
    default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=60,
    description="Re-evaluates audiences and re-syncs destinations when what they read changes.")

defs = dg.Definitions(assets=[kizuna_dbt_act, suppression_lists, *audience_assets, *sync_assets],
                      sensors=[act_automation_sensor])
