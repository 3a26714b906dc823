"""The predict domain's Python assets: features, training examples, models, scores.

    person_events ─┬─ person_features ─────────────────────────┬─ customer_scores ─┐
                   ├─ training_examples ─ <model>_model ────────┤                   ├─ customer_360 (dbt)
                   └─ lifetime_value_model ─────────────────────┘   offer_scores ───┘

A model asset is the model registered in MLflow under its name: each materialization trains both
learners, logs them, registers the gradient-boosted one and moves `champion` only if it wins on the
fixed holdout. Scores come from the champions, so a model that cannot be trained (too little
history) leaves the last champion scoring, and its metadata says why.
"""

import time

import dagster as dg
import yaml
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.predict.metadata import model_metadata, scoring_metadata, table_preview
from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models
from dagster_project.defs.unify.translator import OWNERS, PREDICT_GROUP, identity_asset_key, predict_asset_key
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.identity.rules import load_rules
from kizuna.predict import examples, lifetime, scoring, store, train
from kizuna.predict import features as feats
from kizuna.predict.config import PredictConfig, load_predict_config
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

EVENTS = [get_asset_key_for_model([kizuna_dbt_marts], "person_events"),
          get_asset_key_for_model([kizuna_dbt_models], "int_event_details")]
# Identity as of a cutoff is resolved again from the identity asset's inputs; record_persons gives
# the person of today each example became.
IDENTITY_INPUTS = [get_asset_key_for_model([kizuna_dbt_models], "int_identifier_observations"),
                   get_asset_key_for_model([kizuna_dbt_models], "int_person_attributes"),
                   identity_asset_key("record_persons")]
KINDS = {"duckdb", "python"}
MODEL_KINDS = {"mlflow", "lightgbm", "scikitlearn"}


def _config() -> PredictConfig:
    try:
        return load_predict_config()
    except ConfigError as error:
        raise dg.Failure(description=str(error)) from error


def _models_file() -> dict:
    """config/models.yml read lightly: the asset graph must load even when a model's details are
    wrong; those are reported when an asset runs."""
    data = yaml.safe_load((project_root() / "config" / "models.yml").read_text(encoding="utf-8")) or {}
    return data.get("models") or {}


# Read once at load: the model assets and the scores' dependencies follow the models declared there.
MODELS = _models_file()


def model_asset_key(name: str) -> dg.AssetKey:
    return predict_asset_key(f"{name}_model")


@dg.asset(key=predict_asset_key("person_features"), deps=EVENTS, group_name=PREDICT_GROUP, owners=OWNERS,
          kinds=KINDS, pool=WAREHOUSE_POOL)
def person_features(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """Every feature of config/features.yml for every person, as of the start of the business day
    after the last event: what the models score. One row per person of today's identity."""
    config, settings = _config(), kizuna.settings()
    with kizuna.connect() as con:
        now = feats.scoring_cutoff(con, settings.tz)
        frame = feats.person_features(con, config, now)
        frame.insert(1, "as_of", now)
        rows = store.write_table(con, "person_features", frame)
    context.log.info(f"person_features: {rows} persons as of {now:%Y-%m-%d %H:%M} UTC")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "table": f"{store.SCHEMA}.person_features",
                                          "as_of": now.isoformat(), "features": len(config.person_features)})


@dg.asset(key=predict_asset_key("training_examples"), deps=EVENTS + IDENTITY_INPUTS, group_name=PREDICT_GROUP,
          owners=OWNERS, kinds=KINDS, pool=WAREHOUSE_POOL)
def training_examples(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """Every model's examples: persons (or person-offer pairs) as of past cutoffs, under identity as
    it stood then, with the label of the window after and the fixed holdout split. One table,
    `model` says whose; a model with too little history has none and the asset says why."""
    config, settings = _config(), kizuna.settings()
    started = time.perf_counter()
    by_model, too_short = {}, {}
    with kizuna.connect() as con:
        now = feats.scoring_cutoff(con, settings.tz)
        start = examples.history_start(con)
        snapshots = examples.Snapshots(con, config, load_rules(phone_region=settings.phone_region))
        for spec in config.models.values():
            cutoffs = examples.usable_cutoffs(config, spec, now, start)
            if not cutoffs:
                too_short[spec.name] = (f"no cutoff leaves {config.training['min_history_days']} days of history "
                                        f"before it and a {spec.label_window_days}-day label window after it")
                continue
            build = examples.offer_examples if spec.per_offer else examples.person_examples
            frame = build(snapshots, spec, cutoffs)
            by_model[spec.name] = frame.assign(model=spec.name)
        table = examples.stack(by_model)
        rows = store.write_table(con, "training_examples", table)
    summary = {name: {"examples": len(f), "positives": int(f["label"].sum()),
                      "cutoffs": sorted({str(c)[:16] for c in f["cutoff"]})} for name, f in by_model.items()}
    for name, why in too_short.items():
        context.log.warning(f"training_examples: {name}: {why}")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "table": f"{store.SCHEMA}.training_examples",
        "by_model": dg.MetadataValue.json(summary), "without_examples": dg.MetadataValue.json(too_short),
        "seconds": round(time.perf_counter() - started, 2)})


def _model_asset(name: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(key=model_asset_key(name), deps=[predict_asset_key("training_examples")], group_name=PREDICT_GROUP,
              owners=OWNERS, kinds=MODEL_KINDS, pool=WAREHOUSE_POOL, description=description)
    def _train(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
        config, settings = _config(), kizuna.settings()
        if name not in config.models:
            raise dg.Failure(description=f"config/models.yml: models.{name}: is gone; reload the definitions")
        spec = config.models[name]
        with kizuna.connect() as con:
            frame = store.read_examples(con, name)
        try:
            result = train.train_model(config, settings, spec, frame)
        except train.NotTrainable as why:
            context.log.warning(f"{name}: not trained: {why}")
            return dg.MaterializeResult(metadata={"trained": False, "reason": str(why)})
        context.log.info(f"{name}: version {result.version}, {result.decision['outcome']}")
        return dg.MaterializeResult(metadata=model_metadata(settings, result))

    return _train


model_assets = [_model_asset(name, f"The {name} model registered in MLflow: "
                             f"{str((spec or {}).get('description', '')).strip()}")
                for name, spec in MODELS.items()]


@dg.asset(key=model_asset_key(lifetime.MODEL), deps=EVENTS, group_name=PREDICT_GROUP, owners=OWNERS,
          kinds={"mlflow", "python"}, pool=WAREHOUSE_POOL)
def lifetime_value_model(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """BG/NBD purchases with Gamma-Gamma order values, fitted on every purchase and logged to MLflow
    with a backtest of the last days (config/models.yml lifetime_value)."""
    config, settings = _config(), kizuna.settings()
    with kizuna.connect() as con:
        now = feats.scoring_cutoff(con, settings.tz)
        try:
            run = lifetime.train_lifetime_value(con, config, settings, now)
        except ValueError as why:
            context.log.warning(f"lifetime value: not fitted: {why}")
            return dg.MaterializeResult(metadata={"trained": False, "reason": str(why)})
    return dg.MaterializeResult(metadata={
        "trained": True, "mlflow_run": dg.MetadataValue.url(lifetime.run_link(settings, run)),
        "run_id": run.run_id, "params": dg.MetadataValue.json({k: round(float(v), 6) for k, v in
                                                                run.model.params().items()}),
        **{k: round(v, 4) for k, v in run.metrics.items()}})


def _write_scores(context: dg.AssetExecutionContext, kizuna: KizunaSettings, table: str, scorer):
    """Score today's person features with `scorer` (kizuna.predict.scoring) into predict.<table>."""
    config, settings = _config(), kizuna.settings()
    with kizuna.connect() as con:
        frame = store.read_table(con, "person_features")
        now = frame["as_of"].iloc[0].to_pydatetime() if len(frame) else feats.scoring_cutoff(con, settings.tz)
        scores, report = scorer(con, config, settings, now, frame.drop(columns="as_of"))
        rows = store.write_table(con, table, scores)
    for model, why in report.skipped.items():
        context.log.warning(f"{table}: {model}: {why}")
    return scores, report, {"dagster/row_count": rows, "table": f"{store.SCHEMA}.{table}"}, settings


@dg.asset(key=predict_asset_key("customer_scores"),
          deps=[predict_asset_key("person_features"), model_asset_key(lifetime.MODEL),
                *(model_asset_key(n) for n, s in MODELS.items() if not (s or {}).get("per_offer"))],
          group_name=PREDICT_GROUP, owners=OWNERS, kinds=KINDS, pool=WAREHOUSE_POOL)
def customer_scores(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """One row per person and model: the champion's score, decile (1 = highest tenth), the three
    features pushing it up most, and the model version and MLflow run that scored it."""
    scores, report, table, settings = _write_scores(context, kizuna, "customer_scores", scoring.score_persons)
    return dg.MaterializeResult(metadata={**table, **scoring_metadata(settings, report, scores, "model")})


@dg.asset(key=predict_asset_key("offer_scores"),
          deps=[predict_asset_key("person_features"),
                *(model_asset_key(n) for n, s in MODELS.items() if (s or {}).get("per_offer"))],
          group_name=PREDICT_GROUP, owners=OWNERS, kinds=KINDS, pool=WAREHOUSE_POOL)
def offer_scores(context: dg.AssetExecutionContext, kizuna: KizunaSettings) -> dg.MaterializeResult:
    """Every eligible (person, offer) pair of config/offers/ scored by the offer-response champion,
    ranked per person (offer_rank 1 = the offer most likely to be redeemed): next best action's input."""
    scores, report, table, settings = _write_scores(context, kizuna, "offer_scores", scoring.score_offers)
    best = scores[scores["offer_rank"] == 1]["offer_id"].value_counts().to_dict() if len(scores) else {}
    return dg.MaterializeResult(metadata={
        **table, "best_offer_counts": dg.MetadataValue.json({k: int(v) for k, v in best.items()}),
        **scoring_metadata(settings, report, scores, None), "preview": table_preview(scores)})
