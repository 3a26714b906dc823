"""One small world through the whole `main_job` (ingest, dbt, identity, profile, understand), shared
by the understand tests that need real marts. Slow: use it only from tests marked slow."""

from __future__ import annotations

from types import SimpleNamespace

import dagster as dg
import pandas as pd
import pytest

from dagster_project.definitions import defs
from data_contracts import load_contracts
from kizuna.collect.landing import list_files
from kizuna.sample_world import generate
from kizuna.settings import load_settings
from kizuna.warehouse import warehouse

WORLD = {"customers": 400, "days": 60, "seed": 11}


@pytest.fixture(scope="session")
def understood(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`settings`, `truth` (folder), `result` (the run) and `read(sql)` over the built warehouse."""
    root = tmp_path_factory.mktemp("understand_world")
    env = {"KIZUNA_LANDING_URL": str(root / "landing"), "KIZUNA_TRUTH_DIR": str(root / "truth"),
           "KIZUNA_WAREHOUSE_PATH": str(root / "warehouse" / "kizuna.duckdb"), "DAGSTER_HOME": str(root / "dagster")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("KIZUNA_CRM_POSTGRES", raising=False)
        (root / "dagster").mkdir()
        generate(**WORLD, landing=root / "landing", truth=root / "truth")
        settings = load_settings()
        days = [f.partition for c in load_contracts().values() if c.partition_kind == "daily"
                for f in list_files(c, settings.landing_url) if f.partition]
        tags = {"dagster/asset_partition_range_start": min(days).isoformat(),
                "dagster/asset_partition_range_end": max(days).isoformat()}
        result = defs.resolve_job_def("main_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False)

        def read(sql: str) -> pd.DataFrame:
            with warehouse(settings, read_only=True) as con:
                return con.sql(sql).df()

        yield SimpleNamespace(settings=settings, truth=root / "truth", result=result, read=read)
