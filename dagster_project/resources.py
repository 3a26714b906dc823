"""Resources shared by every domain: the warehouse and the landing zone, both from settings."""

from __future__ import annotations

import dagster as dg
import duckdb

from kizuna.settings import Settings, load_settings
from kizuna.warehouse import connect

# Every asset that writes the warehouse runs in this pool; the instance limits it to one at a time
# (see dagster_project/dagster.yaml), because DuckDB allows a single writing process.
WAREHOUSE_POOL = "warehouse"


class KizunaSettings(dg.ConfigurableResource):
    """Where Kizuna's data lives. Empty fields fall back to config/settings.yml and the environment."""

    landing_url: str = ""
    warehouse_path: str = ""

    def settings(self) -> Settings:
        settings = load_settings()
        changes = {}
        if self.landing_url:
            changes["landing_url"] = self.landing_url
        if self.warehouse_path:
            changes["warehouse_path"] = self.warehouse_path
        return settings.with_overrides(**changes) if changes else settings

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A warehouse connection through the one connection factory."""
        return connect(self.settings())
