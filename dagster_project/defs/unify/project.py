"""The dbt project as Dagster sees it, and a manifest that is always there when definitions load.

Definitions load in tests, CI, the demo and the UI from a fresh checkout, where no `dbt parse` has
run yet: `ensure_manifest` parses the project (no network: the project has no packages) when the
manifest is missing or older than any file it is parsed from.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from kizuna.dbt_profile import write_profiles
from kizuna.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The folders whose files decide the manifest (target/ and logs/ are outputs, never inputs).
_PARSED_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
# The venv's dbt, found even when the venv is not activated (`.venv/bin/dagster ...` from make or CI).
DBT_EXECUTABLE = shutil.which("dbt") or str(Path(sys.executable).parent / "dbt")


def dbt_project(settings: Settings | None = None) -> DbtProject:
    """The DbtProject, its profile generated from the settings beside the warehouse."""
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=write_profiles(settings))


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than dbt_project.yml or any parsed file."""
    if not project.manifest_path.is_file():
        return True
    built = project.manifest_path.stat().st_mtime
    inputs = [project.project_dir / "dbt_project.yml"]
    for folder in _PARSED_FOLDERS:
        inputs.extend(p for p in (project.project_dir / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > built for p in inputs)


def dbt_cli(project: DbtProject, profiles_dir: str | Path | None = None) -> DbtCliResource:
    """A dbt CLI resource on this project, with the venv's dbt executable."""
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(profiles_dir or project.profiles_dir),
        dbt_executable=DBT_EXECUTABLE,
    )


def ensure_manifest(project: DbtProject) -> DbtProject:
    """Parse the project (`dbt parse`, offline) when its manifest is missing or stale."""
    # dagster-dbt's own preparer (prepare_if_dev) runs only under `dagster dev` and looks for `dbt`
    # on PATH, which an unactivated venv lacks; this covers tests, CI, the demo and the UI alike.
    if manifest_is_stale(project):
        dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project
