"""The prediction config files (config/features.yml, models.yml, offers/*.yml), loaded and checked
before any SQL runs: a wrong feature, label or offer is reported with its file and key.

Feature, flag and label expressions are SQL written by the ML engineer; sqlglot parses each one so
that a typo, a second statement or a subquery (which could read past the cutoff) is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from kizuna.config_folder import read_mapping
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

# The columns an expression may read: an event of person_events with its details, and the cutoff.
EVENT_COLUMNS = frozenset({
    "source", "event_type", "event_name", "occurred_at", "channel", "amount",
    "category", "offer_id", "score", "is_late", "is_untracked", "days_ago", "event_day", "cutoff"})
OFFER_COLUMNS = frozenset({"offer_category", "offer_kind", "offer_value", "offer_target"})
OFFER_KINDS = {"percent_off", "yen_off", "free_shipping", "points"}
OFFER_TARGETS = {"prospects", "customers", "at_risk", "all"}


@dataclass(frozen=True)
class Feature:
    name: str
    sql: str
    description: str
    per_offer: bool = False


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    features: tuple[str, ...]
    label_window_days: int
    gradient_boosting: dict[str, Any]
    population: str | None = None  # SQL predicate over feature columns
    label: str | None = None  # SQL aggregate over the label window's events
    per_offer: bool = False
    response_days: int = 7
    snapshots: int | None = None  # training cutoffs; None: training.snapshots


@dataclass(frozen=True)
class Offer:
    offer_id: str
    name: str
    kind: str
    value: float
    category: str
    target: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class PredictConfig:
    flags: dict[str, str]
    features: dict[str, Feature]
    models: dict[str, ModelSpec]
    offers: tuple[Offer, ...]
    targets: dict[str, str]  # offer target -> SQL predicate over person features
    training: dict[str, Any]
    mlflow: dict[str, Any]
    lifetime_value: dict[str, Any]
    root: Path = field(default_factory=project_root)

    @property
    def person_features(self) -> list[str]:
        return [name for name, f in self.features.items() if not f.per_offer]

    @property
    def offer_features(self) -> list[str]:
        return [name for name, f in self.features.items() if f.per_offer]


def _read(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(path, "(file)", "is missing")
    return dict(read_mapping(path, str(path)))


def check_expression(sql: Any, path: Path, key: str, allowed: frozenset[str], aggregate: bool) -> str:
    """One SQL expression reading only `allowed` columns: no statement, no subquery, no table."""
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(path, key, "expected a SQL expression")
    try:
        # Parsed as the one column of a bare SELECT: anything more (a second statement, a FROM, a
        # second column) shows as a different tree and is refused.
        statements = sqlglot.parse(f"select {sql}", read="duckdb")
    except sqlglot.errors.ParseError as error:
        raise ConfigError(path, key, f"is not valid SQL: {str(error).splitlines()[0]}") from None
    select = statements[0] if len(statements) == 1 else None
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or any(
            select.args.get(part) for part in ("from_", "from", "where", "group", "having", "joins", "limit")):
        raise ConfigError(path, key, "must be one expression, not a statement")
    tree = select.expressions[0]
    if tree.find(exp.Query, exp.Table):
        raise ConfigError(path, key, "must not hold a query: it reads only the events it is given")
    columns = {c.name for c in tree.find_all(exp.Column)}
    unknown = sorted(columns - allowed)
    if unknown:
        raise ConfigError(path, key, f"reads unknown column(s) {', '.join(unknown)}; "
                                     f"known: {', '.join(sorted(allowed))}")
    # An offer's own attributes are one value per (person, offer) group: no aggregate needed.
    if aggregate and not tree.find(exp.AggFunc) and not columns <= OFFER_COLUMNS:
        raise ConfigError(path, key, "must aggregate a person's events (count, sum, min, max, avg...)")
    return sql.strip()


def _flags(data: dict, path: Path) -> dict[str, str]:
    flags = data.get("flags") or {}
    if not isinstance(flags, dict):
        raise ConfigError(path, "flags", "expected a mapping of name: condition")
    return {name: check_expression(sql, path, f"flags.{name}", EVENT_COLUMNS, aggregate=False)
            for name, sql in flags.items()}


def _features(data: dict, path: Path, flags: dict[str, str]) -> dict[str, Feature]:
    found: dict[str, Feature] = {}
    for section, per_offer in (("features", False), ("offer_features", True)):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ConfigError(path, section, "expected a mapping of feature name: {sql, description}")
        allowed = EVENT_COLUMNS | set(flags) | (OFFER_COLUMNS if per_offer else frozenset())
        for name, spec in entries.items():
            key = f"{section}.{name}"
            if not str(name).isidentifier():
                raise ConfigError(path, key, "a feature name must be a plain identifier")
            if name in found or name in flags:
                raise ConfigError(path, key, "is defined twice")
            if not isinstance(spec, dict) or "sql" not in spec:
                raise ConfigError(path, key, "expected {sql: ..., description: ...}")
            sql = check_expression(spec["sql"], path, f"{key}.sql", frozenset(allowed), aggregate=True)
            found[name] = Feature(name, sql, str(spec.get("description", "")).strip(), per_offer)
    if not found:
        raise ConfigError(path, "features", "no feature is defined")
    return found


def _positive_int(value: Any, path: Path, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(path, key, f"expected a positive whole number, got {value!r}")
    return value


def _models(data: dict, path: Path, features: dict[str, Feature], flags: dict[str, str]) -> dict[str, ModelSpec]:
    models = data.get("models") or {}
    if not isinstance(models, dict) or not models:
        raise ConfigError(path, "models", "expected a mapping of model name: spec")
    specs = {}
    person_columns = frozenset(n for n, f in features.items() if not f.per_offer)
    for name, spec in models.items():
        key = f"models.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(path, key, "expected a mapping")
        per_offer = bool(spec.get("per_offer", False))
        chosen = spec.get("features")
        if not isinstance(chosen, list) or not chosen:
            raise ConfigError(path, f"{key}.features", "expected a list of feature names (config/features.yml)")
        for feature in chosen:
            if feature not in features:
                raise ConfigError(path, f"{key}.features", f"unknown feature {feature!r} (not in config/features.yml)")
            if features[feature].per_offer and not per_offer:
                raise ConfigError(path, f"{key}.features", f"{feature!r} is a person-by-offer feature; "
                                                           "only a per_offer model can use it")
        if len(set(chosen)) != len(chosen):
            raise ConfigError(path, f"{key}.features", "lists a feature twice")
        population = label = None
        if not per_offer:
            population = check_expression(spec.get("population", "true"), path, f"{key}.population",
                                          person_columns, aggregate=False)
            label = check_expression(spec.get("label"), path, f"{key}.label", EVENT_COLUMNS | set(flags),
                                     aggregate=True)
        boosting = spec.get("gradient_boosting") or {}
        if not isinstance(boosting, dict):
            raise ConfigError(path, f"{key}.gradient_boosting", "expected a mapping of LightGBM parameters")
        specs[name] = ModelSpec(
            name=name, description=str(spec.get("description", "")).strip(), features=tuple(chosen),
            label_window_days=_positive_int(spec.get("label_window_days"), path, f"{key}.label_window_days"),
            gradient_boosting=boosting, population=population, label=label, per_offer=per_offer,
            response_days=_positive_int(spec.get("response_days", 7), path, f"{key}.response_days"),
            snapshots=(_positive_int(spec["snapshots"], path, f"{key}.snapshots") if "snapshots" in spec else None))
    return specs


def _offers(data: dict, path: Path) -> tuple[Offer, ...]:
    rows = data.get("offers")
    if not isinstance(rows, list) or not rows:
        raise ConfigError(path, "offers", "expected a list of offers")
    offers, seen = [], set()
    for i, row in enumerate(rows):
        key = f"offers[{i}]"
        if not isinstance(row, dict):
            raise ConfigError(path, key, "expected a mapping")
        missing = [k for k in ("offer_id", "name", "kind", "value", "category", "target") if k not in row]
        if missing:
            raise ConfigError(path, key, f"missing {', '.join(missing)}")
        if row["offer_id"] in seen:
            raise ConfigError(path, f"{key}.offer_id", f"{row['offer_id']!r} is listed twice")
        if row["kind"] not in OFFER_KINDS:
            raise ConfigError(path, f"{key}.kind", f"{row['kind']!r} is not one of {sorted(OFFER_KINDS)}")
        if row["target"] not in OFFER_TARGETS:
            raise ConfigError(path, f"{key}.target", f"{row['target']!r} is not one of {sorted(OFFER_TARGETS)}")
        if not isinstance(row["value"], int | float) or row["value"] < 0:
            raise ConfigError(path, f"{key}.value", f"expected a number at least 0, got {row['value']!r}")
        seen.add(row["offer_id"])
        offers.append(Offer(str(row["offer_id"]), str(row["name"]), row["kind"], float(row["value"]),
                            str(row["category"]), row["target"], tuple(row.get("channels") or ())))
    return tuple(offers)


def _offer_files(folder: Path, features: dict[str, Feature]) -> tuple[tuple[Offer, ...], dict[str, str]]:
    """Every config/offers/*.yml: their offers together, and the targets (defined in one of them)."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise ConfigError(folder, "(folder)", "holds no offers file (*.yml)")
    person_columns = frozenset(n for n, f in features.items() if not f.per_offer)
    offers: list[Offer] = []
    targets: dict[str, str] = {}
    for path in files:
        data = _read(path)
        if "offers" in data:
            for offer in _offers(data, path):
                if any(o.offer_id == offer.offer_id for o in offers):
                    raise ConfigError(path, "offers", f"{offer.offer_id} is also defined in another offers file")
                offers.append(offer)
        if "targets" in data:
            if targets:
                raise ConfigError(path, "targets", "is defined in more than one offers file")
            if not isinstance(data["targets"], dict) or set(data["targets"]) != OFFER_TARGETS:
                raise ConfigError(path, "targets", f"expected exactly {sorted(OFFER_TARGETS)}")
            targets = {name: check_expression(str(sql), path, f"targets.{name}", person_columns, aggregate=False)
                       for name, sql in data["targets"].items()}
    if not offers:
        raise ConfigError(folder, "offers", "no offer is defined")
    if not targets:
        raise ConfigError(folder, "targets", "no offers file defines the targets")
    return tuple(offers), targets


def load_predict_config(root: Path | None = None) -> PredictConfig:
    """Read and check config/features.yml, models.yml and offers/*.yml of the project at `root`."""
    root = root or project_root()
    features_path, models_path = root / "config" / "features.yml", root / "config" / "models.yml"
    feature_data = _read(features_path)
    flags = _flags(feature_data, features_path)
    features = _features(feature_data, features_path, flags)
    model_data = _read(models_path)
    models = _models(model_data, models_path, features, flags)
    training = model_data.get("training") or {}
    for key in ("snapshots", "snapshot_step_days", "min_examples", "min_positives", "min_history_days"):
        _positive_int(training.get(key), models_path, f"training.{key}")
    for key in ("holdout_share", "calibration_share"):
        share = training.get(key)
        if not isinstance(share, float) or not 0 < share < 0.5:
            raise ConfigError(models_path, f"training.{key}", f"expected a share between 0 and 0.5, got {share!r}")
    mlflow = model_data.get("mlflow") or {}
    for key in ("experiment_prefix", "registered_model_prefix", "champion_metric"):
        if not mlflow.get(key):
            raise ConfigError(models_path, f"mlflow.{key}", "is missing")
    lifetime = model_data.get("lifetime_value") or {}
    for key in ("horizon_days", "period_days"):
        _positive_int(lifetime.get(key), models_path, f"lifetime_value.{key}")
    offers, targets = _offer_files(root / "config" / "offers", features)
    return PredictConfig(flags=flags, features=features, models=models, offers=offers, targets=targets,
                         training=training, mlflow=mlflow, lifetime_value=lifetime, root=root)
