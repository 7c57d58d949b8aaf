"""Events of work instructions and serialised units."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import Event, WorkOrderSubject

__all__ = ["InstructionStepDefined", "WorkInstructionDefined", "UnitSerialised", "StepRecorded", "UnitComponentFitted",
           "UnitOperationCompleted"]


@dataclass(frozen=True, kw_only=True)
class InstructionStepDefined:
    step: int
    kind: str
    texts: tuple[str, ...]
    media: tuple[str, ...]
    nominal: Decimal | None
    lsl: Decimal | None
    usl: Decimal | None
    unit: str
    expect: str | None
    component: str | None
    on_fail: str
    plan: str | None
    characteristic: str | None


@dataclass(frozen=True, kw_only=True)
class WorkInstructionDefined(Event):
    item: str
    operation: int
    revision: str
    item_revision: str
    title: str
    steps: tuple[InstructionStepDefined, ...]
    at: datetime

    @property
    def subject(self) -> str:
        return f"work_instruction:{self.item}/{self.operation}"


@dataclass(frozen=True, kw_only=True)
class UnitSerialised(WorkOrderSubject, Event):
    """A unit of a serialised item got its serial at the work order's first operation (ERP: a lot per unit;
    B2MML: a MaterialSubLot of the order's output)."""

    item: str
    serial: str
    work_order: str
    item_revision: str
    operation: int
    source: str  # pattern | gs1 | scanned
    gtin: str | None
    at: datetime
    by: str  # who started it


@dataclass(frozen=True, kw_only=True)
class StepRecorded(WorkOrderSubject, Event):
    """A step of a work instruction done for a unit (or the order's lot-built output, ``serial`` None): what it
    captured, its verdict, when it was shown and when it was done, and the instruction revision followed."""

    work_order: str
    operation: int
    item: str
    serial: str | None
    instruction_revision: str
    step: int
    kind: str
    passed: bool
    result: str | None
    value: Decimal | None
    scanned: str | None
    photo: str | None
    note: str
    on_fail: str
    ncr: str | None  # the nonconformance the failure raised
    last: bool  # the instruction's last step
    started_at: datetime | None
    at: datetime
    by: str  # who did the step (a sign-off: the second person)


@dataclass(frozen=True, kw_only=True)
class UnitComponentFitted(WorkOrderSubject, Event):
    """A component (a serial or a lot of a component item) went into a unit: the unit's genealogy."""

    work_order: str
    item: str
    serial: str
    component: str
    component_lot: str | None
    component_serial: str | None
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UnitOperationCompleted(WorkOrderSubject, Event):
    work_order: str
    item: str
    serial: str
    operation: int
    next_operation: int | None  # None: its last operation, the unit is complete
    at: datetime
