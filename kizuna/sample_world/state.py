"""The simulation's memory: per-person state arrays, growable logs and a calendar of future events.

Everything is an array over persons (or devices) so that a day of behaviour is a handful of
vectorized operations; the only Python loops run per day, per device round or per rare event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.catalog import CATEGORIES, CHANNELS, OFFERS, Catalog
from kizuna.sample_world.devices import Devices
from kizuna.sample_world.identifiers import IdentityBook
from kizuna.sample_world.people import People

STAGES = ("awareness", "consideration", "purchase", "onboarding", "retention", "advocacy", "at_risk", "lapsed")
AWARENESS, CONSIDERATION, PURCHASE, ONBOARDING, RETENTION, ADVOCACY, AT_RISK, LAPSED = range(8)
NEVER = -100_000  # "day" of something that never happened: far enough for every window test
DRIVERS = tuple(rates.EXPERIENCE_WEIGHTS)
DRIVER = {name: k for k, name in enumerate(DRIVERS)}
DRIVER_WEIGHTS = np.array([rates.EXPERIENCE_WEIGHTS[d] for d in DRIVERS], np.float32)
DAY = 86_400  # seconds
FAST_HALF_LIFE_DAYS = 12
# Peak of exp(-t/slow) - exp(-t/fast) for one unit of experience, to scale churn_contrib to 1.
_TS = rates.EXPERIENCE_HALF_LIFE_DAYS / np.log(2)
_TF = FAST_HALF_LIFE_DAYS / np.log(2)
_TPEAK = np.log(_TS / _TF) * _TS * _TF / (_TS - _TF)
CHURN_PEAK = float(np.exp(-_TPEAK / _TS) - np.exp(-_TPEAK / _TF))


class Log:
    """A columnar log: append arrays of equal length per call, concatenate once at the end."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = defaultdict(list)
        self.size = 0

    def add(self, **columns) -> np.ndarray:
        """Append rows; returns their global row numbers."""
        lengths = {len(np.atleast_1d(v)) for v in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"columns of unequal length: {sorted(lengths)}")
        n = lengths.pop()
        for k, v in columns.items():
            self.chunks[k].append(np.atleast_1d(np.asarray(v)))
        first = self.size
        self.size += n
        return np.arange(first, first + n)

    def table(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.chunks.items()}


class Calendar:
    """Things scheduled for a later day (deliveries, ticket outcomes, survey answers...)."""

    def __init__(self) -> None:
        self.items: dict[tuple[int, str], list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, kind: str, day: np.ndarray, **columns: np.ndarray) -> None:
        day = np.asarray(day)
        if day.size == 0:
            return
        order = np.argsort(day, kind="stable")
        day = day[order]
        cols = {k: np.asarray(v)[order] for k, v in columns.items()}
        uniq, starts = np.unique(day, return_index=True)
        ends = np.append(starts[1:], len(day))
        for u, s, e in zip(uniq.tolist(), starts.tolist(), ends.tolist(), strict=True):
            self.items[(u, kind)].append({k: v[s:e] for k, v in cols.items()})

    def pop(self, day: int, kind: str) -> dict[str, np.ndarray] | None:
        chunks = self.items.pop((day, kind), None)
        if not chunks:
            return None
        return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


@dataclass
class State:
    """What the world remembers from one day to the next."""

    people: People
    devices: Devices
    catalog: Catalog
    book: IdentityBook
    days: int
    rng: np.random.Generator
    stage: np.ndarray = field(init=False)
    logs: dict[str, Log] = field(default_factory=lambda: defaultdict(Log))
    cal: Calendar = field(default_factory=Calendar)
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        n, nd = self.people.n, self.devices.n
        i32 = np.int32
        self.n = n
        self.stage = np.full(n, AWARENESS, np.int8)
        self.n_pdays = np.zeros(n, i32)
        self.first_p = np.full(n, NEVER, i32)
        self.last_p = np.full(n, NEVER, i32)
        self.last_consider = np.full(n, NEVER, i32)
        self.last_promoter = np.full(n, NEVER, i32)
        self.last_activity = np.full(n, NEVER, i32)
        self.cart_day = np.full(n, NEVER, i32)
        self.registered = self.people.pre_registered.copy()
        self.reg_day = np.where(self.registered, -1, NEVER).astype(i32)
        self.card_signed = np.zeros(n, bool)
        self.churned = np.zeros(n, bool)
        self.churn_day = np.full(n, NEVER, i32)
        self.churn_drivers: dict[int, list[str]] = {}
        self.exp = np.zeros((n, len(DRIVERS)), np.float32)
        self.exp_fast = np.zeros((n, len(DRIVERS)), np.float32)  # same, fading fast (see churn_score)
        self.exp_total = np.zeros((n, len(DRIVERS)), np.float32)  # undecayed, for the truth
        self.last_touch = np.full((n, len(CHANNELS)), NEVER, i32)
        self.cat_bought = np.zeros((n, len(CATEGORIES)), i32)
        self.exposed = np.zeros((n, len(OFFERS)), bool)
        rng = self.rng
        # Consent preferences: most accept analytics, fewer advertising and email.
        self.ad_ok = rng.random(n) < 0.8
        self.analytics_ok = rng.random(n) < 0.92
        self.personal_ok = rng.random(n) < 0.85
        self.email_ok = rng.random(n) < 0.72
        self.push_ok = rng.random(n) < 0.55
        self.dup_bounced = np.zeros(n, bool)
        self.dup_created = np.zeros(n, bool)  # the second, typo-ridden CRM record exists
        self.satisfaction_bias = rng.normal(0, 0.8, n).astype(np.float32)
        self.good_staff_day = np.full(n, NEVER, i32)
        self.carrier_of = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])  # the carrier serving each address
        self.engagement = np.zeros(n)  # sessions, decayed (see simulate.ENGAGEMENT_DECAY)
        self.ticket_csat: list[int] = []
        self.reviews: list[tuple[int, int, int]] = []  # (order, product, rating)
        # Planted channel effects, measured as they act (see simulate.purchase_decision).
        self.channel_touch_days = np.zeros(len(CHANNELS))
        self.channel_expected = np.zeros(len(CHANNELS))
        self.channel_attributed = np.zeros(len(CHANNELS))
        # Devices
        self.dev_anon = np.full(nd, -1, np.int64)
        self.dev_logged = np.full(nd, -1, np.int64)
        self.dev_installed = self.devices.install_day < 0
        self.dev_version = np.zeros(nd, np.int8)
        self.banner_seen: set[int] = set()
        self.stages_out = np.zeros((self.days, n), np.int8)
        # Set by simulate.run and accounts.setup (declared here so the state reads in one place).
        self.weekday0 = 0
        self.light = np.zeros(n, bool)
        self.engagement_risk = np.ones(n)
        self.release_day = np.zeros(0, np.int64)
        self.dev_is_safari = np.zeros(nd, bool)
        self.click_ids: list[str] = []
        self.contacts: dict[int, dict] = {}
        self.crm_versions: list[tuple] = []
        self.crm_counts: dict[str, int] = {}
        self.crm_email_kind = np.zeros(n, np.int64)
        self.crm_phone_kind = np.zeros(n, np.int64)
        self.card_email_kind = np.zeros(n, np.int64)
        self.card_gives_email = np.zeros(n, bool)
        # Running ids
        self.next_order = 0
        self.next_ticket = 0
        self.next_session = 0

    # -- helpers used by every behaviour module --------------------------------------------------

    def score(self) -> np.ndarray:
        """Weighted sum of recent (decayed) experiences: drives engagement and opinions (NPS)."""
        return self.exp @ DRIVER_WEIGHTS

    def churn_contrib(self) -> np.ndarray:
        """Per-driver weight on the decision to leave: it builds up over weeks after an
        experience, peaks about five weeks later and fades (a slow minus a fast decay), so
        people drift away some time after what went wrong, not on the same day."""
        return np.maximum(self.exp - self.exp_fast, 0) * (DRIVER_WEIGHTS / CHURN_PEAK)

    def experience(self, persons: np.ndarray, driver: str, amount: float | np.ndarray = 1.0) -> None:
        """Add an experience to persons (repeats add up)."""
        if len(persons) == 0:
            return
        np.add.at(self.exp[:, DRIVER[driver]], persons, amount)
        np.add.at(self.exp_fast[:, DRIVER[driver]], persons, amount)
        np.add.at(self.exp_total[:, DRIVER[driver]], persons, amount)

    def experience_at(self, day: np.ndarray, persons: np.ndarray, driver: str, amount: float = 1.0) -> None:
        """Schedule an experience for the day the person lives it (a parcel arriving late...)."""
        self.cal.add("experience", np.asarray(day), person=np.asarray(persons),
                     driver=np.full(len(persons), DRIVER[driver]), amount=np.full(len(persons), amount))

    def active(self, persons: np.ndarray, day: int) -> None:
        """Persons did something the brand can observe today (see the truth README)."""
        self.last_activity[persons] = day

    def customers(self) -> np.ndarray:
        return self.n_pdays > 0
