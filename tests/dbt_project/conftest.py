"""A tiny sample world ingested into its own warehouse, once per module that asks for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from data_contracts import load_contracts
from kizuna.collect.ingest import ingest_source
from kizuna.sample_world import generate
from kizuna.settings import Settings, load_settings
from kizuna.warehouse import warehouse


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """Settings pointing at a warehouse holding every source of a 40-customer, 10-day world."""
    root = tmp_path_factory.mktemp("dbt_world")
    generate(customers=40, days=10, seed=3, landing=root / "landing", truth=root / "truth")
    settings = load_settings().with_overrides(
        landing_url=str(root / "landing"), warehouse_path=str(root / "warehouse" / "kizuna.duckdb")
    )
    with warehouse(settings) as con:
        for contract in load_contracts().values():
            ingest_source(con, contract, settings.landing_url, reference_time=datetime.now(UTC))
    return settings, root / "truth"


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """As tiny_warehouse, for a 60-customer, 21-day world: big enough that every source has rows
    (orders and their shipments and refunds, store lines, tickets), so the profile's traits are
    computed on real rows, and still a few seconds to build."""
    root = tmp_path_factory.mktemp("dbt_small_world")
    generate(customers=60, days=21, seed=7, landing=root / "landing", truth=root / "truth")
    settings = load_settings().with_overrides(
        landing_url=str(root / "landing"), warehouse_path=str(root / "warehouse" / "kizuna.duckdb")
    )
    with warehouse(settings) as con:
        for contract in load_contracts().values():
            ingest_source(con, contract, settings.landing_url, reference_time=datetime.now(UTC))
    return settings, root / "truth"
