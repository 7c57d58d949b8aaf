"""Events of pallets (GS1 SSCC): packed, changed while open, shipped against a sales order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import Event

__all__ = ["PalletContent", "PalletPacked", "PalletLotAdded", "PalletLotRemoved", "ShippedLine", "PalletShipped"]


class _PalletSubject:
    sscc: str

    @property
    def subject(self) -> str:
        return f"pallet:{self.sscc}"


@dataclass(frozen=True, kw_only=True)
class PalletContent:
    lot: str
    item: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class PalletPacked(_PalletSubject, Event):
    """A pallet (GS1 SSCC) packed in ``bin`` with quantities of lots in stock there. The stock stays in the bin
    until the pallet is shipped."""

    sscc: str
    bin: str
    lines: tuple[PalletContent, ...]
    packed_by: str
    at: datetime
    kind: str = "pallet"  # pallet | parcel
    gross_weight: Decimal | None = None  # kg


@dataclass(frozen=True, kw_only=True)
class PalletLotAdded(_PalletSubject, Event):
    sscc: str
    lot: str
    item: str
    quantity: Decimal
    at: datetime
    serial: str | None = None  # a serialised unit (of ``item``, in ``lot``) packed by its serial: quantity 1


@dataclass(frozen=True, kw_only=True)
class PalletLotRemoved(_PalletSubject, Event):
    """Stock of a lot taken off an open pallet (it stays in the bin, free again)."""

    sscc: str
    lot: str
    item: str
    quantity: Decimal
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShippedLine:
    lot: str
    item: str
    quantity: Decimal
    line: int  # the sales order line it was shipped against


@dataclass(frozen=True, kw_only=True)
class PalletShipped(_PalletSubject, Event):
    """A pallet left for a customer against a sales order (its stock left the bin in StockMoved events of kind
    ship, recorded just before this one)."""

    sscc: str
    sales_order: str
    customer: str
    bin: str
    lines: tuple[ShippedLine, ...]
    at: datetime
