"""Training examples: persons (or person-offer pairs) as of past cutoffs, with their labels.

One identity resolution per distinct cutoff serves every model. Each example carries the person of
today it became (`current_person_id`), and the fixed holdout and calibration splits hash that id,
so one person is never on both sides and every run is judged on the same persons.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from kizuna.identity.rules import IdentityRules
from kizuna.predict import as_of
from kizuna.predict import features as feats
from kizuna.predict.config import ModelSpec, PredictConfig

SPLITS = ("train", "calibration", "holdout")


def split_of(person_ids: pd.Series, holdout_share: float, calibration_share: float) -> pd.Series:
    """train, calibration or holdout per person id, from a hash of the id alone (stable across runs)."""
    def unit(value: str, salt: str) -> float:
        return int.from_bytes(hashlib.sha256(f"{salt}:{value}".encode()).digest()[:8], "big") / 2**64

    ids = person_ids.astype(str)
    hold = ids.map(lambda v: unit(v, "holdout") < holdout_share)
    cal = ids.map(lambda v: unit(v, "calibration") < calibration_share)
    return pd.Series(np.where(hold, "holdout", np.where(cal, "calibration", "train")), index=person_ids.index)


def history_start(con: duckdb.DuckDBPyConnection) -> datetime:
    """The first web/app event: how far back behaviour goes (CRM records are older, but sparse)."""
    return con.sql(f"select min(occurred_at) from {feats.PERSON_EVENTS} where source = 'events'").fetchone()[0]


class Snapshots:
    """As-of identity and features per cutoff, computed once and shared by every model."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: PredictConfig, rules: IdentityRules):
        self.con, self.config, self.rules = con, config, rules
        self._cache: dict[datetime, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def at(self, cutoff: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(records as of the cutoff, person features with current_person_id)."""
        if cutoff not in self._cache:
            records = as_of.records_as_of(self.con, cutoff, self.rules)
            frame = feats.person_features(self.con, self.config, cutoff, records)
            frame = frame.merge(as_of.current_person_of(records), on="person_id", how="inner")
            self._cache[cutoff] = (records, frame)
        return self._cache[cutoff]


def usable_cutoffs(config: PredictConfig, model: ModelSpec, now: datetime, start: datetime) -> list[datetime]:
    """The model's cutoffs with at least `min_history_days` of behaviour before them."""
    earliest = start + timedelta(days=int(config.training["min_history_days"]))
    return [c for c in feats.training_cutoffs(config, model, now) if c >= earliest]


def person_examples(snapshots: Snapshots, model: ModelSpec, cutoffs: list[datetime]) -> pd.DataFrame:
    """cutoff, person_id, current_person_id, split, label and the person features, for the
    persons of the model's population at each cutoff."""
    con, config = snapshots.con, snapshots.config
    parts = []
    for cutoff in cutoffs:
        _, frame = snapshots.at(cutoff)
        con.register("snapshot_features", frame)
        members = con.sql(f"select person_id from snapshot_features where {model.population}").df()["person_id"]
        frame = frame[frame["person_id"].isin(members)].copy()
        frame["label"] = feats.labels(con, config, model, cutoff, frame["current_person_id"]).to_numpy()
        frame.insert(0, "cutoff", cutoff)
        parts.append(frame)
    return _with_split(pd.concat(parts, ignore_index=True), config)


def offer_examples(snapshots: Snapshots, model: ModelSpec, cutoffs: list[datetime]) -> pd.DataFrame:
    """One example per offer shown in each cutoff's label window: cutoff, person_id (as of the
    cutoff), current_person_id, offer_id, split, label, person and person-by-offer features. The
    shown person is represented by the as-of person holding most of its records then; persons
    with nothing before the cutoff are left out, as they are at scoring."""
    con, config = snapshots.con, snapshots.config
    parts = []
    for cutoff in cutoffs:
        records, frame = snapshots.at(cutoff)
        shown = feats.offer_exposures(con, model, cutoff)
        size = records.groupby(["current_person_id", "person_id"]).size().rename("n").reset_index()
        main = size.sort_values(["current_person_id", "n", "person_id"], ascending=[True, False, True]) \
            .drop_duplicates("current_person_id")[["current_person_id", "person_id"]]
        shown = shown.merge(main, on="current_person_id", how="inner")
        if shown.empty:
            continue
        pair_features = feats.offer_features(con, config, cutoff, shown[["person_id", "offer_id"]], records)
        rows = (shown.merge(frame.drop(columns="current_person_id"), on="person_id", how="inner")
                .merge(pair_features, on=["person_id", "offer_id"], how="left"))
        rows.insert(0, "cutoff", cutoff)
        parts.append(rows.drop(columns="shown_at"))
    if not parts:
        return pd.DataFrame(columns=["cutoff", "person_id", "current_person_id", "offer_id", "split", "label"])
    return _with_split(pd.concat(parts, ignore_index=True), config)


def _with_split(frame: pd.DataFrame, config: PredictConfig) -> pd.DataFrame:
    frame["split"] = split_of(frame["current_person_id"], float(config.training["holdout_share"]),
                              float(config.training["calibration_share"]))
    return frame


def stack(by_model: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every model's examples in one frame (`model` first; features a model lacks are null)."""
    frames = [f for f in by_model.values() if len(f)]
    if not frames:
        return pd.DataFrame({"model": pd.Series(dtype="string"), "split": pd.Series(dtype="string"),
                             "label": pd.Series(dtype="int64")})
    table = pd.concat(frames, ignore_index=True)
    return table[["model", *[c for c in table.columns if c != "model"]]]
