"""Commands of machines and OEE: a machine's state, a shift's OEE figures, the node's clock jumps, and setpoints
downloaded to a machine (with their read-back) and changed on it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command

__all__ = ["SetMachineState", "CloseShiftOee", "RecordClockJump", "SetpointWrite", "DownloadSetpoints",
           "RecordSetpointVariance", "GiveStopReason", "ReclassifyStop",
           "DefineReasonTree"]


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


@dataclass(frozen=True, kw_only=True)
class SetpointWrite:
    """One parameter written to a machine's tag: the site's rule for it (writable, limits, tolerance) and what the
    PLC did: ``error`` when it refused the write, ``read_back`` the value read after the write (None: not read).
    Before the write (``DownloadSetpoints`` checked with ``written=False``) only the rule and the value count."""

    parameter: str
    device: str
    tag: str
    value: Decimal
    writable: bool
    low: Decimal | None = None
    high: Decimal | None = None
    tolerance: Decimal = Decimal(0)
    unit: str | None = None
    written: bool = True
    read_back: Decimal | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class DownloadSetpoints(Command):
    """An operation's parameters were written to its machine and read back (``connectors.setpoints``); recorded
    when every value was written, read back equal (within its tolerance) and within its limits, by a role the
    site allows (``allowed_roles``), and not while the machine runs if the site says so (``refuse_while_running``).
    The node builds ``allowed_roles`` and the rules from the site file, never from a request."""

    work_order: str
    operation: int
    equipment: str
    values: tuple[SetpointWrite, ...]
    allowed_roles: frozenset[str]
    refuse_while_running: bool = True
    source: str = "changeover"  # changeover | start


@dataclass(frozen=True, kw_only=True)
class RecordSetpointVariance(Command):
    """A setpoint tag changed on the machine while the operation ran: ``observed`` differs from the value
    downloaded. Who changed it and exactly when is not known on the machine side: the event is flagged."""

    work_order: str
    operation: int
    equipment: str
    parameter: str
    tag: str
    downloaded: Decimal
    observed: Decimal
    seen_at: datetime


@dataclass(frozen=True, kw_only=True)
class GiveStopReason(Command):
    """An operator says why a machine stopped (the stop that started at ``stop_start``): a leaf of the machine's
    reason tree. ``leaves`` are the tree's leaf codes, built by the node from the site's tree, never from a request;
    the door checked that the stop exists."""

    equipment: str
    stop_start: datetime
    reason: str
    leaves: frozenset[str]
    note: str | None = None
    # the leaves marked for maintenance (a stop booked to one raises a maintenance request), built like ``leaves``
    maintenance_leaves: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class ReclassifyStop(Command):
    """A supervisor books a stop to another leaf afterwards, and says why."""

    equipment: str
    stop_start: datetime
    reason: str
    why: str
    leaves: frozenset[str]
    previous: str | None = None  # the leaf (or kind) the stop was booked to before


@dataclass(frozen=True, kw_only=True)
class DefineReasonTree(Command):
    """A downtime reason tree from the ERP/CMMS (the sync's pull): its roots as JSON (a list of nodes: code, text
    per language, children, planned, loss, maintenance, plc_codes), replacing a tree of the same name."""

    name: str
    workstations: tuple[str, ...] = ()
    machine_class: str | None = None
    definition: str = "[]"
