"""config/features.yml, models.yml and offers/: the shipped files load, and every mistake an ML
engineer can make is refused before any SQL runs, naming the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kizuna.predict.config import load_predict_config
from kizuna.understand.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path


def edit(project: Path, name: str, change) -> None:
    path = project / "config" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_files_load_and_every_model_uses_known_features():
    config = load_predict_config(ROOT)
    assert {"churn", "purchase", "offer_response"} <= set(config.models)
    for spec in config.models.values():
        assert set(spec.features) <= set(config.features)
    assert config.models["offer_response"].per_offer
    assert {o.offer_id for o in config.offers} >= {"OF001", "OF012"}
    assert set(config.targets) == {"prospects", "customers", "at_risk", "all"}


@pytest.mark.parametrize(("sql", "message"), [
    ("count(*) from raw.orders", "one expression"),
    ("count(*); drop table marts.customer_profile", "one expression"),
    ("sum(amount) filter (where source in (select source from raw.events))", "must not hold a query"),
    ("max(purchased_on)", r"unknown column\(s\) purchased_on"),
    ("days_ago", "must aggregate"),
    ("count(*) filter (where", "not valid SQL"),
])
def test_a_feature_that_is_not_one_aggregate_over_the_events_is_refused(project, sql, message):
    edit(project, "features.yml", lambda d: d["features"].__setitem__("bad_feature", {"sql": sql}))
    with pytest.raises(ConfigError, match=message) as error:
        load_predict_config(project)
    assert "features.yml: features.bad_feature.sql" in str(error.value)


def test_a_model_naming_an_unknown_feature_is_refused_with_file_and_key(project):
    edit(project, "models.yml", lambda d: d["models"]["churn"]["features"].append("shoe_size"))
    with pytest.raises(ConfigError, match=r"models.yml: models.churn.features: unknown feature 'shoe_size'"):
        load_predict_config(project)


def test_a_person_model_cannot_use_a_person_by_offer_feature(project):
    edit(project, "models.yml", lambda d: d["models"]["purchase"]["features"].append("category_affinity"))
    with pytest.raises(ConfigError, match="only a per_offer model"):
        load_predict_config(project)


def test_a_label_or_population_reading_the_wrong_columns_is_refused(project):
    edit(project, "models.yml", lambda d: d["models"]["churn"].__setitem__("population", "revenue_next_month > 0"))
    with pytest.raises(ConfigError, match=r"models.churn.population: reads unknown column\(s\) revenue_next_month"):
        load_predict_config(project)


def test_an_offer_with_an_unknown_kind_or_a_duplicate_id_is_refused(project):
    edit(project, "offers/catalogue.yml", lambda d: d["offers"][0].__setitem__("kind", "bogof"))
    with pytest.raises(ConfigError, match=r"catalogue.yml: offers\[0\].kind: 'bogof'"):
        load_predict_config(project)
    shutil.copy(ROOT / "config" / "offers" / "catalogue.yml", project / "config" / "offers" / "catalogue.yml")
    (project / "config" / "offers" / "autumn.yml").write_text(
        "offers:\n  - {offer_id: OF002, name: Again, kind: yen_off, value: 500, category: all, target: all}\n")
    with pytest.raises(ConfigError, match="OF002 is also defined in another offers file"):
        load_predict_config(project)


def test_training_shares_must_leave_room_for_training(project):
    edit(project, "models.yml", lambda d: d["training"].__setitem__("holdout_share", 0.9))
    with pytest.raises(ConfigError, match="training.holdout_share"):
        load_predict_config(project)
