"""`generate`: build the persons, simulate the window, write the landing zone and the truth.

Every random choice comes from a stream named after its job (people, simulation, events, each
source's mess...), derived from the seed, so the same arguments give byte-identical files and a
change in one module does not reshuffle the others.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from kizuna.sample_world import event_stream, marketing, simulate
from kizuna.sample_world import truth as truth_writer
from kizuna.sample_world.catalog import build_catalog
from kizuna.sample_world.devices import build_devices
from kizuna.sample_world.event_stream import EventOutput
from kizuna.sample_world.identifiers import IdentityBook
from kizuna.sample_world.people import build_people
from kizuna.sample_world.sources.care import surveys_source, tickets_source
from kizuna.sample_world.sources.commerce import (
    orders_source,
    pos_source,
    products_source,
    refunds_source,
    shipments_source,
)
from kizuna.sample_world.sources.engagement import ads_source, email_source, offers_source
from kizuna.sample_world.sources.events import events_source
from kizuna.sample_world.sources.records import consent_source, crm_source, loyalty_source
from kizuna.sample_world.state import State
from kizuna.sample_world.writers import write_source

DEFAULT_START = date(2026, 5, 1)
# Source builders in the order their files are written (events first: the biggest).
BUILDERS = (
    ("crm_contacts", crm_source), ("loyalty_members", loyalty_source), ("consent_events", consent_source),
    ("orders", orders_source), ("shipments", shipments_source), ("refunds", refunds_source),
    ("pos_transactions", pos_source), ("products", products_source), ("email_events", email_source),
    ("ad_touchpoints", ads_source), ("offer_events", offers_source), ("support_tickets", tickets_source),
    ("survey_responses", surveys_source),
)


@dataclass
class SourceSummary:
    """What was written for one source (counted as the ingest counts: lines or rows)."""

    files: int
    lines_written: int
    broken: int
    duplicates: int
    unplanned_events: int


@dataclass
class WorldSummary:
    """The size of a generated world, per source."""

    customers: int
    days: int
    seed: int
    start: date
    landing: Path
    truth: Path
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        """Web/app event lines written (including mess), the benchmark's unit."""
        return self.sources["events"].lines_written if "events" in self.sources else 0


@dataclass
class World:
    """Everything a source builder or the truth writer needs."""

    state: State
    start: date
    days: int
    seed: int
    events: EventOutput
    sessions: dict[str, np.ndarray]
    click_ids: list[str]
    rng: np.random.Generator  # the stream of the source being built


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of one job, independent of every other job's."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def generate(customers: int, days: int, seed: int, landing: str | Path, truth: str | Path,
             start: date = DEFAULT_START) -> WorldSummary:
    """Generate a world of `customers` persons over `days` days from `start` (business days, JST)."""
    if customers < 20 or days < 1:
        raise ValueError("a world needs at least 20 customers and 1 day")
    began = time.perf_counter()
    book = IdentityBook()
    catalog = build_catalog(stream(seed, "catalog"), days)
    people = build_people(stream(seed, "people"), customers, days, start, book)
    devices = build_devices(stream(seed, "devices"), people, book)
    state = simulate.run(people, devices, catalog, book, days, stream(seed, "simulation"), start)
    state.click_ids = marketing.click_ids(stream(seed, "click_ids"), state.logs["ads"].size)
    events = event_stream.build(state, start, stream(seed, "events"))
    sessions = state.logs["sessions"].table()
    w = World(state, start, days, seed, events, sessions, state.click_ids, stream(seed, "sources"))
    sources = [events_source(events, days)]
    for name, builder in BUILDERS:
        w.rng = stream(seed, "source:" + name)
        sources.append(builder(w))
    counts = {}
    for src in sources:
        counts[src.name] = write_source(src, landing, start, stream(seed, "mess:" + src.name))
    truth_writer.write(w, sources, counts, truth)
    summary = WorldSummary(customers, days, seed, start, Path(str(landing)), Path(str(truth)))
    for src in sources:
        c = counts[src.name]
        summary.sources[src.name] = SourceSummary(len(src.file_days()), c.lines_written,
                                                  sum(c.broken_kinds.values()), c.duplicates, c.unplanned)
    summary.seconds = time.perf_counter() - began
    return summary
