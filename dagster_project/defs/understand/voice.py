"""The voice of the customer as an asset: themes and sentiment of survey comments and ticket messages.

It reads the staging models of surveys and tickets, scores each comment (`kizuna.understand.voice`)
and writes `voice.comment_signals` and `voice.comment_themes` in one transaction. The understand
marts (nps_responses, voc_themes, detractor_drivers) read them back as the dbt source `voice`, so
this asset runs after dbt's staging models and before the understand dbt asset.
"""

import time

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.unify.assets import kizuna_dbt_models
from dagster_project.defs.unify.translator import OWNERS, UNDERSTAND_GROUP, voice_asset_key
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.understand import voice

INPUTS = [get_asset_key_for_model([kizuna_dbt_models], m)
          for m in ("stg_surveys__responses", "stg_helpdesk__ticket_events")]
DESCRIPTIONS = {
    voice.SIGNALS: "One row per survey comment and customer ticket message: source, record id, language, "
                   "sentiment score and label (oseti for Japanese, VADER for English), themes.",
    voice.THEMES_TABLE: "One row per comment and theme it names (themes from config/voice_themes.yml).",
}


@dg.multi_asset(
    specs=[dg.AssetSpec(voice_asset_key(t), deps=INPUTS, group_name=UNDERSTAND_GROUP, owners=OWNERS,
                        description=DESCRIPTIONS[t], kinds={"duckdb", "python"})
           for t in (voice.SIGNALS, voice.THEMES_TABLE)],
    pool=WAREHOUSE_POOL,
    name="voice_tables",
)
def voice_tables(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
    """Score the themes and sentiment of every comment and write the voice tables."""
    started = time.perf_counter()
    with kizuna.connect() as con:
        comments = voice.read_comments(con)
        signals, themes = voice.analyze(comments)
        counts = voice.write_signals(con, signals, themes)
    seconds = round(time.perf_counter() - started, 2)
    labels = signals["sentiment_label"].value_counts().to_dict() if not signals.empty else {}
    top = themes["theme"].value_counts().head(10).to_dict() if not themes.empty else {}
    context.log.info(f"voice: {len(signals)} comments, {len(themes)} theme mentions in {seconds} s")
    yield dg.MaterializeResult(
        asset_key=voice_asset_key(voice.SIGNALS),
        metadata={"dagster/row_count": counts[voice.SIGNALS], "table": f"{voice.SCHEMA}.{voice.SIGNALS}",
                  "by_source": dg.MetadataValue.json(signals["source"].value_counts().to_dict()
                                                     if not signals.empty else {}),
                  "sentiment": dg.MetadataValue.json({k: int(v) for k, v in labels.items()}),
                  "without_theme": int((signals["theme_count"] == 0).sum()) if not signals.empty else 0,
                  "seconds": seconds})
    yield dg.MaterializeResult(
        asset_key=voice_asset_key(voice.THEMES_TABLE),
        metadata={"dagster/row_count": counts[voice.THEMES_TABLE],
                  "table": f"{voice.SCHEMA}.{voice.THEMES_TABLE}",
                  "top_themes": dg.MetadataValue.json({k: int(v) for k, v in top.items()})})
