"""Brevo-shaped contact list sync over the webhook machinery, against the loopback receiver."""

from __future__ import annotations

import datetime as dt

import pytest

from kizuna.activation.esp import MAX_REMOVE_EMAILS, esp_encoder
from kizuna.activation.transport import Change
from kizuna.activation.webhook import WebhookTransport

from .receiver import Receiver

SECRET = "esp-secret"
ATTRS = {"first_name": "FIRSTNAME", "birthday": "BIRTHDAY", "points": "POINTS"}


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


def esp(url: str) -> WebhookTransport:
    return WebhookTransport(
        url,
        secret=SECRET,
        rate_limit_per_s=1000,
        batch_encoder=esp_encoder(42, ATTRS),
        headers={"api-key": "not-a-real-key"},
        sleep=lambda s: None,
    )


def test_upserts_and_removals_take_brevo_shapes(receiver):
    batch = [
        Change(
            "k1",
            "vip",
            "p1",
            "add",
            {"email": " a@example.com ", "first_name": "Aki", "birthday": dt.date(1990, 4, 1), "tier": "gold"},
        ),
        Change("k2", "vip", "p2", "update", {"email": "b@example.com", "first_name": None, "points": 7}),
        Change("k3", "vip", "p3", "remove", {"email": "c@example.com"}),
        Change("k4", "vip", "p4", "add", {"first_name": "NoMail"}),
    ]
    out = esp(receiver.url).send("b1", batch)
    assert [(o.key, o.delivered, o.error) for o in out] == [
        ("k1", True, None),
        ("k2", True, None),
        ("k3", True, None),
        ("k4", False, "no email"),
    ]
    assert out[3].attempts == 0
    [upsert] = receiver.bodies["/v3/contacts/import"]
    assert upsert["method"] == "POST"
    assert upsert["json"] == {
        "listIds": [42],
        "updateExistingContacts": True,
        "emptyContactsAttributes": False,
        "disableNotification": True,
        "jsonBody": [
            {"email": "a@example.com", "attributes": {"FIRSTNAME": "Aki", "BIRTHDAY": "1990-04-01"}},
            {"email": "b@example.com", "attributes": {"POINTS": 7}},
        ],
    }
    [removal] = receiver.bodies["/v3/contacts/lists/42/contacts/remove"]
    assert removal["method"] == "POST" and removal["json"] == {"emails": ["c@example.com"]}
    assert len(receiver.requests) == 2


def test_removals_are_split_at_brevos_limit(receiver):
    n = MAX_REMOVE_EMAILS + 1
    batch = [Change(f"k{i}", "vip", f"p{i}", "remove", {"email": f"u{i}@example.com"}) for i in range(n)]
    out = esp(receiver.url).send("b2", batch)
    assert all(o.delivered for o in out)
    bodies = [b["json"]["emails"] for b in receiver.bodies["/v3/contacts/lists/42/contacts/remove"]]
    assert [len(b) for b in bodies] == [MAX_REMOVE_EMAILS, 1]
    assert bodies[1] == [f"u{n - 1}@example.com"]


def test_a_refused_removal_fails_only_the_removals(receiver):
    batch = [
        Change("k1", "vip", "p1", "add", {"email": "a@example.com"}),
        Change("k2", "vip", "p2", "remove", {"email": "b@example.com"}),
    ]
    receiver.fail_next(400, 200)  # the removal (sent first) is refused, the import passes
    out = esp(receiver.url).send("b3", batch)
    assert [(o.key, o.delivered) for o in out] == [("k1", True), ("k2", False)]
    assert out[1].error.startswith(f"webhook {receiver.url}/v3/contacts/lists/42/contacts/remove: 400")
