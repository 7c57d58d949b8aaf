"""Events of production and labour: operations, work orders completed, parts reported, a machine's unassigned parts,
and labour clocked on and off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import EquipmentSubject, Event, WorkOrderSubject

__all__ = [
    "OperationStarted", "OperationPaused", "OperationResumed", "OperationCompleted", "WorkOrderCompleted",
    "ProductionReported", "LabourClockedOn", "LabourClockedOff", "UnassignedProductionRecorded",
    "UnassignedProductionAssigned", "UnassignedProductionWrittenOff",
]


@dataclass(frozen=True, kw_only=True)
class OperationStarted(WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationPaused(WorkOrderSubject, Event):
    work_order: str
    operation: int
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationResumed(WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationCompleted(WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderCompleted(WorkOrderSubject, Event):
    work_order: str
    good: Decimal
    scrap: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ProductionReported(WorkOrderSubject, Event):
    work_order: str
    operation: int
    workstation: str
    good: Decimal
    scrap: Decimal
    scrap_reason: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LabourClockedOn(WorkOrderSubject, Event):
    operator: str
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LabourClockedOff(WorkOrderSubject, Event):
    operator: str
    work_order: str
    operation: int
    since: datetime
    at: datetime
    minutes: Decimal  # the time really worked: the node's clock jumps within since..at taken out
    # The node's clock jumped (seconds, + ahead, - back) between since and at: ``at - since`` is off by that much,
    # ``minutes`` is not. None: no jump (old events have no such field).
    clock_jump_s: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionRecorded(EquipmentSubject, Event):
    equipment: str
    workstation: str
    good: Decimal
    scrap: Decimal
    scrap_reason: str | None
    note: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionAssigned(EquipmentSubject, Event):
    """Followed in the same command by the ProductionReported that books the parts to the operation."""

    equipment: str
    work_order: str
    operation: int
    good: Decimal
    scrap: Decimal
    assigned_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionWrittenOff(EquipmentSubject, Event):
    equipment: str
    good: Decimal
    scrap: Decimal
    reason: str
    written_off_by: str
    at: datetime
