"""When ingestion runs: a daily schedule for yesterday's files, and a sensor for files that arrive."""


import hashlib
import json
from collections import defaultdict

import dagster as dg

from dagster_project.defs.collect.assets import CONTRACTS, GROUP, raw_asset_key
from dagster_project.defs.collect.partitions import daily_partitions
from dagster_project.resources import KizunaSettings
from kizuna.collect.landing import landing_fs, list_files

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Ingest every source's landing files for the selected arrival days.",
)

daily_ingest_schedule = dg.build_schedule_from_partitioned_job(
    ingest_job, hour_of_day=2, minute_of_hour=0, name="daily_ingest_schedule"
)


def _fingerprints(landing_url: str) -> dict[str, dict[str, tuple[str, str | None]]]:
    """source -> landing file (relative to the landing zone) -> (size, partition key)."""
    _, root = landing_fs(landing_url)
    found: dict[str, dict[str, tuple[str, str | None]]] = {}
    for contract in CONTRACTS.values():
        found[contract.name] = {
            f.path[len(root) + 1 :] if f.path.startswith(root + "/") else f.url: (
                str(f.size),
                f.partition.isoformat() if f.partition else None,
            )
            for f in list_files(contract, landing_url)
        }
    return found


@dg.sensor(
    name="landing_files_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=dg.AssetSelection.groups(GROUP),
    description="Starts ingestion of the sources whose landing zone has new or rewritten files.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, kizuna: KizunaSettings):
    """Compares the landing zone with what the sensor saw last time (its cursor), never the warehouse:
    the warehouse has one writer, and a sensor is not it."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    # Run keys name what was seen before, so a re-evaluation after a crash asks for the same runs.
    generation = hashlib.sha1((context.cursor or "").encode()).hexdigest()[:12]
    current = _fingerprints(kizuna.settings().landing_url)
    changed: dict[str, list[str | None]] = defaultdict(list)
    for source, files in current.items():
        for url, (size, partition) in files.items():
            if seen.get(url) != size:
                changed[source].append(partition)
    first_partition = daily_partitions.get_first_partition_key()
    for source, partitions in sorted(changed.items()):
        key = raw_asset_key(source)
        if CONTRACTS[source].partition_kind == "daily":
            keys = sorted(p for p in partitions if p and p >= first_partition)
            if not keys:
                continue
            yield dg.RunRequest(
                run_key=f"{source}:{keys[0]}:{keys[-1]}:{generation}",
                asset_selection=[key],
                tags={
                    "dagster/asset_partition_range_start": keys[0],
                    "dagster/asset_partition_range_end": keys[-1],
                },
            )
        else:
            yield dg.RunRequest(run_key=f"{source}:{generation}", asset_selection=[key])
    context.update_cursor(
        json.dumps({url: size for files in current.values() for url, (size, _) in files.items()}, sort_keys=True)
    )
