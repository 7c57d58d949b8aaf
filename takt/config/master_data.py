"""The site file's master data: items, bins, equipment, released work orders, dispatch lists, inspection plans
and opening stock, as the ERP would send them (:mod:`takt.runtime` sends them through the one write path)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from edge.fields import Code, Count, Gtin, LineNumber, Measure, OperationNumber, PlausibleBands, Quantity, Text
from takt.config.section import Section


class ItemEntry(Section):
    item: Code
    description: Text = ""
    unit: Code = "pcs"
    revision: Code
    lot_controlled: bool = True
    gtin: Gtin | None = None
    serialised: bool = False  # a serial per unit at the first operation (the site's instructions.serial_pattern)


class BinEntry(Section):
    bin: Code
    zone: Code
    capacity: Quantity | None = None
    allowed_items: list[Code] = []
    walk_sequence: int | None = Field(default=None, ge=0, le=999_999_999)  # a picker's walk order, low first
    max_per_item: Quantity | None = None  # hard putaway rule: at most this much of any one item (edge.domain.putaway)
    lot_policy: Literal["mixed", "one_item", "one_lot"] = "mixed"  # hard putaway rule: what may share the bin


class MaintenancePlanEntry(Section):
    """A preventive plan of the machine: every ``interval`` days (calendar), cycles (parts made, good and scrap),
    good parts or run hours; ``blocks_start``: due, it refuses starting work on the machine's workstation."""

    plan: Code
    kind: Literal["calendar", "cycles", "parts", "run_hours"]
    interval: Quantity
    description: Text = ""
    blocks_start: bool = False
    overdue_after_pct: Count = Decimal(10)


class MaintenanceEntry(Section):
    """When the machine's stops raise a maintenance request: a stop on one of ``request_reasons`` (the reason as the
    machine's state carries it), or one longer than ``request_after_s`` seconds; and its preventive plans. (The
    reason trees' ``maintenance`` flag of a leaf will mark reasons too.)"""

    request_reasons: list[Code] = []
    request_after_s: int | None = Field(default=None, gt=0, le=31_536_000)
    plans: list[MaintenancePlanEntry] = []


class EquipmentEntry(Section):
    equipment: Code
    workstation: Code
    description: Text = ""
    maintenance: MaintenanceEntry | None = None


class OperationEntry(Section):
    operation: OperationNumber
    description: Text = ""
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: str | None = Field(default=None, pattern=r"^https?://", max_length=200)


class BomLineEntry(Section):
    line: LineNumber
    item: Code
    item_revision: Code
    quantity_per: Quantity


class WorkOrderEntry(Section):
    """A released work order as the ERP/MRP sends it, with its routing and BOM at a fixed revision."""

    work_order: Code
    item: Code
    item_revision: Code
    bom_revision: Code
    quantity: Quantity
    due: date | None = None
    overproduction_tolerance_pct: Count = Decimal(0)
    customer_order: Code | None = None
    operations: list[OperationEntry] = Field(min_length=1)
    bom: list[BomLineEntry] = []


class DispatchSlotEntry(Section):
    work_order: Code
    operation: OperationNumber


class DispatchListEntry(Section):
    """The APS sequence for one workstation."""

    workstation: Code
    sequence: list[DispatchSlotEntry]


class CharacteristicEntry(Section):
    characteristic: Code
    kind: Literal["numeric", "attribute"]
    nominal: Measure | None = None
    lsl: Measure | None = None
    usl: Measure | None = None
    unit: Text = ""

    @model_validator(mode="after")
    def _limits(self) -> CharacteristicEntry:
        if self.kind == "numeric":
            if self.lsl is None and self.usl is None:
                raise ValueError("a numeric characteristic needs lsl, usl or both")
            if self.lsl is not None and self.usl is not None and self.lsl > self.usl:
                raise ValueError(f"lsl {self.lsl} is above usl {self.usl}")
        elif any(v is not None for v in (self.nominal, self.lsl, self.usl)):
            raise ValueError("an attribute (pass/fail) characteristic has no nominal, lsl or usl")
        return self


class InspectionPlanEntry(Section):
    plan: Code
    description: Text = ""
    item: Code | None = None
    operation: OperationNumber | None = None
    hold_on_fail: bool = True
    spc_nonconformance: bool = False  # an SPC rule violation (Western Electric) raises a nonconformance
    characteristics: list[CharacteristicEntry] = Field(min_length=1)
    # sampling (edge.domain.sampling): incoming / in_process / final inspection
    kind: Literal["general", "incoming", "in_process", "final"] = "general"
    supplier: Code | None = None
    sample_size: int | None = Field(default=None, ge=1, le=1_000_000)
    sample_by_lot_size: bool = False
    accept_number: int = Field(default=0, ge=0, le=1_000_000)
    every_n_parts: int | None = Field(default=None, ge=1, le=1_000_000)
    every_minutes: int | None = Field(default=None, ge=1, le=1_000_000)
    flag_overdue: bool = False
    overdue_grace_parts: Count = Decimal(0)
    plausible_bands: PlausibleBands = Decimal(10)  # a measurement beyond this many tolerance bands is implausible


class LotEntry(Section):
    """A lot in stock when the node starts (opening stock). ``received`` dates the receipt, which
    lets a lot that has expired since be loaded (and then refused at the line, FEFO)."""

    lot: Code
    item: Code
    item_revision: Code | None = None
    quantity: Quantity
    bin: Code
    expiry: date | None = None
    supplier_lot: Code | None = None
    received: datetime | date | None = None
    quarantine: bool = False

    def received_at(self) -> datetime | None:
        if self.received is None:
            return None
        if isinstance(self.received, datetime):
            return self.received if self.received.tzinfo else self.received.replace(tzinfo=UTC)
        return datetime(self.received.year, self.received.month, self.received.day, tzinfo=UTC)


class RecipeEntry(Section):
    """A product's setpoints per item and revision (and operation, or every operation of it): downloaded to the
    machine of the operation's workstation (``connectivity.machines[].setpoints``). A work order's own production
    parameters (from the ERP, B2MML ProductionParameter) take precedence over the recipe's for the same ID."""

    item: Code
    revision: Code
    operation: OperationNumber | None = None
    parameters: dict[Code, Measure] = Field(min_length=1, description="parameter ID → value")


class LineSideBinEntry(Section):
    """A line-side bin kept filled with an item: min/max (or a kanban of ``kanban_bins`` containers of ``pack``)."""

    bin: Code
    item: Code
    minimum: Count
    maximum: Quantity
    pack: Quantity | None = None
    kanban_bins: int = Field(default=0, ge=0, le=99)
    source_zone: Code = "storage"


class MasterData(Section):
    items: list[ItemEntry] = []
    bins: list[BinEntry] = []
    equipment: list[EquipmentEntry] = []
    work_orders: list[WorkOrderEntry] = []
    dispatch_lists: list[DispatchListEntry] = []
    inspection_plans: list[InspectionPlanEntry] = []
    opening_stock: list[LotEntry] = []
    recipes: list[RecipeEntry] = []
    line_side_bins: list[LineSideBinEntry] = []

    @model_validator(mode="after")
    def _one_recipe_each(self) -> MasterData:
        seen: set[tuple[str, str, int | None]] = set()
        for r in self.recipes:
            key = (r.item, r.revision, r.operation)
            if key in seen:
                op = "every operation" if r.operation is None else f"operation {r.operation}"
                raise ValueError(f"recipes: item {r.item} revision {r.revision} has two recipes for {op}")
            seen.add(key)
        return self
