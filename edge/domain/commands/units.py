"""Commands of work instructions and serialised units: an instruction defined (PLM or the site's folder), a unit
serialised at its first operation, a step of an instruction recorded, a unit's operation completed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command

__all__ = ["InstructionStepSpec", "DefineWorkInstruction", "SerialiseUnit", "RecordStep", "CompleteUnitOperation"]


@dataclass(frozen=True, kw_only=True)
class InstructionStepSpec:
    step: int
    kind: str  # read | check | measure | scan | photo | signoff (edge.domain.model.STEP_KINDS)
    texts: tuple[str, ...] = ()  # "en=Fit the impeller", "nl=Monteer de waaier"
    media: tuple[str, ...] = ()  # "image:impeller.png", "pdf:pump.pdf#3"
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: str = ""
    expect: str | None = None
    component: str | None = None
    on_fail: str = "block"
    plan: str | None = None
    characteristic: str | None = None


@dataclass(frozen=True, kw_only=True)
class DefineWorkInstruction(Command):
    item: str
    operation: int
    revision: str
    item_revision: str
    title: str
    steps: tuple[InstructionStepSpec, ...]


@dataclass(frozen=True, kw_only=True)
class SerialiseUnit(Command):
    """A unit of a serialised item starts at the work order's first operation with its serial: the one scanned from
    a pre-printed label (``serial``), or the next of the site's ``pattern``; ``gs1``: the serial is GS1 AI 21 beside
    the item's GTIN (AI 01) on the unit's label."""

    work_order: str
    operation: int
    serial: str | None = None
    gtin: str | None = None  # the GTIN a scanned GS1 label carried beside the serial
    pattern: str = "{work_order}-{n:04d}"  # the site's (a setting)
    gs1: bool = False  # the site's (a setting)


@dataclass(frozen=True, kw_only=True)
class RecordStep(Command):
    work_order: str
    operation: int
    instruction_revision: str
    step: int
    serial: str | None = None  # the unit (serialised items); None: the order's lot-built output
    result: Literal["done", "not_ok"] | None = None  # check, signoff
    value: Decimal | None = None  # measure
    scanned: str | None = None  # scan
    photo: str | None = None  # photo: the id the node gave the uploaded picture
    started_at: datetime | None = None  # when the step was shown, for its duration


@dataclass(frozen=True, kw_only=True)
class CompleteUnitOperation(Command):
    work_order: str
    operation: int
    serial: str
