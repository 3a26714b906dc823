"""Identity's inputs as the dbt models give them (kizuna.identity.inputs)."""

import pandas as pd

from kizuna.identity import inputs


def test_splink_records_take_the_dbt_model_columns():
    attrs = pd.DataFrame({"source": ["crm_contacts"], "record_id": ["C1|t"], "crm_id": ["C1"],
                          "full_name": ["岡田 明美"], "full_name_kanji": ["岡田 明美"], "email_raw": ["A@x.jp"],
                          "phone_raw": ["090-1234-5678"], "birth_date": [pd.Timestamp("1990-01-02").date()],
                          "updated_at": [pd.Timestamp("2026-05-01", tz="UTC")]})
    records = inputs.splink_records(attrs)
    assert list(records.columns) == inputs.ATTRIBUTE_COLUMNS
    assert records.loc[0, "email"] == "A@x.jp" and records.loc[0, "phone"] == "090-1234-5678"
    assert records.loc[0, "birth_date"] == "1990-01-02"


def test_anchor_attributes_name_crm_ids_and_cards_newest_first():
    attrs = pd.DataFrame({
        "source": ["crm_contacts", "crm_contacts", "loyalty_members"], "record_id": ["C1|a", "C1|b", "L1|a"],
        "crm_id": ["C1", "C1", None], "loyalty_card_id": ["L1", "L1", "L1"],
        "full_name": ["岡田 明美", "岡田 明美", "オカダ アケミ"], "full_name_kana": ["オカダ アケミ"] * 3,
        "birth_date": ["1990-01-02"] * 3,
        "updated_at": pd.to_datetime(["2026-05-01", "2026-05-03", "2026-05-02"], utc=True)})
    anchors = inputs.anchor_attributes(attrs)
    assert list(zip(anchors["namespace"], anchors["value_raw"], strict=True)) == [
        ("crm_id", "C1"), ("crm_id", "C1"), ("loyalty_card_id", "L1")]
    assert {"birth_date", "name_key", "name_kana_key"} <= set(anchors.columns)


def test_splink_failure_leaves_deterministic_identity_running(monkeypatch, rules):
    def broken(records, **kwargs):
        raise ValueError("m_probability value 0.0 is below the minimum")

    monkeypatch.setattr(inputs, "match_records", broken)
    result = inputs.probabilistic_pairs(pd.DataFrame({"record_id": ["a"]}), rules)
    assert result.pairs.empty and result.stats["pairs_accepted"] == 0
    assert "m_probability" in result.stats["skipped"]
