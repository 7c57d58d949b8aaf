"""Events of outbound: waves released and picked, picks corrected, line-side bins defined, replenishment tasks
raised and done (the stock itself moves in StockMoved events of kind pick and replenish)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event

__all__ = ["PlannedPick", "ShortLine", "WaveReleased", "WavePicked", "PickCorrected", "LineSideBinDefined",
           "ReplenishmentRaised", "ReplenishmentDone"]


class _WaveSubject:
    wave: str

    @property
    def subject(self) -> str:
        return f"wave:{self.wave}"


class _TaskSubject:
    task: str

    @property
    def subject(self) -> str:
        return f"replenishment:{self.task}"


@dataclass(frozen=True, kw_only=True)
class PlannedPick:
    pick: int
    sales_order: str
    line: int
    item: str
    lot: str
    bin: str
    zone: str
    walk_sequence: int | None
    quantity: Decimal
    min_expiry: date | None


@dataclass(frozen=True, kw_only=True)
class ShortLine:
    """An order line the wave could not cover whole: ``short`` left, and why (no stock, or none with shelf life)."""

    sales_order: str
    line: int
    item: str
    short: Decimal
    reason: str


@dataclass(frozen=True, kw_only=True)
class WaveReleased(_WaveSubject, Event):
    wave: str
    mode: str
    group: str
    to_bin: str
    picks: tuple[PlannedPick, ...]  # in walk order
    shorts: tuple[ShortLine, ...]
    released_by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class WavePicked(_WaveSubject, Event):
    wave: str
    pick: int
    sales_order: str
    line: int
    item: str
    lot: str
    planned_lot: str
    bin: str
    tote: str
    asked: Decimal
    quantity: Decimal
    short_reason: str | None
    picked_by: str
    device: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class PickCorrected(_WaveSubject, Event):
    """A pick found wrong: the original pick (wave, pick) with who picked it and from which device."""

    wave: str
    pick: int
    sales_order: str
    item: str
    zone: str
    bin: str
    wrong_lot: str
    right_lot: str
    picked_by: str
    device: str | None
    picked_at: datetime
    found_at: str
    note: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LineSideBinDefined(Event):
    bin: str
    item: str
    minimum: Decimal
    maximum: Decimal
    pack: Decimal | None
    kanban_bins: int
    source_zone: str

    @property
    def subject(self) -> str:
        return f"bin:{self.bin}"


@dataclass(frozen=True, kw_only=True)
class ReplenishmentRaised(_TaskSubject, Event):
    task: str
    bin: str
    item: str
    quantity: Decimal
    reason: str  # below_min | kanban | ahead
    priority: int
    lot: str | None
    from_bin: str | None
    work_order: str | None
    level: Decimal  # the bin's stock of the item when it was raised
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ReplenishmentDone(_TaskSubject, Event):
    task: str
    bin: str
    item: str
    lot: str
    from_bin: str
    quantity: Decimal
    done_by: str
    at: datetime
