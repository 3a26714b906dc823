"""`kizuna identity explain`: a person's identifiers, what ties them, and the history, PII masked."""

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from kizuna.cli import app
from kizuna.identity import resolve, store
from kizuna.identity.explain import UnknownIdentifier, explain, parse_identifier
from tests.identity.conftest import observations

OBS = observations([
    ("events", "e1", "anonymous_id", "a1"), ("events", "e1", "user_id", "U1"),
    ("events", "e2", "anonymous_id", "a1"), ("events", "e2", "user_id", "U1"),
    ("events", "e3", "user_id", "U1"), ("events", "e3", "email", "Taro@Example.jp"),
    ("crm_contacts", "c1", "crm_id", "C1000001"), ("crm_contacts", "c1", "email", "taro@example.jp"),
    ("loyalty_members", "L1", "loyalty_card_id", "L0000000001"),
    ("events", "e4", "anonymous_id", "other"),
])
# Splink said the loyalty sign-up is the CRM contact (twice: two versions of the contact).
SPLINK = pd.DataFrame({"source_l": ["crm_contacts", "crm_contacts"], "record_id_l": ["c1", "c1"],
                       "source_r": ["loyalty_members", "loyalty_members"], "record_id_r": ["L1", "L1"],
                       "match_weight": [12.5, 9.0]})


def warehouse_with_identity(con: duckdb.DuckDBPyConnection, rules) -> None:
    con.execute("create schema intermediate")
    con.register("obs", OBS)
    con.execute("create table intermediate.int_identifier_observations as select * from obs")
    store.write_resolution(con, resolve(OBS, rules, extra_edges=SPLINK), run_id="r1")


def test_explain_names_identifiers_records_links_and_history(rules):
    con = duckdb.connect()
    warehouse_with_identity(con, rules)
    found = explain(con, "email: TARO@example.jp ", rules)
    assert set(found.identifiers["namespace"] + ":" + found.identifiers["value"]) == {
        "anonymous_id:a1", "user_id:U1", "email:taro@example.jp", "crm_id:C1000001", "loyalty_card_id:L0000000001"}
    together = found.seen_together.set_index(["identifier_l", "identifier_r"])
    assert together.loc[("anonymous_id:a1", "user_id:U1"), "records"] == 2
    assert together.loc[("crm_id:C1000001", "email:taro@example.jp"), "sources"] == "crm_contacts"
    # One row for the identifier pair, with the weight that decided.
    assert found.links[["value_l", "value_r", "match_weight"]].values.tolist() == [
        ["C1000001", "L0000000001", 12.5]]
    assert found.history["kind"].tolist() == ["new"]
    assert explain(con, "anonymous_id:other", rules).person_id != found.person_id


def test_unknown_and_malformed_identifiers_are_refused(rules):
    con = duckdb.connect()
    with pytest.raises(UnknownIdentifier, match="no identity tables"):
        explain(con, "user_id:U1", rules)
    warehouse_with_identity(con, rules)
    with pytest.raises(UnknownIdentifier, match="user_id:U9"):
        explain(con, "user_id:U9", rules)
    for text, message in (("U1", "namespace:value"), ("shoe_size:27", "unknown namespace"),
                          ("email:nobody", "not a usable email")):
        with pytest.raises(ValueError, match=message):
            parse_identifier(text, rules)


def test_command_masks_direct_pii(rules, tmp_path, monkeypatch):
    path = tmp_path / "kizuna.duckdb"
    with duckdb.connect(str(path)) as con:
        warehouse_with_identity(con, rules)
    monkeypatch.setenv("KIZUNA_WAREHOUSE_PATH", str(path))
    result = CliRunner().invoke(app, ["identity", "explain", "crm_id:C1000001"])
    assert result.exit_code == 0, result.output
    assert "crm_id:C1000001" in result.output and "12.5" in result.output
    assert "taro@example.jp" not in result.output and "email:t***@***.jp" in result.output
    missing = CliRunner().invoke(app, ["identity", "explain", "crm_id:C9999999"])
    assert missing.exit_code == 2 and "not in identity.identity_map" in missing.output
