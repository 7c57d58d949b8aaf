"""Commands of kitting: picks of a work order's pick list into a staging bin, and material returned from an order."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from edge.domain.commands.base import Command

__all__ = ["PickForKitting", "ReturnFromWorkOrder"]


@dataclass(frozen=True, kw_only=True)
class PickForKitting(Command):
    """A pick of a work order's pick list: ``quantity`` of a lot taken from ``from_bin`` to the order's staging
    (line-side) bin ``to_bin``, where ``asked`` was asked. Less than asked is a short pick and needs
    ``short_reason``; nothing found at all is a pick of 0."""

    work_order: str
    lot: str
    from_bin: str
    to_bin: str
    quantity: Decimal
    asked: Decimal
    short_reason: str | None = None
    gtin: str | None = None  # the GTIN on the scanned label: it must be the lot's item's


@dataclass(frozen=True, kw_only=True)
class ReturnFromWorkOrder(Command):
    work_order: str
    lot: str
    bin: str
    quantity: Decimal
    serial: str | None = None
