"""The check of config/stages.yml (kizuna.understand.stages): the shipped file passes, its rules are
the sample world's definition of stages, and each kind of mistake names its file and key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from kizuna.sample_world import simulate
from kizuna.settings import project_root
from kizuna.understand import parts  # noqa: F401  (registers every check, as the asset does)
from kizuna.understand.config import CHECKS, ConfigError, check_config
from kizuna.understand.stages import STAGES, check_stages

PATH = project_root() / "config" / "stages.yml"


@pytest.fixture
def shipped() -> dict:
    return yaml.safe_load(PATH.read_text(encoding="utf-8"))


def test_the_shipped_file_passes_and_is_registered(shipped):
    check_stages(shipped, PATH)
    assert CHECKS["stages.yml"] is check_stages


def test_the_shipped_rules_are_the_sample_worlds_stage_definition(shipped):
    rules = [(r["stage"], r["when"]) for r in shipped["kizuna__stages"]["rules"]]
    assert rules == [
        ("consideration", {"purchases": 0, "consideration_within_days": simulate.CONSIDERATION_DAYS}),
        ("awareness", {"purchases": 0}),
        ("purchase", {"purchase_within_days": simulate.PURCHASE_DAYS}),
        ("onboarding", {"purchases": 1, "first_purchase_within_days": simulate.ONBOARDING_DAYS}),
        ("advocacy", {"purchase_within_days": simulate.AT_RISK_AFTER, "promoter_within_days": simulate.PROMOTER_DAYS}),
        ("retention", {"purchase_within_days": simulate.AT_RISK_AFTER}),
        ("at_risk", {"activity_within_days": simulate.LAPSED_AFTER}),
        ("lapsed", {}),
    ]
    assert set(shipped["kizuna__stages"]["flow"]["rank"]) == set(STAGES)


def _broken(shipped: dict, edit) -> dict:
    data = copy.deepcopy(shipped)
    edit(data["kizuna__stages"])
    return data


@pytest.mark.parametrize(("edit", "key", "words"), [
    (lambda s: s["rules"][0].update(stage="considering"), "kizuna__stages.rules[0].stage", "unknown stage"),
    (lambda s: s["rules"][2]["when"].update(purchase_within_day=3), "kizuna__stages.rules[2].when.purchase_within_day",
     "unknown key"),
    (lambda s: s["rules"][2]["when"].update(purchase_within_days=0),
     "kizuna__stages.rules[2].when.purchase_within_days", "at least 1"),
    (lambda s: s["rules"][3]["when"].update(purchases=-1), "kizuna__stages.rules[3].when.purchases", "at least 0"),
    (lambda s: s["rules"][3]["when"].update(purchases=True), "kizuna__stages.rules[3].when.purchases", "whole number"),
    (lambda s: s["rules"][4]["when"].update(promoter_within_days="60"),
     "kizuna__stages.rules[4].when.promoter_within_days", "whole number"),
    (lambda s: s["rules"].pop(), "kizuna__stages.rules[6].when", "last rule must have no conditions"),
    (lambda s: s["rules"][1].update(when={}), "kizuna__stages.rules[1].when", "could never apply"),
    (lambda s: s.update(rules=[]), "kizuna__stages.rules", "non-empty list"),
    (lambda s: s["signals"]["promoter"].update(nps_at_least=11), "kizuna__stages.signals.promoter.nps_at_least",
     "between 0 and 10"),
    (lambda s: s["signals"]["promoter"].update(review_rating_at_least=0),
     "kizuna__stages.signals.promoter.review_rating_at_least", "between 1 and 5"),
    (lambda s: s["signals"].update(consideration_events=[]), "kizuna__stages.signals.consideration_events",
     "at least one"),
    (lambda s: s["signals"]["consideration_events"].append("Customer's Pick"),
     "kizuna__stages.signals.consideration_events[12]", "quote"),
    (lambda s: s["signals"]["activity"].update(emails="any"), "kizuna__stages.signals.activity.emails", "unknown key"),
    (lambda s: s["signals"]["activity"].update(support_tickets="opened"),
     "kizuna__stages.signals.activity.support_tickets", "list of names"),
    (lambda s: s["signals"]["purchase"].update(store="yes"), "kizuna__stages.signals.purchase.store", "true or false"),
    (lambda s: s.update(as_of="2026-13-01"), "kizuna__stages.as_of", "YYYY-MM-DD"),
    (lambda s: s.update(start="first_event"), "kizuna__stages.start", "window, first_seen"),
    (lambda s: s.update(history_days=0), "kizuna__stages.history_days", "at least 1"),
    (lambda s: s["flow"]["rank"].pop("lapsed"), "kizuna__stages.flow.rank", "missing lapsed"),
    (lambda s: s["flow"].update(moves_on_into=["buying"]), "kizuna__stages.flow.moves_on_into[0]", "unknown stage"),
    (lambda s: s["flow"].update(stall_after_days=1.5), "kizuna__stages.flow.stall_after_days", "whole number"),
    (lambda s: s.update(window=30), "kizuna__stages.window", "unknown key"),
])
def test_a_mistake_names_the_file_and_key(shipped, edit, key, words):
    with pytest.raises(ConfigError) as error:
        check_stages(_broken(shipped, edit), PATH)
    message = str(error.value)
    assert message.startswith(f"{PATH}: {key}: "), message
    assert words in message


def test_only_the_stages_variable_belongs_in_the_file(shipped):
    with pytest.raises(ConfigError, match="kizuna__kpi_tree: unknown top-level key"):
        check_stages({**shipped, "kizuna__kpi_tree": {}}, PATH)
    with pytest.raises(ConfigError, match=r"\(file\): expected a mapping"):
        check_stages(["rules"], PATH)
    check_stages({"kizuna__stages": None}, PATH)  # an empty variable leaves the models' defaults


def test_check_config_runs_the_stages_check_on_the_folder(tmp_path: Path, shipped):
    broken = _broken(shipped, lambda s: s["rules"][0].update(stage="buyer"))
    (tmp_path / "stages.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"stages\.yml: kizuna__stages\.rules\[0\]\.stage"):
        check_config(tmp_path)
