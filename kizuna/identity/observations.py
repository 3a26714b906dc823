"""Identifier observations straight from a sample world's landing files.

The reference for the dbt model `int_identifier_observations`: one row per identifier seen in a
record, `source`, `record_id`, `namespace`, `value_raw`, `observed_at`. Landing files are ingested
under their data contracts into a throwaway DuckDB (`kizuna.collect.ingest`), so records a contract
rejects (broken JSON, pattern violations, year-2199 timestamps...) never reach identity, exactly as
in the pipeline; exact re-sends are deduplicated there too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

from kizuna.identity.normalize import name_key, normalize_name

# source -> (record id SQL, time column, {namespace: SQL expression}); the grain of each source.
SOURCES: dict[str, tuple[str, str, dict[str, str]]] = {
    "events": ("message_id", "timestamp", {
        "anonymous_id": "anonymous_id", "user_id": "user_id",
        "device_id": "json_extract_string(context, '$.device.id')",
        "email": "json_extract_string(traits, '$.email')", "phone": "json_extract_string(traits, '$.phone')"}),
    "crm_contacts": ("crm_id || '@' || CAST(updated_at AS VARCHAR)", "updated_at", {
        "crm_id": "crm_id", "email": "email", "phone": "phone", "loyalty_card_id": "loyalty_card_id"}),
    "loyalty_members": ("loyalty_card_id", "signed_up_at", {
        "loyalty_card_id": "loyalty_card_id", "email": "email", "phone": "phone"}),
    "pos_transactions": ("transaction_id", "transacted_at", {"loyalty_card_id": "loyalty_card_id"}),
    "email_events": ("event_id", "timestamp", {"email": "email", "crm_id": "crm_id"}),
    "support_tickets": ("ticket_event_id", "event_at", {"crm_id": "crm_id", "email": "email", "phone": "phone"}),
    "survey_responses": ("response_id", "submitted_at", {"crm_id": "crm_id", "email": "email"}),
    "offer_events": ("offer_event_id", "occurred_at", {
        "user_id": "user_id", "crm_id": "crm_id", "anonymous_id": "anonymous_id"}),
    "ad_touchpoints": ("touchpoint_id", "occurred_at", {"anonymous_id": "anonymous_id", "device_id": "device_id"}),
    "consent_events": ("consent_event_id", "occurred_at", {
        "user_id": "user_id", "anonymous_id": "anonymous_id", "email": "email", "crm_id": "crm_id",
        "loyalty_card_id": "loyalty_card_id"}),
    "orders": ("order_id", "ordered_at", {"user_id": "user_id", "anonymous_id": "anonymous_id"}),
}


def ingest_landing(landing: str, sources=tuple(SOURCES), reference_time: datetime | None = None
                   ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding `raw.<source>` for each source, loaded under its contract."""
    from data_contracts import load_contracts
    from kizuna.collect.ingest import ingest_source

    contracts = load_contracts()
    # The sample world lives in the future of the wall clock: judge "too far in the future" from
    # the newest landing day instead.
    reference_time = reference_time or datetime(2100, 1, 1, tzinfo=UTC)
    con = duckdb.connect()
    for source in sources:
        ingest_source(con, contracts[source], landing, reference_time=reference_time)
    if reference_time.year == 2100:
        newest = con.sql("SELECT max(_partition) FROM raw.events").fetchone()[0]
        if newest is not None:
            limit = datetime.combine(newest, datetime.min.time(), UTC) + timedelta(days=2)
            for source in sources:
                time_column = SOURCES[source][1]
                con.execute(f'DELETE FROM raw."{source}" WHERE "{time_column}" > ?', [limit])
    return con


def observations_sql(sources=tuple(SOURCES)) -> str:
    parts = []
    for source in sources:
        record_id, time_column, namespaces = SOURCES[source]
        for namespace, expr in namespaces.items():
            parts.append(
                f"SELECT '{source}' AS source, CAST({record_id} AS VARCHAR) AS record_id, '{namespace}' AS namespace, "
                f"CAST({expr} AS VARCHAR) AS value_raw, \"{time_column}\" AS observed_at FROM raw.\"{source}\" "
                f"WHERE nullif(trim(CAST({expr} AS VARCHAR)), '') IS NOT NULL")
    return "SELECT DISTINCT * FROM (" + "\nUNION ALL\n".join(parts) + ")"


def observations_from_raw(con: duckdb.DuckDBPyConnection, sources=tuple(SOURCES)) -> pd.DataFrame:
    frame = con.sql(observations_sql(sources)).arrow().read_all().to_pandas()
    return frame.sort_values(["source", "record_id", "namespace"], kind="stable").reset_index(drop=True)


def attributes_from_raw(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Anchor attributes for `allow_multiple_when`: CRM contacts' and loyalty members' birth date
    and name keys (kanji/romaji name, kana name), newest version first."""
    crm = con.sql("""SELECT 'crm_id' AS namespace, crm_id AS value_raw, birth_date,
        concat_ws(' ', last_name, first_name) AS name, concat_ws(' ', last_name_kana, first_name_kana) AS kana,
        updated_at AS at FROM raw.crm_contacts""").df()
    loyalty = con.sql("""SELECT 'loyalty_card_id' AS namespace, loyalty_card_id AS value_raw, birth_date,
        full_name AS name, full_name_kana AS kana, signed_up_at AS at FROM raw.loyalty_members""").df()
    frame = pd.concat([crm, loyalty], ignore_index=True).sort_values("at", ascending=False, kind="stable")
    frame["birth_date"] = frame["birth_date"].astype("string")
    frame["name_key"] = frame["name"].map(name_key)
    frame["name_kana_key"] = frame["kana"].map(name_key)
    frame["name"] = frame["name"].map(normalize_name)
    return frame.drop(columns=["at", "kana"]).reset_index(drop=True)


def observations_from_landing(landing: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, anchor attributes) of every identity-bearing source under `landing`."""
    con = ingest_landing(landing)
    try:
        return observations_from_raw(con), attributes_from_raw(con)
    finally:
        con.close()
