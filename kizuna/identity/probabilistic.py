"""Probabilistic person matching with Splink 5 on DuckDB: the records that share no key.

Store-only customers are known by a loyalty-card sign-up (name in kanji, kana or romaji, birth
date, postcode, sometimes email or phone); CRM contacts have duplicates with typos. Neither shares
an identifier with the rest of the graph, so a Fellegi-Sunter model scores pairs of person
attribute records and the accepted pairs become extra edges of the identity graph, each with its
match weight and the comparison level of every attribute, so a person can ask why two records
merged (DESIGN.md, Identity).

Input: one row per person attribute record (see `ATTRIBUTE_COLUMNS`), in the pipeline the dbt
model `int_person_attributes` (`kizuna.identity.inputs.splink_records`). Optional `address` is
compared when present (FEBRL has it; Kizuna's sources do not yet). A comparison whose column is
null everywhere is left out of the model.

Everything runs in a private in-memory DuckDB connection: Splink downloads nothing (its settings
schema and chart templates ship inside the package), and the result is the same for the same input
and seed (u by seeded random sampling, m by EM, pairs sorted, weights rounded).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

ATTRIBUTE_COLUMNS = [
    "source",
    "record_id",
    "crm_id",
    "loyalty_card_id",
    "full_name",
    "full_name_kana",
    "full_name_romaji",
    "birth_date",
    "postcode",
    "gender",
    "email",
    "phone",
]
OPTIONAL_COLUMNS = ["address"]

DEFAULT_THRESHOLD_PROBABILITY = 0.99
DEFAULT_SEED = 42
DEFAULT_MAX_PAIRS_U = 2e6

# Comparison name -> normalized columns it reads (it is dropped when they are all null).
_COMPARISON_COLUMNS = {
    "name": ["name_kanji", "name_romaji"],
    "birth_date": ["birth_date"],
    "postcode": ["postcode"],
    "email": ["email"],
    "phone": ["phone"],
    "gender": ["gender"],
    "address": ["address"],
}


# ---------------------------------------------------------------------------------------------
# Normalization (small on purpose: the deterministic module has the full normalizers)
# ---------------------------------------------------------------------------------------------

_KATAKANA_TO_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
_HAS_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々〆]")
_KANA_ONLY = re.compile(r"^[\u3040-\u30ffー・\s]+$")

# Hepburn, enough for names. Digraphs first (two kana), then single kana.
_ROMAJI_DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "ぢゃ": "ja", "ぢゅ": "ju", "ぢょ": "jo",
    "びゃ": "bya", "びゅ": "byu", "びょ": "byo", "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
}  # fmt: skip
_ROMAJI = dict(
    zip(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん"
        "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽぁぃぅぇぉゔ",
        "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
        "ma mi mu me mo ya yu yo ra ri ru re ro wa i e o n ga gi gu ge go za ji zu ze zo da ji zu "
        "de do ba bi bu be bo pa pi pu pe po a i u e o vu".split(),
        strict=True,
    )
)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    s = unicodedata.normalize("NFKC", str(value)).strip()
    return s or None


def to_hiragana(text: str) -> str:
    """Katakana to hiragana by Unicode offset (ー and everything else unchanged)."""
    return text.translate(_KATAKANA_TO_HIRAGANA)


def kana_to_romaji(kana: str) -> str:
    """Hiragana or katakana to Hepburn romaji (っ doubles, ー dropped), for names only."""
    s, out, i = to_hiragana(kana), [], 0
    while i < len(s):
        pair = s[i : i + 2]
        if pair in _ROMAJI_DIGRAPHS:
            out.append(_ROMAJI_DIGRAPHS[pair])
            i += 2
            continue
        ch = s[i]
        if ch == "っ":
            nxt = _ROMAJI_DIGRAPHS.get(s[i + 1 : i + 3]) or _ROMAJI.get(s[i + 1 : i + 2], "")
            out.append("t" if nxt.startswith("ch") else nxt[:1])
        elif ch in _ROMAJI:
            out.append(_ROMAJI[ch])
        elif ch.isspace():
            out.append(" ")
        i += 1
    return "".join(out)


def romaji_key(text: str) -> str | None:
    """Lower-case latin name, long vowels folded (Kondou = Kondo = Kondoh), tokens sorted (so
    family-name-first and given-name-first agree)."""
    s = unicodedata.normalize("NFKD", text.lower())
    s = "".join(c for c in s if c.isascii())
    s = re.sub(r"[^a-z\s]", " ", s)
    s = re.sub(r"(?<=o)h(?=\s|$)", "", s)
    s = re.sub(r"ou|oo", "o", s)
    s = re.sub(r"uu", "u", s)
    s = re.sub(r"m(?=[bp])", "n", s)
    tokens = sorted(s.split())
    return " ".join(tokens) or None


def normalize_postcode(value: Any) -> str | None:
    s = _text(value)
    digits = re.sub(r"\D", "", s or "")
    return digits or None


def normalize_email(value: Any) -> str | None:
    s = _text(value)
    if not s or "@" not in s:
        return None
    local, _, domain = s.lower().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def normalize_phone(value: Any) -> str | None:
    """Digits in national form (+81 90... and 090... agree); not E.164 validation."""
    s = _text(value)
    digits = re.sub(r"\D", "", s or "")
    if not digits:
        return None
    if s and s.startswith("+81"):
        digits = "0" + digits[2:]
    return digits


def normalize_birth_date(value: Any) -> str | None:
    s = _text(value)
    if not s:
        return None
    ts = pd.to_datetime(s, errors="coerce", format="mixed")
    return None if pd.isna(ts) else ts.strftime("%Y-%m-%d")


def normalize_records(records: pd.DataFrame) -> pd.DataFrame:
    """The columns the model compares, from person attribute records."""
    missing = [c for c in ("record_id",) if c not in records.columns]
    if missing:
        raise ValueError(f"person attribute records need columns {missing}")
    df = records.reindex(columns=ATTRIBUTE_COLUMNS + OPTIONAL_COLUMNS)
    if df["record_id"].duplicated().any():
        raise ValueError("record_id must be unique")
    rows = []
    for r in df.itertuples(index=False):
        full = _text(r.full_name)
        kana = _text(r.full_name_kana)
        romaji = _text(r.full_name_romaji)
        kanji = None
        if full:
            if _HAS_KANJI.search(full):
                kanji = re.sub(r"\s+", "", full)
            elif _KANA_ONLY.match(full):
                kana = kana or full
            elif full.isascii():
                romaji = romaji or full
        kana_h = re.sub(r"\s+", "", to_hiragana(kana)) if kana else None
        if not romaji and kana:
            romaji = kana_to_romaji(kana)
        gender = (_text(r.gender) or "").lower()
        rows.append(
            {
                "record_id": str(r.record_id),
                "source": _text(r.source),
                "name_kanji": kanji,
                "name_kana": kana_h or None,
                "name_romaji": romaji_key(romaji) if romaji else None,
                "birth_date": normalize_birth_date(r.birth_date),
                "postcode": normalize_postcode(r.postcode),
                "gender": gender if gender in ("female", "male", "other") else None,
                "email": normalize_email(r.email),
                "phone": normalize_phone(r.phone),
                "address": (re.sub(r"\s+", " ", _text(r.address).lower()) if _text(r.address) else None),
            }
        )
    cols = ["record_id", "source", "name_kanji", "name_kana", "name_romaji", "birth_date", "postcode", "gender",
            "email", "phone", "address"]  # fmt: skip
    # Every column a string, even when null everywhere (DuckDB would take an all-null column for INTEGER).
    return pd.DataFrame(rows, columns=cols).astype("string")


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


def _level(sql: str, label: str, *, null: bool = False, tf_col: str | None = None) -> dict[str, Any]:
    lvl: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        lvl["is_null_level"] = True
    if tf_col:
        lvl["tf_adjustment_column"] = tf_col
        lvl["tf_adjustment_weight"] = 1.0
    return lvl


def _else(fixed_m: float | None = None) -> dict[str, Any]:
    """The last level. `fixed_m`: a prior for how often true matches differ, kept out of EM: on
    clean or small training sets EM drives that m to exactly 0.0 (no true match observed there),
    which Splink 5 rejects (ValueError). Every comparison's last level has one for that reason."""
    lvl: dict[str, Any] = {"sql_condition": "ELSE", "label_for_charts": "different"}
    if fixed_m is not None:
        lvl.update(m_probability=fixed_m, fix_m_probability=True)
    return lvl


def _both(col: str) -> str:
    return f'"{col}_l" IS NOT NULL AND "{col}_r" IS NOT NULL'


def _comparisons() -> dict[str, dict[str, Any]]:
    """Each comparison: levels from strongest to weakest; labels are what `.pairs` shows."""
    jw = "jaro_winkler_similarity"
    return {
        "name": {
            "output_column_name": "name",
            "comparison_description": "name in kanji, kana or romaji (kana turned into romaji)",
            "comparison_levels": [
                _level(
                    '("name_kanji_l" IS NULL OR "name_kanji_r" IS NULL) '
                    'AND ("name_romaji_l" IS NULL OR "name_romaji_r" IS NULL)',
                    "no script in common",
                    null=True,
                ),
                _level(f'{_both("name_kanji")} AND "name_kanji_l" = "name_kanji_r"', "kanji exact"),
                _level('"name_kana_l" = "name_kana_r" OR "name_romaji_l" = "name_romaji_r"', "kana or romaji exact"),
                _level(
                    f'{jw}("name_kanji_l", "name_kanji_r") >= 0.88 OR {jw}("name_romaji_l", "name_romaji_r") >= 0.92',
                    "kanji or romaji similar (JW >= 0.88/0.92)",
                ),
                _level(f'{jw}("name_romaji_l", "name_romaji_r") >= 0.80', "romaji loosely similar (JW >= 0.80)"),
                _else(fixed_m=0.002),
            ],
        },
        "birth_date": {
            "output_column_name": "birth_date",
            "comparison_levels": [
                _level('"birth_date_l" IS NULL OR "birth_date_r" IS NULL', "null", null=True),
                _level('"birth_date_l" = "birth_date_r"', "exact"),
                _level('levenshtein("birth_date_l", "birth_date_r") <= 1', "one character off"),
                _level(
                    'substr("birth_date_l", 1, 4) = substr("birth_date_r", 1, 4) '
                    'AND substr("birth_date_l", 6, 2) = substr("birth_date_r", 9, 2) '
                    'AND substr("birth_date_l", 9, 2) = substr("birth_date_r", 6, 2)',
                    "month and day swapped",
                ),
                _level('levenshtein("birth_date_l", "birth_date_r") <= 2', "two characters off"),
                _else(fixed_m=0.01),
            ],
        },
        "postcode": {
            "output_column_name": "postcode",
            "comparison_levels": [
                _level('"postcode_l" IS NULL OR "postcode_r" IS NULL', "null", null=True),
                _level('"postcode_l" = "postcode_r"', "exact"),
                _level('levenshtein("postcode_l", "postcode_r") <= 1', "one digit off"),
                _level('substr("postcode_l", 1, 3) = substr("postcode_r", 1, 3)', "same area (first 3 digits)"),
                _else(fixed_m=0.05),
            ],
        },
        "email": {
            "output_column_name": "email",
            "comparison_levels": [
                _level('"email_l" IS NULL OR "email_r" IS NULL', "null", null=True),
                _level('"email_l" = "email_r"', "exact", tf_col="email"),
                _level('levenshtein("email_l", "email_r") <= 1', "one character off"),
                _else(fixed_m=0.1),
            ],
        },
        "phone": {
            "output_column_name": "phone",
            "comparison_levels": [
                _level('"phone_l" IS NULL OR "phone_r" IS NULL', "null", null=True),
                _level('"phone_l" = "phone_r"', "exact", tf_col="phone"),
                _level('levenshtein("phone_l", "phone_r") <= 1', "one digit off"),
                _else(fixed_m=0.1),
            ],
        },
        "gender": {
            "output_column_name": "gender",
            "comparison_levels": [
                _level('"gender_l" IS NULL OR "gender_r" IS NULL', "null", null=True),
                _level('"gender_l" = "gender_r"', "exact"),
                _else(fixed_m=0.01),
            ],
        },
        "address": {
            "output_column_name": "address",
            "comparison_levels": [
                _level('"address_l" IS NULL OR "address_r" IS NULL', "null", null=True),
                _level('"address_l" = "address_r"', "exact"),
                _level(f'{jw}("address_l", "address_r") >= 0.9', "similar (JW >= 0.9)"),
                _level(f'{jw}("address_l", "address_r") >= 0.75', "loosely similar (JW >= 0.75)"),
                _else(fixed_m=0.1),
            ],
        },
    }


# Blocking rules for prediction: a pair is compared when any rule holds (Splink dedupes pairs).
PREDICTION_BLOCKING_RULES = {
    "birth_date": 'l."birth_date" = r."birth_date"',
    "postcode": 'l."postcode" = r."postcode"',
    "name_kanji": 'l."name_kanji" = r."name_kanji"',
    "name_prefix": 'substr(l."name_romaji", 1, 3) = substr(r."name_romaji", 1, 3) '
    'AND substr(l."postcode", 1, 1) = substr(r."postcode", 1, 1)',
    "email": 'l."email" = r."email"',
    "phone": 'l."phone" = r."phone"',
}
# EM passes: each leaves out the comparisons its rule fixes, together they estimate every m.
TRAINING_BLOCKING_RULES = [
    'l."birth_date" = r."birth_date"',
    'l."postcode" = r."postcode"',
    'substr(l."name_romaji", 1, 4) = substr(r."name_romaji", 1, 4)',
]
# Pairs these rules accept are taken as matches to estimate how likely two random records match.
_DETERMINISTIC_RULES = [
    'l."name_romaji" = r."name_romaji" AND l."birth_date" = r."birth_date"',
    'l."name_romaji" = r."name_romaji" AND l."postcode" = r."postcode"',
]
_DETERMINISTIC_RECALL = 0.7


@dataclass
class MatchResult:
    """Accepted pairs (one row per pair, `record_id_l` < `record_id_r`) and run figures.

    `pairs` columns: record_id_l, record_id_r, source_l, source_r, match_weight,
    match_probability, then per comparison `<name>_level` (the matched level's label: why two
    records merged) and `<name>_weight` (its match weight, term-frequency adjustment included)."""

    pairs: pd.DataFrame
    stats: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict, repr=False)


def _used_comparisons(norm: pd.DataFrame) -> list[str]:
    out = []
    for name, cols in _COMPARISON_COLUMNS.items():
        if any(norm[c].notna().sum() >= 2 for c in cols):
            out.append(name)
    return out


def match_records(
    records: pd.DataFrame,
    threshold_probability: float = DEFAULT_THRESHOLD_PROBABILITY,
    threshold_weight: float | None = None,
    seed: int = DEFAULT_SEED,
    *,
    max_pairs_u: float = DEFAULT_MAX_PAIRS_U,
    blocking_rules: list[str] | None = None,
) -> MatchResult:
    """Score pairs of person attribute records; keep those above both thresholds.

    `threshold_probability`: the least match probability accepted; `threshold_weight`: the
    least match weight (log2 Bayes factor), if given. `blocking_rules`: names of
    `PREDICTION_BLOCKING_RULES` to use (all by default)."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    started = time.perf_counter()
    norm = normalize_records(records)
    n = len(norm)
    used = _used_comparisons(norm)
    empty_stats = {"records": n, "pairs_compared": 0, "pairs_accepted": 0, "comparisons": used}
    if n < 2:
        return MatchResult(_empty_pairs(used), {**empty_stats, "seconds": time.perf_counter() - started})

    all_comparisons = _comparisons()
    rule_names = blocking_rules or list(PREDICTION_BLOCKING_RULES)
    rules = [_rule(PREDICTION_BLOCKING_RULES[r], norm) for r in rule_names]
    rules = [r for r in rules if r]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[all_comparisons[c] for c in used],
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=True,  # Splink 5 keeps gamma_* only with this
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source"],
    )
    con = duckdb.connect(":memory:")
    con.execute("SET threads TO 1")  # same floating-point sums, run after run
    db_api = DuckDBAPI(connection=con)
    table = db_api.register(norm, dataset_display_name="person_attributes")
    splink_logger = logging.getLogger("splink")
    previous_level = splink_logger.level
    try:
        linker = Linker(table, settings, log_level=None)
        splink_logger.setLevel(logging.ERROR)
        det = [r for r in (_rule(x, norm) for x in _DETERMINISTIC_RULES) if r]
        if det:
            linker.training.estimate_probability_two_random_records_match(det, recall=_DETERMINISTIC_RECALL)
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_u, seed=seed)
        for rule in TRAINING_BLOCKING_RULES:
            if _rule(rule, norm):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True
                )
        blocked = linker.inference.compute_blocked_pairs_for_predict()
        pairs_compared = int(con.execute(f"SELECT count(*) FROM {blocked.physical_name}").fetchone()[0])
        predictions = linker.inference.predict(
            threshold_match_weight=_least_weight(threshold_probability, threshold_weight),
            warning_mode="never",
        ).as_pandas_dataframe()
        model = linker.misc.save_model_to_json()
    finally:
        splink_logger.setLevel(previous_level)
        con.close()
    pairs = _explain(predictions, used, all_comparisons)
    stats = {
        **empty_stats,
        "pairs_compared": pairs_compared,
        "pairs_accepted": len(pairs),
        "probability_two_random_records_match": model.get("probability_two_random_records_match"),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return MatchResult(pairs, stats, model)


def _least_weight(probability: float | None, weight: float | None) -> float | None:
    """Both thresholds as one match weight: Splink 5's predict refuses to take both."""
    bounds = [] if weight is None else [weight]
    if probability is not None and probability > 0:
        if probability >= 1:
            raise ValueError("threshold_probability must be below 1")
        bounds.append(math.log2(probability / (1 - probability)))
    return max(bounds) if bounds else None


def _rule(sql: str, norm: pd.DataFrame) -> str | None:
    """The rule, unless a column it needs is null everywhere (it would block nothing)."""
    cols = set(re.findall(r'[lr]\."(\w+)"', sql))
    return sql if all(norm[c].notna().sum() >= 2 for c in cols) else None


def _empty_pairs(used: list[str]) -> pd.DataFrame:
    cols = ["record_id_l", "record_id_r", "source_l", "source_r", "match_weight", "match_probability"]
    for c in used:
        cols += [f"{c}_level", f"{c}_weight"]
    return pd.DataFrame(columns=cols)


def _explain(pred: pd.DataFrame, used: list[str], comparisons: dict[str, dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "record_id_l": pred["record_id_l"].astype(str),
            "record_id_r": pred["record_id_r"].astype(str),
            "source_l": pred["source_l"],
            "source_r": pred["source_r"],
            "match_weight": pred["match_weight"].astype(float).round(6),
            "match_probability": pred["match_probability"].astype(float).round(9),
        }
    )
    for c in used:
        labels = [lvl["label_for_charts"] for lvl in comparisons[c]["comparison_levels"]]
        # gamma: -1 for the null level, then the highest value for the first non-null level.
        n_nonnull = len(labels) - 1
        by_gamma = {-1: labels[0], **{n_nonnull - 1 - i: lab for i, lab in enumerate(labels[1:])}}
        out[f"{c}_level"] = pred[f"gamma_{c}"].map(by_gamma)
        weight = pred[f"mw_{c}"].astype(float)
        if f"mw_tf_adj_{c}" in pred.columns:
            weight = weight + pred[f"mw_tf_adj_{c}"].astype(float)
        out[f"{c}_weight"] = weight.round(4)
    # Splink puts the lower id on the left; make it the lexical order we promise.
    swap = out["record_id_l"] > out["record_id_r"]
    out.loc[swap, ["record_id_l", "record_id_r", "source_l", "source_r"]] = out.loc[
        swap, ["record_id_r", "record_id_l", "source_r", "source_l"]
    ].to_numpy()
    return out.sort_values(["record_id_l", "record_id_r"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Person attribute records from landing files (reference for dbt's int_person_attributes)
# ---------------------------------------------------------------------------------------------


@functools.cache
def _contract(name: str) -> Any:
    from data_contracts.model import load_contracts

    return load_contracts()[name]
