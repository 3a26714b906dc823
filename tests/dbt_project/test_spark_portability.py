"""The dbt project builds on local Spark as it does on DuckDB, so DuckDB-only SQL cannot creep in
(DESIGN.md, Portability).

A small world is ingested into DuckDB (conftest `small_warehouse`: every source has rows, so the
profile's traits are computed on real orders, tickets and refunds). The three parts of the project are built on
DuckDB as the Dagster assets build them: staging and intermediate (identity resolution's input), then,
once identity resolution has written the identity tables from Python, the profile models and the marts
(with the config/ files as `--vars`), then, once the voice asset's functions have written the voice
tables from Python, the understand models (tag:understand: journeys, KPI tree, funnels, experience).
The raw, identity and voice tables are exported to Parquet and declared as Spark tables `raw.<name>`,
`identity.<name>` and `voice.<name>` in a local Spark warehouse beside it; then `dbt build` runs the
same three selections, with their data and unit tests, on Spark: the same SQL through the project's
macros. The identifier observations, the marts (identity_graph, person_events, customer_profile) and
every understand mart (models/marts/understand) must be the same rows on both engines. dbt-spark's
session mode reuses the one SparkSession this module starts with the profile's settings
(`SparkSession.builder...getOrCreate()`).

Needs the `spark` extra (`pip install -e '.[spark]'`) and Java 17; skipped without them, except under
CI=true, where it fails instead.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.defs.unify.assets import (
    AFTER_IDENTITY,
    BEFORE_IDENTITY,
    UNDERSTAND,
    dbt_vars_args,
    selection_args,
)
from kizuna.dbt_profile import DUCKDB_TARGET, SPARK_TARGET, spark_target, write_profiles
from kizuna.identity import load_rules, resolve, store
from kizuna.understand import voice
from kizuna.warehouse import warehouse

pytestmark = [
    pytest.mark.slow,
    # pyspark 4.3 warns about pandas 3 on import; nothing here goes through pandas.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The three parts of the project, as the Dagster assets select them: before identity resolution
# (staging and intermediate, without the profile's models), after it (the profile's models and
# the marts, which read the tables the identity step writes from Python) and understand (the models
# tagged understand, which also read the voice tables the voice asset writes from Python).
BEFORE, AFTER, UNDERSTANDING = "before_identity", "after_identity", "understand"
SELECTIONS = {
    BEFORE: selection_args(BEFORE_IDENTITY),
    AFTER: [*selection_args(AFTER_IDENTITY), *dbt_vars_args()],
    UNDERSTANDING: [*selection_args({"select": UNDERSTAND, "exclude": ""}), *dbt_vars_args()],
}
RAW_SCHEMA = "raw"
MARTS = ("identity_graph", "person_events", "customer_profile")
# Every understand model, and the marts among them (each compared row for row).
UNDERSTAND_FOLDERS = {layer: PROJECT_DIR / "models" / layer / "understand" for layer in ("intermediate", "marts")}
UNDERSTAND_MODELS = tuple(sorted(p.stem for folder in UNDERSTAND_FOLDERS.values() for p in folder.glob("*.sql")))
UNDERSTAND_MARTS = tuple(sorted(p.stem for p in UNDERSTAND_FOLDERS["marts"].glob("*.sql")))
RUN_ID = "spark-test"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _missing_requirements() -> list[str]:
    missing = [
        f"{package} is not installed (pip install -e '.[spark]')"
        for package, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark"))
        if not _installed(module)
    ]
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or subprocess.run([java, "-version"], capture_output=True).returncode != 0:
        missing.append("a working Java (Spark 4 needs Java 17)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def _require_spark():
    missing = _missing_requirements()
    if missing:
        reason = "Spark portability test needs: " + "; ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true: the test must run there)")
        pytest.skip(reason)


def _target_path(work: Path, target: str, part: str) -> Path:
    return work / f"target_{target}_{part}"


def _dbt_args(profiles_dir: Path, target: str, work: Path, part: str) -> list[str]:
    args = ["build", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir), "--target", target]
    return args + [
        *SELECTIONS[part],
        "--target-path", str(_target_path(work, target, part)), "--log-path", str(work),
    ]


def _spark_build(profiles_dir: Path, work: Path, part: str):
    """dbt's Python API, in this process: dbt-spark's session mode takes the active SparkSession."""
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(_dbt_args(profiles_dir, SPARK_TARGET, work, part))


def _duckdb_build(profiles_dir: Path, work: Path, part: str) -> None:
    """The reference build, in its own process: dbt-duckdb would keep the warehouse file open here."""
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), *_dbt_args(profiles_dir, DUCKDB_TARGET, work, part)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def _resolve_identity(settings) -> dict[str, int]:
    """Identity resolution on the DuckDB build's observations, written as the identity asset does."""
    with warehouse(settings) as con:
        observations = con.sql("select * from intermediate.int_identifier_observations").df()
        return store.write_resolution(con, resolve(observations, load_rules()), run_id=RUN_ID)


def _write_voice(settings) -> dict[str, int]:
    """The voice tables from the DuckDB build's survey and ticket staging, written as the voice asset does."""
    with warehouse(settings) as con:
        comments = voice.read_comments(con)
        signals, themes = voice.analyze(comments)
        return voice.write_signals(con, signals, themes)


def _failures(result) -> list[str]:
    if result.exception is not None:
        return [repr(result.exception)]
    return [
        f"{r.node.unique_id}: {r.status} {(r.message or '')[:500]}"
        for r in result.result.results
        if str(r.status) not in ("success", "pass")
    ]


def _built_models(result) -> set[str]:
    """The models a dbt build on Spark created (a mart whose model failed is left out: the tests name it)."""
    if result.result is None:
        return set()
    return {r.node.name for r in result.result.results if r.node.resource_type == "model" and r.status == "success"}


def _nodes(target_path: Path) -> set[str]:
    """The nodes a finished build ran, from its run_results.json."""
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    return {r["unique_id"] for r in results if r["status"] in ("success", "pass")}


def _export(settings, schema: str, folder: Path) -> list[str]:
    """Each table of a schema to Parquet (JSON columns as text: Spark reads them with get_json_object)."""
    names = []
    with warehouse(settings, read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'",
            [schema],
        ).fetchall()
        for (name,) in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            select = ", ".join(
                f'cast("{c}" as varchar) as "{c}"' if kind == "JSON" else f'"{c}"' for c, kind in columns
            )
            (folder / name).mkdir(parents=True)
            con.execute(f"copy (select {select} from {schema}.{name}) to '{folder / name / 'part.parquet'}'")
            names.append(name)
    return names


OBSERVATIONS = "select source, record_id, namespace, value_raw, {micros} as observed_at from intermediate.{table}"
ATTRIBUTES = (
    "select source, record_id, crm_id, loyalty_card_id, full_name_kanji, full_name_kana, full_name_romaji, "
    "cast(birth_date as {text}) as birth_date, email_raw, phone_raw from intermediate.int_person_attributes"
)


def _mart_select(table: str, columns: list[tuple[str, str]], micros: str) -> str:
    """A mart's rows with its timestamps as epoch microseconds: the same numbers on both engines."""
    select = ", ".join(micros.format(c) if "timestamp" in kind.lower() else c for c, kind in columns)
    return f"select {select} from marts.{table}"


def _duckdb_marts(con, tables) -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    for table in tables:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        rows = con.execute(_mart_select(table, columns, "epoch_us({})")).fetchall()
        out[table] = ([c for c, _ in columns], rows)
    return out


def _spark_marts(spark, tables) -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    for table in tables:
        columns = spark.table(f"marts.{table}").dtypes
        rows = [tuple(r) for r in spark.sql(_mart_select(table, columns, "unix_micros({})")).collect()]
        out[table] = ([c for c, _ in columns], rows)
    return out


def _normalized(value):
    """One value as both engines' Python drivers should agree on it: floats to 6 places, lists sorted."""
    if isinstance(value, float | Decimal):
        return round(float(value), 6)
    if isinstance(value, list | tuple):
        return tuple(sorted(_normalized(v) for v in value))
    if isinstance(value, dt.datetime):  # none expected (timestamps are selected as micros)
        raise TypeError(f"unnormalized timestamp {value!r}")
    return value


@pytest.fixture(scope="module")
def builds(small_warehouse, tmp_path_factory):
    from pyspark.sql import SparkSession

    module_started = time.perf_counter()
    settings, _ = small_warehouse
    work = tmp_path_factory.mktemp("spark_portability")
    profiles_dir = write_profiles(settings)
    timings: dict[str, float] = {}

    def timed(name, call, *args):
        started = time.perf_counter()
        result = call(*args)
        timings[name] = time.perf_counter() - started
        return result

    timed("duckdb_before_identity", _duckdb_build, profiles_dir, work, BEFORE)
    identity_rows = timed("identity_resolution", _resolve_identity, settings)
    timed("duckdb_after_identity", _duckdb_build, profiles_dir, work, AFTER)
    voice_rows = timed("voice_tables", _write_voice, settings)
    timed("duckdb_understand", _duckdb_build, profiles_dir, work, UNDERSTANDING)
    with warehouse(settings, read_only=True) as con:
        micros = "epoch_us(observed_at)"
        duck_obs = con.execute(OBSERVATIONS.format(micros=micros, table="int_identifier_observations")).fetchall()
        duck_attr = con.execute(ATTRIBUTES.format(text="varchar")).fetchall()
        duck_marts = _duckdb_marts(con, MARTS + UNDERSTAND_MARTS)

    tables = {schema: _export(settings, schema, work / schema) for schema in (RAW_SCHEMA, store.SCHEMA, voice.SCHEMA)}
    started = time.perf_counter()
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_target(settings)["server_side_parameters"].items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    timings["jvm_start"] = time.perf_counter() - started
    try:
        for schema, names in tables.items():
            spark.sql(f"create database if not exists {schema}")
            for name in names:
                spark.sql(f"create table {schema}.{name} using parquet location '{work / schema / name}'")
        spark_results = {part: timed(f"spark_{part}", _spark_build, profiles_dir, work, part) for part in SELECTIONS}
        micros = "unix_micros(observed_at)"
        spark_obs = [
            tuple(r)
            for r in spark.sql(OBSERVATIONS.format(micros=micros, table="int_identifier_observations")).collect()
        ]
        spark_attr = [tuple(r) for r in spark.sql(ATTRIBUTES.format(text="string")).collect()]
        spark_marts = _spark_marts(spark, MARTS) if spark_results[AFTER].success else {}
        built = _built_models(spark_results[UNDERSTANDING])
        spark_marts |= _spark_marts(spark, [m for m in UNDERSTAND_MARTS if m in built])
    finally:
        spark.stop()
    timings["total"] = time.perf_counter() - module_started
    print(f"\nSpark portability timings (s): { {k: round(v, 1) for k, v in timings.items()} }")
    return {
        "duckdb": {"observations": duck_obs, "attributes": duck_attr, "marts": duck_marts},
        "spark": {"observations": spark_obs, "attributes": spark_attr, "marts": spark_marts},
        "spark_results": spark_results,
        "duckdb_nodes": {part: _nodes(_target_path(work, DUCKDB_TARGET, part)) for part in SELECTIONS},
        "identity_rows": identity_rows,
        "voice_rows": voice_rows,
        "timings": timings,
    }


def _built_alike(builds, part: str) -> Counter:
    """Asserts the part built on Spark with every test passing, as on DuckDB; the kinds of nodes run."""
    spark = builds["spark_results"][part]
    assert _failures(spark) == []
    assert spark.success
    nodes = {r.node.unique_id for r in spark.result.results}
    # The same models, data tests and unit tests as the DuckDB build.
    assert nodes == builds["duckdb_nodes"][part]
    return Counter(uid.split(".")[0] for uid in nodes)


def test_staging_and_intermediate_build_on_spark_with_every_test_passing(builds):
    kinds = _built_alike(builds, BEFORE)
    assert kinds["model"] >= 16 and kinds["unit_test"] >= 3 and kinds["test"] >= 10


def test_profile_and_marts_build_on_spark_with_every_test_passing(builds):
    assert builds["identity_rows"][store.RECORD_PERSONS] > 0
    kinds = _built_alike(builds, AFTER)
    # The three profile models and the three marts, with their tests and unit tests.
    assert kinds["model"] == 6 and kinds["unit_test"] >= 3 and kinds["test"] >= 10


def test_identifier_observations_are_the_same_rows_on_both_engines(builds):
    duck_obs, spark_obs = builds["duckdb"]["observations"], builds["spark"]["observations"]
    assert len(spark_obs) == len(duck_obs) > 0
    assert {r[2] for r in spark_obs} == {r[2] for r in duck_obs}
    # Record ids too (they embed timestamps: see the timestamp_key macro), and observed_at to the µs.
    assert Counter(spark_obs) == Counter(duck_obs)


def test_person_attributes_sort_names_by_script_alike_on_both_engines(builds):
    duck_attr, spark_attr = builds["duckdb"]["attributes"], builds["spark"]["attributes"]
    assert len(duck_attr) > 0
    assert Counter(spark_attr) == Counter(duck_attr)


def _assert_same_rows(builds, mart: str) -> None:
    """The mart's rows on Spark are DuckDB's: timestamps as epoch microseconds, floats to 6 places,
    lists sorted; every value of every row. Each message names the mart."""
    assert mart in builds["spark"]["marts"], f"{mart} was not built on Spark"
    duck_columns, duck_rows = builds["duckdb"]["marts"][mart]
    spark_columns, spark_rows = builds["spark"]["marts"][mart]
    assert spark_columns == duck_columns, f"{mart}: columns differ"
    assert len(duck_rows) > 0, f"{mart}: no rows on DuckDB, nothing to compare"

    def normalized(rows):
        return Counter(tuple(_normalized(v) for v in row) for row in rows)

    duck, spark = normalized(duck_rows), normalized(spark_rows)
    only_duck, only_spark = sorted((duck - spark).elements(), key=repr), sorted((spark - duck).elements(), key=repr)
    assert not only_duck and not only_spark, (
        f"{mart}: rows differ ({len(duck_rows)} on DuckDB, {len(spark_rows)} on Spark; "
        f"{len(only_duck)} only on DuckDB, {len(only_spark)} only on Spark); columns {duck_columns}; "
        f"first only on DuckDB: {only_duck[:3]}; first only on Spark: {only_spark[:3]}"
    )


@pytest.mark.parametrize("mart", MARTS)
def test_marts_are_the_same_rows_on_both_engines(builds, mart):
    assert builds["spark_results"][AFTER].success, "the post-identity part did not build on Spark"
    _assert_same_rows(builds, mart)


def test_the_world_gives_every_profile_column_a_value(builds):
    """The comparison above means something only where values exist: no column is null throughout."""
    columns, rows = builds["duckdb"]["marts"]["customer_profile"]
    empty = [c for i, c in enumerate(columns) if all(row[i] is None for row in rows)]
    assert empty == []


def test_understand_models_build_on_spark_with_every_test_passing(builds):
    # The voice tables have rows, so the marts reading them are compared on real comments.
    assert builds["voice_rows"][voice.SIGNALS] > 0 and builds["voice_rows"][voice.THEMES_TABLE] > 0
    kinds = _built_alike(builds, UNDERSTANDING)
    models = {uid.split(".")[-1] for uid in builds["duckdb_nodes"][UNDERSTANDING] if uid.startswith("model.")}
    # Every model under models/*/understand, with their tests and unit tests.
    assert models == set(UNDERSTAND_MODELS)
    assert kinds["model"] == len(UNDERSTAND_MODELS) and kinds["unit_test"] >= 20 and kinds["test"] >= 30


@pytest.mark.parametrize("mart", UNDERSTAND_MARTS)
def test_understand_marts_are_the_same_rows_on_both_engines(builds, mart):
    _assert_same_rows(builds, mart)
