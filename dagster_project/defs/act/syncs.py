"""Syncs as assets: what each destination holds of each audience it receives.

One asset per enabled destination of config/destinations/ and audience it lists, downstream of the
audience and the suppression lists, re-run by declarative automation when either changes. A run
sends only the difference since the last successful one (kizuna.activation.sync), and its counts go
to the materialization and to `act.sync_log`. An asset check fails when the share of changes that
ended in the dead-letter table passes the destination's `max_failure_share`.
"""

import dagster as dg

from dagster_project.defs.act.audiences import CATALOGUE, PROFILE_LABELS, SUPPRESSIONS, audience_asset_key
from dagster_project.defs.unify.translator import ACT_GROUP, OWNERS
from dagster_project.resources import WAREHOUSE_POOL, KizunaSettings
from kizuna.activation import ledger, policy
from kizuna.activation.destinations import Destination, load_destinations
from kizuna.activation.sync import run_sync
from kizuna.activation.transport import DestinationError
from kizuna.activation.transports import transport_for
from kizuna.understand.config import ConfigError

DESTINATIONS = load_destinations()
KINDS = {"file": "parquet", "crm": "postgres", "webhook": "http", "esp": "http",
         "google_customer_match": "google", "meta_custom_audiences": "meta"}


def sync_asset_key(destination: str, audience: str) -> dg.AssetKey:
    return dg.AssetKey(["act", "destinations", destination, audience])


def _check_audiences() -> None:
    for destination in DESTINATIONS.values():
        for audience in destination.audiences:
            if audience not in CATALOGUE.audiences:
                raise ConfigError(destination.source, "audiences", f"{audience!r} is not an audience "
                                  f"(known: {sorted(CATALOGUE.audiences)})")


def _sync_asset(destination: Destination, audience: str) -> dg.AssetsDefinition:
    key = sync_asset_key(destination.name, audience)

    @dg.asset(key=key, deps=[audience_asset_key(audience), SUPPRESSIONS], group_name=ACT_GROUP, owners=OWNERS,
              kinds={"python", KINDS[destination.kind]}, pool=WAREHOUSE_POOL,
              automation_condition=dg.AutomationCondition.eager(),
              description=f"{audience} as held by {destination.name} ({destination.kind}, purpose "
                          f"{destination.purpose}): {destination.description}",
              check_specs=[dg.AssetCheckSpec("failure_share_within_limit", asset=key,
                                             description=f"Dead letters at most {destination.max_failure_share:.0%} "
                                                         "of the changes a run sent.")])
    def _sync(context: dg.AssetExecutionContext, kizuna: KizunaSettings):
        settings = kizuna.settings()
        try:
            transport = transport_for(destination, settings, audience)
        except DestinationError as error:
            raise dg.Failure(description=f"{destination.source}: {error}") from error
        try:
            with kizuna.connect() as con:
                result = run_sync(con, destination, audience, transport, PROFILE_LABELS)
                dead = con.execute(f"select person_id, error from {ledger.DEAD_LETTERS} where run_id = ? limit 5",
                                   [result.run_id]).fetchall()
        except policy.PolicyError as error:
            raise dg.Failure(description=str(error)) from error
        finally:
            transport.close()
        context.log.info(f"{destination.name}/{audience}: {result.counts()}")
        yield dg.MaterializeResult(metadata={
            **result.counts(), "failure_share": round(result.failure_share, 4), "run_id": result.run_id,
            "held_back": dg.MetadataValue.json(result.held_back), "seconds": result.seconds,
            "dead_letter_examples": dg.MetadataValue.json([{"person_id": p, "error": e} for p, e in dead])})
        yield dg.AssetCheckResult(
            check_name="failure_share_within_limit", passed=result.failure_share <= destination.max_failure_share,
            metadata={"failure_share": round(result.failure_share, 4), "failed": result.failed,
                      "limit": destination.max_failure_share})

    return _sync


_check_audiences()
sync_assets = [_sync_asset(d, a) for d in DESTINATIONS.values() if d.enabled for a in d.audiences]
