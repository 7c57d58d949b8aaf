"""JSON encoding of events for the journal payload, and of commands for idempotency fingerprints."""
from __future__ import annotations

import dataclasses
import hashlib
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from edge.domain.commands import Command
from edge.domain.events import EVENT_TYPES, Event


@lru_cache(maxsize=None)
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def encode_event(event: Event) -> str:
    return _adapter(type(event)).dump_json(event).decode()


def decode_event(type_name: str, payload: str) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"journal holds an event type this node does not know: {type_name}")
    event: Event = _adapter(cls).validate_json(payload)
    return event


def event_data(event: Event) -> dict[str, Any]:
    """The event as JSON-ready values (Decimal as text, times as ISO 8601)."""
    data: dict[str, Any] = _adapter(type(event)).dump_python(event, mode="json")
    return data


def fingerprint(command: Command) -> str:
    """What a repeat of an idempotency key must match: the command without its delivery metadata."""
    bare = dataclasses.replace(command, idempotency_key="", actor_roles=frozenset(), occurred_at=None,
                               source_device=None)
    return hashlib.sha256(repr(bare).encode()).hexdigest()[:32]
