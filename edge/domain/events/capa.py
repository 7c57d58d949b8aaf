"""Events of rework and CAPA: a rework opened by a disposition and its re-inspection verdict, a supplier return, CAPA
records and their actions, and sub-lots split off a lot under inspection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edge.domain.events.base import Event
from edge.domain.events.orders import ReleasedOperation

__all__ = [
    "ReworkOpened", "ReworkVerdict", "SupplierReturnCreated", "CapaOpened", "CapaRootCauseRecorded",
    "CapaActionPlanned", "CapaActionCompleted", "CapaEffectivenessChecked", "SubLotSplit",
]


@dataclass(frozen=True, kw_only=True)
class ReworkOpened(Event):
    """A rework disposition's rework: ``operations`` added to ``work_order`` (``mode`` operations) or a new rework
    order of ``item`` for ``quantity`` with them as its routing (``mode`` order); ``subjects`` stay held until the
    re-inspection ``task`` by ``plan`` passes."""

    rework: str
    ncr: str
    mode: str
    work_order: str
    item: str
    item_revision: str
    quantity: Decimal
    operations: tuple[ReleasedOperation, ...]
    subjects: tuple[str, ...]
    task: str
    plan: str
    opened_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"


@dataclass(frozen=True, kw_only=True)
class ReworkVerdict(Event):
    """The re-inspection of a rework: ``passed`` releases its subjects, ``failed`` keeps them held (a new NCR)."""

    rework: str
    ncr: str
    task: str
    plan: str
    verdict: str  # passed | failed
    samples: int
    failed: int
    subjects: tuple[str, ...]
    new_ncr: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"ncr:{self.ncr}"


@dataclass(frozen=True, kw_only=True)
class SupplierReturnCreated(Event):
    """A "return to supplier" disposition: the lot's stock goes back to its supplier (for the SRM)."""

    supplier_return: str
    ncr: str
    lot: str
    item: str
    supplier: str | None
    supplier_lot: str | None
    purchase_order: str | None
    quantity: Decimal
    reason: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"lot:{self.lot}"


@dataclass(frozen=True, kw_only=True)
class CapaOpened(Event):
    capa: str
    problem: str
    ncrs: tuple[str, ...]
    containment: str
    opened_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"capa:{self.capa}"


@dataclass(frozen=True, kw_only=True)
class CapaRootCauseRecorded(Event):
    capa: str
    root_cause: str
    whys: tuple[str, ...]
    fishbone: str | None
    containment: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"capa:{self.capa}"


@dataclass(frozen=True, kw_only=True)
class CapaActionPlanned(Event):
    capa: str
    action: int
    kind: str
    description: str
    owner: str
    due: date
    at: datetime

    @property
    def subject(self) -> str:
        return f"capa:{self.capa}"


@dataclass(frozen=True, kw_only=True)
class CapaActionCompleted(Event):
    capa: str
    action: int
    result: str
    done_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"capa:{self.capa}"


@dataclass(frozen=True, kw_only=True)
class CapaEffectivenessChecked(Event):
    capa: str
    effective: bool
    comment: str
    checked_by: str
    at: datetime

    @property
    def subject(self) -> str:
        return f"capa:{self.capa}"


@dataclass(frozen=True, kw_only=True)
class SubLotSplit(Event):
    """A sub-lot split off ``parent`` (a lot under inspection) with its own verdict and status; its stock moves from
    the parent in the StockMoved events that follow (kind ``split``)."""

    lot: str
    parent: str
    item: str
    item_revision: str
    quantity: Decimal
    verdict: str  # accepted | rejected
    status: str
    samples: int
    failed: int
    bin: str
    task: str | None
    expiry: date | None
    supplier_lot: str | None
    work_order: str | None
    at: datetime

    @property
    def subject(self) -> str:
        return f"lot:{self.lot}"
