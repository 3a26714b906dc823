"""Audience membership in the warehouse: who is in, since when, and who left when.

`act.audience_membership` keeps history: a row per stay (entered_at, exited_at; exited_at is null
while the person is in). Each evaluation closes the stays of people who left and opens stays for
people who entered, in one transaction, and logs its counts in `act.audience_evaluations`.
A person merged into another by identity leaves under the old id and enters under the surviving one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd
from sqlglot import exp

from kizuna.audiences.expressions import Node, Schema, to_sql
from kizuna.warehouse import transaction

SCHEMA = "act"
MEMBERSHIP = f"{SCHEMA}.audience_membership"
EVALUATIONS = f"{SCHEMA}.audience_evaluations"
# What rules read: the profile with scores and the current journey stage (dbt: audience_profiles),
# and every person's events (dbt: person_events).
PROFILES = ("marts", "audience_profiles")
EVENTS = ("marts", "person_events")
SQL_AUDIENCES = "audiences"  # the schema of dbt models tagged `audience`

# DuckDB column types -> the rule types of kizuna.audiences.expressions.
_TYPES = {"VARCHAR": "string", "BOOLEAN": "boolean", "DATE": "date", "BIGINT": "number", "INTEGER": "number",
          "HUGEINT": "number", "SMALLINT": "number", "TINYINT": "number", "UBIGINT": "number", "UINTEGER": "number",
          "DOUBLE": "number", "FLOAT": "number", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp"}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"""create table if not exists {MEMBERSHIP} (
        audience varchar not null, person_id varchar not null, entered_at timestamp not null, exited_at timestamp)""")
    con.execute(f"""create table if not exists {EVALUATIONS} (
        audience varchar not null, evaluated_at timestamp not null, data_as_of timestamp,
        members bigint not null, entered bigint not null, exited bigint not null, source varchar not null)""")


def profile_schema(con: duckdb.DuckDBPyConnection) -> Schema:
    """The fields rules may compare: the columns of audience_profiles with a comparable type."""
    rows = con.execute("select column_name, data_type from information_schema.columns "
                       "where table_schema = ? and table_name = ? order by ordinal_position", list(PROFILES)).fetchall()
    if not rows:
        raise LookupError(f"{'.'.join(PROFILES)} is missing: build the dbt model audience_profiles first")
    types = {name: _TYPES.get(kind.split("(")[0], _TYPES.get(kind)) for name, kind in rows}
    return Schema(profile={name: kind for name, kind in types.items() if kind})


def data_now(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The moment event windows end: the latest event, so a world replayed from files is judged as
    of its own last day (in production that is a few minutes ago)."""
    return con.execute(f"select max(occurred_at) from {'.'.join(EVENTS)}").fetchone()[0]


def rule_members_sql(node: Node, schema: Schema, now: datetime) -> str:
    """The person ids a rule selects, as DuckDB SQL built through sqlglot (no text pasted in)."""
    moment = exp.cast(exp.Literal.string(now.isoformat(sep=" ")), "timestamp")
    condition = to_sql(node, schema, profile="p", events=".".join(EVENTS), now=moment)
    query = (exp.select(exp.column(schema.person_key, table="p")).distinct()
             .from_(exp.alias_(exp.table_(PROFILES[1], db=PROFILES[0]), "p")).where(condition))
    return query.sql(dialect="duckdb")


def sql_members_sql(model: str) -> str:
    """The person ids of a SQL audience (a dbt model with a person_id column)."""
    query = (exp.select(exp.column("person_id")).distinct().from_(exp.table_(model, db=SQL_AUDIENCES))
             .where(exp.not_(exp.column("person_id").is_(exp.null()))))
    return query.sql(dialect="duckdb")


@dataclass(frozen=True)
class Evaluation:
    audience: str
    members: int
    entered: int
    exited: int
    evaluated_at: datetime


def record(con: duckdb.DuckDBPyConnection, audience: str, members_sql: str, evaluated_at: datetime,
           data_as_of: datetime | None, source: str) -> Evaluation:
    """Close the stays of those who left, open stays for those who entered; all or nothing."""
    ensure_tables(con)
    with transaction(con):
        # One row per person whatever the definition returns (a SQL audience may repeat people).
        con.execute(f"create or replace temp table _members as select distinct person_id from ({members_sql}) m "
                    "where person_id is not null")
        params = {"a": audience, "t": evaluated_at}
        exited = con.execute(f"""update {MEMBERSHIP} set exited_at = $t
            where audience = $a and exited_at is null
              and person_id not in (select person_id from _members)""", params).fetchone()[0]
        entered = con.execute(f"""insert into {MEMBERSHIP}
            select $a, person_id, $t, null from _members
            where person_id not in (select person_id from {MEMBERSHIP} where audience = $a and exited_at is null)""",
                              params).fetchone()[0]
        members = con.execute("select count(*) from _members").fetchone()[0]
        con.execute(f"insert into {EVALUATIONS} values ($a, $t, $d, $m, $e, $x, $s)",
                    {**params, "d": data_as_of, "m": members, "e": entered, "x": exited, "s": source})
        con.execute("drop table _members")
    return Evaluation(audience, int(members), int(entered), int(exited), evaluated_at)


def overlap(con: duckdb.DuckDBPyConnection, audience: str) -> dict[str, int]:
    """Members shared with each other audience, as the others stood at their last evaluation."""
    rows = con.execute(f"""select o.audience, count(*) from {MEMBERSHIP} a join {MEMBERSHIP} o
        on a.person_id = o.person_id and o.audience <> a.audience and o.exited_at is null
        where a.audience = ? and a.exited_at is null group by 1 order by 2 desc""", [audience]).fetchall()
    return {name: int(n) for name, n in rows}


def preview(con: duckdb.DuckDBPyConnection, audience: str, columns: list[str], rows: int) -> pd.DataFrame:
    """The first members with a few profile columns (the caller masks what its PII class says)."""
    wanted = ", ".join(f'p."{c}"' for c in columns)
    return con.execute(f"""select m.person_id, m.entered_at{', ' + wanted if wanted else ''}
        from {MEMBERSHIP} m left join {'.'.join(PROFILES)} p using (person_id)
        where m.audience = ? and m.exited_at is null order by m.entered_at desc, m.person_id limit ?""",
                       [audience, rows]).df()
