"""Commands of machines and OEE: a machine's state, a shift's OEE figures, and the node's clock jumps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command

__all__ = ["SetMachineState", "CloseShiftOee", "RecordClockJump"]


@dataclass(frozen=True, kw_only=True)
class SetMachineState(Command):
    equipment: str
    state: Literal["running", "idle", "down", "setup", "offline"]
    reason: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CloseShiftOee(Command):
    """A shift ended: its OEE on a workstation, as the node computed it (edge.domain.oee), is recorded to go to the
    ERP. Sent under the key ``shift-oee:<workstation>:<shift>:<day>``, so a shift is closed once."""

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


@dataclass(frozen=True, kw_only=True)
class RecordClockJump(Command):
    """The node found its wall clock jumped (``edge.clock.ClockWatch``): record it in the journal."""

    jump_s: Decimal
    wall_before: datetime
    wall_after: datetime
