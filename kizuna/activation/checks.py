"""What `kizuna audiences check` and `status` report: rules and destinations checked against the
warehouse and the dbt manifest without sending anything, and the last evaluations and syncs."""

from __future__ import annotations

import duckdb
from rich.table import Table

from kizuna.activation import ledger, policy
from kizuna.activation.destinations import load_destinations
from kizuna.audiences import membership
from kizuna.audiences.config import compile_audience, load_audiences, sql_audience_models
from kizuna.audiences.expressions import RuleError
from kizuna.settings import project_root
from kizuna.understand.config import ConfigError

MANIFEST = project_root() / "dbt_project" / "target" / "manifest.json"


def check_all(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(problems, what passed): every rule audience parsed against audience_profiles, every
    destination's fields against the labels it may receive and the audiences it names."""
    problems, checked = [], []
    manifest = policy.load_manifest(MANIFEST)
    try:
        catalogue = load_audiences(sql_models=sql_audience_models(manifest))
        destinations = load_destinations()
    except ConfigError as error:
        return [str(error)], checked
    try:
        schema = membership.profile_schema(con)
    except LookupError as error:  # nothing built yet: rules cannot be checked against the profile
        return [str(error)], checked
    for audience in catalogue.audiences.values():
        if audience.is_sql:
            checked.append(f"audience {audience.name} (SQL, {audience.source})")
            continue
        try:
            compile_audience(catalogue, audience, schema)
            checked.append(f"audience {audience.name} ({audience.source})")
        except RuleError as error:
            problems.append(str(error))
    labels = policy.column_labels(manifest, membership.PROFILES[1])
    for destination in destinations.values():
        missing = [a for a in destination.audiences if a not in catalogue.audiences]
        if missing:
            problems.append(f"{destination.source}: audiences: {missing} are not audiences")
        try:
            policy.check_fields(destination, labels, set(schema.profile) | {policy.PERSON_KEY})
            checked.append(f"destination {destination.name} ({destination.source}"
                           f"{'' if destination.enabled else ', disabled'})")
        except policy.PolicyError as error:
            problems.append(str(error))
    return problems, checked


def _latest(con: duckdb.DuckDBPyConnection, title: str, table: str, columns: tuple[str, ...], per: str,
            at: str) -> Table:
    """The last row of `table` per `per`, by `at`, as a rich table."""
    shown = Table(title=title)
    for column in columns:
        shown.add_column(column)
    rows = con.sql(f"select {', '.join(columns)} from {table} "
                   f"qualify row_number() over (partition by {per} order by {at} desc) = 1 order by {per}").fetchall()
    for row in rows:
        shown.add_row(*(str(v) if v is not None else "" for v in row))
    return shown


def status_tables(con: duckdb.DuckDBPyConnection) -> list[Table]:
    """Each audience's last evaluation and each sync's last run, for what exists yet."""
    present = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                         "where table_schema = 'act'").fetchall()}
    tables = []
    if "audience_evaluations" in present:
        tables.append(_latest(con, "Audiences (last evaluation)", membership.EVALUATIONS,
                              ("audience", "evaluated_at", "data_as_of", "members", "entered", "exited", "source"),
                              "audience", "evaluated_at"))
    if "sync_log" in present:
        tables.append(_latest(con, "Syncs (last run)", ledger.LOG,
                              ("destination", "audience", "finished_at", "members", "added", "removed", "updated",
                               "failed", "skipped", "resent", "status"), "destination, audience", "finished_at"))
    return tables
