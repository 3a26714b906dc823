"""Folders of user-edited YAML files, one item a file (config/audiences/, config/destinations/).

Files whose name starts with `_` hold what the items share; every other file is one item, named by
its `name` key or, without one, by its file name. Errors name the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from kizuna.understand.config import ConfigError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def read_mapping(path: Path, label: str) -> Mapping:
    """A YAML file that must hold a mapping (an empty file is an empty mapping)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(label, "(file)", f"is not valid YAML: {error}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(label, "(file)", "expected a mapping")
    return data


def items(root: Path, folder: Path, keys: set[str], kind: str) -> Iterator[tuple[str, str, Mapping]]:
    """(label, name, data) of each item file of `root / folder`, in name order: only `keys` are
    allowed, the name is checked, and a name used twice is refused."""
    seen: dict[str, str] = {}
    for path in sorted((root / folder).glob("*.yml")):
        if path.name.startswith("_"):
            continue
        label = str(path.relative_to(root))
        data = read_mapping(path, label)
        unknown = set(data) - keys
        if unknown:
            raise ConfigError(label, ", ".join(sorted(unknown)), f"unknown key(s); expected {sorted(keys)}")
        name = data.get("name", path.stem)
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(label, "name", f"{name!r}: a {kind} name is lower case letters, digits and _")
        if name in seen:
            raise ConfigError(label, "name", f"{name!r} is already defined in {seen[name]}")
        seen[name] = label
        yield label, name, data
