"""The check of config/stages.yml, the journey-stage rules the dbt models person_stage_days,
stage_transitions and stage_flow compile (macros/stage_rules.sql).

dbt would compile most mistakes into SQL that fails far from their cause, or worse, runs: a rule
misspelt as `purchase_within_day` would be skipped silently. So every key and number is checked
here first, and an error names the file and the key (`kizuna__stages.rules[2].when.purchases`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from kizuna.understand.config import ConfigError, config_check

VAR = "kizuna__stages"
STAGES = ("awareness", "consideration", "purchase", "onboarding", "retention", "advocacy", "at_risk", "lapsed")
# Conditions of a rule: those counting purchase days take 0 or more, the windows 1 or more day.
COUNT_CONDITIONS = ("purchases", "purchases_at_least")
WINDOW_CONDITIONS = ("purchase_within_days", "no_purchase_within_days", "first_purchase_within_days",
                     "consideration_within_days", "promoter_within_days", "activity_within_days",
                     "no_activity_within_days")
CONDITIONS = COUNT_CONDITIONS + WINDOW_CONDITIONS
# Sources of person_events a person's own activity can come from (marketing sent to them is not).
ACTIVITY_SOURCES = ("events", "orders", "pos_transactions", "support_tickets", "survey_responses",
                    "consent_events", "crm_contacts", "loyalty_members", "refunds")
TOP_KEYS = ("signals", "rules", "start", "as_of", "history_days", "flow")
STARTS = ("window", "first_seen")
SIGNAL_KEYS = ("purchase", "consideration_events", "promoter", "activity")


@config_check("stages.yml")
def check_stages(data: Any, path: Path) -> None:
    """Raise ConfigError (file and key) at the first mistake in config/stages.yml."""
    if not isinstance(data, dict):
        raise ConfigError(path, "(file)", f"expected a mapping with the key {VAR}")
    for key in data:
        if key != VAR:
            raise ConfigError(path, str(key), f"unknown top-level key; this file holds only {VAR}")
    stages = data.get(VAR)
    if stages is None:
        return
    _mapping(path, VAR, stages, TOP_KEYS)
    if "signals" in stages:
        _check_signals(path, stages["signals"])
    if "rules" in stages:
        _check_rules(path, stages["rules"])
    if "start" in stages and stages["start"] not in STARTS:
        raise ConfigError(path, f"{VAR}.start", f"expected one of {', '.join(STARTS)}, not {stages['start']!r}")
    as_of = stages.get("as_of")
    if as_of is not None and not isinstance(as_of, date):
        try:
            date.fromisoformat(str(as_of))
        except ValueError:
            raise ConfigError(path, f"{VAR}.as_of", f"expected a date YYYY-MM-DD or null, not {as_of!r}") from None
    if "history_days" in stages:
        _integer(path, f"{VAR}.history_days", stages["history_days"], 1)
    if "flow" in stages:
        _check_flow(path, stages["flow"])


def _check_signals(path: Path, signals: Any) -> None:
    key = f"{VAR}.signals"
    _mapping(path, key, signals, SIGNAL_KEYS)
    if "purchase" in signals:
        purchase = signals["purchase"]
        _mapping(path, f"{key}.purchase", purchase, ("excluded_order_statuses", "store"))
        if "excluded_order_statuses" in purchase:
            _names(path, f"{key}.purchase.excluded_order_statuses", purchase["excluded_order_statuses"], empty=True)
        if "store" in purchase and not isinstance(purchase["store"], bool):
            raise ConfigError(path, f"{key}.purchase.store", f"expected true or false, not {purchase['store']!r}")
    if "consideration_events" in signals:
        _names(path, f"{key}.consideration_events", signals["consideration_events"])
    if "promoter" in signals:
        promoter = signals["promoter"]
        _mapping(path, f"{key}.promoter", promoter,
                 ("nps_at_least", "review_events", "review_rating_at_least", "referral_events"))
        if "nps_at_least" in promoter:
            _integer(path, f"{key}.promoter.nps_at_least", promoter["nps_at_least"], 0, 10)
        if "review_rating_at_least" in promoter:
            _integer(path, f"{key}.promoter.review_rating_at_least", promoter["review_rating_at_least"], 1, 5)
        for names in ("review_events", "referral_events"):
            if names in promoter:
                _names(path, f"{key}.promoter.{names}", promoter[names], empty=True)
    if "activity" in signals:
        activity = signals["activity"]
        _mapping(path, f"{key}.activity", activity, ACTIVITY_SOURCES)
        if not activity:
            raise ConfigError(path, f"{key}.activity", "name at least one source")
        for source, names in activity.items():
            if names != "any":
                _names(path, f"{key}.activity.{source}", names)


def _check_rules(path: Path, rules: Any) -> None:
    key = f"{VAR}.rules"
    if not isinstance(rules, list) or not rules:
        raise ConfigError(path, key, "expected a non-empty list of {stage, when} rules")
    for i, rule in enumerate(rules):
        at = f"{key}[{i}]"
        _mapping(path, at, rule, ("stage", "when"))
        if rule.get("stage") not in STAGES:
            raise ConfigError(path, f"{at}.stage", f"unknown stage {rule.get('stage')!r}; one of {', '.join(STAGES)}")
        when = rule.get("when", {})
        _mapping(path, f"{at}.when", when, CONDITIONS)
        for name, value in when.items():
            _integer(path, f"{at}.when.{name}", value, 0 if name in COUNT_CONDITIONS else 1)
        if not when and i < len(rules) - 1:
            raise ConfigError(path, f"{at}.when", "a rule without conditions always applies: the rules after it "
                                                  "could never apply; make it the last rule")
    if rules[-1].get("when"):
        raise ConfigError(path, f"{key}[{len(rules) - 1}].when",
                          "the last rule must have no conditions (`when: {}`) so that every day gets a stage")


def _check_flow(path: Path, flow: Any) -> None:
    key = f"{VAR}.flow"
    _mapping(path, key, flow, ("stall_after_days", "moves_on_into", "rank"))
    if "stall_after_days" in flow:
        _integer(path, f"{key}.stall_after_days", flow["stall_after_days"], 1)
    if "moves_on_into" in flow:
        _names(path, f"{key}.moves_on_into", flow["moves_on_into"], empty=True)
        for i, stage in enumerate(flow["moves_on_into"]):
            if stage not in STAGES:
                raise ConfigError(path, f"{key}.moves_on_into[{i}]",
                                  f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    if "rank" in flow:
        rank = flow["rank"]
        _mapping(path, f"{key}.rank", rank, STAGES)
        missing = [s for s in STAGES if s not in rank]
        if missing:
            raise ConfigError(path, f"{key}.rank", f"give every stage a rank; missing {', '.join(missing)}")
        for stage, value in rank.items():
            _integer(path, f"{key}.rank.{stage}", value, 0)


def _mapping(path: Path, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise ConfigError(path, key, f"expected a mapping, not {type(value).__name__}")
    for name in value:
        if name not in allowed:
            raise ConfigError(path, f"{key}.{name}", f"unknown key; expected one of {', '.join(allowed)}")


def _integer(path: Path, key: str, value: Any, low: int, high: int | None = None) -> None:
    # bool is an int in Python, but `purchases: true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, key, f"expected a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(path, key, f"{value} is out of range: expected {bounds}")


def _names(path: Path, key: str, value: Any, empty: bool = False) -> None:
    if not isinstance(value, list) or (not value and not empty):
        raise ConfigError(path, key, "expected a list of names" + ("" if empty else " (at least one)"))
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(path, f"{key}[{i}]", f"expected a non-empty name, not {name!r}")
        if "'" in name:
            raise ConfigError(path, f"{key}[{i}]", f"a name cannot hold a quote: {name!r}")
