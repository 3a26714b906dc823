import pandas as pd
import pytest

from kizuna.identity.normalize import (
    EmailRules,
    hash_values,
    name_key,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_values,
    sha256_hex,
)


@pytest.mark.parametrize("raw", ["090-1234-5678", "+81 90 1234 5678", "09012345678", " ０９０-１２３４-５６７８ "])
def test_phone_forms_the_generator_writes_are_one_e164_number(raw):
    assert normalize_phone(raw, "JP") == "+819012345678"


@pytest.mark.parametrize("raw", ["", "abc", "12", None])
def test_phone_that_is_not_a_number_is_none(raw):
    assert normalize_phone(raw, "JP") is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("Taro.Yamada@Gmail.com", "taroyamada@gmail.com"),
    ("  taro.yamada@gmail.com ", "taroyamada@gmail.com"),
    ("taroyamada+sale@gmail.com", "taroyamada@gmail.com"),
    ("Taro.Yamada+x@googlemail.com", "taroyamada@gmail.com"),
    ("Aando90@Outlook.jp", "aando90@outlook.jp"),
    ("k.sato+shop@docomo.ne.jp", "k.sato+shop@docomo.ne.jp"),  # no plus-addressing there: kept
    ("not an email", None),
])
def test_email_normalization(raw, expected):
    assert normalize_email(raw) == expected


def test_plus_tags_follow_the_configured_providers():
    rules = EmailRules(plus_tags=frozenset({"gmail.com", "outlook.com"}))
    assert normalize_email("a.b+tag@outlook.com", rules) == "a.b@outlook.com"


def test_names_nfkc_and_kana_insensitive_key():
    assert normalize_name("ｻｶｲ　ﾏｻﾄ") == "サカイ マサト"
    assert name_key("サカイ マサト") == name_key("まさと さかい") == name_key("ﾏｻﾄ ｻｶｲ")
    assert name_key("SUZUKI Ai") == name_key("ai suzuki")


def test_vectorized_normalization_and_hashes():
    ns = pd.Series(["email", "phone", "user_id", "phone"])
    raw = pd.Series([" A.B@googlemail.com", "090-1234-5678", " U1 ", "+81 90 1234 5678"])
    values = normalize_values(ns, raw, region="JP")
    assert values.tolist() == ["ab@gmail.com", "+819012345678", "U1", "+819012345678"]
    hashes = hash_values(ns, values)
    assert hashes[0] == sha256_hex("ab@gmail.com") and len(hashes[0]) == 64
    assert pd.isna(hashes[2]) and hashes[1] == hashes[3]
