"""Contract files load into frozen dataclasses; a broken file fails with its path and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from data_contracts import ContractError, contracts_dir, load_contract, load_contracts

GOOD = {
    "name": "widgets",
    "format": "csv",
    "location": "widgets/widgets-*.csv",
    "primary_key": ["widget_id"],
    "event_time": "made_at",
    "fields": [
        {"name": "widget_id", "type": "string", "required": True},
        {"name": "kind", "type": "string", "enum": ["a", "b"]},
        {"name": "made_at", "type": "timestamp", "required": True},
        {"name": "size", "type": "integer", "required_when": {"kind": "a"}},
    ],
}


def _write(tmp_path: Path, spec: dict, stem: str = "widgets") -> Path:
    path = tmp_path / f"{stem}.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _fields(**changes) -> list[dict]:
    fields = [dict(f) for f in GOOD["fields"]]
    for name, change in changes.items():
        for f in fields:
            if f["name"] == name:
                f.update(change)
    return fields


def test_every_shipped_contract_loads():
    contracts = load_contracts()
    files = sorted(contracts_dir().glob("*.yml"))
    assert len(contracts) == len(files) >= 14
    for path in files:
        contract = load_contract(path)
        assert contract.name == path.stem
        assert contract.fields and contract.source_file == str(path)


def test_a_good_file_loads(tmp_path):
    contract = load_contract(_write(tmp_path, GOOD))
    assert contract.field("size").required_when == {"kind": "a"}
    assert contract.required_columns == ("widget_id", "made_at")


@pytest.mark.parametrize(
    ("change", "stem", "key", "words"),
    [
        ({"colour": "blue"}, "widgets", "top level", "unknown keys ['colour']"),
        ({"fields": _fields(kind={"allowed": ["a"]})}, "widgets", "fields[1] (kind)",
         "unknown keys ['allowed']"),
        ({"fields": _fields(size={"type": "int"})}, "widgets", "fields[3] (size)",
         "type must be one of"),
        ({"fields": _fields(size={"pii": "secret"})}, "widgets", "fields[3] (size)",
         "pii must be one of"),
        ({"fields": _fields(kind={"on_unknown": "drop"})}, "widgets", "fields[1] (kind)",
         "on_unknown must be one of"),
        ({"format": "xml"}, "widgets", "format", "must be one of"),
        ({}, "gadgets", "name", "must match the file name ('gadgets'), got 'widgets'"),
        ({"fields": _fields(size={"required_when": {"colour": "red"}})}, "widgets",
         "fields (size).required_when", "names fields that do not exist: ['colour']"),
        ({"one_of_required": [["widget_id", "serial"]]}, "widgets", "one_of_required[0]",
         "names fields that do not exist: ['serial']"),
        ({"primary_key": ["widget_id", "batch"]}, "widgets", "primary_key",
         "names fields that do not exist: ['batch']"),
        ({"dedup_key": ["serial"]}, "widgets", "dedup_key",
         "names fields that do not exist: ['serial']"),
        ({"event_time": "created_at"}, "widgets", "event_time",
         "names fields that do not exist: ['created_at']"),
        ({"fields": [*GOOD["fields"], {"name": "kind", "type": "string"}]}, "widgets", "fields",
         "duplicate field names ['kind']"),
        ({"fields": [*GOOD["fields"], {"type": "string"}]}, "widgets", "fields[4]",
         "needs at least a name"),
    ],
    ids=[
        "unknown top-level key", "unknown field key", "bad type", "bad pii", "bad on_unknown",
        "bad format", "name mismatch", "required_when unknown field", "one_of_required unknown",
        "primary_key unknown", "dedup_key unknown", "event_time unknown", "duplicate field",
        "field without name",
    ],
)
def test_broken_contract_names_file_and_key(tmp_path, change, stem, key, words):
    path = _write(tmp_path, {**GOOD, **change}, stem)
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert words in message


def test_missing_required_key(tmp_path):
    spec = {k: v for k, v in GOOD.items() if k != "location"}
    path = _write(tmp_path, spec)
    with pytest.raises(ContractError, match=r"top level: missing required key 'location'"):
        load_contract(path)


def test_not_yaml_and_not_a_mapping(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("fields: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"bad\.yml: not valid YAML"):
        load_contract(bad)
    listed = tmp_path / "listed.yml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"listed\.yml: a contract is a mapping"):
        load_contract(listed)


def test_load_contracts_fails_on_the_broken_file(tmp_path):
    _write(tmp_path, GOOD)
    _write(tmp_path, {**GOOD, "name": "gizmos", "colour": "blue"}, "gizmos")
    with pytest.raises(ContractError, match=r"gizmos\.yml: top level: unknown keys"):
        load_contracts(tmp_path)
