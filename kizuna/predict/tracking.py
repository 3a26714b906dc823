"""MLflow: where runs go, one experiment per model, the registry and the champion alias.

The embedded default is a SQLite store and an artifact folder in the project (config/models.yml);
KIZUNA_MLFLOW_TRACKING_URI points everything at a tracking server instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from kizuna.predict.config import PredictConfig
from kizuna.settings import Settings

CHAMPION = "champion"


def client(settings: Settings) -> MlflowClient:
    """Point MLflow (tracking and registry) at the configured store; its client."""
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Alembic logs every schema migration of a new SQLite store at INFO.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_name(config: PredictConfig, model: str) -> str:
    return f"{config.mlflow['experiment_prefix']}-{model}"


def experiment_id(config: PredictConfig, settings: Settings, model: str) -> str:
    """The model's experiment (created on first use, with its artifacts under the configured folder)."""
    name = experiment_name(config, model)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(name, artifact_location=f"{settings.artifact_location}/{name}")


def registered_name(config: PredictConfig, model: str) -> str:
    return f"{config.mlflow['registered_model_prefix']}-{model}"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str


def champion(mlflow_client: MlflowClient, name: str) -> Champion | None:
    try:
        version = mlflow_client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    return Champion(str(version.version), version.run_id)


def run_url(settings: Settings, experiment: str, run_id: str) -> str:
    """Where the run is seen: the server's page, or the page `mlflow ui` (port 5000) serves."""
    uri = settings.tracking_uri
    base = uri.rstrip("/") if uri.startswith("http") else "http://127.0.0.1:5000"
    return f"{base}/#/experiments/{experiment}/runs/{run_id}"
