"""Commands of master data and orders: items, bins, equipment, work orders, BOM revisions, purchase and sales
orders, customers and the APS dispatch list (from the ERP, PLM, SRM, CRM, APS or the site configuration).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command

__all__ = [
    "DefineItem", "DefineBin", "DefineEquipment", "OperationSpec", "BomLineSpec", "ReleaseWorkOrder",
    "ChangeWorkOrder", "CancelWorkOrder", "ResolveWorkOrderConflict", "PublishBomRevision", "ExpectedLotSpec",
    "PurchaseOrderLineSpec", "DefinePurchaseOrder", "DefineCustomer", "SalesOrderLineSpec", "DefineSalesOrder",
    "DispatchSlot", "SetDispatchList",
]


@dataclass(frozen=True, kw_only=True)
class DefineItem(Command):
    item: str
    description: str
    unit: str
    revision: str
    lot_controlled: bool = True
    gtin: str | None = None
    # A serial per unit (edge.domain.contexts.units); None keeps what the item is here (an ERP that does not say).
    # Out of the repr: keys recorded before keep their fingerprints.
    serialised: bool | None = field(default=None, repr=False)


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
    # Where the operation comes from in a B2MML routing: the IDs of its SegmentRequirement and of those it is nested
    # in, joined by "/" (the way back names the sender's segment). Production parameters as "ID=value" (the
    # setpoints of the operation) and where each material is staged as "ITEM=workstation:WS-10" or "ITEM=bin:B-01".
    segment: str | None = None
    parameters: tuple[str, ...] = ()
    staging: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # The fields above are in the repr (so in the fingerprint) only when given: an order released before
        # operations had them keeps its fingerprint (a retry of that key is still the same command).
        text = (f"OperationSpec(operation={self.operation!r}, description={self.description!r}, "
                f"workstation={self.workstation!r}, standard_minutes={self.standard_minutes!r}")
        for name in ("segment", "parameters", "staging"):
            value = getattr(self, name)
            if value:
                text += f", {name}={value!r}"
        return text + ")"


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
    # the site's warehouse.replenish_ahead_on_release: the release raises the replenishment of the order's BOM lines
    # into their line-side bins ahead of need, as ReplenishAhead does; out of the fingerprint (a setting, not input)
    replenish_ahead: bool = field(default=False, repr=False)


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
    # a picker may take another lot of the item than the wave planned; out of the fingerprint, so that commands
    # recorded before it keep theirs
    allow_substitution: bool = field(default=False, repr=False)
    # waves by priority (1 = most urgent) and by carrier cut-off; out of the fingerprint as allow_substitution
    priority: int | None = field(default=None, repr=False)
    carrier: str | None = field(default=None, repr=False)
    cutoff: datetime | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class DispatchSlot:
    work_order: str
    operation: int


@dataclass(frozen=True, kw_only=True)
class SetDispatchList(Command):
    workstation: str
    sequence: tuple[DispatchSlot, ...]
