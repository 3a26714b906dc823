"""Signed, rate-limited, retried HTTP delivery of a batch of member changes.

The sync hands one batch to `WebhookTransport.send`; an encoder turns the batch into one or more
HTTP requests (a generic JSON body here; an ESP's or an ad platform's API shape elsewhere), and each
request is signed (HMAC-SHA256 over timestamp and body, Stripe-style, so a receiver can refuse
forgeries and replays), carries an idempotency key that is the same on every retry and rerun, and is
retried with full-jitter exponential backoff on 5xx, 429, timeouts and broken connections. The
outcome of each change follows the request that carried it; the sync writes the failed ones to its
dead-letter table. Secrets and bodies are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from kizuna.activation.transport import Change, DestinationError, Outcome

SIGNATURE_HEADER = "X-Kizuna-Signature"
TIMESTAMP_HEADER = "X-Kizuna-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Request:
    """One HTTP request an encoder wants sent, and the change keys whose fate it decides."""

    body: bytes
    keys: tuple[str, ...]
    method: str = "POST"
    path: str = ""  # appended to the transport's URL
    content_type: str = "application/json"


@dataclass(frozen=True)
class Unsendable:
    """Changes an encoder cannot express for the destination (no email, say): failed without a request."""

    keys: tuple[str, ...]
    error: str


BatchEncoder = Callable[[str, Sequence[Change]], Sequence["Request | Unsendable"]]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "isoformat"):  # pandas Timestamp and other datetime look-alikes
        return value.isoformat()
    if value != value:  # pandas NaT / NA-like values that are not floats
        return None
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """JSON bytes: datetimes and dates ISO, NaN/inf and non-finite Decimals null, numpy values plain."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def generic_body(batch_id: str, changes: Sequence[Change]) -> list[Request | Unsendable]:
    """The destination-neutral body: every change with its own idempotency key, in one request."""
    if not changes:
        return []
    body = dumps(
        {
            "batch_id": batch_id,
            "changes": [
                {
                    "idempotency_key": c.key,
                    "action": c.action,
                    "audience": c.audience,
                    "person_id": c.person_id,
                    "fields": dict(c.fields),
                }
                for c in changes
            ],
        }
    )
    return [Request(body=body, keys=tuple(c.key for c in changes))]


def request_key(batch_id: str, index: int, keys: Sequence[str]) -> str:
    """Same batch, same request position, same changes: the same key, however often it is sent."""
    material = "\x1f".join([batch_id, str(index), *sorted(keys)]).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]


def _secret_bytes(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def sign(secret: bytes | str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(_secret_bytes(secret), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(
    secret: bytes | str,
    timestamp: int | str | None,
    body: bytes,
    header: str | None,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when `header` holds a v1 HMAC of this timestamp and body, and the timestamp is recent."""
    if not header or timestamp is None:
        return False
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body).encode()
    # Several comma-separated signatures are allowed so a receiver can accept during secret rotation.
    return any(hmac.compare_digest(expected, part.strip().encode()) for part in header.split(","))


class TokenBucket:
    """Requests per second for one destination, shared by every request and retry of a transport."""

    def __init__(self, rate_per_s: float, *, clock: Callable[[], float], sleep: Callable[[float], None]):
        if not rate_per_s > 0:
            raise ValueError(f"rate limit must be > 0 requests per second, got {rate_per_s!r}")
        self.rate = float(rate_per_s)
        self.burst = max(1.0, self.rate)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                # The tolerance stops float rounding from leaving a token forever a hair short of 1.
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                wait = (1 - self._tokens) / self.rate
            # Sleeping outside the lock lets other senders refill and race fairly; the loop rechecks.
            self._sleep(wait)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: rare from APIs, and the backoff still applies
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class WebhookTransport:
    """Delivers batches as signed HTTP requests to one destination URL."""

    def __init__(
        self,
        url: str,
        *,
        secret: bytes | str,
        rate_limit_per_s: float,
        max_attempts: int = 5,
        base_delay_s: float = 0.2,
        max_delay_s: float = 10,
        timeout_s: float = 10,
        batch_encoder: BatchEncoder = generic_body,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DestinationError(f"webhook {url!r}: not an http(s) URL")
        if not secret:
            raise DestinationError(f"webhook {url}: no signing secret given")
        if max_attempts < 1:
            raise DestinationError(f"webhook {url}: max_attempts must be at least 1, got {max_attempts}")
        try:
            self._bucket = TokenBucket(rate_limit_per_s, clock=clock, sleep=sleep)
        except ValueError as exc:
            raise DestinationError(f"webhook {url}: {exc}") from exc
        self.url = url
        self._secret = _secret_bytes(secret)
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._encoder = batch_encoder
        self._method = method
        self._headers = dict(headers or {})
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._timeout = httpx.Timeout(timeout_s)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._wall = wall_clock

    def __repr__(self) -> str:  # the secret stays out of reprs and tracebacks
        return f"WebhookTransport({self.url!r})"

    def send(self, batch_id: str, changes: Sequence[Change]) -> list[Outcome]:
        if not changes:
            return []
        fate: dict[str, Outcome] = {}
        index = 0
        for item in self._encoder(batch_id, changes):
            if isinstance(item, Unsendable):
                for key in item.keys:
                    fate[key] = Outcome(key, False, 0, item.error)
                continue
            delivered, attempts, error = self._deliver(item, request_key(batch_id, index, item.keys))
            index += 1
            for key in item.keys:
                fate[key] = Outcome(key, delivered, attempts, error)
        missing = f"webhook {self.url}: the encoder sent no request for this change"
        return [fate.get(c.key, Outcome(c.key, False, 0, missing)) for c in changes]

    def _deliver(self, request: Request, idempotency_key: str) -> tuple[bool, int, str | None]:
        url = self.url.rstrip("/") + request.path if request.path else self.url
        method = request.method or self._method
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            self._bucket.acquire()
            timestamp = int(self._wall())
            headers = {
                **self._headers,
                "Content-Type": request.content_type,
                IDEMPOTENCY_HEADER: idempotency_key,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret, timestamp, request.body),
            }
            wait_hint = None
            try:
                response = self._client.request(
                    method, url, content=request.body, headers=headers, timeout=self._timeout
                )
            except httpx.TimeoutException:
                error = "timed out"
            except httpx.TransportError as exc:
                error = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return True, attempt, None
                if status != 429 and status < 500:
                    return False, attempt, f"webhook {url}: {status} {response.text[:200]}"
                error = str(status)
                if status in (429, 503):
                    wait_hint = _retry_after(response)
            if attempt == self.max_attempts:
                break
            if wait_hint is not None:
                delay = min(self.max_delay_s, wait_hint)
            else:
                delay = self._rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
            self._sleep(delay)
        return False, self.max_attempts, f"webhook {url}: {error} after {self.max_attempts} attempts"

    def close(self) -> None:
        if self._own_client:
            self._client.close()
