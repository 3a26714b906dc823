"""Reverse ETL into the CRM: audience membership upserted into, and removed from, a table of its own.

The CRM's PostgreSQL database also holds the contacts table that ingestion reads; writing there
would feed Kizuna's own output back in as if it were customer data, so that table is refused by
name. Membership lives in one row per (audience, person_id). A batch is one transaction: adds and
updates upsert, removals delete, so a batch sent again after a crash leaves the rows as they were
(a resend of identical values does not even touch `updated_at`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from kizuna.activation.transport import Change, DestinationError, Outcome, delivered, failed

APPLICATION_NAME = "kizuna-activation-crm"
COLUMNS = ("audience", "person_id", "fields", "idempotency_key", "updated_at")


class CrmTransport:
    """Membership rows in `schema.table` of the CRM database at `dsn`; see the module docstring.

    `table` may be given schema-qualified ("crm.members"), overriding `schema`. `contacts_table` is
    the table ingestion reads, qualified or not; unqualified, it is refused in every schema.
    """

    def __init__(
        self,
        dsn: str,
        schema: str = "crm",
        table: str = "kizuna_audience_members",
        contacts_table: str = "contacts",
    ) -> None:
        if "." in table:
            schema, table = table.split(".", 1)
        if not schema or not table:
            raise DestinationError(f"CRM destination {schema}.{table}: schema and table must both be named")
        contacts_schema, _, contacts_name = contacts_table.rpartition(".")
        same_name = table.casefold() == contacts_name.casefold()
        if same_name and (not contacts_schema or contacts_schema.casefold() == schema.casefold()):
            raise DestinationError(
                f"CRM destination {schema}.{table}: refused, it is the contacts table ingestion reads "
                f"({contacts_table}); membership needs a table of its own"
            )
        self.dsn = dsn
        self.schema = schema
        self.table = table
        self._target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        self._conn: psycopg2.extensions.connection | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def send(self, batch_id: str, changes: Sequence[Change]) -> list[Outcome]:
        if not changes:
            return []
        try:
            upserts, removals = _final_state(changes)
            conn = self._connection()
            with conn, conn.cursor() as cur:
                if upserts:
                    execute_values(
                        cur,
                        sql.SQL(
                            "INSERT INTO {t} (audience, person_id, fields, idempotency_key) VALUES %s "
                            "ON CONFLICT (audience, person_id) DO UPDATE SET fields = EXCLUDED.fields, "
                            "idempotency_key = EXCLUDED.idempotency_key, updated_at = now() "
                            # a resend of the same values is a no-op, not a fresh write
                            "WHERE {t}.fields IS DISTINCT FROM EXCLUDED.fields "
                            "OR {t}.idempotency_key IS DISTINCT FROM EXCLUDED.idempotency_key"
                        ).format(t=self._target),
                        [(c.audience, c.person_id, Json(dict(c.fields), dumps=_dumps), c.key) for c in upserts],
                    )
                if removals:
                    execute_values(
                        cur,
                        sql.SQL("DELETE FROM {} WHERE (audience, person_id) IN (VALUES %s)").format(self._target),
                        [(c.audience, c.person_id) for c in removals],
                    )
        except (psycopg2.Error, DestinationError) as exc:
            # `with conn` has rolled the transaction back; a dropped connection shows as closed and
            # the next send opens a new one
            return failed(changes, self._message(batch_id, exc))
        return delivered(changes)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg2.extensions.connection:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        # an unreachable server fails the batch instead of hanging the sync (unless the DSN says otherwise)
        timeout = {} if "connect_timeout" in psycopg2.extensions.parse_dsn(self.dsn) else {"connect_timeout": 10}
        conn = psycopg2.connect(self.dsn, application_name=APPLICATION_NAME, **timeout)
        try:
            self._ensure_table(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _ensure_table(self, conn: psycopg2.extensions.connection) -> None:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (audience text NOT NULL, person_id text NOT NULL, "
                    "fields jsonb NOT NULL DEFAULT '{{}}'::jsonb, idempotency_key text, "
                    "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (audience, person_id))"
                ).format(self._target)
            )
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (self.schema, self.table),
            )
            present = {row[0] for row in cur.fetchall()}
        missing = sorted(set(COLUMNS) - present)
        if missing:
            # an existing table of another purpose: writing into it would corrupt it
            raise DestinationError(f"table exists without the membership columns {missing}")

    def _message(self, batch_id: str, exc: BaseException) -> str:
        detail = _without_secrets(" ".join(str(exc).split()) or type(exc).__name__, self.dsn)
        return f"CRM table {self.name}, batch {batch_id}: {type(exc).__name__}: {detail}"


def _final_state(changes: Sequence[Change]) -> tuple[list[Change], list[Change]]:
    """The last change per member decides: a batch applied in one statement per kind must match it
    applied in order (and one INSERT .. ON CONFLICT may not touch the same row twice)."""
    last: dict[tuple[str, str], Change] = {}
    for change in changes:
        last.pop((change.audience, change.person_id), None)
        last[(change.audience, change.person_id)] = change
    upserts = [c for c in last.values() if c.action in ("add", "update")]
    removals = [c for c in last.values() if c.action == "remove"]
    unknown = sorted({c.action for c in last.values()} - {"add", "update", "remove"})
    if unknown:
        raise DestinationError(f"unknown actions {unknown}")
    return upserts, removals


def _without_secrets(message: str, dsn: str) -> str:
    """PostgreSQL's messages do not carry the password, but a driver error may quote the DSN; mask it
    (masking the bare password instead would mangle messages when it is a common word)."""
    if dsn:
        message = message.replace(dsn, "<dsn>")
    message = re.sub(r"(?i)(password\s*=\s*)('[^']*'|\S+)", r"\1***", message)
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", message)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
