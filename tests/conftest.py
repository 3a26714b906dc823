"""Settings and servers every test shares: the MLflow store and export folder of the session, the
project's own PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"


@pytest.fixture(scope="session", autouse=True)
def outputs_outside_the_project(tmp_path_factory: pytest.TempPathFactory):
    """Models trained by a test are logged to a store of the test session's own, and file
    destinations write to a folder of its own, never to the project's data/mlflow or data/exports
    (a test's fixture may still point KIZUNA_MLFLOW_DIR or KIZUNA_EXPORTS_URL elsewhere)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIZUNA_MLFLOW_DIR", str(tmp_path_factory.mktemp("mlflow")))
        mp.setenv("KIZUNA_EXPORTS_URL", str(tmp_path_factory.mktemp("exports")))
        mp.delenv("KIZUNA_MLFLOW_TRACKING_URI", raising=False)
        yield


@pytest.fixture(scope="session")
def crm_dsn() -> str:
    """Start (or find running) the local PostgreSQL (scripts/postgres.sh) once per session; its DSN.

    Shared by the collect tests (the CRM's contacts) and the activation tests (reverse ETL).
    When the script cannot provide a server the PostgreSQL tests are skipped with its message,
    except under CI=true, where they fail.
    """
    try:
        proc = subprocess.run(["bash", str(POSTGRES_SCRIPT)], capture_output=True, text=True, timeout=900, check=False)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        code, out, err = None, "", f"{POSTGRES_SCRIPT.name} did not run: {exc}"
    lines = [line for line in out.splitlines() if line.strip()]
    if code == 0 and lines:
        return lines[-1].strip()
    messages = [line for line in err.splitlines() if line.strip()]
    reason = messages[-1] if messages else f"{POSTGRES_SCRIPT.name} failed (exit {code})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}\n{err}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


# 120 days: 28 of history, then three cutoffs 15 days apart, then the 60-day churn window.
WORLD = {"customers": 1500, "days": 135, "seed": 23}


def run_main_job(settings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    # Imported here: loading the definitions parses the dbt manifest, which most tests never need.
    from dagster_project.definitions import defs
    from data_contracts import load_contracts
    from kizuna.collect.landing import list_files

    days = [f.partition for c in load_contracts().values() if c.partition_kind == "daily"
            for f in list_files(c, settings.landing_url) if f.partition]
    tags = {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
    return defs.resolve_job_def("main_job").execute_in_process(instance=instance, tags=tags, raise_on_error=False)


@pytest.fixture(scope="session")
def full_world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One world long enough to train every model, through the whole `main_job` (collect to act),
    shared by the predict and act end-to-end tests. Slow: use it only from tests marked slow.

    `settings`, `truth`, `root`, `instance` (the Dagster instance of its runs), `result` (the run),
    `read(sql)`, and `rerun()` (main_job again, same data)."""
    from kizuna.sample_world import generate
    from kizuna.settings import load_settings
    from kizuna.warehouse import warehouse

    root = tmp_path_factory.mktemp("full_world")
    env = {"KIZUNA_LANDING_URL": str(root / "landing"), "KIZUNA_TRUTH_DIR": str(root / "truth"),
           "KIZUNA_WAREHOUSE_PATH": str(root / "warehouse" / "kizuna.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
           "KIZUNA_MLFLOW_DIR": str(root / "mlflow"), "KIZUNA_EXPORTS_URL": str(root / "exports")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("KIZUNA_CRM_POSTGRES", raising=False)
        mp.delenv("KIZUNA_MLFLOW_TRACKING_URI", raising=False)
        (root / "dagster").mkdir()
        generate(**WORLD, landing=root / "landing", truth=root / "truth")
        settings = load_settings()
        instance = dg.DagsterInstance.ephemeral()
        result = run_main_job(settings, instance)

        def read(sql: str) -> pd.DataFrame:
            with warehouse(settings, read_only=True) as con:
                return con.sql(sql).df()

        yield SimpleNamespace(settings=settings, truth=root / "truth", root=root, instance=instance, result=result,
                              read=read, rerun=lambda: run_main_job(settings, instance))
