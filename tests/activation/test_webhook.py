"""WebhookTransport against a real receiver on loopback: signing, retries, timeouts, rate limit."""

from __future__ import annotations

import datetime as dt
import math
import random
import socket
import time
from decimal import Decimal

import httpx
import orjson
import pytest

from kizuna.activation.transport import Change, DestinationError
from kizuna.activation.webhook import (
    Request,
    Unsendable,
    WebhookTransport,
    generic_body,
    request_key,
    sign,
    verify_signature,
)

from .receiver import Receiver

SECRET = "s3cret-for-tests"


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def changes(n: int = 3, prefix: str = "k") -> list[Change]:
    return [
        Change(f"{prefix}{i}", "vip", f"p{i}", "add", {"email": f"u{i}@example.com", "points": i}) for i in range(n)
    ]


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


@pytest.fixture
def fake():
    return FakeTime()


def transport(url: str, fake: FakeTime, **kw) -> WebhookTransport:
    kw.setdefault("rate_limit_per_s", 1000)
    kw.setdefault("timeout_s", 2)
    return WebhookTransport(url, secret=SECRET, sleep=fake.sleep, clock=fake.clock, rng=random.Random(1), **kw)


def test_delivers_a_signed_batch_with_every_key(receiver, fake):
    t = transport(receiver.url, fake)
    batch = changes(3)
    out = t.send("b1", batch)
    t.close()
    assert [(o.key, o.delivered, o.attempts) for o in out] == [("k0", True, 1), ("k1", True, 1), ("k2", True, 1)]
    assert receiver.keys() == ["k0", "k1", "k2"]
    assert receiver.deliveries[1]["fields"] == {"email": "u1@example.com", "points": 1}
    assert {d["request_key"] for d in receiver.deliveries} == {request_key("b1", 0, ["k0", "k1", "k2"])}
    assert receiver.rejected == []


def test_generic_body_encodes_dates_decimals_and_nan():
    c = Change(
        "k",
        "a",
        "p",
        "update",
        {
            "d": dt.date(2024, 5, 1),
            "ts": dt.datetime(2024, 5, 1, 9, 30),
            "amount": Decimal("12.50"),
            "x": math.nan,
            "bad": Decimal("NaN"),
        },
    )
    [req] = generic_body("b", [c])
    body = orjson.loads(req.body)
    assert body["batch_id"] == "b"
    assert body["changes"] == [
        {
            "idempotency_key": "k",
            "action": "update",
            "audience": "a",
            "person_id": "p",
            "fields": {"d": "2024-05-01", "ts": "2024-05-01T09:30:00", "amount": 12.5, "x": None, "bad": None},
        }
    ]


def test_request_key_is_deterministic_and_order_free():
    assert request_key("b", 0, ["a", "b"]) == request_key("b", 0, ["b", "a"])
    assert len(request_key("b", 0, ["a"])) == 32
    assert request_key("b", 0, ["a"]) != request_key("b", 1, ["a"]) != request_key("c", 1, ["a"])


def test_receiver_refuses_a_tampered_body_and_a_wrong_secret(receiver, fake):
    ts = int(time.time())
    body = b'{"changes": []}'
    headers = {"X-Kizuna-Timestamp": str(ts), "X-Kizuna-Signature": sign(SECRET, ts, body)}
    assert httpx.post(receiver.url + "/hook", content=body, headers=headers).status_code == 200
    assert httpx.post(receiver.url + "/hook", content=body + b" ", headers=headers).status_code == 401

    t = WebhookTransport(receiver.url, secret="other", rate_limit_per_s=100, sleep=fake.sleep, clock=fake.clock)
    [out] = t.send("b", changes(1))
    assert not out.delivered and out.attempts == 1  # 401 is not retried
    assert out.error.startswith(f"webhook {receiver.url}: 401 ") and "bad signature" in out.error
    assert receiver.deliveries == []


def test_verify_signature_rejects_replays_and_garbage():
    body = b"{}"
    header = sign(SECRET, 1_000_000, body)
    assert verify_signature(SECRET, 1_000_000, body, header, now=1_000_100)
    assert not verify_signature(SECRET, 1_000_000, body, header, now=1_000_301)  # too old: a replay
    assert not verify_signature(b"other", 1_000_000, body, header, now=1_000_000)
    assert not verify_signature(SECRET, "nope", body, header, now=1_000_000)
    assert not verify_signature(SECRET, 1_000_000, body, None, now=1_000_000)
    assert verify_signature(SECRET, 1_000_000, body, f"v1=00, {header}", now=1_000_000)  # rotation


def test_retries_5xx_with_full_jitter_then_succeeds(receiver, fake):
    receiver.fail_next(500, 503, 429)
    t = transport(receiver.url, fake, base_delay_s=0.2, max_delay_s=10)
    out = t.send("b", changes(2))
    assert [(o.delivered, o.attempts, o.error) for o in out] == [(True, 4, None)] * 2
    assert [r["status"] for r in receiver.rejected] == [500, 503, 429]
    assert receiver.keys() == ["k0", "k1"]  # injected failures were not processed
    assert len(fake.sleeps) == 3
    for i, delay in enumerate(fake.sleeps):
        assert 0 <= delay <= 0.2 * 2**i
    # All four attempts carry the same request key, so a receiver can deduplicate them.
    assert len({r["request_key"] for r in receiver.requests}) == 1


def test_timeout_then_retry_redelivers_the_same_keys(fake):
    with Receiver(SECRET, timeout_s=1.0) as r:
        r.fail_next(0)  # process and record, then stall past the client's timeout
        t = transport(r.url, fake, timeout_s=0.3)
        out = t.send("b", changes(2))
    assert [(o.delivered, o.attempts) for o in out] == [(True, 2)] * 2
    assert r.keys() == ["k0", "k1", "k0", "k1"]  # recorded as it arrived, no deduplication
    assert len({d["request_key"] for d in r.deliveries}) == 1


def test_times_out_on_every_attempt(fake):
    with Receiver(SECRET, timeout_s=0.8) as r:
        r.fail_next(0, 0)
        t = transport(r.url, fake, timeout_s=0.2, max_attempts=2)
        [out] = t.send("b", changes(1))
    assert not out.delivered and out.attempts == 2
    assert out.error == f"webhook {r.url}: timed out after 2 attempts"


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_4xx_fail_at_once_with_the_body(receiver, fake, status):
    receiver.fail_next(status)
    t = transport(receiver.url, fake)
    [out] = t.send("b", changes(1))
    assert (out.delivered, out.attempts) == (False, 1)
    assert out.error == f'webhook {receiver.url}: {status} {{"error":"injected"}}'
    assert fake.sleeps == [] and len(receiver.requests) == 1


def test_dead_after_max_attempts(receiver, fake):
    receiver.down()
    t = transport(receiver.url, fake, max_attempts=3)
    out = t.send("b", changes(2))
    assert [(o.delivered, o.attempts) for o in out] == [(False, 3)] * 2
    assert out[0].error == f"webhook {receiver.url}: 503 after 3 attempts"
    assert len(receiver.rejected) == 3 and receiver.deliveries == []
    receiver.up()
    assert all(o.delivered for o in t.send("b", changes(2)))


def test_connection_refused_is_retried_then_dead(fake):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    t = transport(f"http://127.0.0.1:{port}/hook", fake, max_attempts=2)
    [out] = t.send("b", changes(1))
    assert not out.delivered and out.attempts == 2
    assert out.error.startswith(f"webhook http://127.0.0.1:{port}/hook: connection failed (")
    assert out.error.endswith("after 2 attempts")


@pytest.mark.parametrize(("retry_after", "expected"), [(1.5, 1.5), (100, 4.0)])
def test_retry_after_is_honoured_and_capped(fake, retry_after, expected):
    with Receiver(SECRET, retry_after=retry_after) as r:
        r.fail_next(503)
        t = transport(r.url, fake, max_delay_s=4.0)
        [out] = t.send("b", changes(1))
    assert out.delivered and out.attempts == 2
    assert fake.sleeps == [expected]


def test_rate_limit_spaces_requests_including_retries(receiver, fake):
    rate, n = 5.0, 20
    t = transport(receiver.url, fake, rate_limit_per_s=rate)
    start = fake.now
    receiver.fail_next(500)  # one retry: it takes a token too
    for i in range(n - 1):
        assert all(o.delivered for o in t.send(f"b{i}", changes(1, prefix=f"b{i}-")))
    elapsed = fake.now - start
    jitter = fake.sleeps[0]  # the one backoff sleep also passes fake time
    assert len(receiver.requests) == n
    assert elapsed >= (n - rate) / rate - 1e-9
    assert elapsed <= (n - rate) / rate + jitter + 1e-6


def test_an_encoder_may_split_a_batch_and_outcomes_follow_each_request(receiver, fake):
    def split(batch_id, batch):
        adds = [c for c in batch if c.action == "add" and c.key != "k9"]
        removes = [c for c in batch if c.action == "remove"]
        return [
            Unsendable(("k9",), "nothing to send"),
            Request(body=b'{"adds": 1}', keys=tuple(c.key for c in adds), path="/adds"),
            Request(body=b'{"removes": 1}', keys=tuple(c.key for c in removes), method="DELETE", path="/removes"),
        ]

    batch = [
        Change("k0", "a", "p0", "add"),
        Change("k1", "a", "p1", "remove"),
        Change("k9", "a", "p9", "add"),
        Change("k2", "a", "p2", "add"),
    ]
    receiver.fail_next(422)  # the first request (adds) is refused
    t = transport(receiver.url + "/base/", fake, batch_encoder=split)
    out = t.send("b", batch)
    assert [(o.key, o.delivered) for o in out] == [("k0", False), ("k1", True), ("k9", False), ("k2", False)]
    assert out[2].error == "nothing to send" and out[2].attempts == 0
    assert [(r["method"], r["path"]) for r in receiver.requests] == [
        ("POST", "/base/adds"),
        ("DELETE", "/base/removes"),
    ]
    assert receiver.requests[1]["request_key"] == request_key("b", 1, ["k1"])


def test_bad_configuration_names_the_destination():
    with pytest.raises(DestinationError, match="ftp://x"):
        WebhookTransport("ftp://x", secret=SECRET, rate_limit_per_s=1)
    with pytest.raises(DestinationError, match="no signing secret"):
        WebhookTransport("http://127.0.0.1:1", secret="", rate_limit_per_s=1)
    with pytest.raises(DestinationError, match="rate limit"):
        WebhookTransport("http://127.0.0.1:1", secret=SECRET, rate_limit_per_s=0)
    assert SECRET not in repr(WebhookTransport("http://127.0.0.1:1", secret=SECRET, rate_limit_per_s=1))
