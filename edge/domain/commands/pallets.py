"""Commands of pallets (GS1 SSCC): packed with lots, changed while open, shipped against a sales order."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from edge.domain.commands.base import Command

__all__ = ["PalletLineSpec", "PackPallet", "AddToPallet", "AddUnitsToPallet", "RemoveFromPallet", "ShipPallet"]


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
    # a pallet or a parcel, and its gross weight in kg as weighed; out of the fingerprint, so that commands recorded
    # before them keep theirs
    kind: str = field(default="pallet", repr=False)
    gross_weight: Decimal | None = field(default=None, repr=False)
    extension_digit: int = field(default=0, repr=False)


@dataclass(frozen=True, kw_only=True)
class AddToPallet(Command):
    """Add ``quantity`` of a lot's stock in the pallet's bin to an open pallet."""

    sscc: str
    lot: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class AddUnitsToPallet(Command):
    """Pack serialised units onto an open pallet by their serials: each is one of its output lot's stock in the
    pallet's bin, and the unit records the pallet (forward trace by serial reaches the SSCC and the shipment)."""

    sscc: str
    serials: tuple[str, ...]
    item: str | None = None  # where serials of several items are alike


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
