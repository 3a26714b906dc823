"""Audiences as assets: one per declarative audience (config/audiences/) and per SQL audience (dbt
models tagged `audience`), and the suppression lists every sync honours.

    audience_profiles (dbt) ─┬─ act/audiences/<rule audience> ─┐
    person_events (dbt) ─────┘                                 ├─ act/destinations/<destination>/<audience>
    audiences/<model> (dbt) ──── act/audiences/<sql audience> ─┤
    person_events, identity_graph ─ act/suppressions ──────────┘

Each audience asset evaluates its rule (SQL through sqlglot) and records who entered and who left
in `act.audience_membership`. Audiences re-evaluate by themselves when what they read changes
(declarative automation, `eager`), not only when a job runs them.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.act.profile import kizuna_dbt_act
from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models, kizuna_dbt_project
from dagster_project.defs.unify.translator import ACT_GROUP, OWNERS
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.activation import policy, suppressions
from kizuna.audiences import membership
from kizuna.audiences.config import Audience, compile_audience, load_audiences, sql_audience_models
from kizuna.audiences.expressions import RuleError
from kizuna.identity.rules import load_rules
from kizuna.masking import mask_frame
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

PROFILES = get_asset_key_for_model([kizuna_dbt_act], "audience_profiles")
EVENTS = get_asset_key_for_model([kizuna_dbt_marts], "person_events")
SUPPRESSIONS = dg.AssetKey(["act", "suppressions"])
# Labels that keep a column out of a preview in the Dagster UI (DESIGN.md: PII never leaves by accident).
MASKED_LABELS = {"identity_direct", "contact", "sensitive"}
PREVIEW_COLUMNS = ["journey_stage", "churn_decile", "purchase_decile", "lifetime_value_decile"]


# Read once at load: one asset per audience. A rule's fields are checked when the audience runs.
MANIFEST = policy.load_manifest(kizuna_dbt_project.manifest_path)
CATALOGUE = load_audiences(sql_models=sql_audience_models(MANIFEST))
# The data-usage labels of what audiences read, column by column (dbt meta, followed upstream).
PROFILE_LABELS = policy.column_labels(MANIFEST, membership.PROFILES[1])


def audience_asset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["act", "audiences", name])


@dg.asset(key=SUPPRESSIONS, deps=[EVENTS, get_asset_key_for_model([kizuna_dbt_marts], "identity_graph"),
                                  get_asset_key_for_model([kizuna_dbt_models], "stg_esp__email_events")],
          group_name=ACT_GROUP, owners=OWNERS, kinds={"duckdb", "python"}, pool=WAREHOUSE_POOL,
          automation_condition=dg.AutomationCondition.eager())
def suppression_lists(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """People no destination of a channel may receive: email unsubscribes, complaints and hard
    bounces, and the lists in config/suppressions/*.csv (deletions hold for every channel)."""
    settings = kizuna.settings()
    try:
        with kizuna.connect() as con:
            counts = suppressions.build(con, project_root(), load_rules(phone_region=settings.phone_region))
    except ConfigError as error:
        raise dg.Failure(description=str(error)) from error
    if counts.unmatched:
        context.log.warning(f"suppressions: {counts.unmatched} of {counts.listed} listed identifiers match no "
                            "person (kept: they take hold once someone with that identifier appears)")
    return dg.MaterializeResult(metadata={
        "table": suppressions.TABLE, "persons_by_reason": dg.MetadataValue.json(counts.by_reason),
        "listed": counts.listed, "listed_unmatched": counts.unmatched})


def _members_sql(con, audience: Audience, schema) -> tuple[str, object]:
    if audience.is_sql:
        return membership.sql_members_sql(audience.model), None
    now = membership.data_now(con)
    if now is None:
        raise dg.Failure(description="person_events is empty: there is nothing to evaluate an audience on")
    return membership.rule_members_sql(compile_audience(CATALOGUE, audience, schema), schema, now), now


def _audience_asset(audience: Audience) -> dg.AssetsDefinition:
    deps = ([get_asset_key_for_model([kizuna_dbt_act], audience.model)] if audience.is_sql
            else [PROFILES, EVENTS])
    description = audience.description or f"The members of {audience.name} ({audience.source})."

    @dg.asset(key=audience_asset_key(audience.name), deps=deps, group_name=ACT_GROUP,
              owners=[audience.owner] if audience.owner else OWNERS, kinds={"duckdb", "python"},
              pool=WAREHOUSE_POOL, description=description, automation_condition=dg.AutomationCondition.eager(),
              tags={"kizuna/audience": "sql" if audience.is_sql else "rule"})
    def _evaluate(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
        settings = kizuna.settings()
        evaluated_at = datetime.now(UTC).replace(tzinfo=None)
        with kizuna.connect() as con:
            try:
                schema = membership.profile_schema(con)
                members_sql, data_as_of = _members_sql(con, audience, schema)
            except (RuleError, LookupError) as error:
                raise dg.Failure(description=str(error)) from error
            result = membership.record(con, audience.name, members_sql, evaluated_at, data_as_of,
                                       "sql" if audience.is_sql else "rule")
            shared = membership.overlap(con, audience.name)
            columns = [c for c in PREVIEW_COLUMNS if c in schema.profile]
            preview = membership.preview(con, audience.name, columns, settings.preview_rows)
        masked = [c for c in preview.columns if MASKED_LABELS & set(PROFILE_LABELS.get(c, ()))]
        context.log.info(f"{audience.name}: {result.members} members, {result.entered} entered, "
                         f"{result.exited} left")
        return dg.MaterializeResult(metadata={
            "dagster/row_count": result.members, "members": result.members, "entered": result.entered,
            "exited": result.exited, "data_as_of": str(data_as_of) if data_as_of else "",
            "overlap": dg.MetadataValue.json(shared), "definition": audience.source,
            "preview": dg.MetadataValue.md(mask_frame(preview, masked).to_markdown(index=False)
                                           if len(preview) else "(no members)")})

    return _evaluate


audience_assets = [_audience_asset(a) for a in CATALOGUE.audiences.values()]
