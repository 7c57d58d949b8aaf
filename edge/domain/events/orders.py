"""Events of master data and orders: items, bins, equipment, work orders and their changes from the ERP, BOM
revisions, purchase and sales orders, customers and the dispatch list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event, WorkOrderSubject

__all__ = [
    "ItemDefined", "BinDefined", "EquipmentDefined", "ReleasedOperation", "ReleasedBomLine", "WorkOrderReleased",
    "WorkOrderChanged", "WorkOrderCancelled", "WorkOrderConflictFlagged", "WorkOrderConflictResolved",
    "WorkOrderQuantityChanged", "BomRevisionPublished", "WorkOrderBomRevised", "ExpectedSupplierLot",
    "PurchaseOrderLineDefined", "PurchaseOrderDefined", "CustomerDefined", "SalesOrderLineDefined",
    "SalesOrderDefined", "DispatchedOperation", "DispatchListSet",
]


@dataclass(frozen=True, kw_only=True)
class ItemDefined(Event):
    item: str
    description: str
    unit: str
    revision: str
    lot_controlled: bool
    gtin: str | None = None
    serialised: bool = False

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
    segment: str | None = None  # B2MML: the SegmentRequirement IDs of the routing, outermost first, "/"-joined
    parameters: tuple[str, ...] = ()  # production parameters, "ID=value"
    staging: tuple[str, ...] = ()  # where each material is staged, "ITEM=workstation:WS-10" or "ITEM=bin:B-01"


@dataclass(frozen=True, kw_only=True)
class ReleasedBomLine:
    line: int
    item: str
    item_revision: str
    quantity_per: Decimal


@dataclass(frozen=True, kw_only=True)
class WorkOrderReleased(WorkOrderSubject, Event):
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
class WorkOrderChanged(WorkOrderSubject, Event):
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
class WorkOrderCancelled(WorkOrderSubject, Event):
    work_order: str
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderConflictFlagged(WorkOrderSubject, Event):
    work_order: str
    change: str  # changed | cancelled
    detail: str
    proposed_quantity: Decimal | None
    proposed_due: date | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderConflictResolved(WorkOrderSubject, Event):
    work_order: str
    resolution: str  # accepted | kept
    note: str
    resolved_by: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderQuantityChanged(WorkOrderSubject, Event):
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
class WorkOrderBomRevised(WorkOrderSubject, Event):
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
    allow_substitution: bool = False
    priority: int | None = None
    carrier: str | None = None
    cutoff: datetime | None = None

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
