"""Events of machines and OEE: machine states, a shift's OEE figures, and the node's clock jumps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event

__all__ = ["MachineStateChanged", "ShiftOeeClosed", "ClockJumped"]


@dataclass(frozen=True, kw_only=True)
class MachineStateChanged(Event):
    equipment: str
    state: str
    reason: str | None
    since: datetime
    previous: str | None
    previous_since: datetime | None
    # The node's clock jumped (seconds) while the previous state lasted; previous_since was moved by as much so that
    # ``since - previous_since`` is the time that really passed. None: no jump.
    clock_jump_s: Decimal | None = None

    @property
    def subject(self) -> str:
        return f"equipment:{self.equipment}"


@dataclass(frozen=True, kw_only=True)
class ShiftOeeClosed(Event):
    """A shift's OEE on a workstation, recorded when the shift ended (for the ERP's performance figures)."""

    workstation: str
    shift: str
    day: date
    start: datetime
    end: datetime
    planned_minutes: Decimal
    run_minutes: Decimal
    good: Decimal
    scrap: Decimal
    availability: Decimal
    performance: Decimal
    quality: Decimal
    oee: Decimal

    @property
    def subject(self) -> str:
        return f"workstation:{self.workstation}"


@dataclass(frozen=True, kw_only=True)
class ClockJumped(Event):
    """The node's wall clock jumped: between two readings it moved ``jump_s`` seconds more (ahead, +) or less
    (back, -) than the steady clock. Times recorded before and after do not measure durations across it; the
    durations the node derives (labour minutes) take it out."""

    jump_s: Decimal
    wall_before: datetime  # the wall clock at the reading before the jump, as the node saw it
    at: datetime  # the wall clock at the reading that found it (after the jump)

    @property
    def subject(self) -> str:
        return "node:clock"
