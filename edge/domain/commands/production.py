"""Commands of production and labour: operations started, paused, resumed and completed, parts reported (also a
machine's parts no order was running for), and operators clocked on and off.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from edge.domain.commands.base import Command

__all__ = [
    "StartOperation", "PauseOperation", "ResumeOperation", "CompleteOperation", "ReportProduction",
    "RecordUnassignedProduction", "AssignProduction", "WriteOffUnassignedProduction", "ClockOnLabour",
    "ClockOffLabour",
]


@dataclass(frozen=True, kw_only=True)
class StartOperation(Command):
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class PauseOperation(Command):
    work_order: str
    operation: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResumeOperation(Command):
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class CompleteOperation(Command):
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class ReportProduction(Command):
    work_order: str
    operation: int
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)
    scrap_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordUnassignedProduction(Command):
    """Parts a machine counted that no running operation can take (the PLC counts whether or not an order was
    started): kept against the machine, never dropped."""

    equipment: str
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)
    scrap_reason: str | None = None
    note: str | None = None  # why they could not be booked (e.g. no operation in progress)


@dataclass(frozen=True, kw_only=True)
class AssignProduction(Command):
    """A supervisor books a machine's unassigned parts to an operation that ran on its workstation."""

    equipment: str
    work_order: str
    operation: int
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class WriteOffUnassignedProduction(Command):
    """A supervisor closes a machine's unassigned parts without an order (setup parts, a test run), saying why."""

    equipment: str
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ClockOnLabour(Command):
    operator: str
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class ClockOffLabour(Command):
    operator: str
    work_order: str
    operation: int
