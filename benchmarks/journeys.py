"""Journey stages on a generated sample world, scored against its true stages; wall time of the
understand marts.

    python benchmarks/journeys.py [--quick] [--customers N --days D]

Runs the pipeline's own path: the landing files are ingested under their data contracts into a
warehouse; the dbt models before identity, identity resolution and the unify marts are built
through their Dagster assets (`unify_seconds`); then the understand assets (`voice_tables`, the
comments' themes and sentiment, and `kizuna_dbt_understand`) build every understand model
(stages, KPI tree, funnels, voice of the customer), run their dbt tests and draw their pictures:
their wall time is `seconds`. `pipeline_seconds` is ingest + unify
+ understand; `stage_models_seconds` is dbt's own execution time of the five journey-stage models
(int_person_day_signals, person_stage_days, int_stage_spells, stage_transitions, stage_flow),
built once more on their own after the asset.

Scoring (`score`): every true person-day of data/truth stages.parquet is one unit.

* A true person's found person is the person (identity.identity_map) holding its strongest
  identifiers: its CRM id, else its loyalty card, else its user id, else the found person holding
  most of its identifiers (values as the truth writes them, normalized by our rules; identifiers
  the truth flags shared left out). A true person with no identifier in the map has no found person.
* `stage_agreement`: the share of true person-days whose found person's stage that day
  (person_stage_days) equals the true stage. A day without a row (no found person: persons who
  never left a trace in any source) is a miss, reported as `unseen_share`;
  `stage_agreement_found` is the same share over the true persons with a found person.
* `per_stage`: for each true stage, its person-days (`days`), the share staged the same (`recall`),
  and the share of the days we put in that stage that are truly in it (`precision`); `confusion`:
  the largest (true stage, our stage) mix-ups.

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from data_contracts import load_contracts
from kizuna.collect.ingest import ingest_source
from kizuna.identity import load_rules
from kizuna.identity.normalize import normalize_values
from kizuna.settings import Settings, load_settings, project_root
from kizuna.warehouse import warehouse

STAGE_MODELS = ("int_person_day_signals", "person_stage_days", "int_stage_spells", "stage_transitions", "stage_flow")
# Which identifier decides a true person's found person, strongest first (see the docstring).
ANCHORS = ("crm_id", "loyalty_card_id", "user_id")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def generate(customers: int, days: int, folder: Path) -> tuple[Path, Path]:
    from kizuna.sample_world import generate as generate_world

    landing, truth = folder / "landing", folder / "truth"
    generate_world(customers=customers, days=days, seed=7, landing=str(landing), truth=str(truth))
    return landing, truth


def build(landing: Path, folder: Path) -> tuple[Settings, dict]:
    """Ingest `landing` into a warehouse under `folder`, then materialize the unify assets and the
    understand asset in two runs; their timings, and whether the understand run succeeded."""
    from dagster_project.defs.understand.assets import kizuna_dbt_understand
    from dagster_project.defs.understand.voice import voice_tables
    from dagster_project.defs.unify.assets import kizuna_dbt_marts, kizuna_dbt_models
    from dagster_project.defs.unify.identity import identity_tables
    from dagster_project.resources import KizunaSettings

    settings = load_settings().with_overrides(
        landing_url=str(landing), warehouse_path=str(folder / "warehouse" / "kizuna.duckdb"))
    resources = {"kizuna": KizunaSettings(landing_url=settings.landing_url, warehouse_path=settings.warehouse_path)}
    figures: dict = {}
    t = time.perf_counter()
    with warehouse(settings) as con:
        for contract in load_contracts().values():
            ingest_source(con, contract, settings.landing_url, reference_time=datetime.now(UTC))
    figures["ingest_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    unified = dg.materialize([kizuna_dbt_models, identity_tables, kizuna_dbt_marts], resources=resources,
                             instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET)
    if not unified.success:
        raise RuntimeError(f"unify failed: {[e.message for e in unified.all_events if e.is_failure][:3]}")
    figures["unify_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    understood = dg.materialize([voice_tables, kizuna_dbt_understand], resources=resources,
                                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET)
    figures["seconds"] = round(time.perf_counter() - t, 1)
    figures["understand_success"] = understood.success
    if not understood.success:
        figures["understand_failures"] = [e.message for e in understood.all_events if e.is_failure][:3]
    figures["stage_models_seconds"] = round(stage_models_seconds(settings, folder), 2)
    figures["pipeline_seconds"] = round(figures["ingest_seconds"] + figures["unify_seconds"] + figures["seconds"], 1)
    return settings, figures


def stage_models_seconds(settings: Settings, folder: Path) -> float:
    """dbt's execution time of the journey-stage models alone, rebuilt once more after the asset
    (whose own timings are lost when another understand model fails). dbt runs in a process of its
    own: dbt-duckdb keeps its connection open in the process that ran it."""
    from dagster_project.defs.unify.assets import dbt_vars_args
    from kizuna.dbt_profile import write_profiles

    target = folder / "dbt_target"
    subprocess.run([str(Path(sys.executable).parent / "dbt"), "--quiet", "run",
                    "--project-dir", str(project_root() / "dbt_project"),
                    "--profiles-dir", str(write_profiles(settings)), "--target-path", str(target),
                    "--select", *STAGE_MODELS, *dbt_vars_args()], check=True)
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    return sum(result["execution_time"] for result in results)


def found_persons(identity_map: pd.DataFrame, truth_dir: Path, rules) -> pd.Series:
    """The found person of each true person (see the module docstring), indexed by true person id."""
    ids = pd.read_parquet(truth_dir / "identifiers.parquet")
    ids = ids[~ids["shared"]].copy()
    ids["ours"] = normalize_values(ids["namespace"], ids["value"], region=rules.phone_region, email_rules=rules.email)
    lookup = identity_map.drop_duplicates(["namespace", "value"]).set_index(["namespace", "value"])["person_id"]
    ids["found"] = pd.MultiIndex.from_frame(ids[["namespace", "ours"]]).map(lookup.to_dict()).to_numpy()
    ids = ids.dropna(subset=["found"])
    rank = {namespace: i for i, namespace in enumerate(ANCHORS)}
    ids["rank"] = ids["namespace"].map(rank).fillna(len(ANCHORS)).astype(int)
    # Per true person: the strongest namespace present, then the found person holding most of
    # those identifiers (ties: the smaller id, so the choice is stable).
    best = ids[ids["rank"] == ids.groupby("person_id")["rank"].transform("min")]
    counts = best.groupby(["person_id", "found"]).size().reset_index(name="n")
    counts = counts.sort_values(["person_id", "n", "found"], ascending=[True, False, True])
    return counts.drop_duplicates("person_id").set_index("person_id")["found"]


def score(stage_days: pd.DataFrame, found: pd.Series, truth_dir: Path) -> dict:
    """Agreement of `stage_days` (person_id, stage_date, stage) with the true stages."""
    truth = pd.read_parquet(truth_dir / "stages.parquet")
    truth = pd.DataFrame({"true_person": truth["person_id"].astype(str), "stage_date": pd.to_datetime(truth["date"]),
                          "true_stage": truth["stage"].astype(str)})
    truth["person_id"] = truth["true_person"].map(found)
    ours = stage_days.assign(stage_date=pd.to_datetime(stage_days["stage_date"]))
    joined = truth.merge(ours[["person_id", "stage_date", "stage"]], on=["person_id", "stage_date"], how="left")
    joined["stage"] = joined["stage"].fillna("unseen")
    hit = joined["stage"] == joined["true_stage"]
    per_stage = {}
    for stage, rows in joined.groupby("true_stage"):
        predicted = joined["stage"] == stage
        per_stage[stage] = {
            "days": int(len(rows)),
            "recall": round(float((rows["stage"] == stage).mean()), 4),
            "precision": round(float(hit[predicted].mean()), 4) if predicted.any() else None,
        }
    misses = joined[~hit].groupby(["true_stage", "stage"]).size().sort_values(ascending=False)
    confusion = [{"true": t, "ours": o, "days": int(n), "share_of_days": round(n / len(joined), 4)}
                 for (t, o), n in misses.head(10).items()]
    return {
        "stage_agreement": round(float(hit.mean()), 4),
        "person_days": int(len(joined)),
        "persons": int(truth["true_person"].nunique()),
        "persons_found": int(truth.drop_duplicates("true_person")["person_id"].notna().sum()),
        "unseen_share": round(float((joined["stage"] == "unseen").mean()), 4),
        "stage_agreement_found": round(float(hit[joined["person_id"].notna()].mean()), 4),
        "per_stage": per_stage,
        "confusion": confusion,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 customers x 90 days (about a minute)")
    parser.add_argument("--customers", type=int, help="default 100,000")
    parser.add_argument("--days", type=int, help="default 60")
    args = parser.parse_args(argv)
    customers = args.customers or (5_000 if args.quick else 100_000)
    # 100,000 persons over 60 days peak at 16 GB: identity resolution holds every identifier
    # observation in pandas (about 9M here), and 180 days (about 27M) do not fit in 24 GB.
    days = args.days or (90 if args.quick else 60)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        landing, truth = generate(customers, days, Path(tmp))
        generated = round(time.perf_counter() - t, 1)
        settings, timings = build(landing, Path(tmp))
        with warehouse(settings, read_only=True) as con:
            identity_map = con.sql("select namespace, value, person_id from identity.identity_map").df()
            stage_days = con.sql("select person_id, stage_date, stage from marts.person_stage_days").df()
            flow = con.sql("select stage, spells, share_moved_on, share_dropped_back, share_stalled, "
                           "median_days_in_stage from marts.stage_flow order by stage_order").df()
        figures = score(stage_days, found_persons(identity_map, truth, load_rules()), truth)
    print(f"world {customers} x {days}d: generated {generated}s, ingested {timings['ingest_seconds']}s, unify "
          f"{timings['unify_seconds']}s, understand {timings['seconds']}s (stage models "
          f"{timings['stage_models_seconds']}s), understand run ok: {timings['understand_success']}")
    print(f"stage agreement {figures['stage_agreement']} over {figures['person_days']:,} true person-days "
          f"({figures['persons']:,} persons, {figures['persons_found']:,} found; unseen {figures['unseen_share']})")
    for stage, row in figures["per_stage"].items():
        print(f"  {stage:<14} {row['days']:>10,} days  recall {row['recall']}  precision {row['precision']}")
    print("largest mix-ups (true -> ours):")
    for row in figures["confusion"]:
        print(f"  {row['true']:<14} -> {row['ours']:<14} {row['days']:>9,} days ({row['share_of_days']:.2%})")
    print("stage flow:")
    print(flow.to_string(index=False))
    out = {"customers": customers, "days": days, **figures, **timings, "generate_seconds": generated,
           "total_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
