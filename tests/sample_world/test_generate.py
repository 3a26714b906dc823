"""Same seed, same bytes; a different seed, a different world; size grows with customers x days."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from kizuna.cli import app
from kizuna.sample_world import generate


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _records(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return path.read_bytes().count(b"\n")


def test_same_seed_gives_identical_files(world, tiny, tmp_path):
    generate(**tiny, landing=tmp_path / "landing", truth=tmp_path / "truth")
    assert _hashes(tmp_path / "landing") == _hashes(world.landing)
    assert _hashes(tmp_path / "truth") == _hashes(world.truth)


def test_another_seed_gives_another_world(world, tiny, tmp_path):
    generate(**{**tiny, "seed": tiny["seed"] + 1}, landing=tmp_path / "landing", truth=tmp_path / "truth")
    ours, theirs = _hashes(tmp_path / "landing"), _hashes(world.landing)
    assert ours.keys() == theirs.keys()
    # Files with a few records differ; only empty days (an empty file, a bare header) may agree.
    busy = [k for k in ours if _records(world.landing / k) > 3]
    assert busy and all(ours[k] != theirs[k] for k in busy)


def test_size_scales_with_customers_times_days(tmp_path):
    sizes = {}
    for customers, days in ((150, 20), (300, 20), (300, 40)):
        s = generate(customers, days, 5, tmp_path / f"{customers}-{days}" / "l", tmp_path / f"{customers}-{days}" / "t")
        sizes[(customers, days)] = s
    base = sizes[(150, 20)]
    for key, factor in (((300, 20), 2.0), ((300, 40), 4.0)):
        for source in ("events", "email_events", "ad_touchpoints", "pos_transactions", "consent_events"):
            ratio = sizes[key].sources[source].lines_written / base.sources[source].lines_written
            assert 0.5 * factor < ratio < 1.8 * factor, (key, source, ratio)


def test_cli_writes_a_world(tmp_path):
    result = CliRunner().invoke(app, ["sample-world", "--customers", "60", "--days", "3", "--seed", "2",
                                      "--start", "2026-06-01", "--landing", str(tmp_path / "landing"),
                                      "--truth", str(tmp_path / "truth")])
    assert result.exit_code == 0, result.output
    assert "events" in result.output
    assert (tmp_path / "landing" / "events" / "events-2026-06-03.jsonl").exists()
    assert (tmp_path / "truth" / "mess.json").exists()
