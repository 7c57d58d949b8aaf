"""Events of kitting: a pick that came up short (the picks themselves are stock moves of kind ``pick``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edge.domain.events.base import Event, WorkOrderSubject

__all__ = ["ShortPickRecorded"]


@dataclass(frozen=True, kw_only=True)
class ShortPickRecorded(WorkOrderSubject, Event):
    """Kitting found less of a lot in a bin than the pick list asked for (the stock that was found moved in a
    StockMoved of kind pick)."""

    work_order: str
    bom_line: int
    item: str
    lot: str
    bin: str
    asked: Decimal
    picked: Decimal
    reason: str
    at: datetime
