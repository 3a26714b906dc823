import pandas as pd

from kizuna.identity.probabilistic import (
    kana_to_romaji,
    normalize_email,
    normalize_phone,
    normalize_postcode,
    normalize_records,
    romaji_key,
    to_hiragana,
)


def test_kana_scripts_and_romaji_agree():
    assert to_hiragana("コンドウ ダイキ") == "こんどう だいき"
    assert kana_to_romaji("キョウコ") == "kyouko"
    assert kana_to_romaji("ハットリ") == "hattori"
    assert kana_to_romaji("マッチャ") == "matcha"
    # Family-name-first or given-name-first, long vowels spelled or not: one key.
    assert romaji_key(kana_to_romaji("コンドウ ダイキ")) == romaji_key("Daiki Kondo") == romaji_key("KONDOH DAIKI")
    assert romaji_key("Yuko Ito") == romaji_key(kana_to_romaji("イトウ ユウコ"))


def test_contact_values():
    assert normalize_email(" Taro.Yamada+shop@GoogleMail.com ") == "taroyamada@gmail.com"
    assert normalize_email("T.Ueno@Icloud.com") == "t.ueno@icloud.com"
    assert normalize_email("not an email") is None
    assert normalize_phone("+81 90 1234 5678") == normalize_phone("090-1234-5678") == "09012345678"
    assert normalize_postcode("１２３－４５６７") == normalize_postcode("1234567") == "1234567"


def test_records_tell_scripts_apart():
    records = pd.DataFrame(
        {
            "source": ["loyalty"] * 4,
            "record_id": ["a", "b", "c", "d"],
            "full_name": ["上野　友美", "ウエノ トモミ", "Tomomi Ueno", None],
            "full_name_kana": [None, None, "ウエノ トモミ", None],
            "birth_date": ["2003-12-01", "2003/12/01", "2003-02-30", None],
        }
    )
    norm = normalize_records(records).set_index("record_id")
    assert norm.loc["a", "name_kanji"] == "上野友美" and pd.isna(norm.loc["a", "name_romaji"])
    assert norm.loc["b", "name_kana"] == "うえのともみ"
    assert norm.loc["b", "name_romaji"] == norm.loc["c", "name_romaji"] == "tomomi ueno"
    assert norm.loc["a", "birth_date"] == norm.loc["b", "birth_date"] == "2003-12-01"
    assert pd.isna(norm.loc["c", "birth_date"])  # an impossible date is no evidence
    assert norm.isna().loc["d"].drop(["source"]).sum() == len(norm.columns) - 1
