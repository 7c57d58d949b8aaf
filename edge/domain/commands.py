"""Commands: what someone or something asks the node to do. Every input becomes one of these.

Each command carries its idempotency key and who asked (``actor`` with ``actor_roles``, and the
``source_device``). ``origin`` is ``edge`` for plant input and ``erp`` for changes downloaded from
the central systems (those are journaled but never pushed back).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from edge.domain.putaway import PutawayRule

Origin = Literal["edge", "erp"]


@dataclass(frozen=True, kw_only=True)
class Command:
    idempotency_key: str
    actor: str
    actor_roles: frozenset[str] = frozenset()
    source_device: str | None = None
    origin: Origin = "edge"
    occurred_at: datetime | None = None


# --- master data (from the ERP / PLM, or the site configuration) ------------------------------


@dataclass(frozen=True, kw_only=True)
class DefineItem(Command):
    item: str
    description: str
    unit: str
    revision: str
    lot_controlled: bool = True
    gtin: str | None = None


@dataclass(frozen=True, kw_only=True)
class DefineBin(Command):
    bin: str
    zone: str
    capacity: Decimal | None = None
    allowed_items: tuple[str, ...] = ()
    # Where the bin comes on a picker's walk. Left out of the repr, so the fingerprint of a bin defined before bins
    # had it is unchanged (see OperationSpec.instruction_url).
    walk_sequence: int | None = field(default=None, repr=False)
    max_per_item: Decimal | None = field(default=None, repr=False)  # hard putaway rules (edge.domain.putaway)
    lot_policy: str = field(default="mixed", repr=False)  # mixed | one_item | one_lot


@dataclass(frozen=True, kw_only=True)
class DefineEquipment(Command):
    equipment: str
    workstation: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class OperationSpec:
    operation: int
    description: str
    workstation: str
    standard_minutes: Decimal = Decimal(0)
    # PLM's work instruction for the operation. Left out of the repr, so the fingerprint of an order released
    # before operations had it is unchanged (a retry of that key is still the same command).
    instruction_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class BomLineSpec:
    line: int
    item: str
    item_revision: str
    quantity_per: Decimal


@dataclass(frozen=True, kw_only=True)
class ReleaseWorkOrder(Command):
    work_order: str
    item: str
    item_revision: str
    bom_revision: str
    quantity: Decimal
    operations: tuple[OperationSpec, ...]
    bom: tuple[BomLineSpec, ...] = ()
    overproduction_tolerance_pct: Decimal = Decimal(0)
    due: date | None = None
    customer_order: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeWorkOrder(Command):
    """The ERP changed a released work order. Applied while nothing was started; flagged as a conflict after."""

    work_order: str
    item_revision: str
    bom_revision: str
    quantity: Decimal
    operations: tuple[OperationSpec, ...]
    bom: tuple[BomLineSpec, ...] = ()
    overproduction_tolerance_pct: Decimal = Decimal(0)
    due: date | None = None
    customer_order: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelWorkOrder(Command):
    """From the ERP: cancelled there (a conflict if started here). From a supervisor: cancel it here."""

    work_order: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResolveWorkOrderConflict(Command):
    """A supervisor's answer to a central change that came while the order ran: ``accept`` applies what can
    still be applied (cancel it; or take the new quantity and due date), ``keep`` leaves the order as it is."""

    work_order: str
    resolution: Literal["accept", "keep"]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PublishBomRevision(Command):
    """PLM published a BOM revision of ``item``: for orders released from now on (``next_order``), or
    ``immediately`` also for the open orders of the item, on the lines not consumed yet."""

    item: str
    bom_revision: str
    lines: tuple[BomLineSpec, ...]
    effective: Literal["next_order", "immediately"] = "next_order"


@dataclass(frozen=True, kw_only=True)
class ExpectedLotSpec:
    supplier_lot: str
    quantity: Decimal
    expiry: date | None = None


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderLineSpec:
    line: int
    item: str
    quantity: Decimal
    due: date | None = None
    expected_lots: tuple[ExpectedLotSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DefinePurchaseOrder(Command):
    purchase_order: str
    supplier: str
    lines: tuple[PurchaseOrderLineSpec, ...]
    status: Literal["open", "cancelled"] = "open"


@dataclass(frozen=True, kw_only=True)
class DefineCustomer(Command):
    customer: str
    name: str


@dataclass(frozen=True, kw_only=True)
class SalesOrderLineSpec:
    line: int
    item: str
    quantity: Decimal
    due: date | None = None


@dataclass(frozen=True, kw_only=True)
class DefineSalesOrder(Command):
    sales_order: str
    customer: str
    lines: tuple[SalesOrderLineSpec, ...]
    status: Literal["open", "cancelled"] = "open"


@dataclass(frozen=True, kw_only=True)
class DispatchSlot:
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class SetDispatchList(Command):
    workstation: str
    sequence: tuple[DispatchSlot, ...]


@dataclass(frozen=True, kw_only=True)
class CharacteristicSpec:
    characteristic: str
    kind: Literal["numeric", "attribute"]
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: str = ""


@dataclass(frozen=True, kw_only=True)
class DefineInspectionPlan(Command):
    plan: str
    description: str
    characteristics: tuple[CharacteristicSpec, ...]
    item: str | None = None
    operation: int | None = None
    hold_on_fail: bool = True
    # An SPC rule violation (Western Electric) on a numeric characteristic raises a nonconformance. Left out of the
    # repr, so plans defined before keep their keys' fingerprints.
    spc_nonconformance: bool = field(default=False, repr=False)
    # Sampling (edge.domain.sampling); all left out of the repr like spc_nonconformance.
    kind: Literal["general", "incoming", "in_process", "final"] = field(default="general", repr=False)
    supplier: str | None = field(default=None, repr=False)
    sample_size: int | None = field(default=None, repr=False)
    sample_by_lot_size: bool = field(default=False, repr=False)
    accept_number: int = field(default=0, repr=False)
    every_n_parts: int | None = field(default=None, repr=False)
    every_minutes: int | None = field(default=None, repr=False)
    flag_overdue: bool = field(default=False, repr=False)
    overdue_grace_parts: Decimal = field(default=Decimal(0), repr=False)


# --- work orders and labour ----------------------------------------------------------------------


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


# --- inventory -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReceiveLot(Command):
    """A lot into a bin. The item is named by its code, or by its GTIN (a scanned GS1 label), or both (they must
    agree)."""

    lot: str
    item: str | None
    item_revision: str | None
    quantity: Decimal
    bin: str
    expiry: date | None = None
    supplier_lot: str | None = None
    quarantine: bool = False
    gtin: str | None = None
    # Stock on hand at go-live (the ERP's stock list): inspected before it came here, so an incoming plan of the item
    # opens no inspection for it, unless it is entered in quarantine. A plain receipt (False) of an item with an
    # incoming plan that names no supplier goes to quarantine with an incoming inspection task.
    opening_stock: bool = field(default=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class DefineLot(Command):
    """A lot the ERP knows (Tryton's ``stock.lot`` with its expiry): the node learns its item and expiry before
    any of it arrives, so a receipt of it takes that expiry and consumption refuses it once expired. No stock.
    A lot already known keeps its stock and gets the expiry (an expiry change is an event of its own)."""

    lot: str
    item: str
    expiry: date | None = None
    supplier_lot: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReceiveProducedLot(Command):
    """A work order's good output put into stock as a lot: its item and revision are the order's. No more than
    the order reported good and did not put into stock yet."""

    work_order: str
    lot: str
    quantity: Decimal
    bin: str
    expiry: date | None = None


@dataclass(frozen=True, kw_only=True)
class ReceiveAgainstPurchaseOrder(Command):
    """Receive a lot delivered on a purchase order: on ``line``, or (None) on the open line of the lot's item.
    The item comes from the line, or from the label's GTIN; more than the line still expects is refused."""

    purchase_order: str
    line: int | None
    lot: str
    quantity: Decimal
    bin: str
    item: str | None = None
    gtin: str | None = None
    expiry: date | None = None
    supplier_lot: str | None = None
    quarantine: bool = False


@dataclass(frozen=True, kw_only=True)
class MoveStock(Command):
    """A bin-to-bin move. ``putaway`` marks the first move out of a receiving area. Without a ``quantity`` (a
    scanned label that carries none) the lot's whole stock in ``from_bin`` moves, as it is when the move is decided."""

    lot: str
    from_bin: str
    to_bin: str
    quantity: Decimal | None
    putaway: bool = False
    reason: str | None = None
    gtin: str | None = None  # the GTIN on the scanned label: it must be the lot's item's
    # A putaway to another bin than the first suggestion needs this (edge.domain.putaway); the event keeps it.
    override_reason: str | None = field(default=None, repr=False)
    # The site's putaway rules, given by the node (a setting, not part of what was asked). None: the suggestion is
    # not checked (a device path that cannot ask for a reason).
    putaway_rules: tuple[PutawayRule, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class PalletLineSpec:
    lot: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class PackPallet(Command):
    """Pack lots (quantities of their stock in ``bin``) onto a new pallet. Without ``sscc`` the node gives the next
    SSCC of its sequence: ``extension_digit`` + ``company_prefix`` (the site's, given by the node) + serial reference
    + check digit; with one (a pre-printed label) that SSCC is checked and used."""

    bin: str
    lines: tuple[PalletLineSpec, ...]
    sscc: str | None = None
    company_prefix: str | None = field(default=None, repr=False)  # a setting, not part of what was asked
    extension_digit: int = field(default=0, repr=False)


@dataclass(frozen=True, kw_only=True)
class AddToPallet(Command):
    """Add ``quantity`` of a lot's stock in the pallet's bin to an open pallet."""

    sscc: str
    lot: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class RemoveFromPallet(Command):
    """Take ``quantity`` of a lot off an open pallet: the stock stays in the bin, free to move again."""

    sscc: str
    lot: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class ShipPallet(Command):
    """Ship a packed pallet against a sales order: its stock leaves the bin and the order's lines of the pallet's
    items are shipped that much more."""

    sscc: str
    sales_order: str


@dataclass(frozen=True, kw_only=True)
class PickForKitting(Command):
    """A pick of a work order's pick list: ``quantity`` of a lot taken from ``from_bin`` to the order's staging
    (line-side) bin ``to_bin``, where ``asked`` was asked. Less than asked is a short pick and needs
    ``short_reason``; nothing found at all is a pick of 0."""

    work_order: str
    lot: str
    from_bin: str
    to_bin: str
    quantity: Decimal
    asked: Decimal
    short_reason: str | None = None
    gtin: str | None = None  # the GTIN on the scanned label: it must be the lot's item's


@dataclass(frozen=True, kw_only=True)
class IssueToWorkOrder(Command):
    """Material consumption: a lot from a bin issued against a BOM line of a work order."""

    work_order: str
    lot: str
    bin: str
    quantity: Decimal
    serial: str | None = None  # a serialised unit (GS1 AI 21): issued once
    gtin: str | None = None  # the GTIN on the scanned label: it must be the lot's item's


@dataclass(frozen=True, kw_only=True)
class ReturnFromWorkOrder(Command):
    work_order: str
    lot: str
    bin: str
    quantity: Decimal
    serial: str | None = None


@dataclass(frozen=True, kw_only=True)
class AdjustStock(Command):
    """A counted correction: ``counted`` is what is really in the bin now. A variance above ``approval_pct`` of the
    bin's stock (the site's setting, given by the node) waits for a supervisor unless a supervisor counted."""

    lot: str
    bin: str
    counted: Decimal
    reason: str
    approval_pct: Decimal | None = field(default=None, repr=False)  # a setting, not part of what was asked


@dataclass(frozen=True, kw_only=True)
class DecideCount(Command):
    """A supervisor's decision on a count that waits for approval: ``approve`` books it, else it is discarded."""

    lot: str
    bin: str
    approve: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ScrapStock(Command):
    lot: str
    bin: str
    quantity: Decimal
    reason: str


@dataclass(frozen=True, kw_only=True)
class HoldLot(Command):
    lot: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReleaseLot(Command):
    lot: str
    reason: str


# --- quality -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Measurement:
    characteristic: str
    value: Decimal | None = None
    passed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class RecordInspection(Command):
    inspection: str
    plan: str
    measurements: tuple[Measurement, ...]
    lot: str | None = None
    work_order: str | None = None
    operation: int | None = None


@dataclass(frozen=True, kw_only=True)
class RaiseNonconformance(Command):
    ncr: str
    description: str
    lot: str | None = None
    work_order: str | None = None
    hold_lot: bool = True


@dataclass(frozen=True, kw_only=True)
class DispositionNonconformance(Command):
    ncr: str
    disposition: Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
    comment: str = ""


# --- machines ------------------------------------------------------------------------------------


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


# --- the node ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordClockJump(Command):
    """The node found its wall clock jumped (``edge.clock.ClockWatch``): record it in the journal."""

    jump_s: Decimal
    wall_before: datetime
    wall_after: datetime
