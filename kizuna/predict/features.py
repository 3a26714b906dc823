"""Point-in-time features and labels, computed in DuckDB from config/features.yml and models.yml.

Every feature of a person at a cutoff aggregates that person's events strictly before the cutoff;
a label aggregates the events of the window after it. With `records` (from `as_of.records_as_of`)
events are grouped by identity as it stood at the cutoff (training); without, by today's persons
(scoring). Nothing here reads the profile: scores flow into it, never back (DESIGN.md, Prediction).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from kizuna.predict.config import ModelSpec, PredictConfig

PERSON_EVENTS = "marts.person_events"
EVENT_DETAILS = "intermediate.int_event_details"
# Shipments and refunds carry no identifier: they follow the person of their order (as person_events does).
ORDER_RECORDS = """
    select 'shipments' as source, cast(shipment_update_id as varchar) as record_id, order_id
    from staging.stg_logistics__shipment_updates
    union all
    select 'refunds', cast(refund_id as varchar), order_id from staging.stg_shop__refunds
"""


def scoring_cutoff(con: duckdb.DuckDBPyConnection, tz: ZoneInfo) -> datetime:
    """The start (in UTC) of the business day after the last day with events: 'now' for scoring.
    Events stamped in the future (clock skew) do not move it."""
    last = con.sql(f"select max(occurred_at) from {PERSON_EVENTS} where occurred_at <= now()").fetchone()[0]
    if last is None:
        raise ValueError(f"{PERSON_EVENTS} is empty: there is nothing to predict from")
    day = last.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def training_cutoffs(config: PredictConfig, model: ModelSpec, now: datetime) -> list[datetime]:
    """The model's snapshot cutoffs, newest last: each leaves a whole label window before `now`."""
    latest = now - timedelta(days=model.label_window_days)
    step = timedelta(days=int(config.training["snapshot_step_days"]))
    count = model.snapshots or int(config.training["snapshots"])
    return [latest - k * step for k in reversed(range(count))]


def _event_columns(config: PredictConfig) -> str:
    flags = "".join(f",\n        ({sql}) as {name}" for name, sql in config.flags.items())
    return f"""
        events.person_id, events.source, events.event_type, events.event_name, events.occurred_at,
        events.channel, events.amount, details.category, details.offer_id, details.score, details.is_late,
        details.is_untracked,
        cast(floor((epoch(cast($cutoff as timestamp)) - epoch(events.occurred_at)) / 86400) as integer) as days_ago,
        cast(events.occurred_at as date) as event_day,
        cast($cutoff as timestamp) as cutoff{flags}"""


def _events_before(con: duckdb.DuckDBPyConnection, config: PredictConfig, records: pd.DataFrame | None) -> str:
    """SQL of the events before $cutoff, under the as-of person when `records` is given."""
    if records is None:
        person_events = PERSON_EVENTS
    else:
        con.register("as_of_records", records[["source", "record_id", "person_id"]])
        person_events = f"""(
            with order_people as (
                select orders.order_id, min(as_of_records.person_id) as person_id
                from staging.stg_shop__orders as orders
                inner join as_of_records
                    on as_of_records.source = 'orders'
                    and as_of_records.record_id = cast(orders.order_line_id as varchar)
                group by orders.order_id
            ),
            people as (
                select source, record_id, person_id from as_of_records
                union all
                select order_records.source, order_records.record_id, order_people.person_id
                from ({ORDER_RECORDS}) as order_records
                inner join order_people using (order_id)
            )
            select people.person_id, person_events.* exclude (person_id)
            from {PERSON_EVENTS} as person_events
            inner join people using (source, record_id)
        )"""
    return f"""
        select {_event_columns(config)}
        from {person_events} as events
        left join {EVENT_DETAILS} as details using (source, record_id)
        where events.occurred_at < cast($cutoff as timestamp)"""


def person_features(con: duckdb.DuckDBPyConnection, config: PredictConfig, cutoff: datetime,
                    records: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per person with events before the cutoff: person_id and every person feature."""
    selects = ",\n    ".join(f"{config.features[name].sql} as {name}" for name in config.person_features)
    sql = f"with events as ({_events_before(con, config, records)})\nselect person_id,\n    {selects}\n" \
          f"from events group by person_id order by person_id"
    return _as_float(con.execute(sql, {"cutoff": cutoff}).df(), config.person_features)


def _as_float(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every feature as float64: one schema whether or not a batch happens to hold a null (MLflow
    signatures and the models see the same types in training and scoring)."""
    frame[columns] = frame[columns].astype("float64")
    return frame


def offer_features(con: duckdb.DuckDBPyConnection, config: PredictConfig, cutoff: datetime,
                   pairs: pd.DataFrame, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """person_id, offer_id and every person-by-offer feature, for each (person_id, offer_id) of `pairs`."""
    con.register("offer_pairs", pairs[["person_id", "offer_id"]].drop_duplicates())
    con.register("offer_catalogue", pd.DataFrame([
        {"offer_id": o.offer_id, "offer_category": o.category, "offer_kind": o.kind, "offer_value": o.value,
         "offer_target": o.target} for o in config.offers]))
    selects = ",\n    ".join(f"{config.features[name].sql} as {name}" for name in config.offer_features)
    sql = f"""
        with events as ({_events_before(con, config, records)}),
        person_offer_events as (
            select offer_pairs.person_id as pair_person_id, offer_catalogue.*, events.*
            from offer_pairs
            inner join offer_catalogue using (offer_id)
            left join events on events.person_id = offer_pairs.person_id
        )
        select pair_person_id as person_id, offer_id,
            {selects}
        from person_offer_events
        group by pair_person_id, offer_id, offer_category, offer_kind, offer_value, offer_target
        order by person_id, offer_id"""
    return _as_float(con.execute(sql, {"cutoff": cutoff}).df(), config.offer_features)


def labels(con: duckdb.DuckDBPyConnection, config: PredictConfig, model: ModelSpec, cutoff: datetime,
           current_persons: pd.Series) -> pd.Series:
    """The model's label (0/1) for each person of today in `current_persons`, from the events of
    the window [cutoff, cutoff + label_window_days); a person with none there gets the label's
    value over no events (`count(...) = 0` is then true)."""
    end = cutoff + timedelta(days=model.label_window_days)
    window = f"""
        select {_event_columns(config)}
        from {PERSON_EVENTS} as events
        left join {EVENT_DETAILS} as details using (source, record_id)
        where events.occurred_at >= cast($cutoff as timestamp) and events.occurred_at < cast($end as timestamp)"""
    con.register("label_persons", pd.DataFrame({"person_id": current_persons.drop_duplicates().to_numpy()}))
    found = con.execute(f"""
        with events as ({window})
        select person_id, cast(({model.label}) as integer) as label
        from events where person_id in (select person_id from label_persons) group by person_id""",
                        {"cutoff": cutoff, "end": end}).df()
    empty = con.execute(f"with events as ({window} and false) select cast(({model.label}) as integer) from events",
                        {"cutoff": cutoff, "end": end}).fetchone()[0]
    by_person = found.set_index("person_id")["label"]
    return current_persons.map(by_person).fillna(empty if empty is not None else 0).astype(int)


def offer_exposures(con: duckdb.DuckDBPyConnection, model: ModelSpec, cutoff: datetime) -> pd.DataFrame:
    """Offers shown in [cutoff, cutoff + label window): current_person_id, offer_id, shown_at and
    label (redeemed within response_days of being shown), one row per person and offer."""
    end = cutoff + timedelta(days=model.label_window_days)
    return con.execute(f"""
        with offer_events as (
            select events.person_id, details.offer_id, events.event_name, events.occurred_at
            from {PERSON_EVENTS} as events
            inner join {EVENT_DETAILS} as details using (source, record_id)
            where events.source = 'offer_events'
        ),
        shown as (
            select person_id, offer_id, min(occurred_at) as shown_at
            from offer_events
            where event_name = 'exposed'
            group by person_id, offer_id
        )
        select shown.person_id as current_person_id, shown.offer_id, shown.shown_at,
            cast(count(redeemed.occurred_at) > 0 as integer) as label
        from shown
        left join offer_events as redeemed
            on redeemed.person_id = shown.person_id and redeemed.offer_id = shown.offer_id
            and redeemed.event_name = 'redeemed' and redeemed.occurred_at >= shown.shown_at
            and redeemed.occurred_at < shown.shown_at + to_days($response_days)
        where shown.shown_at >= cast($cutoff as timestamp) and shown.shown_at < cast($end as timestamp)
        group by shown.person_id, shown.offer_id, shown.shown_at
        order by current_person_id, shown.offer_id""",
                       {"cutoff": cutoff, "end": end, "response_days": model.response_days}).df()


def offers_shown_before(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> pd.DataFrame:
    """person_id, offer_id of every offer a person of today was shown before the cutoff."""
    return con.execute(f"""
        select distinct events.person_id, details.offer_id
        from {PERSON_EVENTS} as events
        inner join {EVENT_DETAILS} as details using (source, record_id)
        where events.source = 'offer_events' and events.event_name = 'exposed'
            and events.occurred_at < cast($cutoff as timestamp)""", {"cutoff": cutoff}).df()
