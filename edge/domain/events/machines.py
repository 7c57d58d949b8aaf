"""Events of machines and OEE: machine states, a shift's OEE figures, the node's clock jumps, and setpoints
downloaded to a machine and changed on it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event

__all__ = ["MachineStateChanged", "ShiftOeeClosed", "ClockJumped", "DownloadedSetpoint", "SetpointsDownloaded",
           "SetpointVarianceRecorded", "StopReasonGiven",
           "ReasonTreeDefined"]


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


@dataclass(frozen=True, kw_only=True)
class DownloadedSetpoint:
    parameter: str
    device: str
    tag: str
    written: Decimal  # the value written
    read_back: Decimal  # the value the PLC gave back after the write
    low: Decimal | None = None
    high: Decimal | None = None
    unit: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetpointsDownloaded(Event):
    """An operation's setpoints were written to its machine and read back equal: every value as written and as
    read back."""

    work_order: str
    operation: int
    equipment: str
    values: tuple[DownloadedSetpoint, ...]
    source: str  # changeover (an explicit step) | start (at operation start)
    at: datetime

    @property
    def subject(self) -> str:
        return f"work_order:{self.work_order}"


@dataclass(frozen=True, kw_only=True)
class SetpointVarianceRecorded(Event):
    """A setpoint changed on the machine while the operation ran. ``flagged``: who changed it and when is not
    known on the machine side (``seen_at`` is when the node saw the new value)."""

    work_order: str
    operation: int
    equipment: str
    parameter: str
    tag: str
    downloaded: Decimal
    observed: Decimal
    seen_at: datetime
    flagged: bool = True

    @property
    def subject(self) -> str:
        return f"work_order:{self.work_order}"


@dataclass(frozen=True, kw_only=True)
class StopReasonGiven(Event):
    """A person booked a machine's stop (the one that started at ``stop_start``) to a leaf of its reason tree:
    ``given`` by an operator at the terminal, or ``reclassified`` by a supervisor afterwards, with why. The
    classification of stops (edge.domain.downtime) takes the latest one of a stop over what the history says."""

    equipment: str
    stop_start: datetime
    reason: str
    kind: str  # given | reclassified
    why: str | None
    previous: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"equipment:{self.equipment}"


@dataclass(frozen=True, kw_only=True)
class ReasonTreeDefined(Event):
    """A downtime reason tree came from the central systems (``definition``: its roots as JSON)."""

    name: str
    workstations: tuple[str, ...]
    machine_class: str | None
    definition: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"reason_tree:{self.name}"
