"""Events: facts the node recorded. Appended to the journal; the current state is their projection.

An event holds every value ``evolve`` needs, so replaying the journal alone rebuilds the state.
``subject`` names the thing the event is about (``lot:L123``), which the sync uses to keep
per-subject order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, kw_only=True)
class Event:
    @property
    def subject(self) -> str:  # pragma: no cover - every event overrides
        raise NotImplementedError


class _LotSubject:
    lot: str

    @property
    def subject(self) -> str:
        return f"lot:{self.lot}"


class _WorkOrderSubject:
    work_order: str

    @property
    def subject(self) -> str:
        return f"work_order:{self.work_order}"


# --- master data ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ItemDefined(Event):
    item: str
    description: str
    unit: str
    revision: str
    lot_controlled: bool
    gtin: str | None = None

    @property
    def subject(self) -> str:
        return f"item:{self.item}"


@dataclass(frozen=True, kw_only=True)
class BinDefined(Event):
    bin: str
    zone: str
    capacity: Decimal | None
    allowed_items: tuple[str, ...]
    walk_sequence: int | None = None
    max_per_item: Decimal | None = None
    lot_policy: str = "mixed"

    @property
    def subject(self) -> str:
        return f"bin:{self.bin}"


@dataclass(frozen=True, kw_only=True)
class EquipmentDefined(Event):
    equipment: str
    workstation: str
    description: str

    @property
    def subject(self) -> str:
        return f"equipment:{self.equipment}"


@dataclass(frozen=True, kw_only=True)
class ReleasedOperation:
    operation: int
    description: str
    workstation: str
    standard_minutes: Decimal
    instruction_url: str | None = None  # PLM's work instruction


@dataclass(frozen=True, kw_only=True)
class ReleasedBomLine:
    line: int
    item: str
    item_revision: str
    quantity_per: Decimal


@dataclass(frozen=True, kw_only=True)
class WorkOrderReleased(_WorkOrderSubject, Event):
    work_order: str
    item: str
    item_revision: str
    bom_revision: str
    quantity: Decimal
    operations: tuple[ReleasedOperation, ...]
    bom: tuple[ReleasedBomLine, ...]
    overproduction_tolerance_pct: Decimal
    due: date | None
    customer_order: str | None


@dataclass(frozen=True, kw_only=True)
class WorkOrderChanged(_WorkOrderSubject, Event):
    """The ERP's new content of an order nothing was started on: operations and BOM lines are replaced."""

    work_order: str
    item_revision: str
    bom_revision: str
    quantity: Decimal
    operations: tuple[ReleasedOperation, ...]
    bom: tuple[ReleasedBomLine, ...]
    overproduction_tolerance_pct: Decimal
    due: date | None
    customer_order: str | None


@dataclass(frozen=True, kw_only=True)
class WorkOrderCancelled(_WorkOrderSubject, Event):
    work_order: str
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderConflictFlagged(_WorkOrderSubject, Event):
    work_order: str
    change: str  # changed | cancelled
    detail: str
    proposed_quantity: Decimal | None
    proposed_due: date | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderConflictResolved(_WorkOrderSubject, Event):
    work_order: str
    resolution: str  # accepted | kept
    note: str
    resolved_by: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderQuantityChanged(_WorkOrderSubject, Event):
    """A supervisor accepted the ERP's new quantity and due date for an order already in progress."""

    work_order: str
    quantity: Decimal
    due: date | None


@dataclass(frozen=True, kw_only=True)
class BomRevisionPublished(Event):
    item: str
    bom_revision: str
    lines: tuple[ReleasedBomLine, ...]
    effective: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"bom:{self.item}"


@dataclass(frozen=True, kw_only=True)
class WorkOrderBomRevised(_WorkOrderSubject, Event):
    """An open order takes a BOM revision published ``immediately``: lines with consumption stay as they were,
    the others become the new revision's (``removed``: line numbers that the new revision drops)."""

    work_order: str
    bom_revision: str
    lines: tuple[ReleasedBomLine, ...]
    removed: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class ExpectedSupplierLot:
    supplier_lot: str
    quantity: Decimal
    expiry: date | None


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderLineDefined:
    line: int
    item: str
    quantity: Decimal
    due: date | None
    expected_lots: tuple[ExpectedSupplierLot, ...]


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderDefined(Event):
    purchase_order: str
    supplier: str
    status: str
    lines: tuple[PurchaseOrderLineDefined, ...]

    @property
    def subject(self) -> str:
        return f"purchase_order:{self.purchase_order}"


@dataclass(frozen=True, kw_only=True)
class CustomerDefined(Event):
    customer: str
    name: str

    @property
    def subject(self) -> str:
        return f"customer:{self.customer}"


@dataclass(frozen=True, kw_only=True)
class SalesOrderLineDefined:
    line: int
    item: str
    quantity: Decimal
    due: date | None


@dataclass(frozen=True, kw_only=True)
class SalesOrderDefined(Event):
    sales_order: str
    customer: str
    status: str
    lines: tuple[SalesOrderLineDefined, ...]

    @property
    def subject(self) -> str:
        return f"sales_order:{self.sales_order}"


@dataclass(frozen=True, kw_only=True)
class DispatchedOperation:
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class DispatchListSet(Event):
    workstation: str
    sequence: tuple[DispatchedOperation, ...]

    @property
    def subject(self) -> str:
        return f"workstation:{self.workstation}"


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


# --- work orders and labour ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OperationStarted(_WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationPaused(_WorkOrderSubject, Event):
    work_order: str
    operation: int
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationResumed(_WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperationCompleted(_WorkOrderSubject, Event):
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderCompleted(_WorkOrderSubject, Event):
    work_order: str
    good: Decimal
    scrap: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ProductionReported(_WorkOrderSubject, Event):
    work_order: str
    operation: int
    workstation: str
    good: Decimal
    scrap: Decimal
    scrap_reason: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LabourClockedOn(_WorkOrderSubject, Event):
    operator: str
    work_order: str
    operation: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LabourClockedOff(_WorkOrderSubject, Event):
    operator: str
    work_order: str
    operation: int
    since: datetime
    at: datetime
    minutes: Decimal  # the time really worked: the node's clock jumps within since..at taken out
    # The node's clock jumped (seconds, + ahead, - back) between since and at: ``at - since`` is off by that much,
    # ``minutes`` is not. None: no jump (old events have no such field).
    clock_jump_s: Decimal | None = None


# --- inventory -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LotReceived(_LotSubject, Event):
    lot: str
    item: str
    item_revision: str
    quantity: Decimal
    bin: str
    expiry: date | None
    supplier_lot: str | None
    status: str
    at: datetime
    purchase_order: str | None = None  # received against this purchase order line
    po_line: int | None = None
    work_order: str | None = None  # the order whose output this lot is


@dataclass(frozen=True, kw_only=True)
class LotDefined(_LotSubject, Event):
    """A lot known before any of it is here (from the ERP): no stock, status available until received."""

    lot: str
    item: str
    item_revision: str
    expiry: date | None
    supplier_lot: str | None


@dataclass(frozen=True, kw_only=True)
class LotExpiryChanged(_LotSubject, Event):
    """The expiry of a known lot changed (the ERP shortened or extended its shelf life); ``quantity``: the lot's
    stock here when it changed."""

    lot: str
    item: str
    expiry: date | None
    previous: date | None
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class CountAwaitsApproval(_LotSubject, Event):
    """A count whose variance is above the approval threshold: nothing booked until a supervisor decides."""

    lot: str
    bin: str
    counted: Decimal
    expected: Decimal
    reason: str
    counted_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CountDecided(_LotSubject, Event):
    lot: str
    bin: str
    approved: bool
    note: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class StockMoved(_LotSubject, Event):
    """Stock of a lot left ``from_bin`` and/or arrived in ``to_bin``.

    ``kind`` is one of move, putaway, pick (kitting), issue, return, adjust, scrap, return_to_supplier. ``from_bin``
    is None when stock appears (a positive adjustment, a return from a work order) and ``to_bin``
    None when it leaves the store (an issue, scrap, a negative adjustment). ``lot_quantity_delta``
    is the change to the lot's total.
    """

    lot: str
    item: str
    kind: str
    from_bin: str | None
    to_bin: str | None
    quantity: Decimal
    lot_quantity_delta: Decimal
    work_order: str | None
    bom_line: int | None
    reason: str | None
    at: datetime
    serial: str | None = None  # the serialised unit issued or returned
    suggested_bin: str | None = None  # a putaway: the bin the rules suggested first (edge.domain.putaway)
    override_reason: str | None = None  # a putaway to another bin than suggested: why
    sales_order: str | None = None  # a shipment: the sales order it was shipped against
    sscc: str | None = None  # a shipment: the pallet (GS1 SSCC) the stock left on


class _PalletSubject:
    sscc: str

    @property
    def subject(self) -> str:
        return f"pallet:{self.sscc}"


@dataclass(frozen=True, kw_only=True)
class PalletContent:
    lot: str
    item: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class PalletPacked(_PalletSubject, Event):
    """A pallet (GS1 SSCC) packed in ``bin`` with quantities of lots in stock there. The stock stays in the bin
    until the pallet is shipped."""

    sscc: str
    bin: str
    lines: tuple[PalletContent, ...]
    packed_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class PalletLotAdded(_PalletSubject, Event):
    sscc: str
    lot: str
    item: str
    quantity: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class PalletLotRemoved(_PalletSubject, Event):
    """Stock of a lot taken off an open pallet (it stays in the bin, free again)."""

    sscc: str
    lot: str
    item: str
    quantity: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShippedLine:
    lot: str
    item: str
    quantity: Decimal
    line: int  # the sales order line it was shipped against


@dataclass(frozen=True, kw_only=True)
class PalletShipped(_PalletSubject, Event):
    """A pallet left for a customer against a sales order (its stock left the bin in StockMoved events of kind
    ship, recorded just before this one)."""

    sscc: str
    sales_order: str
    customer: str
    bin: str
    lines: tuple[ShippedLine, ...]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShortPickRecorded(_WorkOrderSubject, Event):
    """Kitting found less of a lot in a bin than the pick list asked for (the stock that was found moved in a
    StockMoved of kind pick)."""

    work_order: str
    bom_line: int
    item: str
    lot: str
    bin: str
    asked: Decimal
    picked: Decimal
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LotStatusChanged(_LotSubject, Event):
    lot: str
    status: str
    previous: str
    reason: str
    ncr: str | None


# --- quality -------------------------------------------------------------------------------------


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
class FinalInspectionVerdict(_WorkOrderSubject, Event):
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
class InspectionOverdueFlagged(_WorkOrderSubject, Event):
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

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"


# --- machines ------------------------------------------------------------------------------------


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


class _EquipmentSubject:
    equipment: str

    @property
    def subject(self) -> str:
        return f"equipment:{self.equipment}"


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionRecorded(_EquipmentSubject, Event):
    equipment: str
    workstation: str
    good: Decimal
    scrap: Decimal
    scrap_reason: str | None
    note: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionAssigned(_EquipmentSubject, Event):
    """Followed in the same command by the ProductionReported that books the parts to the operation."""

    equipment: str
    work_order: str
    operation: int
    good: Decimal
    scrap: Decimal
    assigned_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class UnassignedProductionWrittenOff(_EquipmentSubject, Event):
    equipment: str
    good: Decimal
    scrap: Decimal
    reason: str
    written_off_by: str
    at: datetime


# --- the node ------------------------------------------------------------------------------------


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


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ItemDefined, BinDefined, EquipmentDefined, WorkOrderReleased, DispatchListSet,
        InspectionPlanDefined, OperationStarted, OperationPaused, OperationResumed,
        OperationCompleted, WorkOrderCompleted, ProductionReported, LabourClockedOn,
        LabourClockedOff, LotReceived, StockMoved, LotStatusChanged, InspectionRecorded,
        NonconformanceRaised, NonconformanceDispositioned, MachineStateChanged,
        WorkOrderChanged, WorkOrderCancelled, WorkOrderConflictFlagged, WorkOrderConflictResolved,
        WorkOrderQuantityChanged, BomRevisionPublished, WorkOrderBomRevised, PurchaseOrderDefined, CustomerDefined,
        SalesOrderDefined, SpcRuleViolated, ShortPickRecorded, CountAwaitsApproval, CountDecided, ClockJumped,
        UnassignedProductionRecorded, UnassignedProductionAssigned, UnassignedProductionWrittenOff,
        InspectionTaskOpened, SupplierLotVerdict, FinalInspectionVerdict, InspectionOverdueFlagged, ShiftOeeClosed,
        PalletPacked, PalletLotAdded, PalletLotRemoved, PalletShipped,
        LotDefined, LotExpiryChanged,
    )
}
