"""dbt's profile, generated from the same settings as the one warehouse connection factory.

DESIGN.md: nothing but `kizuna.warehouse` decides where the warehouse is and how it is opened, and
dbt's profile follows the same settings. `write_profiles` writes a `profiles.yml` with two targets:

- `duckdb` (the default): the warehouse file; when an encryption key is configured, the encrypted
  variant STACK.md describes (an in-memory DuckDB with httpfs loaded from the shipped extensions,
  the warehouse attached with its key). The key itself is never written: the profile reads it from
  the environment variable the settings name, through dbt's `env_var`.
- `spark`: a local Spark session (local[2]) for the portability test, its warehouse and metastore
  beside the DuckDB file.

The file is written beside the warehouse (`<warehouse folder>/dbt/`), so each warehouse, a test's
included, has its own profile and no committed file holds an absolute path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kizuna.settings import Settings, load_settings
from kizuna.warehouse import ALIAS, extension_directory

PROFILE = "kizuna"
DUCKDB_TARGET = "duckdb"
SPARK_TARGET = "spark"
# The schema dbt uses when a folder names none; staging, intermediate and marts name their own.
DEFAULT_SCHEMA = "main"


def profiles_dir(settings: Settings | None = None) -> Path:
    """The folder holding the generated profiles.yml of this warehouse."""
    settings = settings or load_settings()
    return Path(settings.warehouse_path).parent / "dbt"


def duckdb_target(settings: Settings) -> dict[str, Any]:
    """The DuckDB target: the warehouse file, or the encrypted variant when a key is configured."""
    target: dict[str, Any] = {
        "type": "duckdb",
        "threads": settings.threads,
        "schema": DEFAULT_SCHEMA,
        # As kizuna.warehouse.connect: timestamps are shown in UTC whatever the host's zone.
        "settings": {"memory_limit": settings.memory_limit, "TimeZone": "UTC"},
    }
    if settings.encryption_key is None:
        return {**target, "path": settings.warehouse_path}
    ext_dir = extension_directory()
    if ext_dir is None:
        raise RuntimeError(
            "An encryption key is set but the duckdb-ext-httpfs package is missing: "
            "DuckDB writes encrypted files only with httpfs loaded."
        )
    return {
        **target,
        "path": ":memory:",
        # dbt-duckdb pastes `repo` into `INSTALL ... FROM`, hence the inner quotes (STACK.md).
        "extensions": [{"name": "httpfs", "repo": f"'{ext_dir}'"}],
        "settings": {**target["settings"], "extension_directory": ext_dir},
        "attach": [
            {
                "path": settings.warehouse_path,
                "alias": ALIAS,
                "options": {"encryption_key": "{{ env_var('" + settings.encryption_key_env + "') }}"},
            }
        ],
        "database": ALIAS,
    }


def spark_target(settings: Settings) -> dict[str, Any]:
    """A local Spark session (dbt-spark session mode) for the portability test (STACK.md)."""
    spark_dir = Path(settings.warehouse_path).parent / "spark"
    return {
        "type": "spark",
        "method": "session",
        "host": "NA",  # required by dbt-spark even in session mode
        "schema": DEFAULT_SCHEMA,
        "threads": settings.threads,
        "server_side_parameters": {
            "spark.master": "local[2]",
            "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir / 'derby'}",
            # The Hive metastore (Derby) beside the warehouse; `spark.hadoop.` passes it to Hive's
            # configuration (a bare javax.jdo key works too, but Spark warns that it ignores it).
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
            ),
            # As the DuckDB target: timestamps read and written in UTC whatever the host's zone
            # (the `timestamp_key` macro relies on it).
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            # Its progress bar would corrupt dbt's structured log, and dagster-dbt would lose events.
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "4",
        },
    }


def profiles(settings: Settings, target: str = DUCKDB_TARGET) -> dict[str, Any]:
    """The content of profiles.yml: the `kizuna` profile with both targets, `target` the default."""
    return {
        PROFILE: {
            "target": target,
            "outputs": {DUCKDB_TARGET: duckdb_target(settings), SPARK_TARGET: spark_target(settings)},
        }
    }


def write_profiles(settings: Settings | None = None, target: str = DUCKDB_TARGET) -> Path:
    """Write profiles.yml for these settings (only when its content changes); return its folder."""
    settings = settings or load_settings()
    folder = profiles_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "profiles.yml"
    text = "# Generated by kizuna.dbt_profile from the settings: edit config/settings.yml instead.\n"
    text += yaml.safe_dump(profiles(settings, target), sort_keys=False, allow_unicode=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return folder
