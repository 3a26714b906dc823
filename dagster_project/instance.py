"""The project-local Dagster instance shared by `make demo` and `make ui`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from kizuna.settings import Settings

INSTANCE_CONFIG = Path(__file__).resolve().parent / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with the project's dagster.yaml and point the environment at it."""
    home = Path(settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_CONFIG.read_bytes():
        shutil.copyfile(INSTANCE_CONFIG, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def project_instance(settings: Settings) -> dg.DagsterInstance:
    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()
