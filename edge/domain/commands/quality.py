"""Commands of quality: inspection plans, inspection results, nonconformances and their dispositions."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from edge.domain.commands.base import Command
from edge.domain.commands.capa import ReworkSpec
from edge.domain.duties import DutyPolicy
from edge.domain.model import PLAUSIBLE_BANDS

__all__ = [
    "CharacteristicSpec", "DefineInspectionPlan", "Measurement", "RecordInspection", "RaiseNonconformance",
    "DispositionNonconformance",
]


@dataclass(frozen=True, kw_only=True)
class CharacteristicSpec:
    characteristic: str
    kind: Literal["numeric", "attribute"]
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: str = ""


@dataclass(frozen=True, kw_only=True)
class DefineInspectionPlan(Command):
    plan: str
    description: str
    characteristics: tuple[CharacteristicSpec, ...]
    item: str | None = None
    operation: int | None = None
    hold_on_fail: bool = True
    # An SPC rule violation (Western Electric) on a numeric characteristic raises a nonconformance. Left out of the
    # repr, so plans defined before keep their keys' fingerprints.
    spc_nonconformance: bool = field(default=False, repr=False)
    # Sampling (edge.domain.sampling); all left out of the repr like spc_nonconformance.
    kind: Literal["general", "incoming", "in_process", "final"] = field(default="general", repr=False)
    supplier: str | None = field(default=None, repr=False)
    sample_size: int | None = field(default=None, repr=False)
    sample_by_lot_size: bool = field(default=False, repr=False)
    accept_number: int = field(default=0, repr=False)
    every_n_parts: int | None = field(default=None, repr=False)
    every_minutes: int | None = field(default=None, repr=False)
    flag_overdue: bool = field(default=False, repr=False)
    overdue_grace_parts: Decimal = field(default=Decimal(0), repr=False)
    # Measurements beyond this many tolerance bands outside the limits are refused (model.PLAUSIBLE_BANDS).
    plausible_bands: Decimal = field(default=PLAUSIBLE_BANDS, repr=False)
    # Its verdicts are electronically signed: the inspection that gives one carries the inspector's signature.
    signed: bool = field(default=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    characteristic: str
    value: Decimal | None = None
    passed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class RecordInspection(Command):
    inspection: str
    plan: str
    measurements: tuple[Measurement, ...]
    lot: str | None = None
    work_order: str | None = None
    operation: int | None = None
    duties: DutyPolicy | None = field(default=None, repr=False)  # the site's segregation of duties (a setting)


@dataclass(frozen=True, kw_only=True)
class RaiseNonconformance(Command):
    ncr: str
    description: str
    lot: str | None = None
    work_order: str | None = None
    hold_lot: bool = True


@dataclass(frozen=True, kw_only=True)
class DispositionNonconformance(Command):
    ncr: str
    disposition: Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
    comment: str = ""
    duties: DutyPolicy | None = field(default=None, repr=False)  # the site's segregation of duties (a setting)
    # A rework disposition: the rework it creates (edge.domain.contexts.capa); None: the NCR closes as before.
    rework: ReworkSpec | None = field(default=None, repr=False)
    rework_mode: str = field(default="operations", repr=False)  # the site's choice when the rework names none
