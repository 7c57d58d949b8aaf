"""The one registry of the domain: every command this node knows is decided in exactly one context, and every event
the journal can hold is projected by at least one (a context left out of the registry would lose facts on replay)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain import commands as c
from edge.domain.events import EVENT_TYPES, Event
from edge.domain.plant import CONTEXTS, DECIDERS, EVOLVERS

NOW = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def _commands() -> set[type[c.Command]]:
    found = {getattr(c, name) for name in c.__all__}
    return {cls for cls in found if isinstance(cls, type) and issubclass(cls, c.Command) and cls is not c.Command}


def test_every_command_is_decided_in_exactly_one_context() -> None:
    assert set(DECIDERS) == _commands()
    owners = [kind for context in CONTEXTS for kind in context.DECIDERS]
    assert len(owners) == len(set(owners))


def test_every_journal_event_is_projected() -> None:
    assert set(EVOLVERS) == set(EVENT_TYPES.values())


def test_a_command_no_context_decides_is_refused_and_an_unknown_event_is_not_projected() -> None:
    class Unheard(c.Command):
        pass

    with pytest.raises(DomainError) as refused:
        decide(PlantState(), Unheard(idempotency_key="k", actor="ana"), NOW)
    assert refused.value.code == "UNKNOWN_COMMAND"
    with pytest.raises(TypeError, match="no projection"):
        evolve(PlantState(), Event())
