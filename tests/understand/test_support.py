"""The check of `kizuna__support_sla` (config/experience.yml) that runs before dbt builds support_delays."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kizuna.settings import project_root
from kizuna.understand.config import ConfigError
from kizuna.understand.voice import SLA_KEY, check_support_sla

PATH = Path("config/experience.yml")


def test_the_shipped_file_passes():
    path = project_root() / "config" / "experience.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert SLA_KEY in data
    check_support_sla(data, path)


@pytest.mark.parametrize("sla", [
    {"first_response_hours": 24, "resolution_hours": 72.5, "repeat_contact_days": 7},
    {"first_response_hours": {"urgent": 1, "default": 24}},
    {},
])
def test_good_levels_pass(sla):
    check_support_sla({SLA_KEY: sla}, PATH)


def test_absent_key_is_the_defaults():
    check_support_sla({"kizuna__segments": []}, PATH)
    check_support_sla(None, PATH)


@pytest.mark.parametrize(("sla", "key"), [
    ([24, 72], SLA_KEY),
    ({"first_response": 24}, f"{SLA_KEY}.first_response"),
    ({"first_response_hours": 0}, f"{SLA_KEY}.first_response_hours"),
    ({"first_response_hours": "24h"}, f"{SLA_KEY}.first_response_hours"),
    ({"resolution_hours": True}, f"{SLA_KEY}.resolution_hours"),
    ({"resolution_hours": {"critical": 4}}, f"{SLA_KEY}.resolution_hours.critical"),
    ({"resolution_hours": {"urgent": -1}}, f"{SLA_KEY}.resolution_hours.urgent"),
    ({"repeat_contact_days": 2.5}, f"{SLA_KEY}.repeat_contact_days"),
    ({"repeat_contact_days": 0}, f"{SLA_KEY}.repeat_contact_days"),
])
def test_mistakes_name_the_file_and_key(sla, key):
    with pytest.raises(ConfigError) as error:
        check_support_sla({SLA_KEY: sla}, PATH)
    assert str(error.value).startswith(f"{PATH}: {key}: ")


def test_the_experience_check_calls_it():
    """kizuna/understand/experience.py checks the whole file, this key included, before dbt runs."""
    from kizuna.understand import experience  # noqa: F401  (registers the experience.yml check)
    from kizuna.understand.config import CHECKS

    with pytest.raises(ConfigError, match="repeat_contact_days"):
        CHECKS["experience.yml"]({SLA_KEY: {"repeat_contact_days": -3}}, PATH)
