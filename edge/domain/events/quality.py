"""Events of quality: inspection plans, results, sampling tasks and their verdicts, overdue in-process inspections,
SPC signals, nonconformances and dispositions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import Event, WorkOrderSubject
from edge.domain.model import PLAUSIBLE_BANDS

__all__ = [
    "PlannedCharacteristic", "InspectionPlanDefined", "SpcRuleViolated", "MeasuredCharacteristic",
    "InspectionRecorded", "InspectionTaskOpened", "SupplierLotVerdict", "FinalInspectionVerdict",
    "InspectionOverdueFlagged", "NonconformanceRaised", "NonconformanceDispositioned", "DispositionProposed",
]


@dataclass(frozen=True, kw_only=True)
class PlannedCharacteristic:
    characteristic: str
    kind: str
    nominal: Decimal | None
    lsl: Decimal | None
    usl: Decimal | None
    unit: str


@dataclass(frozen=True, kw_only=True)
class InspectionPlanDefined(Event):
    plan: str
    description: str
    characteristics: tuple[PlannedCharacteristic, ...]
    item: str | None
    operation: int | None
    hold_on_fail: bool
    spc_nonconformance: bool = False
    kind: str = "general"
    supplier: str | None = None
    sample_size: int | None = None
    sample_by_lot_size: bool = False
    accept_number: int = 0
    every_n_parts: int | None = None
    every_minutes: int | None = None
    flag_overdue: bool = False
    overdue_grace_parts: Decimal = Decimal(0)
    plausible_bands: Decimal = PLAUSIBLE_BANDS  # plans defined before it was a setting: the default
    signed: bool = False  # its verdicts are electronically signed (plans before: not)

    @property
    def subject(self) -> str:
        return f"inspection_plan:{self.plan}"


@dataclass(frozen=True, kw_only=True)
class SpcRuleViolated(Event):
    """A result broke a Western Electric rule of its characteristic's control chart (limits from the baseline)."""

    plan: str
    characteristic: str
    inspection: str
    rule: int
    value: Decimal
    center: Decimal
    ucl: Decimal
    lcl: Decimal
    message: str
    work_order: str | None
    operation: int | None
    lot: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"inspection_plan:{self.plan}"


@dataclass(frozen=True, kw_only=True)
class MeasuredCharacteristic:
    characteristic: str
    value: Decimal | None
    passed: bool


@dataclass(frozen=True, kw_only=True)
class InspectionRecorded(Event):
    inspection: str
    plan: str
    lot: str | None
    work_order: str | None
    operation: int | None
    results: tuple[MeasuredCharacteristic, ...]
    passed: bool
    at: datetime
    task: str | None = None  # the incoming or final inspection task this result is a sample of

    @property
    def subject(self) -> str:
        return f"inspection:{self.inspection}"


@dataclass(frozen=True, kw_only=True)
class InspectionTaskOpened(Event):
    """A lot (incoming) or a work order (final) now waits for an inspection of ``sample_size`` samples."""

    task: str
    kind: str
    plan: str
    sample_size: int
    lot: str | None
    work_order: str | None
    supplier: str | None
    supplier_lot: str | None
    purchase_order: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"inspection_task:{self.task}"


@dataclass(frozen=True, kw_only=True)
class SupplierLotVerdict(Event):
    """The verdict of the incoming inspection of a supplier lot (for the SRM's supplier quality): ``accepted`` or
    ``rejected`` after ``samples`` samples of which ``failed`` failed."""

    task: str
    plan: str
    lot: str
    item: str
    supplier: str
    supplier_lot: str | None
    purchase_order: str | None
    po_line: int | None
    quantity: Decimal
    verdict: str  # accepted | rejected
    samples: int
    failed: int
    ncr: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"lot:{self.lot}"


@dataclass(frozen=True, kw_only=True)
class FinalInspectionVerdict(WorkOrderSubject, Event):
    """The verdict of a work order's final inspection: ``passed`` or ``failed``."""

    task: str
    plan: str
    work_order: str
    verdict: str  # passed | failed
    samples: int
    failed: int
    ncr: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class InspectionOverdueFlagged(WorkOrderSubject, Event):
    """Production went on past the grace while an in-process inspection was due on the operation."""

    plan: str
    work_order: str
    operation: int
    workstation: str
    reason: str  # count | time
    parts_since: Decimal
    overdue_parts: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class NonconformanceRaised(Event):
    ncr: str
    lot: str | None
    work_order: str | None
    description: str
    raised_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"


@dataclass(frozen=True, kw_only=True)
class NonconformanceDispositioned(Event):
    ncr: str
    disposition: str
    comment: str
    dispositioned_by: str
    at: datetime
    # A disposition that needs two signatures (edge.domain.duties): dispositioned_by proposed it, this one signed it.
    countersigned_by: str | None = None

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"


@dataclass(frozen=True, kw_only=True)
class DispositionProposed(Event):
    """The first signature of a disposition that needs two (edge.domain.duties): the NCR stays open until another
    signer signs the same disposition."""

    ncr: str
    disposition: str
    comment: str
    proposed_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"
