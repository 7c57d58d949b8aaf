"""The plant's current state in memory (``PlantState``) and the queries the rules of every context share.

``evolve`` (edge.domain.plant) records in ``state.dirty`` which rows each event changed, so the store writes exactly
those rows; ``reindex`` rebuilds the derived indexes after the store loaded the tables.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from edge.domain import events as e
from edge.domain import spc
from edge.domain.gs1 import gtin14
from edge.domain.model import (
    Bin,
    BomLine,
    BomRevision,
    BomRevisionLine,
    Capa,
    CapaAction,
    Characteristic,
    ClockOn,
    Customer,
    DispatchEntry,
    Equipment,
    ExpectedLot,
    InspectionInterval,
    InspectionPlan,
    InspectionTask,
    InstructionRun,
    InstructionStep,
    Item,
    LineSideBin,
    Lot,
    MachineState,
    MachineUsage,
    MaintenancePlan,
    MaintenanceRequest,
    MaintenanceSetting,
    Nonconformance,
    Operation,
    Pallet,
    PalletLine,
    PendingCount,
    PurchaseOrder,
    PurchaseOrderLine,
    RecordSignature,
    ReplenishmentTask,
    Rework,
    SalesOrder,
    SalesOrderLine,
    SerialUse,
    StagedStock,
    Stock,
    UnassignedProduction,
    Unit,
    Wave,
    WavePick,
    WorkInstruction,
    WorkOrder,
    WorkOrderConflict,
)

ZERO = Decimal(0)

# The current-state tables, by the name of the attribute of PlantState that holds their rows.
STATE_TABLES: tuple[str, ...] = (
    "items", "bins", "equipment", "lots", "stock", "work_orders", "operations", "bom_lines",
    "dispatch", "clock_ons", "inspection_plans", "characteristics", "nonconformances",
    "machine_states", "serials", "work_order_conflicts", "bom_revisions", "bom_revision_lines", "purchase_orders",
    "purchase_order_lines", "expected_lots", "customers", "sales_orders", "sales_order_lines", "pending_counts",
    "unassigned_production", "inspection_tasks", "inspection_intervals",
    "staged", "pallets", "pallet_lines", "work_instructions", "instruction_steps", "instruction_runs", "units",
    "maintenance_settings", "machine_usage", "maintenance_plans", "maintenance_requests", "reworks", "capas",
    "capa_actions", "line_side_bins", "replenishment_tasks", "waves", "wave_picks",
)


@dataclass
class SpcSeries:
    """A characteristic's results as its control chart needs them: the first :data:`spc.BASELINE` (which set the
    limits) and the latest :data:`spc.WINDOW` (which the rules judge)."""

    baseline: list[float] = field(default_factory=list)
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=spc.WINDOW))
    limits: spc.Limits | None = None

    def add(self, value: float) -> None:
        if len(self.baseline) < spc.BASELINE:
            self.baseline.append(value)
            if len(self.baseline) == spc.BASELINE:
                self.limits = spc.individuals_limits(self.baseline)
        self.recent.append(value)


@dataclass
class PlantState:
    items: dict[str, Item] = field(default_factory=dict)
    bins: dict[str, Bin] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    lots: dict[str, Lot] = field(default_factory=dict)
    stock: dict[tuple[str, str], Stock] = field(default_factory=dict)
    work_orders: dict[str, WorkOrder] = field(default_factory=dict)
    operations: dict[tuple[str, int], Operation] = field(default_factory=dict)
    bom_lines: dict[tuple[str, int], BomLine] = field(default_factory=dict)
    dispatch: dict[tuple[str, int], DispatchEntry] = field(default_factory=dict)
    clock_ons: dict[tuple[str, str, int], ClockOn] = field(default_factory=dict)
    inspection_plans: dict[str, InspectionPlan] = field(default_factory=dict)
    characteristics: dict[tuple[str, str], Characteristic] = field(default_factory=dict)
    nonconformances: dict[str, Nonconformance] = field(default_factory=dict)
    machine_states: dict[str, MachineState] = field(default_factory=dict)
    serials: dict[tuple[str, str], SerialUse] = field(default_factory=dict)  # (item, serial) issued
    work_order_conflicts: dict[str, WorkOrderConflict] = field(default_factory=dict)
    pending_counts: dict[tuple[str, str], PendingCount] = field(default_factory=dict)  # (lot, bin) awaiting approval
    unassigned_production: dict[str, UnassignedProduction] = field(default_factory=dict)  # by equipment
    bom_revisions: dict[tuple[str, str], BomRevision] = field(default_factory=dict)
    bom_revision_lines: dict[tuple[str, str, int], BomRevisionLine] = field(default_factory=dict)
    purchase_orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    purchase_order_lines: dict[tuple[str, int], PurchaseOrderLine] = field(default_factory=dict)
    expected_lots: dict[tuple[str, int, str], ExpectedLot] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    sales_orders: dict[str, SalesOrder] = field(default_factory=dict)
    sales_order_lines: dict[tuple[str, int], SalesOrderLine] = field(default_factory=dict)
    inspection_tasks: dict[str, InspectionTask] = field(default_factory=dict)
    # (plan, work order, operation) -> where an in-process plan stands on that operation
    inspection_intervals: dict[tuple[str, str, int], InspectionInterval] = field(default_factory=dict)
    pallets: dict[str, Pallet] = field(default_factory=dict)  # by SSCC
    pallet_lines: dict[tuple[str, str], PalletLine] = field(default_factory=dict)  # (sscc, lot)
    # Rework and CAPA (edge.domain.contexts.capa): reworks by id (RW-<ncr>), CAPAs by id, actions by (capa, number).
    reworks: dict[str, Rework] = field(default_factory=dict)
    capas: dict[str, Capa] = field(default_factory=dict)
    capa_actions: dict[tuple[str, int], CapaAction] = field(default_factory=dict)
    # Kitted stock: (work_order, lot, bin) -> what was picked for the order there and not issued yet.
    staged: dict[tuple[str, str, str], StagedStock] = field(default_factory=dict)
    # Maintenance (edge.domain.contexts.maintenance): per machine when its stops raise requests and what it did
    # (cycles, parts, run seconds), preventive plans by plan, requests by request.
    maintenance_settings: dict[str, MaintenanceSetting] = field(default_factory=dict)
    machine_usage: dict[str, MachineUsage] = field(default_factory=dict)
    maintenance_plans: dict[str, MaintenancePlan] = field(default_factory=dict)
    maintenance_requests: dict[str, MaintenanceRequest] = field(default_factory=dict)
    # Work instructions (item, operation, revision), their steps (... , step), where each unit (or an order's
    # lot-built output, serial "") stands in one (work_order, operation, serial), and the serialised units (item,
    # serial): edge.domain.contexts.units.
    work_instructions: dict[tuple[str, int, str], WorkInstruction] = field(default_factory=dict)
    instruction_steps: dict[tuple[str, int, str, int], InstructionStep] = field(default_factory=dict)
    instruction_runs: dict[tuple[str, int, str], InstructionRun] = field(default_factory=dict)
    units: dict[tuple[str, str], Unit] = field(default_factory=dict)
    # (component item, component serial) -> the unit it went into (from the unit_components history on load)
    fitted: dict[tuple[str, str], str] = field(default_factory=dict)
    # Outbound (edge.domain.contexts.outbound): line-side bins kept filled, their replenishment tasks, and the waves
    # of customer-order picks.
    line_side_bins: dict[tuple[str, str], LineSideBin] = field(default_factory=dict)  # (bin, item)
    replenishment_tasks: dict[str, ReplenishmentTask] = field(default_factory=dict)
    waves: dict[str, Wave] = field(default_factory=dict)
    wave_picks: dict[tuple[str, int], WavePick] = field(default_factory=dict)
    # Ids of recorded inspections (their results live in a history table, not in memory).
    inspections: set[str] = field(default_factory=set)
    # Per (plan, characteristic): the baseline and the latest numeric results, for the SPC rules (derived from the
    # inspection results; the store fills it when it loads, evolve keeps it up to date).
    spc: dict[tuple[str, str], SpcSeries] = field(default_factory=dict)
    # Electronic signatures (edge.domain.contexts.signatures), derived from the signatures' history table on load:
    # subject -> the signature that covers its signed events now; signature id -> the subjects it signed; and a
    # superseded signature's id -> the id of the one that superseded it.
    signed: dict[str, RecordSignature] = field(default_factory=dict)
    signatures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    superseded: dict[str, str] = field(default_factory=dict)
    # Derived indexes, rebuilt by reindex() and kept up to date by evolve().
    bins_of_lot: dict[str, set[str]] = field(default_factory=dict)
    bin_load: dict[str, Decimal] = field(default_factory=dict)
    packed: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (lot, bin) -> on open pallets there
    item_of_gtin: dict[str, str] = field(default_factory=dict)  # GTIN as 14 digits -> item
    steps_of_instruction: dict[tuple[str, int, str], list[tuple[str, int, str, int]]] = field(default_factory=dict)
    units_of_order: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    serials_of_item: dict[str, int] = field(default_factory=dict)  # units serialised per item (pattern {seq})
    unit_of_ncr: dict[str, tuple[str, str]] = field(default_factory=dict)  # a held unit's nonconformance
    # Open reworks (edge.domain.contexts.capa) by what they hold ("lot:L1", "unit:SN1") and by their work order
    # ("work_order:WO1"): a re-inspection finds its rework without a scan of every rework ever opened.
    open_reworks: dict[str, str] = field(default_factory=dict)
    # (lot, bin) -> stock promised to open wave picks and open replenishment tasks: nobody else counts on it.
    reserved: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    lots_of_item: dict[str, set[str]] = field(default_factory=dict)  # item -> its lots (a line-side bin's level)
    # Open intervals a clock jump shifted (("labour", operator, work_order, operation) or ("machine", equipment))
    # -> seconds jumped since they opened; only to flag the event that closes them (not a table: after a restart
    # the flag is missing, the duration is still right, see ``evolve`` of ClockJumped).
    clock_jump_of: dict[tuple[Any, ...], Decimal] = field(default_factory=dict)
    # Rows changed since the store last flushed: table name -> keys. A key no longer present in
    # the table's dict means the row is to be deleted.
    dirty: dict[str, set[Any]] = field(default_factory=dict)

    def reindex(self) -> None:
        self.bins_of_lot = {}
        self.bin_load = {}
        self.item_of_gtin = {gtin14(it.gtin): it.item for it in self.items.values() if it.gtin}
        for (lot, bin_code), row in self.stock.items():
            self.bins_of_lot.setdefault(lot, set()).add(bin_code)
            self.bin_load[bin_code] = self.bin_load.get(bin_code, ZERO) + row.quantity
        self.steps_of_instruction = {}
        for step_key in sorted(self.instruction_steps):
            self.steps_of_instruction.setdefault(step_key[:3], []).append(step_key)
        self.units_of_order, self.serials_of_item, self.unit_of_ncr = {}, {}, {}
        for ukey, unit in self.units.items():
            self.units_of_order.setdefault(unit.work_order, set()).add(ukey)
            self.serials_of_item[unit.item] = self.serials_of_item.get(unit.item, 0) + 1
            if unit.ncr is not None:
                self.unit_of_ncr[unit.ncr] = ukey
        self.open_reworks = {}
        for rework in self.reworks.values():
            if rework.status == "open":
                self.index_rework(rework)
        self.reserved = {}
        self.lots_of_item = {}
        for known in self.lots.values():
            self.lots_of_item.setdefault(known.item, set()).add(known.lot)
        for wp in self.wave_picks.values():
            if wp.status == "open":
                self.reserve(wp.lot, wp.bin, wp.quantity)
        for task in self.replenishment_tasks.values():
            if task.status == "open" and task.lot is not None and task.from_bin is not None:
                self.reserve(task.lot, task.from_bin, task.quantity)
        self.packed = {}
        for (code, lot), pallet_line in self.pallet_lines.items():
            pallet = self.pallets[code]
            if pallet.status == "open":
                key = (lot, pallet.bin)
                self.packed[key] = self.packed.get(key, ZERO) + pallet_line.quantity

    def index_rework(self, rework: Rework) -> None:
        for key in (*rework.subjects, f"work_order:{rework.work_order}"):
            self.open_reworks[key] = rework.rework

    def unindex_rework(self, rework: Rework) -> None:
        for key in (*rework.subjects, f"work_order:{rework.work_order}"):
            if self.open_reworks.get(key) == rework.rework:
                del self.open_reworks[key]
    def reserve(self, lot: str, bin_code: str, delta: Decimal) -> None:
        key = (lot, bin_code)
        left = self.reserved.get(key, ZERO) + delta
        if left > ZERO:
            self.reserved[key] = left
        else:
            self.reserved.pop(key, None)

    def mark(self, table: str, key: Any) -> None:
        self.dirty.setdefault(table, set()).add(key)

    def measured(self, plan: str, results: Any) -> None:
        """Add an inspection's numeric results (``characteristic``/``value`` pairs) to their SPC series."""
        for r in results:
            characteristic, value = (r["characteristic"], r["value"]) if isinstance(r, dict) else (
                r.characteristic, r.value)
            if value is not None:
                self.spc.setdefault((plan, characteristic), SpcSeries()).add(float(value))

    def take_dirty(self) -> dict[str, set[Any]]:
        dirty, self.dirty = self.dirty, {}
        return dirty

    # --- queries used by the rules and by the API -------------------------------------------

    def stock_of(self, lot: str, bin_code: str) -> Decimal:
        row = self.stock.get((lot, bin_code))
        return row.quantity if row else ZERO

    def on_open_pallets(self, lot: str, bin_code: str) -> Decimal:
        """How much of the stock of ``lot`` in ``bin_code`` is packed on pallets not shipped yet."""
        return self.packed.get((lot, bin_code), ZERO)

    def staged_for(self, lot: str, bin_code: str) -> dict[str, Decimal]:
        """Work order -> how much of the stock of ``lot`` in ``bin_code`` was kitted for it (not issued yet)."""
        return {wo: row.quantity for (wo, lt, b), row in self.staged.items() if lt == lot and b == bin_code}

    def operations_of(self, work_order: str) -> list[Operation]:
        return sorted(
            (op for (wo, _), op in self.operations.items() if wo == work_order),
            key=lambda op: op.operation,
        )

    def bom_of(self, work_order: str) -> list[BomLine]:
        return sorted(
            (ln for (wo, _), ln in self.bom_lines.items() if wo == work_order), key=lambda ln: ln.line
        )

    def published_bom(self, item: str, bom_revision: str) -> tuple[e.ReleasedBomLine, ...]:
        """The lines of a BOM revision PLM published here (none if it was not)."""
        lines = sorted((ln for (it, rev, _), ln in self.bom_revision_lines.items() if it == item and rev == bom_revision),
                       key=lambda ln: ln.line)
        return tuple(e.ReleasedBomLine(line=ln.line, item=ln.component, item_revision=ln.component_revision,
                                       quantity_per=ln.quantity_per) for ln in lines)

    def dispatch_list(self, workstation: str) -> list[DispatchEntry]:
        return sorted(
            (d for (ws, _), d in self.dispatch.items() if ws == workstation), key=lambda d: d.position
        )

    def fefo_candidates(self, item: str, item_revision: str, today: date) -> list[tuple[Lot, str]]:
        """Available, unexpired lots of an item in stock, first-expiring first, with their fullest bin."""
        found: list[tuple[Lot, str]] = []
        for lot in self.lots.values():
            if lot.item != item or lot.item_revision != item_revision or lot.status != "available":
                continue
            if lot.expiry is not None and lot.expiry < today:
                continue
            bins = self.bins_of_lot.get(lot.lot)
            if not bins:
                continue
            best = max(sorted(bins), key=lambda b: self.stock_of(lot.lot, b))
            found.append((lot, best))
        found.sort(key=lambda pair: (pair[0].expiry or date.max, pair[0].lot))
        return found


def incoming_task_id(lot: str) -> str:
    return f"INC-{lot}"


def rework_task_id(ncr: str) -> str:
    return f"RWK-{ncr}"


def open_rework_task(state: PlantState, lot: str | None, work_order: str | None, plan: str) -> InspectionTask | None:
    """The open re-inspection task of a rework by ``plan`` that holds ``lot`` (or is on ``work_order``), or None."""
    found = state.open_reworks.get(f"lot:{lot}" if lot is not None else f"work_order:{work_order}")
    rework = state.reworks.get(found) if found is not None else None
    if rework is None or rework.status != "open" or rework.plan != plan:
        return None
    task = state.inspection_tasks.get(rework.task)
    return task if task is not None and task.status == "open" else None


def unit_named(state: PlantState, serial: str, work_order: str | None = None) -> tuple[str, str] | None:
    """The (item, serial) key of the unit a rework subject ``unit:<serial>`` names: the one of ``work_order``'s item
    where several items share the serial, else the only one with it; None when there is none (or no way to choose)."""
    wo = state.work_orders.get(work_order) if work_order is not None else None
    if wo is not None and (wo.item, serial) in state.units:
        return (wo.item, serial)
    found = sorted(key for key in state.units if key[1] == serial)
    return found[0] if len(found) == 1 else None


def final_task_id(work_order: str, plan: str) -> str:
    return f"FIN-{work_order}-{plan}"


def incoming_plan(state: PlantState, item: str, supplier: str) -> InspectionPlan | None:
    """The incoming inspection plan for a lot of ``item`` from ``supplier``: the most specific one (item and
    supplier, then item, then supplier; by name among equals), or None."""
    found = [p for p in state.inspection_plans.values()
             if p.kind == "incoming" and p.item in (None, item) and p.supplier in (None, supplier)]
    if not found:
        return None
    return min(found, key=lambda p: (-(2 * (p.item is not None) + (p.supplier is not None)), p.plan))


def item_incoming_plan(state: PlantState, item: str) -> InspectionPlan | None:
    """The incoming inspection plan of ``item`` that names no supplier (the one a receipt without a purchase order
    falls under), first by name; or None."""
    found = sorted((p for p in state.inspection_plans.values()
                    if p.kind == "incoming" and p.item == item and p.supplier is None), key=lambda p: p.plan)
    return found[0] if found else None


def final_plans(state: PlantState, item: str) -> list[InspectionPlan]:
    return sorted((p for p in state.inspection_plans.values() if p.kind == "final" and p.item == item),
                  key=lambda p: p.plan)


# What a context registers: a decider per command type, an evolver per event type (edge.domain.plant dispatches).
Decider = Callable[["PlantState", Any, datetime], list[e.Event]]
Evolver = Callable[["PlantState", Any], None]
