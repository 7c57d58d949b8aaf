"""Commands of inventory: receipts, lots the ERP announces, moves and putaway, issues to work orders, counts,
scrap, holds and releases.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from edge.domain.commands.base import Command
from edge.domain.duties import DutyPolicy
from edge.domain.putaway import PutawayRule

__all__ = [
    "ReceiveLot", "DefineLot", "ReceiveProducedLot", "ReceiveAgainstPurchaseOrder", "MoveStock", "IssueToWorkOrder",
    "AdjustStock", "DecideCount", "ScrapStock", "HoldLot", "ReleaseLot",
]


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
class IssueToWorkOrder(Command):
    """Material consumption: a lot from a bin issued against a BOM line of a work order."""

    work_order: str
    lot: str
    bin: str
    quantity: Decimal
    serial: str | None = None  # a serialised unit (GS1 AI 21): issued once
    gtin: str | None = None  # the GTIN on the scanned label: it must be the lot's item's


@dataclass(frozen=True, kw_only=True)
class AdjustStock(Command):
    """A counted correction: ``counted`` is what is really in the bin now. A variance above ``approval_pct`` of the
    bin's stock (the site's setting, given by the node) waits for a supervisor unless a supervisor counted."""

    lot: str
    bin: str
    counted: Decimal
    reason: str
    approval_pct: Decimal | None = field(default=None, repr=False)  # a setting, not part of what was asked
    duties: DutyPolicy | None = field(default=None, repr=False)  # the site's segregation of duties (a setting)


@dataclass(frozen=True, kw_only=True)
class DecideCount(Command):
    """A supervisor's decision on a count that waits for approval: ``approve`` books it, else it is discarded."""

    lot: str
    bin: str
    approve: bool
    note: str = ""
    duties: DutyPolicy | None = field(default=None, repr=False)  # the site's segregation of duties (a setting)


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
