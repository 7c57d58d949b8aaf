"""JSON encoding of events for the journal payload, and of commands for idempotency fingerprints."""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from edge.domain.commands import Command
from edge.domain.events import EVENT_TYPES, Event

_ADAPTERS: dict[type, TypeAdapter[Any]] = {}
_TO_JSON: dict[type, Callable[[Any], bytes]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def encode_event(event: Event) -> str:
    """The journal payload of ``event``: ``TypeAdapter.dump_json`` with its defaults, called on the
    adapter's serializer directly (this runs once per event on the write path)."""
    to_json = _TO_JSON.get(type(event))
    if to_json is None:
        to_json = _TO_JSON[type(event)] = _adapter(type(event)).serializer.to_json
    return to_json(event).decode()


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
    """What a repeat of an idempotency key must match: the command without its delivery metadata.

    The SHA-256 of ``repr(dataclasses.replace(command, <delivery metadata cleared>))``, computed
    without building the copy (this runs once per command on the write path)."""
    parts = _fingerprint_plan(type(command))  # type: ignore[arg-type]
    text = parts[0] + ", ".join([
        fixed if name is None else f"{name}={getattr(command, name)!r}" for name, fixed in parts[1]
    ]) + ")"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# Delivery metadata: how and when a command arrived, not what it asks. A repeat may differ in these.
_CLEARED: dict[str, Any] = {"idempotency_key": "", "actor_roles": frozenset(), "occurred_at": None,
                            "source_device": None}


@cache
def _fingerprint_plan(cls: type) -> tuple[str, tuple[tuple[str | None, str], ...]]:
    """The dataclass ``__repr__`` of ``cls`` as a plan: its prefix, then per field either the field's
    name (to repr its value) or the fixed text of a cleared field."""
    if "__repr__" in cls.__dict__ and not cls.__dataclass_params__.repr:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} has its own __repr__; its fingerprint needs one by field")
    fields: list[tuple[str | None, str]] = []
    for f in dataclasses.fields(cls):
        if not f.repr:
            continue
        if f.name in _CLEARED:
            fields.append((None, f"{f.name}={_CLEARED[f.name]!r}"))
        else:
            fields.append((f.name, ""))
    return f"{cls.__qualname__}(", tuple(fields)


def fingerprint_by_copy(command: Command) -> str:
    """The reference definition of :func:`fingerprint` (slower; the tests compare the two)."""
    bare = dataclasses.replace(command, **_CLEARED)
    return hashlib.sha256(repr(bare).encode()).hexdigest()[:32]
