"""FEBRL deduplication sets as person attribute records, and pairwise scoring against their truth."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

FEBRL_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "febrl"


def load_febrl(name: str) -> pd.DataFrame:
    df = pd.read_csv(FEBRL_DIR / f"{name}.csv", dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda s: s.str.strip()).replace({"": None})


def febrl_to_records(df: pd.DataFrame) -> pd.DataFrame:
    """FEBRL columns in the matcher's input: given name + surname as a romaji full name (the
    matcher sorts its tokens, so swapped fields still agree), date_of_birth as a date, postcode,
    street number + address_1 + suburb as the optional `address`. FEBRL has no email, phone or
    gender; soc_sec_id plays the phone's part (a personal number that may carry a typo)."""
    name = (df["given_name"].fillna("") + " " + df["surname"].fillna("")).str.strip().replace({"": None})
    address = (
        df[["street_number", "address_1", "suburb"]].fillna("").agg(" ".join, axis=1).str.strip().replace({"": None})
    )
    return pd.DataFrame(
        {
            "source": "febrl",
            "record_id": df["rec_id"],
            "crm_id": None,
            "loyalty_card_id": None,
            "full_name": None,
            "full_name_kana": None,
            "full_name_romaji": name,
            "birth_date": pd.to_datetime(df["date_of_birth"], format="%Y%m%d", errors="coerce").dt.strftime("%Y-%m-%d"),
            "postcode": df["postcode"],
            "gender": None,
            "email": None,
            "phone": df["soc_sec_id"],
            "address": address,
        }
    )


def true_pairs(record_ids: pd.Series, entity: pd.Series) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for _, ids in pd.DataFrame({"id": record_ids, "e": entity}).dropna().groupby("e")["id"]:
        pairs.update(itertools.combinations(sorted(ids), 2))
    return pairs


def febrl_truth(df: pd.DataFrame) -> set[tuple[str, str]]:
    """rec-N-org and rec-N-dup-K are one person."""
    return true_pairs(df["rec_id"], df["rec_id"].str.extract(r"^rec-(\d+)-")[0])


def precision_recall(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float]:
    tp = len(predicted & truth)
    return (tp / len(predicted) if predicted else 1.0), (tp / len(truth) if truth else 1.0)
