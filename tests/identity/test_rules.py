import pytest

from kizuna.identity import IdentityConfigError, load_rules, parse_rules
from tests.identity.conftest import CONFIG


def test_project_config_loads():
    rules = load_rules(CONFIG, phone_region="JP")
    assert rules.priority("crm_id") < rules.priority("email") < rules.priority("anonymous_id")
    assert rules.limited["crm_id"] == 1
    assert "gmail.com" in rules.email.plus_tags


@pytest.mark.parametrize(("change", "key"), [
    (lambda r: r["namespaces"]["crm_id"].update(max_per_person=0), "namespaces.crm_id.max_per_person"),
    (lambda r: r["namespaces"]["email"].pop("priority"), "namespaces.email.priority"),
    (lambda r: r.update(surprise=1), "surprise"),
    (lambda r: r["overrides"].update(force_merge=[{"a": "nope:1", "b": "crm_id:C1"}]), "overrides.force_merge[0].a"),
    (lambda r: r["shared_guard"].update(guarded=["fax"]), "shared_guard.guarded"),
])
def test_errors_name_the_file_and_key(raw_rules, change, key):
    change(raw_rules)
    with pytest.raises(IdentityConfigError, match=f"identity.yml: {key.replace('[', '.').replace(']', '.')}"):
        parse_rules(raw_rules, str(CONFIG), phone_region="JP")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(IdentityConfigError, match="file not found"):
        load_rules(tmp_path / "identity.yml")
