"""Entities of the plant's current state: flat dataclasses, one per row of a current-state table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, localcontext
from typing import Literal, get_args

LotStatus = Literal["available", "hold", "quarantine", "consumed"]
LOT_STATUSES: tuple[str, ...] = ("available", "hold", "quarantine", "consumed")

OperationStatus = Literal["released", "in_progress", "paused", "completed"]
WorkOrderStatus = Literal["released", "in_progress", "paused", "completed"]

# ``maintenance``: a technician works on the machine (edge.domain.contexts.maintenance); planned downtime in OEE.
MachineStateName = Literal["running", "idle", "down", "setup", "offline", "maintenance"]
MACHINE_STATES: tuple[str, ...] = ("running", "idle", "down", "setup", "offline", "maintenance")

CharacteristicKind = Literal["numeric", "attribute"]
Disposition = Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
DISPOSITIONS: tuple[str, ...] = ("scrap", "rework", "use_as_is", "return_to_supplier")
# How many tolerance bands beyond its limits a measurement may lie before it is refused as implausible, unless a
# plan says otherwise. Ten: a part that is really out of tolerance lies within a few bands of its limits (a worn
# tool, a wrong offset), while the typing slips a plausibility check is for land far beyond ten: a slipped decimal
# point moves a value by 9/10 of itself and a wrong unit (mm for um) by 999/1000, and a value is many bands large
# (25.00 +/- 0.05 is 250 bands), so either lands hundreds of bands out. A plan whose limits are far from its
# usual values (one-sided limits) raises it, up to 1000.
PLAUSIBLE_BANDS = Decimal(10)

# maintenance: the maintenance technician (accepts, works and closes maintenance requests, issues spare parts).
Role = Literal["operator", "warehouse", "quality", "supervisor", "admin", "service", "maintenance"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(slots=True)
class Item:
    item: str
    description: str
    unit: str
    revision: str
    lot_controlled: bool = True
    gtin: str | None = None  # GS1 trade item number (GTIN-8/12/13/14) as given; labels' AI 01 names the item by it
    serialised: bool = False  # each unit gets its own serial at the first operation (edge.domain.contexts.units)


@dataclass(slots=True)
class Bin:
    bin: str
    zone: str
    capacity: Decimal | None = None
    # Comma-free item codes; empty means any item may be stored.
    allowed_items: tuple[str, ...] = ()
    walk_sequence: int | None = None  # where the bin comes on a picker's walk (low first); None: after the others
    max_per_item: Decimal | None = None  # at most this much of any one item in the bin (edge.domain.putaway)
    lot_policy: str = "mixed"  # mixed | one_item | one_lot (edge.domain.putaway)


@dataclass(slots=True)
class Equipment:
    equipment: str
    workstation: str
    description: str = ""


@dataclass(slots=True)
class Lot:
    lot: str
    item: str
    item_revision: str
    quantity: Decimal
    status: str
    expiry: date | None = None
    supplier_lot: str | None = None
    # The status to go back to when a hold is released (hold over quarantine keeps quarantine), or, for a
    # consumed lot, when stock of it turns up again (an emptied lot on hold or in quarantine stays so).
    status_before_hold: str | None = None
    work_order: str | None = None  # the work order that produced this lot (its output), for genealogy


@dataclass(slots=True)
class Stock:
    lot: str
    bin: str
    quantity: Decimal


@dataclass(slots=True)
class StagedStock:
    """Stock of a lot in a (staging) bin that kitting picked for a work order and that is not issued yet: it is
    that order's, and no other order's pick list counts it."""

    work_order: str
    lot: str
    bin: str
    quantity: Decimal


@dataclass(slots=True)
class WorkOrder:
    work_order: str
    item: str
    item_revision: str
    bom_revision: str
    quantity: Decimal
    status: str
    good: Decimal
    scrap: Decimal
    overproduction_tolerance_pct: Decimal = Decimal(0)
    due: date | None = None
    customer_order: str | None = None
    output_received: Decimal = Decimal(0)  # good output put into stock as lots so far


@dataclass(slots=True)
class Operation:
    work_order: str
    operation: int
    description: str
    workstation: str
    status: str
    good: Decimal
    scrap: Decimal
    standard_minutes: Decimal = Decimal(0)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    pause_reason: str | None = None
    instruction_url: str | None = None  # PLM's work instruction for this operation
    segment: str | None = None  # B2MML: the SegmentRequirement IDs it comes from, outermost first, "/"-joined
    parameters: tuple[str, ...] = ()  # production parameters, "ID=value"
    staging: tuple[str, ...] = ()  # where each material is staged, "ITEM=workstation:WS-10" or "ITEM=bin:B-01"


@dataclass(slots=True)
class BomLine:
    work_order: str
    line: int
    item: str
    item_revision: str
    quantity_per: Decimal
    consumed: Decimal


@dataclass(slots=True)
class DispatchEntry:
    workstation: str
    position: int
    work_order: str
    operation: int


@dataclass(slots=True)
class ClockOn:
    operator: str
    work_order: str
    operation: int
    since: datetime


@dataclass(slots=True)
class Characteristic:
    plan: str
    characteristic: str
    kind: str
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: str = ""

    def plausible_range(self, bands: Decimal) -> tuple[Decimal | None, Decimal | None] | None:
        """The values a measurement of this characteristic can plausibly have: from ``bands`` tolerance bands below
        its lower limit to as many above its upper limit (None for an attribute). The band is USL - LSL; with one
        limit (or equal ones), the distance from the nominal to the limit, else the limit's size, else 1. The open
        side of a one-sided specification (a minimum torque) stays open (None): it has nothing to judge a size by.
        A reading beyond is a slip of the decimal point, the wrong unit or the wrong gauge, not a part: it is
        refused, not judged (edge.domain.contexts.quality). Exact in a context that neither rounds nor raises,
        whatever the limits (a store may hold limits from before numbers were bounded)."""
        if self.kind != "numeric" or (self.lsl is None and self.usl is None):
            return None
        with localcontext(Context(prec=80, traps=[])):
            given = [x for x in (self.lsl, self.usl) if x is not None]
            band = max(given) - min(given)
            if not band and self.nominal is not None:
                band = max(abs(x - self.nominal) for x in given)
            if not band:
                band = max(abs(x) for x in given) or Decimal(1)
            return (None if self.lsl is None else self.lsl - bands * band,
                    None if self.usl is None else self.usl + bands * band)

    def passes(self, value: Decimal) -> bool:
        """The verdict of a measured value: within the limits, both inclusive (the one rule: the pages'
        ``Takt.verdict`` in takt/pages/static/takt.js follows it digit for digit)."""
        return (self.lsl is None or value >= self.lsl) and (self.usl is None or value <= self.usl)


@dataclass(slots=True)
class InspectionPlan:
    plan: str
    description: str
    item: str | None = None
    operation: int | None = None
    hold_on_fail: bool = True
    spc_nonconformance: bool = False  # an SPC rule violation raises a nonconformance
    # general (results only) | incoming (a lot received on a purchase order awaits it) | in_process (on an operation,
    # every n parts or minutes) | final (a work order completes only after it passed). See edge.domain.sampling.
    kind: str = "general"
    supplier: str | None = None  # incoming: the supplier whose lots it inspects (None: any supplier of the item)
    sample_size: int | None = None  # fixed n (None: 1, or the lot-size table)
    sample_by_lot_size: bool = False  # n from ISO 2859-1 general inspection level II by lot size
    accept_number: int = 0  # the verdict passes when no more than this many samples failed
    every_n_parts: int | None = None  # in_process: due after this many parts (good + scrap) since the last
    every_minutes: int | None = None  # in_process: due this many minutes after the last
    flag_overdue: bool = False  # in_process: production reported beyond the grace while due is flagged
    overdue_grace_parts: Decimal = Decimal(0)
    # A measurement beyond this many tolerance bands outside a characteristic's limits is refused as implausible
    # (Characteristic.plausible_range).
    plausible_bands: Decimal = PLAUSIBLE_BANDS
    signed: bool = False  # a verdict by this plan carries the inspector's electronic signature


@dataclass(slots=True)
class Nonconformance:
    ncr: str
    lot: str | None
    work_order: str | None
    description: str
    status: str  # open / closed
    disposition: str | None = None
    raised_by: str = ""
    dispositioned_by: str | None = None
    # A disposition that needs two signatures (edge.domain.duties): the first one's, until the second signs.
    proposed_disposition: str | None = None
    proposed_by: str | None = None
    countersigned_by: str | None = None


@dataclass(slots=True)
class SerialUse:
    """A serialised unit (item + serial, e.g. GS1 AI 21) issued to a work order: it cannot be issued again."""

    item: str
    serial: str
    lot: str
    work_order: str
    at: datetime


@dataclass(slots=True)
class MachineState:
    equipment: str
    state: str
    reason: str | None
    since: datetime


@dataclass(slots=True)
class UnassignedProduction:
    """Parts a machine counted while no operation was in progress on its workstation (or that its order would not
    take): kept until a supervisor assigns them to an operation or writes them off with a reason."""

    equipment: str
    workstation: str
    good: Decimal
    scrap: Decimal
    since: datetime  # the first of them
    last_at: datetime  # the latest of them


@dataclass(slots=True)
class PendingCount:
    """A count of a lot in a bin waiting for a supervisor (its variance is above the approval threshold)."""

    lot: str
    bin: str
    counted: Decimal
    expected: Decimal
    reason: str
    counted_by: str
    at: datetime


@dataclass(slots=True)
class WorkOrderConflict:
    """A central change (changed or cancelled) that arrived while the order was already being worked on here.
    It is flagged to the supervisor, not applied: what the edge recorded stays."""

    work_order: str
    change: str  # changed | cancelled
    detail: str
    flagged_at: datetime
    status: str = "open"  # open | accepted | kept
    proposed_quantity: Decimal | None = None
    proposed_due: date | None = None
    resolved_by: str | None = None


@dataclass(slots=True)
class BomRevision:
    """A BOM revision of an item, as PLM published it."""

    item: str
    bom_revision: str
    effective: str  # next_order | immediately
    published_at: datetime


@dataclass(slots=True)
class BomRevisionLine:
    item: str
    bom_revision: str
    line: int
    component: str
    component_revision: str
    quantity_per: Decimal


@dataclass(slots=True)
class PurchaseOrder:
    purchase_order: str
    supplier: str
    status: str  # open | cancelled


@dataclass(slots=True)
class PurchaseOrderLine:
    purchase_order: str
    line: int
    item: str
    quantity: Decimal
    due: date | None = None
    received: Decimal = Decimal(0)  # received here against this line so far


@dataclass(slots=True)
class ExpectedLot:
    """A supplier lot announced on a purchase order line (SRM's advance shipping notice)."""

    purchase_order: str
    line: int
    supplier_lot: str
    quantity: Decimal
    expiry: date | None = None


@dataclass(slots=True)
class Customer:
    customer: str
    name: str


@dataclass(slots=True)
class SalesOrder:
    sales_order: str
    customer: str
    status: str  # open | cancelled
    allow_substitution: bool = False  # a picker may take another lot of the item than the wave planned
    priority: int | None = None  # 1 = most urgent (waves by priority)
    carrier: str | None = None  # the carrier that collects it, and its cut-off (waves by cut-off)
    cutoff: datetime | None = None


@dataclass(slots=True)
class SalesOrderLine:
    sales_order: str
    line: int
    item: str
    quantity: Decimal
    due: date | None = None
    shipped: Decimal = Decimal(0)  # shipped here against this line so far (pallets, edge.domain.plant ShipPallet)


@dataclass(slots=True)
class InspectionTask:
    """An inspection a lot or a work order waits for: incoming (a lot received on a purchase order or without one) or
    final (a work order's output). Its verdict comes once ``sample_size`` samples are recorded."""

    task: str
    kind: str  # incoming | final
    plan: str
    status: str  # open | passed | failed
    sample_size: int
    samples: int
    failed: int
    opened_at: datetime
    lot: str | None = None
    work_order: str | None = None
    supplier: str | None = None
    supplier_lot: str | None = None
    purchase_order: str | None = None
    closed_at: datetime | None = None


@dataclass(slots=True)
class InspectionInterval:
    """Where an in-process plan stands on one operation of a work order: parts reported and time since the last
    inspection (or since the operation started), and the samples of the round under way."""

    plan: str
    work_order: str
    operation: int
    workstation: str
    parts_since: Decimal
    since: datetime
    samples: int = 0
    overdue_parts: Decimal = Decimal(0)  # parts reported while the inspection was already due
    flagged: bool = False  # production while overdue was flagged for this round


@dataclass(slots=True)
class Pallet:
    """A logistic unit (GS1 SSCC) packed with lots in a bin, then shipped against a sales order."""

    sscc: str  # 18 digits: extension digit, GS1 company prefix, serial reference, check digit
    bin: str
    status: str  # open | shipped
    packed_by: str
    packed_at: datetime
    sales_order: str | None = None
    customer: str | None = None
    shipped_at: datetime | None = None
    kind: str = "pallet"  # pallet | parcel
    gross_weight: Decimal | None = None  # kg, as weighed at packing (GS1 AI 3301 on its label)


@dataclass(slots=True)
class PalletLine:
    sscc: str
    lot: str
    item: str
    quantity: Decimal


@dataclass(slots=True)
class RecordSignature:
    """The signature that covers a subject's signed events now (edge.domain.contexts.signatures): its id, meaning,
    signer and time, and the types of the subject's events it signed."""

    signature: str
    meaning: str
    signer: str
    signer_name: str
    at: datetime
    types: frozenset[str]



@dataclass(slots=True)
class MaintenanceSetting:
    """When a machine's stops raise a maintenance request (the site file's ``maintenance`` of a machine): a stop on
    one of ``request_reasons``, or a stop longer than ``request_after_s`` seconds (None: never by duration)."""

    equipment: str
    request_reasons: tuple[str, ...] = ()
    request_after_s: int | None = None


@dataclass(slots=True)
class MachineUsage:
    """What a machine did, counted from the records the node booked: parts made (good and scrap: its cycles),
    good parts, and the seconds it ran (closed running intervals; ``running_since`` the open one)."""

    equipment: str
    cycles: Decimal
    parts: Decimal
    run_s: Decimal
    running_since: datetime | None = None


@dataclass(slots=True)
class MaintenancePlan:
    """Preventive maintenance of a machine by use: every ``interval`` days (``calendar``), cycles, good parts or run
    hours. ``last_done_at`` and ``usage_at_done`` (the counter of its kind then) are where the current interval
    started: when the plan was defined or last done. A due plan with ``blocks_start`` refuses starting an operation
    on the machine's workstation; ``overdue_after_pct`` percent of the interval past due it is overdue."""

    plan: str
    equipment: str
    description: str
    kind: str  # calendar | cycles | parts | run_hours
    interval: Decimal
    blocks_start: bool
    overdue_after_pct: Decimal
    last_done_at: datetime
    usage_at_done: Decimal
    active: bool = True


@dataclass(slots=True)
class MaintenanceRequest:
    """A maintenance request on a machine: raised from a stop (its reason, or its length), by hand, or for a
    preventive plan; accepted, worked (labour clocked) and closed by a maintenance technician."""

    request: str
    equipment: str
    kind: str  # breakdown | preventive
    trigger: str  # reason | duration | manual | plan
    status: str  # open | accepted | in_work | closed
    reason: str | None
    stop_since: datetime | None
    stop_s: Decimal | None
    plan: str | None
    note: str
    has_photo: bool
    raised_by: str
    raised_at: datetime
    technician: str | None = None
    accepted_at: datetime | None = None
    working_since: datetime | None = None
    labour_minutes: Decimal = Decimal(0)
    parts: tuple[str, ...] = ()  # "quantity item lot bin" of each spare part issued, in order
    closed_at: datetime | None = None
    released: bool | None = None
    closing_note: str = ""
STEP_KINDS: tuple[str, ...] = ("read", "check", "measure", "scan", "photo", "signoff")
ON_FAIL: tuple[str, ...] = ("block", "ncr")
UNIT_STATUSES: tuple[str, ...] = ("in_progress", "blocked", "hold", "completed", "scrapped")


@dataclass(slots=True)
class WorkInstruction:
    """A work instruction for one operation of an item (PLM's, or a file in the site's folder), at its own revision,
    written for one revision of the item: a terminal refuses it for a work order that builds another revision."""

    item: str
    operation: int
    revision: str
    item_revision: str
    title: str
    defined_at: datetime


@dataclass(slots=True)
class InstructionStep:
    """One step of a work instruction: text per language ("en=...", "nl=..."), media files ("image:x.png",
    "pdf:manual.pdf#3") the node serves, and what the step captures (``kind``):

    read (nothing), check (done / not OK), measure (a value within ``lsl``..``usl``; with ``plan`` and
    ``characteristic`` also an inspection result that feeds SPC), scan (must equal ``expect``, or with ``component``
    be a serial or lot of that component item issued to the order), photo (a picture from the terminal's camera),
    signoff (a second person's electronic signature). A failing step blocks the next one (``on_fail`` block) or
    raises a nonconformance (ncr)."""

    item: str
    operation: int
    revision: str
    step: int
    kind: str
    texts: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: str = ""
    expect: str | None = None
    component: str | None = None
    on_fail: str = "block"
    plan: str | None = None
    characteristic: str | None = None


@dataclass(slots=True)
class InstructionRun:
    """Where a unit (``serial``) or a work order's lot-built output (``serial`` "") stands in the instruction of an
    operation: the revision followed, the last step done, and whether a failed step blocks it."""

    work_order: str
    operation: int
    serial: str
    revision: str
    step: int  # the last step passed (or failed with a nonconformance): the next one is step + 1
    status: str  # in_progress | blocked | done
    last_actor: str
    updated_at: datetime
    blocked_step: int | None = None


@dataclass(slots=True)
class Unit:
    """A serialised unit of a work order's item: where it is in the routing and its status."""

    item: str
    serial: str
    work_order: str
    item_revision: str
    operation: int | None  # the operation it is at (None once its last operation completed)
    status: str  # in_progress | blocked | hold | completed | scrapped
    started_by: str
    started_at: datetime
    updated_at: datetime
    gtin: str | None = None  # GS1: the label carries (01) GTIN (21) serial
    source: str = "pattern"  # pattern | gs1 | scanned
    lot: str | None = None  # the output lot it was put into stock with
    ncr: str | None = None  # the nonconformance that holds it
    instructions: tuple[str, ...] = ()  # "operation=revision" of the instructions followed
    sscc: str | None = None  # the pallet it was packed on by its serial (edge.domain.contexts.pallets)
# --- rework, CAPA and split lots (edge.domain.contexts.capa) ---------------------------------------------------

FISHBONE: tuple[str, ...] = ("man", "machine", "method", "material", "measurement", "environment")  # the 6M
REWORK_MODES: tuple[str, ...] = ("operations", "order")
CAPA_ACTION_KINDS: tuple[str, ...] = ("corrective", "preventive")


@dataclass(slots=True)
class Rework:
    """The rework an NCR's "rework" disposition created: rework operations added to a work order (the NCR's own,
    ``mode`` operations) or a rework order with its own routing (``mode`` order); its subjects ("lot:L1", and
    "unit:SN1" once units are serialised) stay held until its re-inspection task passes."""

    rework: str
    ncr: str
    mode: str  # operations | order
    work_order: str  # the order the rework operations are on
    operations: tuple[int, ...]
    subjects: tuple[str, ...]
    task: str  # the re-inspection task
    plan: str
    status: str  # open | passed | failed
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None = None


@dataclass(slots=True)
class Capa:
    """A corrective and preventive action record: the problem, its containment, the root cause (a 5-why chain or a
    fishbone category of the 6M), and the effectiveness check that closes it; linked to the NCRs it answers."""

    capa: str
    problem: str
    ncrs: tuple[str, ...]
    status: str  # open | closed
    containment: str
    opened_by: str
    opened_at: datetime
    root_cause: str = ""
    whys: tuple[str, ...] = ()
    fishbone: str | None = None
    effective: bool | None = None
    effectiveness: str = ""
    closed_at: datetime | None = None


@dataclass(slots=True)
class CapaAction:
    """A corrective or preventive action of a CAPA, with its owner and due date."""

    capa: str
    action: int
    kind: str  # corrective | preventive
    description: str
    owner: str
    due: date
    status: str  # open | done
    done_by: str | None = None
    done_at: datetime | None = None
    result: str = ""


@dataclass(slots=True)
class LineSideBin:
    """A line-side bin kept filled with an item (edge.domain.contexts.outbound): below ``minimum`` a replenishment
    task brings it back to ``maximum`` (in whole ``pack`` quantities when one is given) from ``source_zone``. With
    ``kanban_bins`` > 0 it is a kanban of that many containers of ``pack`` each: a container's card scanned empty
    asks for one ``pack``."""

    bin: str
    item: str
    minimum: Decimal
    maximum: Decimal
    pack: Decimal | None = None
    kanban_bins: int = 0
    source_zone: str = "storage"


@dataclass(slots=True)
class ReplenishmentTask:
    """Bring ``quantity`` of ``item`` to line-side ``bin``: suggested from ``lot`` in ``from_bin`` (FEFO, the walk).
    ``reason``: below_min | kanban | ahead (a work order released for the next shift); ``priority`` 1 first."""

    task: str
    bin: str
    item: str
    quantity: Decimal
    reason: str
    priority: int
    status: str  # open | done
    raised_at: datetime
    lot: str | None = None
    from_bin: str | None = None
    work_order: str | None = None
    moved: Decimal = Decimal(0)
    done_by: str | None = None
    done_at: datetime | None = None


@dataclass(slots=True)
class Wave:
    """Order lines released to be picked together: ``mode`` cluster (one walk, a tote per order) or zone (a wave per
    zone; the order's tote is handed over from zone to zone). Picks go to ``to_bin`` (packing)."""

    wave: str
    status: str  # open | picked
    mode: str
    group: str  # what the lines have in common: "zone Z1", "due 2026-12-08", "all"
    to_bin: str
    released_by: str
    released_at: datetime


@dataclass(slots=True)
class WavePick:
    """One stop of a wave's walk: ``quantity`` of ``lot`` from ``bin`` for a sales order line into its ``tote``.
    Open picks reserve their stock: no other wave, kit or replenishment counts on it."""

    wave: str
    pick: int
    sales_order: str
    line: int
    item: str
    lot: str
    bin: str
    zone: str
    walk_sequence: int | None
    quantity: Decimal
    tote: str
    status: str  # open | picked | short
    picked: Decimal = Decimal(0)
    min_expiry: date | None = None  # the customer's remaining shelf-life requirement, as a date
    picked_lot: str | None = None
    picked_by: str | None = None
    device: str | None = None
    picked_at: datetime | None = None
    short_reason: str | None = None
