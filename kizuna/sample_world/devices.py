"""Browsers and app installs: one to three per person, plus the family tablets households share.

A web browser carries a first-party cookie (the Segment anonymousId) that is reset now and then; an
app install carries a device id (context.device.id) and its own anonymousId. Cookies are minted
as the simulation needs them (`Devices.new_anonymous_id`), so a reset is a new value from that day on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kizuna.sample_world import rates
from kizuna.sample_world.identifiers import IdentityBook, uuid4_strings
from kizuna.sample_world.people import People

WEB, APP = 0, 1
# (form, os name, os version, manufacturer, model, browser, user agent (web) or None (app), weight)
SPECS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("mobile", "iOS", "17.5", "Apple", "iPhone15,2", "safari",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1"),
    ("mobile", "iOS", "18.1", "Apple", "iPhone16,1", "safari",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1"),
    ("mobile", "Android", "14", "Google", "Pixel 8", "chrome",
     "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36"),
    ("mobile", "Android", "13", "Sony", "XQ-DC44", "chrome",
     "Mozilla/5.0 (Linux; Android 13; XQ-DC44) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Mobile Safari/537.36"),
    ("mobile", "Android", "14", "Sharp", "SH-54D", "chrome",
     "Mozilla/5.0 (Linux; Android 14; SH-54D) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36"),
    ("desktop", "Windows", "10", "", "", "chrome",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36"),
    ("desktop", "Windows", "10", "", "", "edge",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"),
    ("desktop", "Mac OS X", "14.5", "Apple", "Macintosh", "safari",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15"),
    ("tablet", "iPadOS", "17.5", "Apple", "iPad13,18", "safari",
     "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1"),
)
MOBILE_SPECS = np.array([0, 1, 2, 3, 4])
MOBILE_W = np.array([0.33, 0.32, 0.12, 0.12, 0.11])
DESKTOP_SPECS = np.array([5, 6, 7])
DESKTOP_W = np.array([0.5, 0.2, 0.3])
TABLET_SPEC = 8
# Japanese ISP and carrier address blocks (first two octets) for plausible client IPs.
IP_BLOCKS = ((126, 0), (153, 156), (220, 100), (106, 128), (49, 96), (60, 70), (114, 150), (180, 0))


@dataclass
class Devices:
    """Device arrays (one entry per device) and per-person device slots (-1 when absent)."""

    owner: np.ndarray  # person, or -1 for a shared family tablet
    household: np.ndarray  # household of a shared tablet, else -1
    kind: np.ndarray  # WEB or APP
    spec: np.ndarray  # index into SPECS
    skew_ms: np.ndarray  # clock offset of the device (0 for most)
    ip: list[str]
    device_id: list[str | None]  # app installs only
    install_day: np.ndarray  # app: day installed (negative: before the window)
    update_lag: np.ndarray  # app: days between a release and this device updating
    web_a: np.ndarray  # per person
    web_b: np.ndarray
    app: np.ndarray
    shared: np.ndarray  # the household tablet (an app install)
    users: list[list[int]]  # persons who use each device
    anonymous_ids: list[str] = field(default_factory=list)  # every anonymousId ever minted
    anonymous_device: list[int] = field(default_factory=list)
    anonymous_day: list[int] = field(default_factory=list)  # day minted (0 for the first ones)

    @property
    def n(self) -> int:
        return len(self.owner)

    def is_safari(self) -> np.ndarray:
        return np.array([SPECS[s][5] == "safari" for s in self.spec])

    def new_anonymous_ids(self, rng: np.random.Generator, devices: np.ndarray, book: IdentityBook,
                          day: int = 0) -> np.ndarray:
        """Mint one new anonymousId per device given; returns their indices in `anonymous_ids`."""
        first = len(self.anonymous_ids)
        values = uuid4_strings(rng, len(devices))
        for dev, value in zip(devices.tolist(), values, strict=True):
            self.anonymous_ids.append(value)
            self.anonymous_device.append(dev)
            self.anonymous_day.append(day)
            users = self.users[dev]
            for p in users:
                book.add(p, "anonymous_id", value, note="shared_device" if len(users) > 1 else "")
            if len(users) > 1:
                book.mark_shared("anonymous_id", value)
        return np.arange(first, first + len(devices))


def build_devices(rng: np.random.Generator, people: People, book: IdentityBook) -> Devices:
    """Give every online person one to three devices, and each household a shared tablet."""
    n = people.n
    online = ~people.is_store_only
    has_app = online & (rng.random(n) < rates.APP_SHARE)
    has_web = online & (~has_app | (rng.random(n) < rates.APP_ALSO_WEB_SHARE))
    second = has_web & (rng.random(n) < rates.SECOND_BROWSER_SHARE) & (people.household < 0)
    owner, kind, spec, household = [], [], [], []
    web_a = np.full(n, -1)
    web_b = np.full(n, -1)
    app = np.full(n, -1)
    shared = np.full(n, -1)
    mobile_first = rng.random(n) < 0.7
    mob = rng.choice(MOBILE_SPECS, size=n, p=MOBILE_W)
    desk = rng.choice(DESKTOP_SPECS, size=n, p=DESKTOP_W)
    for i in range(n):
        if has_app[i]:
            app[i] = len(owner)
            owner.append(i), kind.append(APP), spec.append(int(mob[i])), household.append(-1)
        if has_web[i]:
            web_a[i] = len(owner)
            first = int(mob[i]) if (mobile_first[i] or has_app[i]) else int(desk[i])
            owner.append(i), kind.append(WEB), spec.append(first), household.append(-1)
            if second[i]:
                web_b[i] = len(owner)
                other = int(desk[i]) if first in MOBILE_SPECS else int(mob[i])
                owner.append(i), kind.append(WEB), spec.append(other), household.append(-1)
    users: list[list[int]] = [[o] for o in owner]
    for h in np.unique(people.household[people.household >= 0]):
        members = np.flatnonzero(people.household == h)
        dev = len(owner)
        owner.append(-1), kind.append(APP), spec.append(TABLET_SPEC), household.append(int(h))
        users.append([int(m) for m in members])
        shared[members] = dev
    owner_a = np.array(owner)
    kind_a = np.array(kind)
    nd = len(owner)
    skewed = rng.random(nd) < rates.CLOCK_SKEW_DEVICE_RATE
    # Mostly minutes, sometimes hours, either way; capped so a clock is never 24 h ahead.
    magnitude = np.where(rng.random(nd) < 0.7, rng.uniform(60, 1800, nd),
                         rng.uniform(1800, rates.CLOCK_SKEW_MAX_HOURS * 3600, nd))
    skew_ms = np.where(skewed, np.sign(rng.random(nd) - 0.5) * magnitude * 1000, 0).astype(np.int64)
    ips = []
    for _ in range(nd):
        a, b = IP_BLOCKS[int(rng.integers(len(IP_BLOCKS)))]
        ips.append(f"{a}.{b + int(rng.integers(0, 30))}.{int(rng.integers(0, 256))}.{int(rng.integers(1, 255))}")
    is_ios = np.array([SPECS[s][1] in ("iOS", "iPadOS") for s in spec])
    ids_ios = uuid4_strings(rng, nd, upper=True)  # IDFV
    ids_android = [bytes(r).hex() for r in np.frombuffer(rng.bytes(8 * nd), np.uint8).reshape(nd, 8)]
    device_id: list[str | None] = []
    for d in range(nd):
        if kind_a[d] != APP:
            device_id.append(None)
            continue
        value = ids_ios[d] if is_ios[d] else ids_android[d]
        device_id.append(value)
        for p in users[d]:
            book.add(p, "device_id", value, note="shared_device" if len(users[d]) > 1 else "")
        if len(users[d]) > 1:
            book.mark_shared("device_id", value)
    pre_installed = rng.random(nd) < 0.6
    install_day = np.where(pre_installed, -rng.integers(1, 700, nd), 0)
    update_lag = rng.exponential(6.0, nd).astype(np.int64)
    return Devices(
        owner=owner_a, household=np.array(household), kind=kind_a, spec=np.array(spec), skew_ms=skew_ms,
        ip=ips, device_id=device_id, install_day=install_day, update_lag=update_lag,
        web_a=web_a, web_b=web_b, app=app, shared=shared, users=users,
    )
