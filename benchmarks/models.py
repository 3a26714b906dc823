"""Propensity models and lifetime value on a generated sample world: holdout figures of every
model beside its baseline, and the time and memory of training plus scoring.

    python benchmarks/models.py [--quick] [--customers N --days D]

Runs the pipeline's own path: the landing files are ingested under their data contracts; the unify
assets (dbt before identity, identity resolution, the marts) build the warehouse; then the predict
assets run as `main_job` runs them, in a fresh process of their own so that its peak memory is
theirs alone: features as of today, training examples under identity as of each cutoff, both
learners of every model tracked in a throwaway MLflow store, lifetime value, batch scores and the
profile with its scores. Their wall time is `seconds`, their peak resident memory `peak_rss_gb`.

Figures (holdout of each model, the persons whose id hashes into it; config/models.yml):
* `churn_auc`, `purchase_auc`, `offer_auc`: ROC AUC of the gradient-boosted model (calibrated);
  `*_baseline`: the logistic regression beside it. Targets: churn >= 0.80, purchase >= 0.75.
* `offer_auc_ceiling`: ROC AUC of the world's own response probabilities on every offer shown
  (data/truth offer_responses.parquet): the best any model could rank those exposures.
* `lifetime_value_backtest_*`: purchase days of the last 30 days predicted from the days before.
* Per model, `*_examples` and `*_positive_rate`; `persons` scored; `pipeline_seconds` before predict
  (generate, ingest, unify; in a process of their own, whose peak is `unify_peak_rss_gb`).

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty

import dagster as dg
import pandas as pd
from sklearn.metrics import roc_auc_score

from data_contracts import load_contracts
from kizuna.collect.ingest import ingest_source
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
MODELS = ("churn", "purchase", "offer_response")


def unify(customers: int, days: int, folder: Path, queue) -> None:
    """Generate the world, ingest it and build the unify assets; their timings (run in a process of
    its own, so that what identity resolution held is given back before predict starts)."""
    from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models
    from dagster_project.defs.unify.identity import identity_tables
    from dagster_project.resources import KizunaSettings
    from kizuna.sample_world import generate

    figures = {}
    t = time.perf_counter()
    generate(customers=customers, days=days, seed=7, landing=str(folder / "landing"), truth=str(folder / "truth"))
    figures["generate_seconds"] = round(time.perf_counter() - t, 1)
    settings = load_settings()
    t = time.perf_counter()
    with warehouse(settings) as con:
        for contract in load_contracts().values():
            ingest_source(con, contract, settings.landing_url, reference_time=datetime.now(UTC))
    figures["ingest_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    result = dg.materialize([kizuna_dbt_models, identity_tables, kizuna_dbt_marts],
                            resources={"kizuna": KizunaSettings()}, instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False, run_config=QUIET)
    if not result.success:
        raise RuntimeError(f"unify failed: {[e.message for e in result.all_events if e.is_failure][:3]}")
    figures["unify_seconds"] = round(time.perf_counter() - t, 1)
    figures["unify_peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)
    queue.put(figures)


def predict(queue) -> None:
    """The predict assets, as main_job runs them (run in a process of its own)."""
    from dagster_project.definitions import defs
    from dagster_project.defs.unify.translator import PREDICT_GROUP

    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == PREDICT_GROUP
            and graph.get(k).is_materializable]
    started = time.perf_counter()
    result = defs.resolve_job_def("main_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=keys, raise_on_error=False, run_config=QUIET)
    seconds = time.perf_counter() - started
    found = {}
    for event in result.get_asset_materialization_events():
        m = event.materialization
        found[m.asset_key.path[-1]] = {k: getattr(v, "value", v) for k, v in m.metadata.items()
                                       if k not in ("preview", "features")}
    failures = [e.message for e in result.all_events if e.is_failure][:3]
    queue.put({"seconds": seconds, "success": result.success, "failures": failures, "assets": found,
               "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2})


def in_own_process(target, *args):
    """Run `target(*args, queue)` in a fresh interpreter; what it put on the queue."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    # Read before joining: a child does not end until what it queued has been taken.
    while True:
        try:
            found = queue.get(timeout=5)
            break
        except Empty:
            if not child.is_alive():
                raise RuntimeError(f"{target.__name__} failed in its process (exit code {child.exitcode})") from None
    child.join()
    return found


def offer_ceiling(truth: Path) -> float:
    shown = pd.read_parquet(truth / "offer_responses.parquet")
    return float(roc_auc_score(shown["responded"], shown["p_response"]))


def figures_of(run: dict, truth: Path) -> dict:
    assets = run["assets"]
    out: dict = {}
    for model in MODELS:
        meta = assets.get(f"{model}_model", {})
        key = "offer" if model == "offer_response" else model
        out[f"{key}_auc"] = meta.get("roc_auc")
        out[f"{key}_auc_baseline"] = meta.get("roc_auc_baseline")
        holdout = meta.get("holdout") or {}
        out[f"{key}_holdout_examples"] = holdout.get("examples")
        out[f"{key}_positive_rate"] = holdout.get("positive_rate")
        if not meta.get("trained", False):
            out[f"{key}_not_trained"] = meta.get("reason")
    out["offer_auc_ceiling"] = round(offer_ceiling(truth), 4)
    value = assets.get("lifetime_value_model", {})
    out["lifetime_value_backtest_mae"] = value.get("backtest_mae")
    out["lifetime_value_backtest_correlation"] = value.get("backtest_correlation")
    out["persons"] = assets.get("person_features", {}).get("dagster/row_count")
    out["examples"] = {m: v["examples"] for m, v in (assets.get("training_examples", {}).get("by_model") or {}).items()}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 customers x 135 days (about a minute)")
    parser.add_argument("--customers", type=int, help="default 10,000 (the demo's sample world)")
    parser.add_argument("--days", type=int, help="default 180")
    args = parser.parse_args(argv)
    customers = args.customers or (2_000 if args.quick else 10_000)
    # 135 days: 28 of history, three cutoffs 15 days apart and the 60-day churn window fit.
    days = args.days or (135 if args.quick else 180)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update({"KIZUNA_LANDING_URL": str(folder / "landing"), "KIZUNA_TRUTH_DIR": str(folder / "truth"),
                           "KIZUNA_WAREHOUSE_PATH": str(folder / "warehouse" / "kizuna.duckdb"),
                           "KIZUNA_MLFLOW_DIR": str(folder / "mlflow"), "DAGSTER_HOME": str(folder / "dagster")})
        os.environ.pop("KIZUNA_MLFLOW_TRACKING_URI", None)
        (folder / "dagster").mkdir()
        timings = in_own_process(unify, customers, days, folder)
        run = in_own_process(predict)
        if not run["success"]:
            print(f"predict run failed: {run['failures']}")
        figures = figures_of(run, folder / "truth")
    figures.update(customers=customers, days=days, seconds=round(run["seconds"], 1),
                   peak_rss_gb=round(run["peak_rss_gb"], 2), predict_success=run["success"],
                   pipeline_seconds=round(sum(v for k, v in timings.items() if k.endswith("_seconds")), 1), **timings,
                   total_seconds=round(time.perf_counter() - started, 1))
    print(f"world {customers} x {days}d: generated {timings['generate_seconds']}s, ingested "
          f"{timings['ingest_seconds']}s, unify {timings['unify_seconds']}s; predict {figures['seconds']}s, "
          f"peak {figures['peak_rss_gb']} GB")
    for key in ("churn", "purchase", "offer"):
        print(f"  {key:<9} holdout ROC AUC {figures[f'{key}_auc']} (baseline {figures[f'{key}_auc_baseline']}, "
              f"{figures[f'{key}_holdout_examples']} examples, positive rate {figures[f'{key}_positive_rate']})")
    print(f"  offer ceiling (the world's own probabilities) {figures['offer_auc_ceiling']}; lifetime value backtest "
          f"MAE {figures['lifetime_value_backtest_mae']}, correlation {figures['lifetime_value_backtest_correlation']}")
    print(json.dumps(figures, default=str))
    return figures


if __name__ == "__main__":
    main()
