"""Audience definitions: `config/audiences/*.yml` (rules) and dbt models tagged `audience` (SQL).

A marketer's audience is a YAML file: a `where` rule over the profile and its recent events, and
`exclude`, a list of named rules from `config/audiences/_rules.yml` that take people out (the seeds'
"not while a support ticket is open"). An analyst's audience is a dbt model in `models/audiences/`
returning `person_id`; both become the same kind of Dagster asset.

Files are read in two steps: `load_audiences` reads names and shapes only (the asset graph must
load even when a rule names a field that does not exist yet), and `compile_audience` checks a rule
against the profile's fields when the audience is evaluated. Errors name the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizuna.audiences.expressions import All, Node, Schema, Unless, parse
from kizuna.config_folder import NAME, items, read_mapping
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

FOLDER = Path("config") / "audiences"
RULES_FILE = "_rules.yml"
KEYS = {"name", "description", "owner", "where", "exclude"}


@dataclass(frozen=True)
class Audience:
    """One audience: from a YAML rule (`where`, `exclude`) or a dbt model (`model`)."""

    name: str
    source: str  # the file that defines it (a YAML file, or the dbt model's SQL file)
    description: str = ""
    owner: str | None = None
    where: Any = None
    exclude: tuple[str, ...] = ()
    model: str | None = None  # the dbt model of a SQL audience

    @property
    def is_sql(self) -> bool:
        return self.model is not None


@dataclass(frozen=True)
class Catalogue:
    audiences: dict[str, Audience]
    rules: dict[str, Any] = field(default_factory=dict)  # name -> raw rule (`where`)
    rules_source: str = str(FOLDER / RULES_FILE)


def _rules(folder: Path, root: Path) -> dict[str, Any]:
    path = folder / RULES_FILE
    if not path.is_file():
        return {}
    label = str(path.relative_to(root))
    rules = read_mapping(path, label).get("rules") or {}
    if not isinstance(rules, Mapping):
        raise ConfigError(label, "rules", "expected a mapping of rule name -> {description, where}")
    found = {}
    for name, body in rules.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(label, f"rules.{name}", "a rule name is lower case letters, digits and _")
        if not isinstance(body, Mapping) or "where" not in body:
            raise ConfigError(label, f"rules.{name}", "expected {description, where}")
        found[name] = body["where"]
    return found


def load_audiences(root: Path | None = None, sql_models: Mapping[str, str] | None = None) -> Catalogue:
    """Every audience: the YAML files of config/audiences/ (files starting with `_` are shared rules)
    and `sql_models` (dbt model name -> its SQL file, the models tagged `audience`)."""
    root = root or project_root()
    folder = root / FOLDER
    rules = _rules(folder, root) if folder.is_dir() else {}
    audiences: dict[str, Audience] = {}
    for label, name, data in items(root, FOLDER, KEYS, "audience"):
        if "where" not in data:
            raise ConfigError(label, "where", "is missing: the rule that selects the audience")
        exclude = data.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
            raise ConfigError(label, "exclude", "expected a list of rule names from _rules.yml")
        for item in exclude:
            if item not in rules:
                raise ConfigError(label, "exclude", f"{item!r} is not a rule of {FOLDER / RULES_FILE} "
                                  f"(known: {sorted(rules)})")
        audiences[name] = Audience(name, label, str(data.get("description") or "").strip(), data.get("owner"),
                                   data["where"], tuple(exclude))
    for model, sql_file in (sql_models or {}).items():
        if model in audiences:
            raise ConfigError(sql_file, "(model name)", f"audience {model!r} is also defined in "
                              f"{audiences[model].source}; rename one")
        audiences[model] = Audience(model, sql_file, model=model)
    return Catalogue(audiences, rules)


def sql_audience_models(manifest: Mapping) -> dict[str, str]:
    """dbt model name -> its SQL file, for every model of the dbt manifest tagged `audience`."""
    return {n["name"]: f"dbt_project/{n['original_file_path']}" for n in manifest.get("nodes", {}).values()
            if n.get("resource_type") == "model" and "audience" in (n.get("tags") or [])}


def compile_audience(catalogue: Catalogue, audience: Audience, schema: Schema) -> Node:
    """The audience's rule as one tree: `where`, and unless each excluding rule is true. A rule the
    schema cannot answer raises `RuleError` naming its file and place."""
    where = parse(audience.where, schema, audience.source)
    exclusions = [Unless(parse(catalogue.rules[name], schema, catalogue.rules_source, f"rules.{name}.where"))
                  for name in audience.exclude]
    return All((where, *exclusions)) if exclusions else where
