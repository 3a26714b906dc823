"""Suppression lists: people no destination of a channel may receive, whatever an audience says.

`act.suppressions` holds one row per person, reason and channel, built from:
- the email service's own signals: unsubscribes and spam complaints (channel email) and hard
  bounces (email), found through the records identity tied to each person;
- the lists people keep by hand in `config/suppressions/*.csv` (`identifier` as namespace:value,
  `reason`, `channel`, `added_at`): deletions (channel `all`), a complaint to the contact centre, a
  staff address. Identifiers are normalized and matched as identity resolution does; a row that
  matches nobody is kept with no person so the count of the list still adds up. The table keeps
  no identifier, only the person it matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kizuna.identity.normalize import hash_values, normalize_values
from kizuna.identity.rules import IdentityRules
from kizuna.understand.config import ConfigError
from kizuna.warehouse import transaction

TABLE = "act.suppressions"
FOLDER = Path("config") / "suppressions"
REASONS = ("deleted", "unsubscribed", "complained", "hard_bounced", "manual")
CHANNELS = ("all", "email", "sms", "ads", "crm", "files", "webhook")
COLUMNS = ("identifier", "reason", "channel", "added_at")

# Suppressions the email service itself reports, person by person.
FROM_EMAIL_EVENTS = """
    select e.person_id,
        case when s.email_event_type = 'unsubscribe' then 'unsubscribed'
             when s.email_event_type = 'spamreport' then 'complained'
             else 'hard_bounced' end as reason,
        'email' as channel, min(e.occurred_at) as since, 'email_events' as source
    from marts.person_events e
    join staging.stg_esp__email_events s on s.email_event_id = e.record_id
    where e.source = 'email_events' and e.person_id is not null
      and (s.email_event_type in ('unsubscribe', 'spamreport')
           or (s.email_event_type = 'bounce' and s.bounce_type = 'hard'))
    group by 1, 2"""


@dataclass(frozen=True)
class SuppressionCounts:
    by_reason: dict[str, int]
    listed: int  # rows of config/suppressions/*.csv
    unmatched: int  # of those, identifiers no person holds


def read_lists(root: Path) -> pd.DataFrame:
    """Every row of config/suppressions/*.csv, checked; errors name the file, row and column."""
    frames = []
    for path in sorted((root / FOLDER).glob("*.csv")):
        label = str(path.relative_to(root))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = set(COLUMNS) - set(frame.columns)
        if missing:
            raise ConfigError(label, "(header)", f"missing column(s) {sorted(missing)}; expected {list(COLUMNS)}")
        for i, row in frame.iterrows():
            where = f"row {i + 2}"  # the header is row 1
            namespace, _, value = row["identifier"].partition(":")
            if not value:
                raise ConfigError(label, f"{where}.identifier", f"{row['identifier']!r}: expected namespace:value")
            if row["reason"] not in REASONS:
                raise ConfigError(label, f"{where}.reason", f"{row['reason']!r} is not one of {list(REASONS)}")
            if row["channel"] not in CHANNELS:
                raise ConfigError(label, f"{where}.channel", f"{row['channel']!r} is not one of {list(CHANNELS)}")
            if pd.isna(pd.to_datetime(row["added_at"], errors="coerce", utc=True)):
                raise ConfigError(label, f"{where}.added_at", f"{row['added_at']!r} is not a date or timestamp")
        frames.append(frame.assign(source=label))
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "source"])
    return pd.concat(frames, ignore_index=True)


def build(con: duckdb.DuckDBPyConnection, root: Path, rules: IdentityRules) -> SuppressionCounts:
    """Rewrite act.suppressions from the email events and the lists, in one transaction."""
    listed = read_lists(root)
    namespace = listed["identifier"].str.partition(":")[0]
    raw = listed["identifier"].str.partition(":")[2]
    normalized = normalize_values(namespace, raw, region=rules.phone_region, email_rules=rules.email)
    listed = listed.assign(namespace=namespace, match=hash_values(namespace, normalized).fillna(normalized),
                           since=pd.to_datetime(listed["added_at"], utc=True).dt.tz_localize(None))
    with transaction(con):
        con.execute("create schema if not exists act")
        con.register("_listed", listed[["namespace", "match", "reason", "channel", "since", "source"]])
        con.execute(f"""create or replace table {TABLE} as
            {FROM_EMAIL_EVENTS}
            union all
            select g.person_id, l.reason, l.channel, l.since, l.source
            from _listed l left join marts.identity_graph g
              on g.namespace = l.namespace and coalesce(g.value_hash, g.value) = l.match""")
        con.unregister("_listed")
    counts = dict(con.execute(f"select reason, count(distinct person_id) from {TABLE} group by 1").fetchall())
    unmatched = con.execute(f"select count(*) from {TABLE} where person_id is null").fetchone()[0]
    return SuppressionCounts({k: int(v) for k, v in counts.items()}, len(listed), int(unmatched))
