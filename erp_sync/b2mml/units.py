"""Units of measure in B2MML quantities: a quantity given in another unit than the item's is converted to the item's
unit when both are units of the same kind (count, mass, length, volume) that this table knows.

Names are matched without regard to case; UN/ECE Recommendation 20 codes (``KGM``, ``C62``, ``MTR``) are known as
well as the usual short names. A unit neither the item's nor in the table is refused by the reader, naming it.
"""
from __future__ import annotations

from decimal import Decimal

_KINDS: dict[str, tuple[Decimal, tuple[str, ...]]] = {}


def _kind(kind: str, factor: str, *names: str) -> None:
    for name in names:
        _KINDS[name.lower()] = (Decimal(factor), (kind,))


_kind("count", "1", "pcs", "pc", "pce", "ea", "each", "st", "stk", "unit", "units", "piece", "pieces", "c62", "h87")
_kind("count", "12", "dz", "dzn", "dozen")
_kind("mass", "1", "kg", "kgm")
_kind("mass", "0.001", "g", "grm")
_kind("mass", "0.000001", "mg", "mgm")
_kind("mass", "1000", "t", "tne")
_kind("mass", "0.45359237", "lb", "lbr")
_kind("mass", "0.028349523125", "oz", "onz")
_kind("length", "1", "m", "mtr")
_kind("length", "0.001", "mm", "mmt")
_kind("length", "0.01", "cm", "cmt")
_kind("length", "1000", "km", "kmt")
_kind("length", "0.0254", "in", "inh")
_kind("length", "0.3048", "ft", "fot")
_kind("volume", "1", "l", "ltr")
_kind("volume", "0.001", "ml", "mlt")
_kind("volume", "0.01", "cl", "clt")
_kind("volume", "1000", "m3", "mtq")
_kind("volume", "3.785411784", "gal", "gll")


class UnitMismatch(ValueError):
    """A quantity's unit cannot be turned into the item's unit; the message says why."""


def known_unit(unit: str) -> bool:
    return unit.strip().lower() in _KINDS


def convert(quantity: Decimal, unit: str | None, to_unit: str) -> Decimal:
    """``quantity`` given in ``unit`` as a quantity in ``to_unit`` (the item's); no unit means the item's unit.
    Raises UnitMismatch when the units are of different kinds or one is not known (and they are not the same)."""
    if unit is None or not unit.strip() or unit.strip().lower() == to_unit.strip().lower():
        return quantity
    given = _KINDS.get(unit.strip().lower())
    target = _KINDS.get(to_unit.strip().lower())
    if given is None:
        raise UnitMismatch(f"unit {unit!r} is not known here")
    if target is None:
        raise UnitMismatch(f"unit {unit!r} cannot be converted to {to_unit!r}, which is not in the table of units")
    if given[1] != target[1]:
        raise UnitMismatch(f"unit {unit!r} ({given[1][0]}) cannot be converted to {to_unit!r} ({target[1][0]})")
    return (quantity * given[0] / target[0]).normalize()
