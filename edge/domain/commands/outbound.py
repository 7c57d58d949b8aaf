"""Commands of outbound: customer-order picks released in waves, picked bin by bin, corrected when found wrong, and
line-side bins kept filled by replenishment tasks (min/max, kanban cards, ahead of the next shift's orders)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command

__all__ = ["OrderLineRef", "ReleaseWaves", "PickWaveLine", "CorrectPick", "DefineLineSideBin", "SignalEmptyBin",
           "ReplenishAhead", "CompleteReplenishment"]


@dataclass(frozen=True, kw_only=True)
class OrderLineRef:
    sales_order: str
    line: int


@dataclass(frozen=True, kw_only=True)
class ReleaseWaves(Command):
    """Release open sales order lines to be picked: ``lines`` (none: every open line no wave holds yet), grouped by
    ``group_by`` (zone: a wave per storage zone, the order's tote handed over between them; due: a wave per
    due date; priority: a wave per sales order priority, most urgent first; cutoff: a wave per carrier and cut-off,
    earliest first, an order without a carrier by its lines' due date; none: one wave), ``mode`` cluster (one walk, a tote per order) or zone.
    Lots are chosen FEFO among those that meet each customer's remaining shelf life (the site's settings) and that
    nobody else counts on; the stock chosen is reserved until picked."""

    to_bin: str
    lines: tuple[OrderLineRef, ...] = ()
    group_by: Literal["zone", "due", "priority", "cutoff", "none"] = "none"
    mode: Literal["cluster", "zone"] = "cluster"
    # settings of the site (warehouse.shelf_life), not what was asked: customer -> the share of shelf life a lot
    # must have left when picked; item -> its shelf life in days
    min_shelf_life_pct: tuple[tuple[str, Decimal], ...] = field(default=(), repr=False)
    shelf_life_days: tuple[tuple[str, int], ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True)
class PickWaveLine(Command):
    """A stop of a wave's walk as the handheld scanned it: the bin, the lot, the quantity taken and the order's tote.
    Less than asked is a short pick and needs ``short_reason``; another lot than planned only where the order allows
    substitution (and only one that meets the customer's shelf life)."""

    wave: str
    pick: int
    bin: str
    lot: str
    quantity: Decimal
    tote: str
    short_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectPick(Command):
    """A pick found wrong later (at packing, at the line, by the customer): linked to the original pick, so the
    mis-pick report knows who picked it, with which device, in which zone."""

    wave: str
    pick: int
    right_lot: str
    found_at: Literal["packing", "line", "customer"]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DefineLineSideBin(Command):
    bin: str
    item: str
    minimum: Decimal
    maximum: Decimal
    pack: Decimal | None = None
    kanban_bins: int = 0
    source_zone: str = "storage"


@dataclass(frozen=True, kw_only=True)
class SignalEmptyBin(Command):
    """A kanban card scanned at the line: a container of ``item`` in line-side ``bin`` is empty."""

    bin: str
    item: str


@dataclass(frozen=True, kw_only=True)
class ReplenishAhead(Command):
    """Work orders released for the next shift: fill their line-side bins ahead of need, from their BOMs."""

    work_orders: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CompleteReplenishment(Command):
    """A replenishment task done on the handheld: ``quantity`` of ``lot`` taken from ``from_bin`` to the task's
    line-side bin."""

    task: str
    lot: str
    from_bin: str
    quantity: Decimal
