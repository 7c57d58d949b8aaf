"""The pure domain of a Takt edge node: model, commands, events and the rules that decide.

Nothing in this package does I/O or imports the rest of the project (DESIGN.md, principle 4).
``decide(state, command, now)`` returns the events a command causes or raises ``DomainError``;
``evolve(state, event)`` applies one event to the in-memory state. The store replays the journal
through ``evolve`` alone, which is why every fact ``evolve`` needs must be inside the event.
"""
from edge.domain.errors import DomainError
from edge.domain.plant import PlantState, decide, evolve

__all__ = ["DomainError", "PlantState", "decide", "evolve"]
