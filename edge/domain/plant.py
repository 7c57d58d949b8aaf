"""The plant's one registry: ``decide`` and ``evolve`` dispatch by type to the contexts' deciders and evolvers.

``decide(state, command, now)`` checks a command against the rules and returns the events it
causes, or raises ``DomainError``; it never changes ``state``. ``evolve(state, event)`` applies one
event and records which rows changed in ``state.dirty`` so the store can write exactly those rows.

The rules live in edge.domain.contexts, one module per context; each decides its own commands and keeps its own
tables up to date. An event may concern several contexts (a completed work order leaves the dispatch list and frees
its kitted stock): each applies its part, in the order of ``CONTEXTS``. The state is edge.domain.state.
"""
from __future__ import annotations

from datetime import datetime
from types import ModuleType

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts import (
    capa,
    inventory,
    kitting,
    machines,
    maintenance,
    orders,
    outbound,
    pallets,
    production,
    quality,
    signatures,
    units,
)
from edge.domain.contexts.pallets import next_sscc
from edge.domain.errors import DomainError
from edge.domain.gs1 import check_digit as sscc_check_digit
from edge.domain.gs1 import gtin_problem
from edge.domain.state import STATE_TABLES, Decider, Evolver, PlantState

__all__ = ["CONTEXTS", "DECIDERS", "EVOLVERS", "STATE_TABLES", "PlantState", "decide", "evolve", "gtin_problem",
           "next_sscc", "sscc_check_digit"]

# Inventory moves the stock before kitting fits the kitted shares into what is left of it.
# Maintenance counts machines' use from the production and the machine states the contexts before it recorded.
CONTEXTS: tuple[ModuleType, ...] = (orders, production, inventory, pallets, kitting, quality, machines, signatures,
                                    units, maintenance, capa, outbound)


def _deciders() -> dict[type[c.Command], Decider]:
    found: dict[type[c.Command], Decider] = {}
    for context in CONTEXTS:
        for kind, decider in context.DECIDERS.items():
            if kind in found:
                raise TypeError(f"{kind.__name__} is decided in two contexts (the second: {context.__name__})")
            found[kind] = decider
    return found


def _evolvers() -> dict[type[e.Event], tuple[Evolver, ...]]:
    found: dict[type[e.Event], tuple[Evolver, ...]] = {}
    for context in CONTEXTS:
        for kind, evolver in context.EVOLVERS.items():
            found[kind] = (*found.get(kind, ()), evolver)
    return found


DECIDERS: dict[type[c.Command], Decider] = _deciders()
EVOLVERS: dict[type[e.Event], tuple[Evolver, ...]] = _evolvers()


def decide(state: PlantState, command: c.Command, now: datetime) -> list[e.Event]:
    """The events ``command`` causes in ``state`` at ``now``; raises DomainError if refused."""
    decider = DECIDERS.get(type(command))
    if decider is None:
        raise DomainError("UNKNOWN_COMMAND", f"{type(command).__name__} is not a command this node knows")
    checks.aware("occurred_at", command.occurred_at, now)
    events = decider(state, command, now)
    # a stop on a reason marked for maintenance, or a long one, raises a maintenance request
    events += maintenance.stop_requests(state, command, events, now)
    # a consumption that takes a line-side bin below its minimum raises its replenishment task with it (outbound)
    events = outbound.follow_up(state, command, events, now)
    # signed as the command asks, and no signed record changed (edge.domain.contexts.signatures)
    return signatures.sealed(state, command, events, now)


def evolve(state: PlantState, ev: e.Event) -> None:
    """Apply one event to ``state`` (in place), marking the rows it changed."""
    evolvers = EVOLVERS.get(type(ev))
    if evolvers is None:
        raise TypeError(f"no projection for event {type(ev).__name__}")
    for apply in evolvers:
        apply(state, ev)
