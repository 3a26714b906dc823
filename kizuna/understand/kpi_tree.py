"""The KPI tree of config/kpi_tree.yml: read, checked before dbt builds kpi_values and
kpi_contributions from it, and the arithmetic the marts do, in Python for checks and tests.

A node's formula is arithmetic over the base measures of the dbt model int_kpi_measures_daily,
whose YAML is the one list of measure names (and of the identities between them, column
`meta.identity`). A decomposition (`product` or `sum`) must hold for any measure values: the
check evaluates parent and children on random measures that respect those identities.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError

from kizuna.settings import project_root
from kizuna.understand.config import ConfigError, config_check

VAR = "kizuna__kpi_tree"
STAGES = ("awareness", "consideration", "purchase", "onboarding", "retention", "advocacy", "at_risk", "lapsed")
LEVELS = ("kgi", "kpi", "pi")
UNITS = ("JPY", "count", "ratio", "score")
DECOMPOSITIONS = ("product", "sum")
NODE_KEYS = {"id", "name", "parent", "level", "stage", "department", "formula", "unit", "decomposition", "description"}
TREE_KEYS = {"nodes", "reactivation_days"}
MEASURES_YAML = Path("dbt_project/models/intermediate/understand/int_kpi_measures_daily.yml")
_ID = re.compile(r"[a-z][a-z0-9_]*")
# The numbers macros/kpi_tree.sql reads: digits with an optional fraction.
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_ALLOWED = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Paren, exp.Neg, exp.Column, exp.Identifier, exp.Literal)


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    parent: str | None
    level: str
    stage: str
    department: str
    formula: str
    unit: str | None
    decomposition: str | None


@cache
def measures(root: Path | None = None) -> dict[str, str | None]:
    """Base measure name -> its identity over other measures (or None), from the model's YAML."""
    doc = yaml.safe_load(((root or project_root()) / MEASURES_YAML).read_text(encoding="utf-8"))
    (model,) = [m for m in doc["models"] if m["name"] == "int_kpi_measures_daily"]
    return {c["name"]: ((c.get("config") or {}).get("meta") or {}).get("identity")
            for c in model["columns"] if c["name"] != "measure_date"}


def parse_formula(formula: Any, known: Mapping[str, Any], path: Path | str = "kpi_tree.yml",
                  key: str = "formula") -> exp.Expression:
    """The formula's expression tree; ConfigError unless it is only known measures, numbers,
    + - * / and parentheses."""
    if not isinstance(formula, str | int | float) or isinstance(formula, bool) or not str(formula).strip():
        raise ConfigError(path, key, "a formula must be arithmetic text such as `cart_adders / product_viewers`")
    try:
        tree = sqlglot.parse_one(str(formula))
    except ParseError as error:
        raise ConfigError(path, key, f"cannot parse {formula!r}: {str(error).splitlines()[0]}") from error
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise ConfigError(path, key, f"{formula!r} may hold only measure names, numbers and + - * / ( ), "
                                         f"not {node.sql()!r}")
        if isinstance(node, exp.Literal) and (node.is_string or not _NUMBER.fullmatch(node.this)):
            raise ConfigError(path, key, f"{formula!r}: {node.sql()} is no plain number (write e.g. 100 or 0.5)")
        if isinstance(node, exp.Column):
            if node.table or node.this.quoted:
                raise ConfigError(path, key, f"{formula!r}: write a measure as a plain name, not {node.sql()!r}")
            if node.name not in known:
                raise ConfigError(path, key, f"{formula!r} uses {node.name!r}, which is no base measure "
                                             f"(int_kpi_measures_daily: {', '.join(sorted(known))})")
    return tree


def evaluate(tree: exp.Expression, values: Mapping[str, float]) -> float | None:
    """The value of a parsed formula; None when it divides by zero (the marts' nullif)."""
    if isinstance(tree, exp.Paren):
        return evaluate(tree.this, values)
    if isinstance(tree, exp.Neg):
        inner = evaluate(tree.this, values)
        return None if inner is None else -inner
    if isinstance(tree, exp.Literal):
        return float(tree.this)
    if isinstance(tree, exp.Column):
        return float(values[tree.name])
    left, right = evaluate(tree.this, values), evaluate(tree.expression, values)
    if left is None or right is None:
        return None
    if isinstance(tree, exp.Add):
        return left + right
    if isinstance(tree, exp.Sub):
        return left - right
    if isinstance(tree, exp.Mul):
        return left * right
    return None if right == 0 else left / right


def lmdi(parent: tuple[float, float], children: Mapping[str, tuple[float, float]]) -> dict[str, float | None]:
    """Each child's LMDI-I contribution to the change of `parent` = product of the children, from
    (previous, current) values: L(P1, P0) * ln(x1 / x0), L the logarithmic mean. They add up to
    P1 - P0 when the product holds; None where a value is not positive."""
    p0, p1 = parent
    if p0 <= 0 or p1 <= 0:
        return dict.fromkeys(children)
    weight = p1 if p1 == p0 else (p1 - p0) / (math.log(p1) - math.log(p0))
    return {name: weight * (math.log(x1) - math.log(x0)) if x0 > 0 and x1 > 0 else None
            for name, (x0, x1) in children.items()}


def random_measures(known: Mapping[str, str | None], rng: random.Random) -> dict[str, float]:
    """Positive random values of every measure, the identities between measures respected."""
    values = {name: rng.uniform(1.0, 1000.0) for name, identity in known.items() if not identity}
    for name, identity in known.items():
        if identity:
            values[name] = evaluate(parse_formula(identity, values, MEASURES_YAML, name), values)
    return values


def _text(value: Any, path: Path, key: str, allowed: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, key, "missing" if value is None else f"must be text, not {value!r}")
    if allowed and value not in allowed:
        raise ConfigError(path, key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _node(raw: Any, index: int, path: Path) -> Node:
    where = f"{VAR}.nodes[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(path, where, "a node is a mapping with id, level, stage, department and formula")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not _ID.fullmatch(node_id):
        raise ConfigError(path, f"{where}.id", f"must be lower_snake_case text, not {node_id!r}")
    where = f"{where} ({node_id})"
    unknown = set(raw) - NODE_KEYS
    if unknown:
        raise ConfigError(path, where, f"unknown keys {', '.join(sorted(map(str, unknown)))} "
                                       f"(a node has {', '.join(sorted(NODE_KEYS))})")
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise ConfigError(path, f"{where}.parent", f"must be a node id, not {parent!r}")
    unit = raw.get("unit")
    decomposition = raw.get("decomposition")
    return Node(
        id=node_id,
        name=_text(raw.get("name", node_id), path, f"{where}.name"),
        parent=parent,
        level=_text(raw.get("level"), path, f"{where}.level", LEVELS),
        stage=_text(raw.get("stage"), path, f"{where}.stage", STAGES),
        department=_text(raw.get("department"), path, f"{where}.department"),
        formula=str(raw.get("formula")) if raw.get("formula") is not None else "",
        unit=None if unit is None else _text(unit, path, f"{where}.unit", UNITS),
        decomposition=None if decomposition is None else _text(decomposition, path, f"{where}.decomposition",
                                                              DECOMPOSITIONS),
    )


def parse_tree(data: Any, path: Path | str, root: Path | None = None) -> list[Node]:
    """The nodes of a parsed config/kpi_tree.yml, checked; ConfigError naming file and node."""
    path = Path(path)
    if not isinstance(data, Mapping) or not isinstance(data.get(VAR), Mapping):
        raise ConfigError(path, VAR, "missing: the file holds the tree under this top-level key")
    tree = data[VAR]
    unknown = set(tree) - TREE_KEYS
    if unknown:
        raise ConfigError(path, VAR, f"unknown keys {', '.join(sorted(map(str, unknown)))} "
                                     f"(expected {', '.join(sorted(TREE_KEYS))})")
    days = tree.get("reactivation_days", 120)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ConfigError(path, f"{VAR}.reactivation_days", f"must be a whole number of days >= 1, not {days!r}")
    raw_nodes = tree.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ConfigError(path, f"{VAR}.nodes", "must be a non-empty list of nodes")
    known = measures(root)
    nodes: dict[str, Node] = {}
    formulas: dict[str, exp.Expression] = {}
    for index, raw in enumerate(raw_nodes):
        node = _node(raw, index, path)
        if node.id in nodes:
            raise ConfigError(path, f"{VAR}.nodes[{index}].id", f"{node.id!r} is used by two nodes")
        formulas[node.id] = parse_formula(raw.get("formula"), known, path,
                                          f"{VAR}.nodes[{index}] ({node.id}).formula")
        nodes[node.id] = node
    _check_shape(nodes, path)
    _check_decompositions(nodes, formulas, known, path)
    return list(nodes.values())


def _check_shape(nodes: dict[str, Node], path: Path) -> None:
    roots = [n.id for n in nodes.values() if n.parent is None]
    if len(roots) != 1:
        raise ConfigError(path, f"{VAR}.nodes", f"needs exactly one root (a node without parent), "
                                                f"found {len(roots)}: {', '.join(roots) or 'none'}")
    for node in nodes.values():
        if node.parent is not None and node.parent not in nodes:
            raise ConfigError(path, f"{VAR}.nodes ({node.id}).parent", f"no node has id {node.parent!r}")
        if (node.level == "kgi") != (node.parent is None):
            raise ConfigError(path, f"{VAR}.nodes ({node.id}).level",
                              "the root, and only the root, is the kgi")
    for node in nodes.values():
        seen = [node.id]
        current = node
        while current.parent is not None:
            current = nodes[current.parent]
            if current.id in seen:
                raise ConfigError(path, f"{VAR}.nodes ({node.id}).parent",
                                  f"parents go round in a cycle: {' -> '.join([*seen, current.id])}")
            seen.append(current.id)


def _check_decompositions(nodes: dict[str, Node], formulas: dict[str, exp.Expression],
                          known: Mapping[str, str | None], path: Path) -> None:
    rng = random.Random(20260501)
    draws = [random_measures(known, rng) for _ in range(3)]
    for node in nodes.values():
        if node.decomposition is None:
            continue
        children = [n.id for n in nodes.values() if n.parent == node.id]
        key = f"{VAR}.nodes ({node.id}).decomposition"
        if len(children) < 2:
            raise ConfigError(path, key, f"a {node.decomposition} needs at least two children, has {len(children)}")
        sign = " * " if node.decomposition == "product" else " + "
        for values in draws:
            parent = evaluate(formulas[node.id], values)
            parts = [evaluate(formulas[c], values) for c in children]
            if parent is None or None in parts:
                continue
            combined = math.prod(parts) if node.decomposition == "product" else math.fsum(parts)
            if not math.isclose(parent, combined, rel_tol=1e-9, abs_tol=1e-9):
                raise ConfigError(path, key, f"does not hold: {node.formula} is not "
                                             f"{sign.join(f'({nodes[c].formula})' for c in children)} "
                                             f"(children {', '.join(children)})")


@config_check("kpi_tree.yml")
def check_kpi_tree(data: Any, path: Path) -> None:
    """The config check of config/kpi_tree.yml, run by the understand asset before dbt."""
    parse_tree(data, path)


def load_tree(path: Path | None = None) -> list[Node]:
    """The checked nodes of config/kpi_tree.yml."""
    path = path or project_root() / "config" / "kpi_tree.yml"
    return parse_tree(yaml.safe_load(path.read_text(encoding="utf-8")), path)
