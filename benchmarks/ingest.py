"""Benchmark: ingest generated web and app events under their contract, against bare DuckDB.

Generates a sample world (not timed), then, each in a fresh process so that memory is its own:
- Kizuna's ingestion of the `events` source into a fresh warehouse: checksums and ledger, contract
  checks, quarantine, deduplication by messageId, load into raw.events;
- bare DuckDB: `CREATE TABLE AS SELECT * FROM read_json(...)` of the same files (ignore_errors, so
  broken lines are skipped rather than fatal): the practical limit of reading these files here.
The two alternate for --repeat rounds; each side's best round is reported. The last line is one
JSON object with the figures.

    python benchmarks/ingest.py            # about 1M events
    python benchmarks/ingest.py --quick    # about a minute here
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

FULL = {"customers": 10600, "days": 180}  # about 1.02M events
QUICK = {"customers": 5300, "days": 180}  # about 0.5M events


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries it over from the parent
    across fork and exec, so a child would report the generator's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours(landing: str, warehouse: str, queue: mp.Queue) -> None:
    from data_contracts import load_contracts
    from kizuna.collect.ingest import ingest_source
    from kizuna.settings import load_settings
    from kizuna.warehouse import connect

    settings = load_settings().with_overrides(warehouse_path=warehouse)
    contract = load_contracts()["events"]
    con = connect(settings)
    start = time.perf_counter()
    report = ingest_source(con, contract, landing)
    seconds = time.perf_counter() - start
    con.close()
    queue.put({"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **report.totals})


def _bare_duckdb(landing: str, queue: mp.Queue) -> None:
    import duckdb

    con = duckdb.connect(str(Path(tempfile.mkdtemp()) / "bare.duckdb"), config={"threads": 2})
    start = time.perf_counter()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_json(?, format = 'newline_delimited', ignore_errors = true)",
        [f"{landing}/events/*.jsonl"],
    )
    seconds = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    queue.put({"seconds": seconds, "rows": rows, "peak_rss_mb": _peak_rss_mb()})


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller world: about a minute here")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=None, help="rounds per side (default 1 quick, 2 full)")
    args = parser.parse_args()
    size = dict(QUICK if args.quick else FULL)
    size["customers"] = args.customers or size["customers"]
    size["days"] = args.days or size["days"]
    repeat = args.repeat or (1 if args.quick else 2)

    from kizuna.sample_world import generate

    work = Path(tempfile.mkdtemp(prefix="kizuna-bench-ingest-"))
    landing, truth = work / "landing", work / "truth"
    start = time.perf_counter()
    generate(customers=size["customers"], days=size["days"], seed=args.seed, landing=landing, truth=truth)
    generate_s = time.perf_counter() - start
    mess = json.loads((truth / "mess.json").read_text())
    expected = mess["sources"]["events"] if "sources" in mess else mess["events"]
    files = sorted((landing / "events").glob("*.jsonl"))
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"world: {size} in {generate_s:.1f} s; {len(files)} event files, {size_mb:.0f} MB", file=sys.stderr)

    for f in files:  # both sides start from the page cache, not the disk
        f.read_bytes()
    ours, bare = [], []
    for i in range(repeat):
        ours.append(_in_child(_ours, str(landing), str(work / f"wh{i}.duckdb")))
        bare.append(_in_child(_bare_duckdb, str(landing)))
        print(f"round {i + 1}: kizuna {ours[-1]['seconds']:.2f} s, bare duckdb {bare[-1]['seconds']:.2f} s",
              file=sys.stderr)
    best_ours = min(ours, key=lambda r: r["seconds"])
    best_bare = min(bare, key=lambda r: r["seconds"])
    read = best_ours["read"]
    figures = {
        "events": read,
        "events_per_s": round(read / best_ours["seconds"]),
        "duckdb_events_per_s": round(read / best_bare["seconds"]),
        "ratio_vs_duckdb": round(best_bare["seconds"] / best_ours["seconds"], 3),
        "seconds": round(best_ours["seconds"], 3),
        "duckdb_seconds": round(best_bare["seconds"], 3),
        "peak_rss_mb": round(best_ours["peak_rss_mb"]),
        "duckdb_peak_rss_mb": round(best_bare["peak_rss_mb"]),
        "read": read,
        "loaded": best_ours["loaded"],
        "quarantined": best_ours["quarantined"],
        "deduplicated": best_ours["deduplicated"],
        "warned": best_ours["warned"],
        "lost": best_ours["lost"],
        "expected_quarantined": expected.get("broken"),
        "expected_deduplicated": expected.get("duplicates"),
        "file_mb": round(size_mb),
        "generate_s": round(generate_s, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
