"""The check of config/experience.yml (segments, funnel, contact time): fast, no dbt."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import yaml

from kizuna.settings import project_root
from kizuna.understand import experience
from kizuna.understand.config import CHECKS, ConfigError, check_config

PATH = Path("config/experience.yml")


def test_the_repository_file_passes_and_is_registered() -> None:
    assert CHECKS["experience.yml"] is experience.check_experience
    assert "experience.yml" in check_config(project_root() / "config")


def test_the_funnel_steps_are_the_tracking_plan_of_the_events_contract() -> None:
    plan = experience.tracking_plan()
    assert {"Product Viewed", "Checkout Started", "Order Completed"} <= set(plan)
    assert "Wishlist Added" not in plan  # an unplanned event of the sample world


@pytest.mark.parametrize(("data", "key"), [
    ({"kizuna__segments": []}, "kizuna__segments"),
    ({"kizuna__segments": {"vip": {}}}, "kizuna__segments"),
    ({"kizuna__segments": ["vip"]}, "kizuna__segments[0]"),
    ({"kizuna__segments": [{"name": "VIP"}]}, "kizuna__segments[0].name"),
    ({"kizuna__segments": [{"name": "a", "when": {"orders": {"min": 1}}}, {"name": "a"}]}, "kizuna__segments[1].name"),
    ({"kizuna__segments": [{"name": "all"}, {"name": "b", "when": {"orders": {"min": 1}}}]}, "kizuna__segments[0]"),
    ({"kizuna__segments": [{"name": "a", "when": {"orderz": {"min": 1}}}]}, "kizuna__segments[0].when.orderz"),
    ({"kizuna__segments": [{"name": "a", "when": {"orders": {"min": "2"}}}]}, "kizuna__segments[0].when.orders.min"),
    ({"kizuna__segments": [{"name": "a", "when": {"orders": {"min": True}}}]}, "kizuna__segments[0].when.orders.min"),
    ({"kizuna__segments": [{"name": "a", "when": {"orders": {"above": 2}}}]}, "kizuna__segments[0].when.orders"),
    ({"kizuna__segments": [{"name": "a", "when": {"orders": {"min": 3, "max": 2}}}]},
     "kizuna__segments[0].when.orders"),
    ({"kizuna__segments": [{"name": "a", "when": {"gender": "female"}}]}, "kizuna__segments[0].when.gender"),
    ({"kizuna__segments": [{"name": "a", "when": {"gender": {"in": []}}}]}, "kizuna__segments[0].when.gender"),
    ({"kizuna__segments": [{"name": "a", "if": {}}]}, "kizuna__segments[0]"),
    ({"kizuna__funnel": ["Product Viewed", "Order Completed"]}, "kizuna__funnel"),
    ({"kizuna__funnel": {"steps": ["Product Viewed"]}}, "kizuna__funnel.steps"),
    ({"kizuna__funnel": {"steps": ["Product Viewed", "Order Complete"]}}, "kizuna__funnel.steps[1]"),
    ({"kizuna__funnel": {"steps": ["Product Viewed", "Product Viewed"]}}, "kizuna__funnel.steps"),
    ({"kizuna__contact_time": {"min_engagements": 0}}, "kizuna__contact_time.min_engagements"),
    ({"kizuna__contact_time": {"min_engagements": 2.5}}, "kizuna__contact_time.min_engagements"),
    ({"kizuna__contact_time": {"min_engagement": 5}}, "kizuna__contact_time"),
    (["kizuna__segments"], "(top level)"),
])
def test_a_mistake_names_the_file_and_the_key(data, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        experience.check_experience(data, PATH)
    assert str(raised.value).startswith(f"{PATH}: {key}: ")


def test_valid_rules_pass() -> None:
    experience.check_experience({
        "kizuna__segments": [
            {"name": "big_bags", "when": {"revenue": {"min": 10000.5}, "favourite_category": {"in": ["bags"]}}},
            {"name": "lapsed", "when": {"recency_days": {"min": 90, "max": 365}}},
            {"name": "rest"},
        ],
        "kizuna__funnel": {"steps": ["Product Added", "Checkout Started", "Order Completed"]},
        "kizuna__contact_time": {"min_engagements": 3},
    }, PATH)
    experience.check_experience(None, PATH)  # an empty file: the models' defaults hold


def test_the_support_sla_is_checked_by_its_own_part(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    fake = types.ModuleType("kizuna.understand.voice")
    fake.check_support_sla = lambda data, path: seen.append((data, path))
    monkeypatch.setitem(sys.modules, "kizuna.understand.voice", fake)
    data = {"kizuna__segments": [{"name": "all"}], "kizuna__support_sla": {"first_response_hours": 4}}
    experience.check_experience(data, PATH)
    assert seen == [(data, PATH)]


def test_check_config_reports_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "experience.yml").write_text(yaml.safe_dump({"kizuna__funnel": {"steps": ["Nope", "Order Completed"]}}))
    with pytest.raises(ConfigError, match=r"experience\.yml: kizuna__funnel\.steps\[0\]: 'Nope'"):
        check_config(tmp_path)
