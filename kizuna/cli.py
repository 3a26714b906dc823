"""The `kizuna` command line: one entry point, one command per job."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Kizuna: collect, unify, understand, predict and act on customer data.",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """Kizuna command line (one command per job; see --help of each)."""


@app.command("sample-world")
def sample_world(
    customers: Annotated[int, typer.Option(help="Number of persons in the world.")] = 10_000,
    days: Annotated[int, typer.Option(help="Length of the window in business days (Asia/Tokyo).")] = 180,
    seed: Annotated[int, typer.Option(help="Random seed: the same arguments give the same bytes.")] = 7,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day of the window.")] = datetime(
        2026, 5, 1),
    landing: Annotated[str | None, typer.Option(help="Landing folder or URL (default: settings landing_url).")] = None,
    truth: Annotated[Path | None, typer.Option(help="Truth folder (default: settings truth_dir).")] = None,
) -> None:
    """Generate the sample world: landing files per source and day, and the ground truth."""
    from kizuna.sample_world import generate
    from kizuna.settings import load_settings

    settings = load_settings()
    landing_dir = str(landing) if landing else settings.landing_url
    truth_dir = str(truth) if truth else settings.truth_dir
    summary = generate(customers=customers, days=days, seed=seed, landing=landing_dir, truth=truth_dir,
                       start=date(start.year, start.month, start.day))
    width = max(len(name) for name in summary.sources)
    typer.echo(f"{'source':<{width}}  files    lines  broken  duplicates  unplanned")
    for name, s in summary.sources.items():
        typer.echo(f"{name:<{width}}  {s.files:>5}  {s.lines_written:>7}  {s.broken:>6}  {s.duplicates:>10}  "
                   f"{s.unplanned_events:>9}")
    typer.echo(f"{summary.events} events from {customers} customers over {days} days in {summary.seconds:.1f} s")
    typer.echo(f"landing: {landing_dir}\ntruth:   {truth_dir}")


def _world_exists(settings) -> bool:
    from kizuna.collect.landing import landing_fs

    fs, root = landing_fs(settings.landing_url)
    return (Path(settings.truth_dir) / "mess.json").is_file() and bool(fs.glob(f"{root}/*/*"))


def _clear(settings) -> None:
    """Remove what the demo made: landing zone, truth, warehouse, dlt state (never .venv)."""
    import shutil

    for folder in (settings.truth_dir, settings.dlt_pipelines_dir, str(Path(settings.warehouse_path).parent)):
        shutil.rmtree(folder, ignore_errors=True)
    if "://" not in settings.landing_url:
        shutil.rmtree(settings.landing_url, ignore_errors=True)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="Persons in the sample world (when one is generated).")] = 10_000,
    days: Annotated[int, typer.Option(help="Days in the sample world.")] = 180,
    seed: Annotated[int, typer.Option(help="Seed of the sample world.")] = 7,
    fresh: Annotated[bool, typer.Option(help="Start over: a new sample world and an empty warehouse.")] = False,
) -> None:
    """Generate the sample world (once), materialize every asset in-process, print a summary."""
    from rich.console import Console
    from rich.table import Table

    from dagster_project.demo import insights, run_main_job
    from kizuna.settings import load_settings

    console = Console()
    console.width = max(console.width, 110)
    settings = load_settings()
    if fresh:
        _clear(settings)
    if not _world_exists(settings):
        console.print(f"Generating the sample world: {customers} customers over {days} days (seed {seed})...")
        sample_world(customers=customers, days=days, seed=seed, start=datetime(2026, 5, 1), landing=None, truth=None)
    else:
        console.print(f"Using the sample world in {settings.landing_url} (--fresh starts over).")
    if settings.crm_postgres_enabled:
        crm_load(dsn=None)
    console.print("Materializing every asset in-process on DuckDB...")
    result = run_main_job(settings)
    table = Table(title=f"Ingestion by source ({settings.warehouse_path})")
    columns = ("files", "read", "loaded", "quarantined", "deduplicated", "warned", "lost")
    table.add_column("source")
    for column in columns:
        table.add_column(column, justify="right")
    for row in result.per_source:
        table.add_row(row["source"], *(f"{int(row[c]):,}" for c in columns))
    totals = {c: sum(int(r[c]) for r in result.per_source) for c in columns}
    table.add_row("all", *(f"{totals[c]:,}" for c in columns), style="bold")
    console.print(table)
    if result.models:
        console.print(f"Built and tested after ingestion: {len(result.models)} assets ({', '.join(result.models)}).")
    console.print(f"Asset checks passed: {result.checks_passed}.")
    for line in insights(settings) if result.success else []:
        console.print(line)
    if result.failed_checks:
        console.print("Asset checks that did not pass: " + ", ".join(result.failed_checks))
    console.print(
        f"Run {result.run_id} {'succeeded' if result.success else 'FAILED'}"
        + (f" over arrival days {result.first_day} to {result.last_day}." if result.first_day else ".")
    )
    console.print(
        "Quarantined records, with file, line and reason: table ingest.quarantine in the warehouse.\n"
        f"Pictures of the marts (KPI tree, stages, funnel...): {Path(settings.warehouse_path).parent / 'pictures'}\n"
        "Open the Dagster UI on this run: `make ui`, then http://127.0.0.1:3000"
    )
    if not result.success or totals["lost"]:
        raise typer.Exit(1)


@app.command("dagster-home")
def dagster_home() -> None:
    """Prepare the project's Dagster instance folder (shared by the demo and the UI); print it."""
    from dagster_project.instance import prepare_dagster_home
    from kizuna.settings import load_settings

    typer.echo(prepare_dagster_home(load_settings()))


@app.command("crm-load")
def crm_load(
    dsn: Annotated[str | None, typer.Option(help="PostgreSQL DSN (default: settings crm_postgres.dsn).")] = None,
) -> None:
    """Play the CRM system: put the sample world's CRM contact exports into its PostgreSQL table."""
    import pandas as pd

    from kizuna.collect.crm_postgres import ensure_crm_table, upsert_contacts
    from kizuna.collect.landing import landing_fs
    from kizuna.settings import load_settings

    settings = load_settings()
    dsn = dsn or settings.crm_dsn
    fs, root = landing_fs(settings.landing_url)
    paths = sorted(fs.glob(f"{root}/crm/contacts-*.csv"))
    frames = []
    for path in paths:
        with fs.open(path, "rb") as handle:
            frames.append(pd.read_csv(handle, dtype=str, keep_default_na=False, on_bad_lines="skip"))
    if not frames:
        typer.echo(f"no CRM exports under {root}/crm: run `kizuna sample-world` first")
        raise typer.Exit(1)
    contacts = pd.concat(frames, ignore_index=True).replace({"": None})
    ensure_crm_table(dsn, settings.crm_schema, settings.crm_table)
    written = upsert_contacts(dsn, contacts, settings.crm_schema, settings.crm_table, skip_invalid=True)
    typer.echo(f"{written} contact rows written to {settings.crm_schema}.{settings.crm_table} "
               f"from {len(paths)} export(s); rows the CRM table cannot hold were skipped")


identity_app = typer.Typer(help="Identity resolution: ask the identity tables about a person.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")


@identity_app.command("explain")
def identity_explain(
    identifier: Annotated[str, typer.Argument(help="'namespace:value', e.g. email:taro@example.jp or crm_id:C1234567 "
                                                   "(raw or normalized).")],
    limit: Annotated[int, typer.Option(help="Rows shown per table.")] = 20,
) -> None:
    """Why a person is one person: identifiers, the records that tie them, Splink links with their
    match weights, shared identifiers kept out, and the change log. Direct PII is masked."""
    from rich.console import Console
    from rich.table import Table

    from data_contracts import load_contracts
    from kizuna.identity import load_rules
    from kizuna.identity.explain import UnknownIdentifier, explain
    from kizuna.masking import mask_value
    from kizuna.settings import load_settings
    from kizuna.warehouse import warehouse

    settings = load_settings()
    rules = load_rules(phone_region=settings.phone_region)
    try:
        with warehouse(settings, read_only=True) as con:
            found = explain(con, identifier, rules)
    except (ValueError, UnknownIdentifier) as error:
        typer.echo(f"kizuna identity explain: {error}", err=True)
        raise typer.Exit(2) from error
    masked = {f.name for c in load_contracts().values() for f in c.fields if f.masked} & set(rules.namespaces)

    def shown(namespace: str, value: str) -> str:
        return f"{namespace}:{mask_value(value) if namespace in masked else value}"

    def pair(text: str) -> str:
        namespace, _, value = text.partition(":")
        return shown(namespace, value)

    console = Console()
    console.width = max(console.width, 140)
    ids = found.identifiers
    console.print(f"[bold]person {found.person_id}[/bold]: {len(ids)} identifiers")
    table = Table("identifier", "sha-256", "first seen", "last seen", "shared")
    for row in ids.head(limit).itertuples():
        digest = row.value_hash[:16] if isinstance(row.value_hash, str) else ""
        table.add_row(shown(row.namespace, row.value), digest, str(row.first_seen)[:19],
                      str(row.last_seen)[:19], "yes" if row.is_shared else "")
    console.print(table)
    together = found.seen_together
    table = Table("identifier", "identifier", "records", "sources",
                  title=f"Seen together in one record ({len(together)} pairs)")
    for row in together.head(limit).itertuples():
        table.add_row(pair(row.identifier_l), pair(row.identifier_r), f"{row.records:,}", row.sources)
    console.print(table)
    table = Table("identifier", "identifier", "match weight", "kind",
                  title=f"Probabilistic and forced links ({len(found.links)})")
    for row in found.links.head(limit).itertuples():
        table.add_row(shown(row.namespace_l, row.value_l), shown(row.namespace_r, row.value_r),
                      f"{row.match_weight:.1f}", row.kind)
    console.print(table)
    if not found.shared_met.empty:
        table = Table("identifier", "reason", title="Shared identifiers in this person's records (linked nobody)")
        for row in found.shared_met.head(limit).itertuples():
            table.add_row(shown(row.namespace, row.value), row.reason)
        console.print(table)
    table = Table("changed at", "kind", "person", "previous ids", "cause", title="Change log")
    for row in found.history.tail(limit).itertuples():
        table.add_row(str(row.changed_at)[:19], row.kind, row.person_id, ", ".join(row.previous_person_ids),
                      row.cause or "")
    console.print(table)


if __name__ == "__main__":
    app()


predict_app = typer.Typer(help="Predict: the models tracked in MLflow and their champions.", no_args_is_help=True)
app.add_typer(predict_app, name="predict")


@predict_app.command("champions")
def predict_champions() -> None:
    """Each model's champion version in the MLflow registry, its holdout figures beside the
    logistic baseline's, and the last decision of the champion rule."""
    from rich.console import Console
    from rich.table import Table

    from kizuna.predict.champions import COLUMNS, champions
    from kizuna.predict.config import load_predict_config
    from kizuna.settings import load_settings
    from kizuna.understand.config import ConfigError

    settings = load_settings()
    try:
        found = champions(settings, load_predict_config())
    except ConfigError as error:
        typer.echo(f"kizuna predict champions: {error}", err=True)
        raise typer.Exit(2) from error
    table = Table(title=f"Models in {settings.tracking_uri}")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("champion", "versions") or "auc" in column else "left")
    for row in found.itertuples(index=False):
        table.add_row(*("" if pd_missing(v) else f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    Console(width=160).print(table)


def pd_missing(value) -> bool:
    """Nothing to show: None or NaN."""
    return value is None or (isinstance(value, float) and value != value)


audiences_app = typer.Typer(help="Act: audiences, destinations and what was sent.", no_args_is_help=True)
app.add_typer(audiences_app, name="audiences")


@audiences_app.command("check")
def audiences_check() -> None:
    """Check every audience rule against the warehouse's audience_profiles and every destination's
    fields against their data-usage labels, without evaluating or sending anything."""
    import duckdb

    from kizuna.activation.checks import check_all
    from kizuna.settings import load_settings
    from kizuna.warehouse import warehouse

    try:
        with warehouse(load_settings(), read_only=True) as con:
            problems, checked = check_all(con)
    except duckdb.Error as error:
        typer.echo(f"kizuna audiences check: the warehouse cannot be read ({error}); run `make demo` first", err=True)
        raise typer.Exit(2) from error
    for line in checked:
        typer.echo(f"ok       {line}")
    for line in problems:
        typer.echo(f"refused  {line}", err=True)
    if problems:
        raise typer.Exit(2)


@audiences_app.command("status")
def audiences_status() -> None:
    """Each audience's last evaluation and each sync's last run (counts from act.sync_log)."""
    import duckdb
    from rich.console import Console

    from kizuna.activation.checks import status_tables
    from kizuna.settings import load_settings
    from kizuna.warehouse import warehouse

    try:
        with warehouse(load_settings(), read_only=True) as con:
            tables = status_tables(con)
    except duckdb.Error as error:
        typer.echo(f"kizuna audiences status: the warehouse cannot be read ({error}); run `make demo` first", err=True)
        raise typer.Exit(2) from error
    console = Console(width=160)
    for table in tables:
        console.print(table)
