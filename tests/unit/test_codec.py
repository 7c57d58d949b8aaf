"""The journal codec's fast paths give exactly what their reference definitions give: a fingerprint
or payload that changed between versions would break idempotent repeats and journal replay."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from edge.domain import commands as c
from edge.domain.events import EVENT_TYPES
from edge.store.codec import encode_event, fingerprint, fingerprint_by_copy
from edge.store.store import outcome_json

COMMAND_TYPES = sorted((cls for cls in vars(c).values()
                        if isinstance(cls, type) and issubclass(cls, c.Command) and cls is not c.Command),
                       key=lambda cls: cls.__name__)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMAND_TYPES).flatmap(st.from_type))
def test_fingerprint_equals_the_hash_of_the_cleared_copy(command: c.Command) -> None:
    assert fingerprint(command) == fingerprint_by_copy(command)


def test_fingerprint_ignores_delivery_metadata_only() -> None:
    base = dict(actor="ana", lot="L1", from_bin="A", to_bin="B", quantity=1)
    first = c.MoveStock(idempotency_key="k1", actor_roles=frozenset({"warehouse"}), **base)  # type: ignore[arg-type]
    repeat = c.MoveStock(idempotency_key="k2", source_device="hh-7", **base)  # type: ignore[arg-type]
    other = c.MoveStock(idempotency_key="k1", **{**base, "quantity": 2})  # type: ignore[arg-type]
    assert fingerprint(first) == fingerprint(repeat)
    assert fingerprint(first) != fingerprint(other)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(EVENT_TYPES.values(), key=lambda cls: cls.__name__)).flatmap(st.from_type))
def test_event_payload_equals_pydantic_dump_json(event: object) -> None:
    payload = encode_event(event)  # type: ignore[arg-type]
    assert payload == TypeAdapter(type(event)).dump_json(event).decode()


@given(st.lists(st.fixed_dictionaries({"seq": st.integers(0, 2**62), "type": st.text(), "subject": st.text()})))
def test_outcome_json_equals_json_dumps(events: list[dict[str, object]]) -> None:
    assert outcome_json(events) == json.dumps({"events": events}, separators=(",", ":"))
