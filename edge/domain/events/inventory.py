"""Events of inventory: lots received, defined and re-dated, every stock move (receipt, move, issue, return, count,
scrap, pick, shipment), counts awaiting approval, and lot status changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event, LotSubject

__all__ = [
    "LotReceived", "LotDefined", "LotExpiryChanged", "CountAwaitsApproval", "CountDecided", "StockMoved",
    "LotStatusChanged",
]


@dataclass(frozen=True, kw_only=True)
class LotReceived(LotSubject, Event):
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
class LotDefined(LotSubject, Event):
    """A lot known before any of it is here (from the ERP): no stock, status available until received."""

    lot: str
    item: str
    item_revision: str
    expiry: date | None
    supplier_lot: str | None


@dataclass(frozen=True, kw_only=True)
class LotExpiryChanged(LotSubject, Event):
    """The expiry of a known lot changed (the ERP shortened or extended its shelf life); ``quantity``: the lot's
    stock here when it changed."""

    lot: str
    item: str
    expiry: date | None
    previous: date | None
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class CountAwaitsApproval(LotSubject, Event):
    """A count whose variance is above the approval threshold: nothing booked until a supervisor decides."""

    lot: str
    bin: str
    counted: Decimal
    expected: Decimal
    reason: str
    counted_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CountDecided(LotSubject, Event):
    lot: str
    bin: str
    approved: bool
    note: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class StockMoved(LotSubject, Event):
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


@dataclass(frozen=True, kw_only=True)
class LotStatusChanged(LotSubject, Event):
    lot: str
    status: str
    previous: str
    reason: str
    ncr: str | None
