"""Checks of the user-edited files the understand models read (config/stages.yml, kpi_tree.yml,
experience.yml), run before dbt so a mistake is reported with its file and key, not as a SQL error.

A module registers the check of its file with `@config_check("stages.yml")`: a function of the
file's parsed content and path that raises `ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Check = Callable[[Any, Path], None]
CHECKS: dict[str, Check] = {}


class ConfigError(ValueError):
    """A user-edited file is wrong; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, message: str):
        super().__init__(f"{path}: {key}: {message}")


def config_check(file_name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS[file_name] = check
        return check

    return register


def check_config(config_dir: Path) -> list[str]:
    """Run every registered check whose file exists; the names of the files checked."""
    checked = []
    for name, check in sorted(CHECKS.items()):
        path = config_dir / name
        if path.is_file():
            check(yaml.safe_load(path.read_text(encoding="utf-8")), path)
            checked.append(name)
    return checked
