"""Commands of maintenance: when a machine's stops raise requests, preventive plans by use, and a request's life
(raised, noted, accepted, worked with labour clocked and spare parts issued, closed with the machine released or
not)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from edge.domain.commands.base import Command

__all__ = ["ConfigureMaintenance", "DefineMaintenancePlan", "RaiseMaintenanceRequest", "AddMaintenanceNote",
           "AcceptMaintenanceRequest", "StartMaintenanceWork", "StopMaintenanceWork", "IssueMaintenanceParts",
           "CloseMaintenanceRequest", "StartPreventiveMaintenance", "RaiseRequestsForLongStops"]


@dataclass(frozen=True, kw_only=True)
class ConfigureMaintenance(Command):
    """The site file's ``maintenance`` of a machine: the stop reasons that raise a request, and the stop length
    (seconds) past which any stop raises one (None: none by length)."""

    equipment: str
    request_reasons: tuple[str, ...] = ()
    request_after_s: int | None = None


@dataclass(frozen=True, kw_only=True)
class DefineMaintenancePlan(Command):
    """A preventive plan of a machine: every ``interval`` days (calendar), cycles, good parts or run hours. A plan
    defined again keeps where its interval started (unless ``restart``)."""

    plan: str
    equipment: str
    kind: str
    interval: Decimal
    description: str = ""
    blocks_start: bool = False
    overdue_after_pct: Decimal = Decimal(10)
    active: bool = True
    restart: bool = False


@dataclass(frozen=True, kw_only=True)
class RaiseMaintenanceRequest(Command):
    """A request raised by hand (the terminal's "call maintenance"), with the operator's note and, where the
    terminal has a camera, a photo (a ``data:image/...;base64,`` URL)."""

    equipment: str
    reason: str | None = None
    note: str = ""
    photo: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddMaintenanceNote(Command):
    """The operator's note (and photo) on a request a stop raised."""

    request: str
    note: str = ""
    photo: str | None = None


@dataclass(frozen=True, kw_only=True)
class AcceptMaintenanceRequest(Command):
    request: str


@dataclass(frozen=True, kw_only=True)
class StartMaintenanceWork(Command):
    """The technician starts (or resumes) work on the machine: labour clocked on, the machine in ``maintenance``."""

    request: str


@dataclass(frozen=True, kw_only=True)
class StopMaintenanceWork(Command):
    """The technician stops working for now (fetching parts, a break): labour clocked off."""

    request: str


@dataclass(frozen=True, kw_only=True)
class IssueMaintenanceParts(Command):
    """Spare parts for the request taken from a bin: a stock move (an issue) like any other."""

    request: str
    lot: str
    bin: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class CloseMaintenanceRequest(Command):
    """The work is done: labour clocked off, and the machine released for production (idle) or not (down)."""

    request: str
    released: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class StartPreventiveMaintenance(Command):
    """A preventive plan's work is taken up: a request of the plan, closed like any other (which restarts the
    plan's interval)."""

    plan: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RaiseRequestsForLongStops(Command):
    """The node's timer (takt.maintenance_timer): every machine stopped longer than its threshold, and without an
    open breakdown request, gets one now, while the stop goes on (not only when it ends)."""
