"""Events of maintenance: requests raised from stops or by hand, their work (labour, spare parts) and closing, and
preventive plans. A request's events have the subject ``maintenance:<request>``; they go to the central systems as
their own messages (erp_sync.protocol.ISA95_MESSAGE)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import EquipmentSubject, Event

__all__ = ["MaintenanceConfigured", "MaintenancePlanDefined", "MaintenanceRequested", "MaintenanceNoteAdded",
           "MaintenancePhotoAttached", "MaintenanceAccepted", "MaintenanceWorkStarted", "MaintenanceWorkStopped",
           "MaintenancePartsIssued", "MaintenanceCompleted", "IssuedSparePart"]


class RequestSubject:
    request: str

    @property
    def subject(self) -> str:
        return f"maintenance:{self.request}"


@dataclass(frozen=True, kw_only=True)
class MaintenanceConfigured(EquipmentSubject, Event):
    equipment: str
    request_reasons: tuple[str, ...]
    request_after_s: int | None


@dataclass(frozen=True, kw_only=True)
class MaintenancePlanDefined(Event):
    plan: str
    equipment: str
    description: str
    kind: str
    interval: Decimal
    blocks_start: bool
    overdue_after_pct: Decimal
    active: bool
    last_done_at: datetime  # where the plan's interval starts
    usage_at_done: Decimal  # the machine's counter of the plan's kind then

    @property
    def subject(self) -> str:
        return f"maintenance_plan:{self.plan}"


@dataclass(frozen=True, kw_only=True)
class MaintenanceRequested(RequestSubject, Event):
    request: str
    equipment: str
    kind: str  # breakdown | preventive
    trigger: str  # reason | duration | manual | plan
    reason: str | None
    stop_since: datetime | None  # the stop that raised it
    stop_s: Decimal | None  # how long that stop had lasted (None: it had just begun)
    plan: str | None
    note: str
    raised_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaintenanceNoteAdded(RequestSubject, Event):
    request: str
    note: str
    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaintenancePhotoAttached(RequestSubject, Event):
    """A photo of the machine from the terminal's camera (a data URL; kept in its own history table)."""

    request: str
    photo: str
    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaintenanceAccepted(RequestSubject, Event):
    request: str
    equipment: str
    technician: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaintenanceWorkStarted(RequestSubject, Event):
    request: str
    equipment: str
    technician: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaintenanceWorkStopped(RequestSubject, Event):
    request: str
    equipment: str
    technician: str
    since: datetime
    at: datetime
    minutes: Decimal


@dataclass(frozen=True, kw_only=True)
class MaintenancePartsIssued(RequestSubject, Event):
    """A spare part issued to the request; the stock left its bin by the StockMoved (kind issue) beside it."""

    request: str
    equipment: str
    lot: str
    item: str
    bin: str
    quantity: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class IssuedSparePart:
    item: str
    lot: str
    bin: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class MaintenanceCompleted(RequestSubject, Event):
    """Completed maintenance: what was done on the machine, by whom, with how much labour and which spare parts,
    and whether the machine was released for production."""

    request: str
    equipment: str
    kind: str
    trigger: str
    reason: str | None
    plan: str | None
    technician: str
    raised_at: datetime
    labour_minutes: Decimal
    parts: tuple[IssuedSparePart, ...]
    released: bool
    note: str
    at: datetime
    usage_at_done: Decimal | None = None  # a plan's request: the machine's counter of the plan's kind when done
