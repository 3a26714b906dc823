"""Settings: one YAML file (config/settings.yml) plus environment overrides.

Everything that needs a path, a time zone or a connection string asks this module, so that tests,
the demo and the UI can point the whole platform somewhere else with one environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

SETTINGS_ENV = "KIZUNA_SETTINGS"
HOME_ENV = "KIZUNA_HOME"


def project_root() -> Path:
    """The folder holding `config/settings.yml`: $KIZUNA_HOME, else the nearest parent of the cwd."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "config" / "settings.yml").is_file():
            return folder
    # Installed without a checkout nearby: fall back to the source tree this module came from.
    return Path(__file__).resolve().parent.parent


def _resolve(root: Path, value: str) -> str:
    """Relative local paths are made absolute against the project root; URLs are kept."""
    if "://" in value:
        return value
    path = Path(value)
    return str(path if path.is_absolute() else (root / path).resolve())


@dataclass(frozen=True)
class Settings:
    root: Path
    timezone: str = "Asia/Tokyo"
    currency: str = "JPY"
    phone_region: str = "JP"
    landing_url: str = "data/landing"
    truth_dir: str = "data/truth"
    warehouse_path: str = "data/warehouse/kizuna.duckdb"
    dagster_home: str = ".dagster"
    dlt_pipelines_dir: str = "data/dlt"
    mlflow_dir: str = "data/mlflow"
    exports_dir: str = "data/exports"
    mlflow_tracking_uri: str = ""
    encryption_key_env: str = "KIZUNA_WAREHOUSE_KEY"
    threads: int = 2
    memory_limit: str = "8GB"
    crm_postgres_enabled: bool = False
    crm_dsn: str = "postgresql://kizuna:kizuna@127.0.0.1:55432/crm"
    crm_schema: str = "crm"
    crm_table: str = "contacts"
    partitions_start: str = "2026-05-01"
    max_quarantine_share: float = 0.05
    preview_rows: int = 5
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking (and registry) URI: a configured server, else the embedded SQLite
        store in `mlflow_dir` (`mlflow ui --backend-store-uri` takes the same URI)."""
        return self.mlflow_tracking_uri or f"sqlite:///{Path(self.mlflow_dir) / 'mlflow.db'}"

    @property
    def artifact_location(self) -> str:
        """Where new experiments keep their artifacts with the embedded store."""
        return (Path(self.mlflow_dir) / "artifacts").as_uri()

    @property
    def encryption_key(self) -> str | None:
        return os.environ.get(self.encryption_key_env) or None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _flag(env_value: str | None, configured: Any) -> bool:
    """An on/off setting: the environment variable wins when set."""
    value = env_value if env_value not in (None, "") else configured
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read the settings file and apply environment overrides."""
    root = project_root()
    path = Path(path or os.environ.get(SETTINGS_ENV) or root / "config" / "settings.yml")
    raw: dict[str, Any] = {}
    if path.is_file():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    business = raw.get("business", {})
    paths = raw.get("paths", {})
    wh = raw.get("warehouse", {})
    crm = raw.get("crm_postgres", {})
    ingest = raw.get("ingest", {})
    env = os.environ
    defaults = Settings(root=root)
    return Settings(
        root=root,
        timezone=business.get("timezone", defaults.timezone),
        currency=business.get("currency", defaults.currency),
        phone_region=business.get("phone_region", defaults.phone_region),
        landing_url=_resolve(root, env.get("KIZUNA_LANDING_URL") or paths.get("landing", defaults.landing_url)),
        truth_dir=_resolve(root, env.get("KIZUNA_TRUTH_DIR") or paths.get("truth", defaults.truth_dir)),
        warehouse_path=_resolve(
            root, env.get("KIZUNA_WAREHOUSE_PATH") or paths.get("warehouse", defaults.warehouse_path)
        ),
        dagster_home=_resolve(root, env.get("DAGSTER_HOME") or paths.get("dagster_home", defaults.dagster_home)),
        dlt_pipelines_dir=_resolve(root, paths.get("dlt_pipelines", defaults.dlt_pipelines_dir)),
        mlflow_dir=_resolve(root, env.get("KIZUNA_MLFLOW_DIR") or paths.get("mlflow", defaults.mlflow_dir)),
        exports_dir=_resolve(root, env.get("KIZUNA_EXPORTS_URL") or paths.get("exports", defaults.exports_dir)),
        mlflow_tracking_uri=env.get("KIZUNA_MLFLOW_TRACKING_URI") or str(
            (raw.get("mlflow") or {}).get("tracking_uri") or defaults.mlflow_tracking_uri),
        encryption_key_env=wh.get("encryption_key_env", defaults.encryption_key_env),
        threads=int(wh.get("threads", defaults.threads)),
        memory_limit=str(wh.get("memory_limit", defaults.memory_limit)),
        crm_postgres_enabled=_flag(env.get("KIZUNA_CRM_POSTGRES"), crm.get("enabled", defaults.crm_postgres_enabled)),
        crm_dsn=env.get("KIZUNA_CRM_DSN") or crm.get("dsn", defaults.crm_dsn),
        crm_schema=crm.get("schema", defaults.crm_schema),
        crm_table=crm.get("table", defaults.crm_table),
        partitions_start=str(ingest.get("partitions_start", defaults.partitions_start)),
        max_quarantine_share=float(ingest.get("max_quarantine_share", defaults.max_quarantine_share)),
        preview_rows=int(ingest.get("preview_rows", defaults.preview_rows)),
        raw=raw,
    )
