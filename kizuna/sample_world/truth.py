"""The ground truth: who everybody really is, what stage they were in, why they left, what worked.

Written to a folder the pipeline never reads, for tests and benchmarks to score against. The
README written alongside (see `truth_readme`) explains every file and the exact semantics.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import CHANNELS, OFFERS
from kizuna.sample_world.marketing import CH, EK, OFFER_CHANNELS, SOURCE_PUSH
from kizuna.sample_world.names import PREFECTURES
from kizuna.sample_world.people import GENDERS, PERSONA_NAMES
from kizuna.sample_world.state import DRIVERS, NEVER, STAGES
from kizuna.sample_world.truth_readme import README


def _date(start: date, day: int) -> str | None:
    return None if day <= NEVER // 2 else (start + timedelta(days=int(day))).isoformat()


def _write_parquet(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")


def write(w, sources: list, counts: dict, folder: str | Path) -> None:
    """Write every truth file and the README into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _persons(w, folder)
    _identifiers(w, sources, folder)
    _stages(w, folder)
    _churn(w, folder)
    _experiences(w, folder)
    _channel_effects(w, folder)
    _offers(w, folder)
    (folder / "mess.json").write_text(json.dumps(mess_report(w, sources, counts), ensure_ascii=False, indent=2,
                                                 sort_keys=False) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(README, encoding="utf-8")


def _persons(w, folder: Path) -> None:
    s, start = w.state, w.start
    p, dv = s.people, s.devices
    n = p.n
    fam = [p.names(i)[0] for i in range(n)]
    giv = [p.names(i)[1] for i in range(n)]
    n_devices = np.zeros(n, np.int64)
    for slot in (dv.web_a, dv.web_b, dv.app, dv.shared):
        n_devices += slot >= 0
    value = np.quantile(p.propensity, [1 / 3, 2 / 3]) if n else [0, 0]
    segment = np.where(p.propensity >= value[1], "high", np.where(p.propensity >= value[0], "mid", "low"))
    table = pa.table({
        "person_id": p.person_id,
        "last_name": [f[0] for f in fam], "first_name": [g[0] for g in giv],
        "last_name_kana": [f[1] for f in fam], "first_name_kana": [g[1] for g in giv],
        "last_name_romaji": [f[2] for f in fam], "first_name_romaji": [g[2] for g in giv],
        "birth_date": pa.array([date.fromisoformat(b) for b in p.birth_date], pa.date32()),
        "gender": [GENDERS[int(g)] for g in p.gender],
        "postcode": [f"{c[:3]}-{c[3:]}" for c in p.postcode],
        "prefecture": [PREFECTURES[int(x)][0] for x in p.prefecture],
        "persona": [PERSONA_NAMES[int(x)] for x in p.persona],
        "value_segment": segment.tolist(),
        "is_store_only": p.is_store_only,
        "has_app": dv.app >= 0,
        "has_web": dv.web_a >= 0,
        "n_devices": n_devices,
        "has_loyalty_card": s.card_signed,
        "household_id": pa.array([int(h) if h >= 0 else None for h in p.household], pa.int64()),
        "shared_email_group": pa.array([int(g) if g >= 0 else None for g in p.info_group], pa.int64()),
        "language": np.where(p.english, "en", "ja").tolist(),
        "registered_on": pa.array([_date(start, int(d)) if s.registered[i] and d >= 0 else None
                                   for i, d in enumerate(s.reg_day)], pa.string()),
        "registered_before_window": s.registered & (s.reg_day < 0),
        "activity": p.activity, "purchase_propensity": p.propensity, "price_sensitivity": p.price_sensitivity,
        "competitor_lured_on": pa.array([_date(start, int(d)) if d >= 0 else None for d in p.competitor_day],
                                        pa.string()),
    })
    _write_parquet(folder / "persons.parquet", table)


def _identifiers(w, sources: list, folder: Path) -> None:
    s = w.state
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for src in sources:
        for ns, values in src.used.items():
            for v in values:
                where[(ns, v)].add(src.name)
    rows = sorted((key for key in s.book.rows if (key[1], key[2]) in where), key=lambda k: (k[0], k[1], k[2]))
    p = s.people
    table = pa.table({
        "person_id": [p.person_id[k[0]] for k in rows],
        "namespace": [k[1] for k in rows],
        "value": [k[2] for k in rows],
        "normalized": [s.book.rows[k][0] for k in rows],
        "shared": [s.book.is_shared(k[1], k[2]) for k in rows],
        "note": [s.book.rows[k][1] for k in rows],
        "sources": [";".join(sorted(where[(k[1], k[2])])) for k in rows],
    })
    _write_parquet(folder / "identifiers.parquet", table)


def _stages(w, folder: Path) -> None:
    s, start = w.state, w.start
    days, n = s.stages_out.shape
    dates = pa.array(np.repeat(np.datetime64(start.isoformat()) + np.arange(days), n), pa.date32())
    stage = pa.DictionaryArray.from_arrays(pa.array(s.stages_out.reshape(-1).astype(np.int32)), pa.array(STAGES))
    table = pa.table({
        "person_id": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(n, dtype=np.int32), days)),
                                                    pa.array(s.people.person_id)),
        "date": dates,
        "stage": stage,
    })
    _write_parquet(folder / "stages.parquet", table)


def _churn(w, folder: Path) -> None:
    s, start = w.state, w.start
    n = s.n
    table = pa.table({
        "person_id": s.people.person_id,
        "customer": s.n_pdays > 0,
        "churned": s.churned,
        "churn_date": pa.array([_date(start, int(d)) if s.churned[i] else None for i, d in enumerate(s.churn_day)],
                               pa.string()),
        "drivers": pa.array([s.churn_drivers.get(i, []) for i in range(n)], pa.list_(pa.string())),
        "purchase_days": s.n_pdays,
        "first_purchase_date": pa.array([_date(start, int(d)) for d in s.first_p], pa.string()),
        "last_purchase_date": pa.array([_date(start, int(d)) for d in s.last_p], pa.string()),
    })
    _write_parquet(folder / "churn.parquet", table)


def _experiences(w, folder: Path) -> None:
    s = w.state
    cols = {"person_id": s.people.person_id}
    for k, name in enumerate(DRIVERS):
        cols[name] = s.exp_total[:, k].astype(np.float64)
    _write_parquet(folder / "experiences.parquet", pa.table(cols))


def _channel_effects(w, folder: Path) -> None:
    s = w.state
    touches = np.zeros(len(CHANNELS), np.int64)
    spend = np.zeros(len(CHANNELS))
    if s.logs["ads"].size:
        a = s.logs["ads"].table()
        np.add.at(touches, a["channel"][a["click"]], 1)
        np.add.at(spend, a["channel"], a["cost"])
    if s.logs["emails"].size:
        e = s.logs["emails"].table()
        touches[CH["email"]] = int((e["kind"] == EK["click"]).sum())
    touches[CH["push"]] = int((w.sessions["source"] == SOURCE_PUSH).sum())
    lines = ["channel,kind,touch,effect_per_day,effect_window_days,touches,exposed_person_days,"
             "expected_incremental_conversions,attributed_conversions,spend_jpy"]
    for k, c in enumerate(CHANNELS):
        kind = "owned" if c in ("email", "push") else "paid"
        touch = {"email": "click", "push": "tap"}.get(c, "click")
        lines.append(f"{c},{kind},{touch},{rates.CHANNEL_EFFECTS[c]},{rates.CHANNEL_EFFECT_DAYS},{touches[k]},"
                     f"{int(s.channel_touch_days[k])},{s.channel_expected[k]:.3f},{s.channel_attributed[k]:.3f},"
                     f"{spend[k]:.0f}")
    (folder / "channel_effects.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _offers(w, folder: Path) -> None:
    s, start = w.state, w.start
    lines = ["offer_id,name,kind,value,category,target,channels"]
    for o in OFFERS:
        lines.append(f"{o.offer_id},{o.name.replace(',', '')},{o.kind},{o.value},{o.category},{o.target},"
                     f"{'|'.join(o.channels)}")
    (folder / "offers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if s.logs["offer_truth"].size:
        t = s.logs["offer_truth"].table()
        table = pa.table({
            "person_id": [s.people.person_id[i] for i in t["person"].tolist()],
            "offer_id": [OFFERS[i].offer_id for i in t["offer"].tolist()],
            "exposed": np.ones(len(t["person"]), bool),
            "exposed_on": pa.array([start + timedelta(days=int(d)) for d in t["day"]], pa.date32()),
            "channel": [OFFER_CHANNELS[i] for i in t["channel"].tolist()],
            "p_response": t["p_response"].astype(np.float64),
            "clicked": t["clicked"],
            "responded": t["redeemed"],
        })
    else:
        table = pa.table({"person_id": pa.array([], pa.string())})
    _write_parquet(folder / "offer_responses.parquet", table)


def mess_report(w, sources: list, counts: dict) -> dict:
    """Stated rates next to injected counts, per source and for identity mess."""
    s = w.state
    p, dv = s.people, s.devices
    report: dict = {
        "world": {"customers": p.n, "days": w.days, "seed": w.seed, "start": w.start.isoformat()},
        "sources": {},
        "identity": {},
    }
    for src in sources:
        c = counts[src.name]
        kinds = {}
        per_kind = rates.BROKEN_RATE[src.name] / max(len(c.broken_kinds), 1)
        for kind, n in c.broken_kinds.items():
            kinds[f"broken.{kind}"] = {"rate": round(per_kind, 6), "count": n}
        kinds["duplicate"] = {"rate": rates.DUPLICATE_RATE[src.name], "count": c.duplicates}
        for name, (rate, n) in src.extra.items():
            kinds[name] = {"rate": rate, "count": n}
        entry = {
            "files": len(src.file_days()),
            "lines_written": c.lines_written,
            "broken": sum(c.broken_kinds.values()),
            "duplicates": c.duplicates,
            "unplanned_events": c.unplanned,
            "mess": kinds,
        }
        if src.name == "events":
            ev = w.events.counts
            kinds["unplanned_event"] = {"rate": rates.UNPLANNED_EVENT_RATE, "count": c.unplanned}
            kinds["late_arrival"] = {"rate": rates.LATE_ARRIVAL_RATE["events"], "count": ev["late_arrival"]}
            kinds["clock_skew"] = {"rate": rates.CLOCK_SKEW_DEVICE_RATE, "count": ev["clock_skew"],
                                   "note": "rate is per device; count is events with a skewed timestamp"}
        report["sources"][src.name] = entry
    used_emails = set().union(*(src.used.get("email", set()) for src in sources))
    used_phones = set().union(*(src.used.get("phone", set()) for src in sources))
    registered_forms = {e for e in p.email if e}
    report["identity"] = {
        "cookie_reset": {"rate": rates.COOKIE_RESET_DAILY, "count": s.counters["cookie_resets"],
                         "note": "daily probability per browser (safari / other)"},
        "app_reinstall": {"rate": rates.APP_REINSTALL_DAILY, "count": s.counters["app_reinstalls"]},
        "email_variant": {"rate": rates.EMAIL_VARIANT_SHARES,
                          "count": len([e for e in used_emails if e not in registered_forms]),
                          "note": "count: distinct raw addresses in the landing files that differ from the form "
                                  "the person registered (case, spaces, gmail dots/+tags/googlemail, typos)"},
        "phone_format": {"rate": rates.PHONE_FORMAT_SHARES, "count": len(used_phones),
                         "note": "count: distinct raw phone strings in the landing files"},
        "crm_duplicate_record": {"rate": rates.CRM_DUPLICATE_RATE, "count": s.crm_counts["duplicate_records"],
                                 "swapped_kana": s.crm_counts["swapped_kana"],
                                 "email_typo": s.crm_counts["email_typo"],
                                 "missing_phone": s.crm_counts["missing_phone"]},
        "shared_tablet_household": {"rate": rates.SHARED_TABLET_HOUSEHOLDS_PER_10K,
                                    "count": int(len(np.unique(p.household[p.household >= 0]))),
                                    "note": "rate per 10,000 persons; two persons log in on one tablet"},
        "shared_info_address": {"rate": rates.SHARED_INFO_GROUPS_PER_10K,
                                "count": int(len(np.unique(p.info_group[p.info_group >= 0]))),
                                "persons": int((p.info_group >= 0).sum()),
                                "note": "rate: groups per 10,000 persons"},
        "store_only_with_email": {"rate": rates.STORE_ONLY_EMAIL_RATE,
                                  "count": int((p.is_store_only & s.card_gives_email).sum()),
                                  "store_only_persons": int(p.is_store_only.sum())},
        "clock_skew_device": {"rate": rates.CLOCK_SKEW_DEVICE_RATE, "count": int((dv.skew_ms != 0).sum()),
                              "devices": int(dv.n)},
    }
    return report
