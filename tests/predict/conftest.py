"""One world long enough to train every model, through `main_job` (understand left out: predict does
not read it), shared by the predict tests that need a trained registry. Slow: use it only from tests
marked slow."""

from __future__ import annotations

from types import SimpleNamespace

import dagster as dg
import pandas as pd
import pytest

from dagster_project.definitions import defs
from dagster_project.defs.unify.translator import UNDERSTAND_GROUP
from data_contracts import load_contracts
from kizuna.collect.landing import list_files
from kizuna.sample_world import generate
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

# 120 days: 28 of history, then three cutoffs 15 days apart, then the 60-day churn window.
WORLD = {"customers": 1500, "days": 135, "seed": 23}


def run_main_job(settings) -> dg.ExecuteInProcessResult:
    days = [f.partition for c in load_contracts().values() if c.partition_kind == "daily"
            for f in list_files(c, settings.landing_url) if f.partition]
    tags = {"dagster/asset_partition_range_start": min(days).isoformat(),
            "dagster/asset_partition_range_end": max(days).isoformat()}
    job = defs.resolve_job_def("main_job")
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
            if defs.resolve_asset_graph().get(k).group_name != UNDERSTAND_GROUP
            and k in job.asset_layer.asset_graph.get_all_asset_keys()]
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False,
                                  asset_selection=keys)


@pytest.fixture(scope="session")
def predicted(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`settings`, `truth`, `result` (the run), `read(sql)`, and `rerun()` (main_job again, same data)."""
    root = tmp_path_factory.mktemp("predict_world")
    env = {"KIZUNA_LANDING_URL": str(root / "landing"), "KIZUNA_TRUTH_DIR": str(root / "truth"),
           "KIZUNA_WAREHOUSE_PATH": str(root / "warehouse" / "kizuna.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
           "KIZUNA_MLFLOW_DIR": str(root / "mlflow")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("KIZUNA_CRM_POSTGRES", raising=False)
        mp.delenv("KIZUNA_MLFLOW_TRACKING_URI", raising=False)
        (root / "dagster").mkdir()
        generate(**WORLD, landing=root / "landing", truth=root / "truth")
        settings = load_settings()
        result = run_main_job(settings)

        def read(sql: str) -> pd.DataFrame:
            with warehouse(settings, read_only=True) as con:
                return con.sql(sql).df()

        yield SimpleNamespace(settings=settings, truth=root / "truth", result=result, read=read,
                              rerun=lambda: run_main_job(settings))
