"""The sync protocol between an edge node and the central systems: versioned JSON messages, shared by both ends.

Version ``takt-sync/1``. JSON over HTTP(S); every request carries ``Authorization: Bearer <token>``, one
token per node. Request bodies may be gzip-compressed (``Content-Encoding: gzip``); the central side
answers in plain JSON. The routes, all under ``/sync/v1``:

``POST /nodes/{node}/events`` — **push**. An :class:`EventBatch` of the node's edge-origin journal events
after ``after`` up to and including ``through``. The central side stores the batch in one transaction,
deduplicating on (node, seq), and answers :class:`BatchAck` with ``acknowledged = through`` once the
batch is durable. A batch whose ``after`` lies beyond what the central side holds for the node (a gap)
is answered 409 with :class:`SyncRefusal` ``code = SEQUENCE_GAP`` and the central side's own
``acknowledged``; the node resends from there. A redelivered batch (the answer to the first delivery was
lost) is harmless: an event whose (node, seq) the central side already stored counts as a duplicate. (Not
every seq at or below ``acknowledged`` is stored: refused and held ones are not, until a retry sends them. A
central side that keeps no record of some events, such as an ERP adapter for events its ERP has no document for,
acknowledges them all the same and counts them in ``without_booking``, apart from ``stored``.)

An event the central side refuses for a business reason (unknown order, closed period) is not stored; it
comes back in ``rejected`` with a code and a message, and later events **of the same subject in the same
batch** come back in ``held``, not applied, so one subject's events are never applied out of order. The
node parks both as a sync exception for a supervisor, keeps their subject back from later batches until the
exception is retried or set aside, and goes on with every other subject. A retry sends the parked events
again (the central side never stored them, so their sequences are new to it); the batch then has
``redelivery = true`` and its ``after``/``through`` are not a cursor.

``GET /nodes/{node}/cursor`` — the central side's acknowledged sequence for the node (a node whose store
was restored from a backup asks before pushing).

``GET /nodes/{node}/changes?after=<cursor>&limit=<n>`` — **pull**. A :class:`ChangeFeed` of what the
central systems decided since ``after``: master data (ERP), items, BOM and routing revisions (PLM), bins,
users and roles, released/changed/cancelled work orders (ERP/MRP), dispatch lists per workstation (APS),
purchase orders with expected supplier lots (SRM), lots with their expiry (ERP), sales orders and customers
(CRM), inspection plans (QMS) and downtime reason trees (ERP/CMMS). Each :class:`Change` has a feed-wide increasing ``cursor``; the node applies them in cursor order as
ERP-origin commands, each under the idempotency key ``erp:<central id>:<cursor>``, and asks again after the
last one it applied. ``more`` says another page is waiting.

Versions: within ``takt-sync/1`` a message may gain fields, always optional, and **both ends ignore a field they
do not know**, so a node newer than its central side (or the other way round) keeps syncing; the node's journal
chain head and an event's ``recorded_by``/``on_behalf_of`` came that way. A change a receiver must understand to
stay correct gets a new protocol version instead.

Messages are named after ISA-95 objects: an event's ``message`` is the ISA-95 object it reports
(:data:`ISA95_MESSAGE`).

Serialised units: a unit that gets its serial at its first operation is reported as ``MaterialSubLot``
(``UnitSerialised``: item, serial, work order, GTIN where the serial is GS1 AI 21), the steps of its work instructions
and its operations as ``JobResponse`` (``StepRecorded`` with the instruction revision followed, ``UnitOperationCompleted``),
and each component fitted into it as ``MaterialActual`` (``UnitComponentFitted``: the component's lot and serial).
Work instructions come down as changes of kind ``work_instruction`` (PLM).

Shipments (CRM): a pallet (GS1 SSCC) packed at the edge is reported as ``MaterialSubLot`` (``PalletPacked``,
``PalletLotAdded``, ``PalletLotRemoved``); its shipment against a sales order as ``MaterialActual``: the stock leaving the shipping bin
(``StockMoved`` of kind ``ship``, one per lot, with ``sales_order`` and ``sscc``) and then ``PalletShipped``, whose
payload is a :class:`PalletShippedPayload` (the lots on the pallet and the sales order line each was shipped
against). The central side books the shipped quantity per sales order line; a ``PalletShipped`` for a sales order
it does not know is rejected ``UNKNOWN_SALES_ORDER``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.fields import Count, JournalSeq, LineNumber, Measure, OperationNumber, PlausibleBands, Quantity

PROTOCOL = "takt-sync/1"
PREFIX = "/sync/v1"

Code = Annotated[str, Field(min_length=1, max_length=200)]
# Every number of a message is bounded as the node's API bounds it (edge.fields): a sequence within BIGINT, decimals
# at 18 digits with 6 places, operation and line numbers 1..99999.
Seq = JournalSeq

# The ISA-95 object each edge event type reports to the central systems.
ISA95_MESSAGE: dict[str, str] = {
    "ProductionReported": "ProductionPerformance",
    "OperationStarted": "JobResponse",
    "OperationPaused": "JobResponse",
    "OperationResumed": "JobResponse",
    "OperationCompleted": "JobResponse",
    "WorkOrderCompleted": "JobResponse",
    "LabourClockedOn": "PersonnelActual",
    "LabourClockedOff": "PersonnelActual",
    "LotReceived": "MaterialLot",
    "LotStatusChanged": "MaterialLot",
    "LotDefined": "MaterialLot",
    "LotExpiryChanged": "MaterialLot",
    "StockMoved": "MaterialActual",
    "InspectionRecorded": "QualityTestResult",
    "NonconformanceRaised": "WorkAlert",
    "NonconformanceDispositioned": "WorkAlert",
    "DispositionProposed": "WorkAlert",  # the first of two signatures of a disposition
    "MachineStateChanged": "EquipmentState",
    "StopReasonGiven": "EquipmentState",
    "ReasonTreeDefined": "MasterData",  # a stop's reason, given at the terminal or re-classified afterwards
    "SpcRuleViolated": "WorkAlert",
    "WorkOrderCancelled": "JobResponse",
    "WorkOrderConflictResolved": "JobResponse",
    "WorkOrderQuantityChanged": "JobResponse",
    "UnassignedProductionRecorded": "ProductionPerformance",
    "UnassignedProductionAssigned": "ProductionPerformance",
    "UnassignedProductionWrittenOff": "ProductionPerformance",
    "InspectionTaskOpened": "WorkRequest",  # a lot or work order now waits for a quality test
    "SupplierLotVerdict": "SupplierLotVerdict",  # for the SRM's supplier quality (not an ISA-95 object proper)
    "FinalInspectionVerdict": "QualityTestResult",
    "InspectionOverdueFlagged": "WorkAlert",
    "ShiftOeeClosed": "KPIValue",  # ISO 22400 OEE of a workstation over a shift
    "ClockJumped": "WorkAlert",  # the node's wall clock jumped: times around it are on two time lines
    "PalletPacked": "MaterialSubLot",
    "PalletLotAdded": "MaterialSubLot",
    "PalletLotRemoved": "MaterialSubLot",
    "PalletShipped": "MaterialActual",
    "SetpointsDownloaded": "JobResponse",  # the parameters the machine was actually given (written, read back)
    "SetpointVarianceRecorded": "WorkAlert",  # a setpoint changed on the machine while the job ran (flagged)
    # an electronic signature over recorded events (ISA-95 Part 4's work record holds the signatures of records)
    "RecordsSigned": "WorkRecord",
    # maintenance (issue 20): requests and their work as B2MML's MaintenanceRequest, completed maintenance with its
    # labour and spare parts as MaintenanceResponse (the parts' stock moves are MaterialActual as ever)
    "MaintenanceRequested": "MaintenanceRequest",
    "MaintenanceNoteAdded": "MaintenanceRequest",
    "MaintenanceAccepted": "MaintenanceRequest",
    "MaintenanceWorkStarted": "MaintenanceRequest",
    "MaintenanceWorkStopped": "MaintenanceRequest",
    "MaintenancePartsIssued": "MaintenanceResponse",
    "MaintenanceCompleted": "MaintenanceResponse",
    # serialised units (issue 21): a unit is a MaterialSubLot of its order's output (its serial the sub-lot's ID),
    # its steps and operations the job's responses, its components what was consumed into it
    "UnitSerialised": "MaterialSubLot",
    "UnitOperationCompleted": "JobResponse",
    "StepRecorded": "JobResponse",
    "UnitComponentFitted": "MaterialActual",
    # rework and CAPA (edge.domain.contexts.capa)
    "ReworkOpened": "WorkRequest",  # rework operations on an order, or a rework order with its routing
    "ReworkVerdict": "QualityTestResult",  # the rework's re-inspection
    "SupplierReturnCreated": "SupplierReturn",  # for the SRM (not an ISA-95 object proper)
    "SubLotSplit": "MaterialSubLot",  # a sub-lot split off a lot under inspection (partial acceptance)
    "CapaOpened": "CorrectiveAction",  # CAPA records for the QMS (not ISA-95 objects proper)
    "CapaRootCauseRecorded": "CorrectiveAction",
    "CapaActionPlanned": "CorrectiveAction",
    "CapaActionCompleted": "CorrectiveAction",
    "CapaEffectivenessChecked": "CorrectiveAction",
    # outbound: a wave of customer-order picks released (its lots reserved) and picked (the stock itself moves in
    # StockMoved of kind pick), a pick found wrong, line-side replenishment asked and done (kind replenish)
    "WaveReleased": "WorkSchedule",
    "WavePicked": "WorkResponse",
    "PickCorrected": "WorkAlert",
    "LineSideBinDefined": "MasterData",
    "ReplenishmentRaised": "WorkRequest",
    "ReplenishmentDone": "WorkResponse",
}
OTHER_MESSAGE = "MasterData"  # edge-recorded definitions (items, bins, ...) when an admin made them locally


def isa95_message(event_type: str) -> str:
    return ISA95_MESSAGE.get(event_type, OTHER_MESSAGE)


class _Message(BaseModel):
    # fields a newer peer added are ignored, not refused (see "Versions" above)
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- push ----------------------------------------------------------------------------------------


class SyncEvent(_Message):
    """One journal event as the node recorded it."""

    seq: Seq = Field(description="the node's journal sequence number: gap-free per node, the deduplication key")
    event_id: str = Field(description="UUIDv7 of the event, unique across nodes")
    message: str = Field(description="the ISA-95 object this event reports, e.g. ProductionPerformance")
    type: str = Field(description="the edge event type, e.g. ProductionReported")
    subject: str = Field(description="what the event is about, e.g. work_order:WO-1; order is kept per subject")
    occurred_at: datetime
    recorded_at: datetime
    actor: str = Field(description="who the command was booked for (the operator, or the connector for a PLC signal)")
    device: str | None = Field(default=None, description="the terminal, handheld, scanner or PLC it came from")
    recorded_by: str | None = Field(default=None, description="the logged-on user or service account that sent the "
                                    "command, where it differs from nobody (absent from nodes before it was kept)")
    on_behalf_of: str | None = Field(default=None, description="the person a supervisor or a shared terminal booked "
                                     "for, when the sender booked for someone else")
    payload: dict[str, Any] = Field(description="the event's fields; quantities as decimal strings")


class ChainHead(_Message):
    """The node's journal hash chain (edge.store.chain) around a batch: the hash through ``after`` (what the last
    batch ended with) and through ``through``. The central side keeps the last head per node and refuses a batch
    whose chain does not continue from it (``CHAIN_BROKEN``): the node's journal was rewritten."""

    after_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="the chain hash through seq ``after``")
    through_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="the chain hash through seq ``through``")


class EventBatch(_Message):
    protocol: Literal["takt-sync/1"] = "takt-sync/1"
    node: Code
    after: Seq = Field(description="the highest sequence the node knows to be acknowledged")
    through: Seq = Field(description="the highest journal sequence this batch covers (ERP-origin events are not "
                                     "sent, so it may exceed the last event's seq)")
    redelivery: bool = Field(False, description="parked events sent again after a supervisor's retry")
    events: list[SyncEvent]
    chain: ChainHead | None = Field(default=None, description="the node's journal chain head (optional: a node before "
                                                              "the chain sends none)")
    journal_head: Seq | None = Field(default=None, description=(
        "the highest sequence in the node's journal when the batch was built (optional): the central side's plant "
        "view shows head - acknowledged as the node's backlog"))


class Rejection(_Message):
    seq: Seq
    code: str = Field(description="stable reason code, e.g. UNKNOWN_ORDER, PERIOD_CLOSED")
    message: str
    field: str | None = None


class BatchAck(_Message):
    protocol: Literal["takt-sync/1"] = "takt-sync/1"
    node: str
    acknowledged: Seq = Field(description="every event at or below this is durably stored, rejected or held")
    stored: JournalSeq
    duplicates: JournalSeq
    without_booking: JournalSeq = Field(default=0, description=(
        "acknowledged without a booking: events the central side has no record of its own for (an ERP adapter's "
        "events without a counterpart there); counted neither as stored nor as duplicates"))
    rejected: list[Rejection] = []
    held: list[Seq] = Field([], description="not applied: an earlier event of the same subject was rejected")


class Cursor(_Message):
    protocol: Literal["takt-sync/1"] = "takt-sync/1"
    node: str
    acknowledged: Seq


class SyncRefusal(_Message):
    """The body of a 4xx/5xx answer."""

    code: str
    message: str
    field: str | None = None
    acknowledged: Seq | None = None  # with SEQUENCE_GAP: resend after this


# --- pull: what the central systems decided ------------------------------------------------------


class ItemChange(_Message):
    item: Code
    description: str
    unit: Code
    revision: Code
    lot_controlled: bool = True
    gtin: str | None = None
    serialised: bool | None = None  # a serial per unit at the edge; None: the edge keeps what it has


class BinChange(_Message):
    bin: Code
    zone: Code
    capacity: Count | None = None
    allowed_items: list[Code] = []
    max_per_item: Quantity | None = Field(default=None, description="hard putaway rule: at most this much of "
                                                                         "any one item in the bin")
    lot_policy: Literal["mixed", "one_item", "one_lot"] = Field(
        default="mixed", description="hard putaway rule: what may share the bin (any stock, one item, one lot)")


class UserChange(_Message):
    user: Code
    name: str
    roles: list[str] = Field(min_length=1)
    language: Literal["en", "nl"] = "en"
    active: bool = True


# A production parameter's ID and value (the setpoints of an operation, as B2MML's ProductionParameter carries them).
ParameterId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^=\x00-\x20\x7f][^=\x00-\x1f\x7f]*$")]
ParameterValue = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class OperationChange(_Message):
    operation: OperationNumber
    description: str
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: Annotated[str | None, Field(max_length=200, pattern=r"^https?://",
                                                 description="PLM's work instruction (an http or https link)")] = None
    parameters: dict[ParameterId, ParameterValue] = Field(default_factory=dict, max_length=200, description=(
        "production parameters (setpoints) of the operation, ID → value: downloaded to its machine where the site "
        "maps them (connectivity.machines[].setpoints), over the site's recipe"))


class BomLineChange(_Message):
    line: LineNumber
    item: Code
    item_revision: Code
    quantity_per: Quantity


class WorkOrderChange(_Message):
    """A released, changed or cancelled work order (ERP/MRP)."""

    work_order: Code
    status: Literal["released", "changed", "cancelled"]
    item: Code
    item_revision: Code
    bom_revision: Code
    quantity: Quantity
    operations: list[OperationChange] = []
    bom: list[BomLineChange] = []
    due: date | None = None
    customer_order: str | None = None
    overproduction_tolerance_pct: Count = Decimal(0)


class BomRevisionChange(_Message):
    """A BOM revision published by PLM. ``effective``: for orders released from now on, or also for open orders
    whose material is not yet consumed."""

    item: Code
    bom_revision: Code
    lines: list[BomLineChange] = Field(min_length=1)
    effective: Literal["next_order", "immediately"] = "next_order"


class DispatchSlotChange(_Message):
    work_order: Code
    operation: OperationNumber


class DispatchListChange(_Message):
    workstation: Code
    sequence: list[DispatchSlotChange]


class ExpectedLotChange(_Message):
    supplier_lot: Code
    quantity: Quantity
    expiry: date | None = None


class PurchaseOrderLineChange(_Message):
    line: LineNumber
    item: Code
    quantity: Quantity
    due: date | None = None
    expected_lots: list[ExpectedLotChange] = []


class PurchaseOrderChange(_Message):
    purchase_order: Code
    supplier: Code
    status: Literal["open", "cancelled"] = "open"
    lines: list[PurchaseOrderLineChange] = Field(min_length=1)


class CustomerChange(_Message):
    customer: Code
    name: str


class SalesOrderLineChange(_Message):
    line: LineNumber
    item: Code
    quantity: Quantity
    due: date | None = None


class SalesOrderChange(_Message):
    sales_order: Code
    customer: Code
    status: Literal["open", "cancelled"] = "open"
    lines: list[SalesOrderLineChange] = Field(min_length=1)
    allow_substitution: bool = False  # the picker may take another lot of an item than the wave planned
    priority: int | None = Field(default=None, ge=1, le=999, description="1 = most urgent (waves by priority)")
    carrier: Code | None = Field(default=None, description="the carrier that collects the order")
    cutoff: datetime | None = Field(default=None, description="the carrier's cut-off for this order (waves by cut-off)")


class ShippedLinePayload(_Message):
    lot: Code
    item: Code
    quantity: Quantity
    line: LineNumber = Field(description="the sales order line it was shipped against")


class PalletShippedPayload(BaseModel):
    """The payload of a pushed ``PalletShipped`` event (message ``MaterialActual``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # a newer node may add fields
    sscc: str = Field(pattern=r"^[0-9]{18}$", description="the pallet's GS1 SSCC")
    sales_order: Code
    customer: Code
    bin: Code = Field(description="the shipping bin the pallet left from")
    lines: list[ShippedLinePayload] = Field(min_length=1)
    at: datetime


EVENT_PAYLOADS: dict[str, type[BaseModel]] = {"PalletShipped": PalletShippedPayload}


class CharacteristicChange(_Message):
    characteristic: Code
    kind: Literal["numeric", "attribute"]
    nominal: Measure | None = None
    lsl: Measure | None = None
    usl: Measure | None = None
    unit: str = ""


class InspectionPlanChange(_Message):
    plan: Code
    description: str
    characteristics: list[CharacteristicChange] = Field(min_length=1)
    item: str | None = None
    operation: OperationNumber | None = None
    hold_on_fail: bool = True
    spc_nonconformance: bool = False
    kind: Literal["general", "incoming", "in_process", "final"] = Field(default="general", description="incoming: lots received on a purchase order await it; in_process: every n parts or "
                               "minutes on the operation; final: a work order completes after it passed")
    supplier: str | None = Field(default=None, description="incoming: only lots of this supplier (None: any supplier)")
    sample_size: int | None = Field(default=None, ge=1, le=1_000_000, description="fixed sample size n (None: 1, or by lot size)")
    sample_by_lot_size: bool = Field(default=False, description="n by lot size, ISO 2859-1 general inspection level II")
    accept_number: int = Field(default=0, ge=0, le=1_000_000, description="the verdict passes with at most this many failed samples")
    every_n_parts: int | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after this many parts")
    every_minutes: int | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after this many minutes")
    flag_overdue: bool = Field(default=False, description="in_process: flag production beyond the grace while due")
    overdue_grace_parts: Count = Decimal(0)
    plausible_bands: PlausibleBands = Field(default=Decimal(10), description="a measurement more than this many "
                                            "tolerance bands beyond the limits is refused as implausible")


class LotChange(_Message):
    """A lot the ERP knows, with its expiry (Tryton's ``stock.lot`` with stock_lot_sled's expiration date): the
    node defines it without stock, or, knowing it, takes the new expiry."""

    lot: Code
    item: Code
    expiry: date | None = Field(None, description="the date after which the lot must not be used")
    supplier_lot: Code | None = None


class InstructionStepChange(_Message):
    step: int = Field(ge=1, le=200)
    kind: Literal["read", "check", "measure", "scan", "photo", "signoff"]
    texts: list[str] = Field(default_factory=list, description="'en=...', 'nl=...'")
    media: list[str] = Field(default_factory=list, description="'image:x.png', 'pdf:y.pdf#3' (the site's folder)")
    nominal: Measure | None = None
    lsl: Measure | None = None
    usl: Measure | None = None
    unit: str = ""
    expect: str | None = None
    component: str | None = None
    on_fail: Literal["block", "ncr"] = "block"
    plan: str | None = None
    characteristic: str | None = None


class WorkInstructionChange(_Message):
    """PLM's work instruction for an operation of an item, at its own revision, written for one item revision."""

    item: Code
    operation: OperationNumber
    revision: Code
    item_revision: Code
    title: str = ""
    steps: list[InstructionStepChange] = Field(min_length=1, max_length=200)


class ReasonChange(_Message):
    """A node of a downtime reason tree: a branch (with children) or a reason a stop is booked to (a leaf)."""

    code: Code
    text: dict[Literal["en", "nl"], Annotated[str, Field(max_length=200)]] = Field(
        description="the reason's text per language (en required)")
    children: list[ReasonChange] = []
    planned: bool = False
    loss: Literal["availability", "performance", "quality", "planned"] | None = Field(
        default=None, description="the OEE loss; default: planned for a planned reason, else availability")
    maintenance: bool = Field(default=False, description="a stop on this reason raises a maintenance request")
    plc_codes: list[int] = Field(default=[], description="the PLC's reason codes that mean this reason")


class ReasonTreeChange(_Message):
    """The downtime reasons of some workstations or of a machine class (ERP/CMMS): replaces a tree of that name."""

    name: Code
    workstations: list[Code] = []
    machine_class: Code | None = None
    reasons: list[ReasonChange] = Field(min_length=1)


ChangeKind = Literal["item", "bin", "user", "work_order", "bom_revision", "dispatch_list", "purchase_order",
                     "customer", "sales_order", "inspection_plan", "lot", "work_instruction",
                     "reason_tree"]

CHANGE_PAYLOADS: dict[str, type[_Message]] = {
    "item": ItemChange,
    "bin": BinChange,
    "user": UserChange,
    "work_order": WorkOrderChange,
    "bom_revision": BomRevisionChange,
    "dispatch_list": DispatchListChange,
    "purchase_order": PurchaseOrderChange,
    "customer": CustomerChange,
    "sales_order": SalesOrderChange,
    "inspection_plan": InspectionPlanChange,
    "lot": LotChange,
    "work_instruction": WorkInstructionChange,
    "reason_tree": ReasonTreeChange,
}


class Change(_Message):
    cursor: JournalSeq = Field(ge=1, description="feed-wide increasing position")
    kind: ChangeKind
    key: Code = Field(description="the changed thing's code (item, work order, workstation, ...)")
    source: Literal["ERP", "MRP", "APS", "PLM", "SRM", "CRM", "QMS"]
    at: datetime
    payload: dict[str, Any] = Field(description="the matching *Change model for the kind, as JSON")


class ChangeFeed(_Message):
    protocol: Literal["takt-sync/1"] = "takt-sync/1"
    node: str
    changes: list[Change]
    cursor: JournalSeq = Field(description="ask again with after=<this>")
    more: bool
