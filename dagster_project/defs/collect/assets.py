"""One raw asset per data contract: the source's landing files, judged and loaded.

The assets are generated from `data_contracts/*.yml`: adding a contract adds an asset, its checks
and its place in the sensor and schedule. Event-like sources are partitioned by arrival day and
backfill in a single run; snapshot sources (CRM, catalog, loyalty members) load every new file.
The CRM's contacts also come from its PostgreSQL database when settings enable it.
"""


import warnings
from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.collect import checks
from dagster_project.defs.collect.metadata import ingest_metadata
from dagster_project.defs.collect.partitions import daily_partitions, days_of
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from data_contracts import Contract, load_contracts
from kizuna.collect.crm_database import ingest_crm_database
from kizuna.collect.ingest import ingest_source
from kizuna.collect.summary import summarize

# Single-run backfills are what DESIGN.md asks for; Dagster still calls the parameter beta.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

GROUP = "collect"
# The CRM's contacts arrive as CSV exports and, when configured, straight from its database.
CRM_CONTRACT = "crm_contacts"


def raw_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def build_raw_asset(contract: Contract) -> dg.AssetsDefinition:
    key = raw_asset_key(contract.name)
    partitioned = contract.partition_kind == "daily"

    @dg.asset(
        key=key,
        group_name=GROUP,
        description=contract.description,
        owners=[contract.owner] if "@" in contract.owner else None,
        partitions_def=daily_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        check_specs=checks.check_specs(key),
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", contract.format},
        tags={"source": contract.name},
        metadata={"contract": dg.MetadataValue.path(contract.source_file)},
    )
    def _raw(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
        settings = kizuna.settings()
        days = days_of(context) if partitioned else None
        reference_time = datetime.now(UTC)
        with kizuna.connect() as con:
            report = ingest_source(con, contract, settings.landing_url, days,
                                   reference_time=reference_time, keep_batch=True)
            if contract.name == CRM_CONTRACT and settings.crm_postgres_enabled:
                report.merge(ingest_crm_database(con, contract, settings, reference_time=reference_time,
                                                 keep_batch=True))
            summary = summarize(con, contract, (days[0], days[-1]) if days else None, settings.preview_rows)
        totals = report.totals
        context.log.info(
            f"{contract.name}: read {totals['read']}, loaded {totals['loaded']}, quarantined "
            f"{totals['quarantined']}, deduplicated {totals['deduplicated']} from {len(report.files)} new file(s); "
            f"{len(report.skipped)} file(s) already ingested"
        )
        return dg.MaterializeResult(
            metadata=ingest_metadata(contract, summary, report),
            check_results=[
                checks.files_accepted(summary),
                checks.counts_add_up(report),
                checks.contract_rules(contract, report, reference_time, settings.max_quarantine_share),
            ],
        )

    return _raw


CONTRACTS = load_contracts()
raw_assets = [build_raw_asset(c) for c in CONTRACTS.values()]
