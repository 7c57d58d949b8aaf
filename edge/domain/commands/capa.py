"""Commands of rework and CAPA: what a rework disposition asks for, CAPA records and their actions, and the split of a
lot under inspection into accepted and rejected sub-lots."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from edge.domain.commands.base import Command

__all__ = [
    "ReworkOperationSpec", "ReworkSpec", "OpenCapa", "RecordRootCause", "PlanCapaAction", "CompleteCapaAction",
    "CheckCapaEffectiveness", "SubLotSpec", "SplitLot",
]


@dataclass(frozen=True, kw_only=True)
class ReworkOperationSpec:
    description: str
    workstation: str
    standard_minutes: Decimal = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class ReworkSpec:
    """The rework a "rework" disposition creates: ``operations`` (the rework's routing) added to the NCR's work order
    (``mode`` operations) or on a new rework order ``rework_order`` (``mode`` order; None: the site's choice), the
    re-inspection by ``plan``, and the ``subjects`` held until it passes (default: the NCR's lot)."""

    operations: tuple[ReworkOperationSpec, ...]
    plan: str
    mode: str | None = None
    rework_order: str | None = None
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OpenCapa(Command):
    capa: str
    problem: str
    ncrs: tuple[str, ...] = ()
    containment: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordRootCause(Command):
    """The root cause of a CAPA's problem: a 5-why chain (``whys``, first why first) and/or its fishbone category."""

    capa: str
    root_cause: str
    whys: tuple[str, ...] = ()
    fishbone: str | None = None
    containment: str | None = None


@dataclass(frozen=True, kw_only=True)
class PlanCapaAction(Command):
    capa: str
    kind: str  # corrective | preventive
    description: str
    owner: str
    due: date


@dataclass(frozen=True, kw_only=True)
class CompleteCapaAction(Command):
    capa: str
    action: int
    result: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckCapaEffectiveness(Command):
    """The effectiveness check: effective closes the CAPA; not effective keeps it open for more actions."""

    capa: str
    effective: bool
    comment: str


@dataclass(frozen=True, kw_only=True)
class SubLotSpec:
    lot: str
    quantity: Decimal
    verdict: str  # accepted | rejected
    samples: int = 0
    failed: int = 0


@dataclass(frozen=True, kw_only=True)
class SplitLot(Command):
    """Partial acceptance: a lot under inspection split into accepted and rejected sub-lots (its whole quantity)."""

    lot: str
    parts: tuple[SubLotSpec, ...]
