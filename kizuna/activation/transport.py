"""What a destination is handed, and what it answers: the contract between the sync and transports.

A sync turns membership differences into `Change`s, writes them to its outbox (each with an
idempotency key that never changes, however often the change is sent), then hands them to a
transport in batches. A transport delivers one batch and answers one `Outcome` per change. It may
be handed the same batch again (same `batch_id`, same keys) after a crash: a transport must make
that safe, by overwriting the same file, upserting, or letting the receiver deduplicate by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Action = Literal["add", "update", "remove"]


@dataclass(frozen=True)
class Change:
    """One member change for one destination.

    `fields` are the values the destination receives (already allowed by governance). For a
    removal they are the fields the destination was last sent, so it can find whom to remove.
    """

    key: str  # idempotency key: stable across retries and reruns of this change
    audience: str
    person_id: str
    action: Action
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The fate of one change after the transport's own retries."""

    key: str
    delivered: bool
    attempts: int = 1
    error: str | None = None


class Transport(Protocol):
    """A destination kind. `send` returns one outcome per change, in the order given."""

    def send(self, batch_id: str, changes: Sequence[Change]) -> list[Outcome]: ...

    def close(self) -> None: ...


class DestinationError(RuntimeError):
    """A destination that cannot be used as configured (bad URL, forbidden table, missing secret)."""


def delivered(changes: Sequence[Change], attempts: int = 1) -> list[Outcome]:
    return [Outcome(c.key, True, attempts) for c in changes]


def failed(changes: Sequence[Change], error: str, attempts: int = 1) -> list[Outcome]:
    return [Outcome(c.key, False, attempts, error) for c in changes]
