"""Constrained input types shared by the API's request models, the site configuration and the sync's messages, so a
code or a number is valid in a YAML file, a request and a message exactly when it is valid in the others.

Every number is bounded where it enters (DESIGN.md, principle 7): a decimal has at most 18 digits, 6 of them after
the point (what the store keeps: NUMERIC(24, 6)), and is finite; a whole number lies within the column that keeps it
(a journal sequence within SQLite's and PostgreSQL's 64-bit BIGINT, a row id within a 32-bit INTEGER). The bounds are
in the types, so a route, a site file and a sync message refuse the same input with 422 naming the field, before
any of it reaches the domain or the store. ``decimal_text`` writes any decimal a store may hold as text without ever
raising, so a record from before these bounds cannot make a read answer 500.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from edge.domain.gs1 import gtin_problem

# A code as the plant writes it on labels (item, bin, lot, work order, workstation ...): no control
# characters, no leading, trailing or double spaces. The blanks are spelled out rather than written ``\s``, which
# means other characters in JSON Schema (ECMA-262: U+FEFF) than in Python (U+001C..U+001F, U+0085), so that the
# OpenAPI document and the node agree on every code; DEL is a control character too.
_NOT_BLANK = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                        pattern=rf"^{_NOT_BLANK}+( {_NOT_BLANK}+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Quantities are exact decimals with at most 6 places (what the store keeps).
MAX_DIGITS = 18
DECIMAL_PLACES = 6
_WHOLE = MAX_DIGITS - DECIMAL_PLACES
_LARGEST = 10**_WHOLE - 1  # the largest whole number a decimal may be: 999 999 999 999


@dataclass(frozen=True)
class DecimalForm:
    """How a request writes a decimal: a whole JSON number from ``least`` to ``most``, or text matching ``pattern``
    (digits, a point and at most 6 places, no exponent, no blanks, no sign but a minus where negative values are
    allowed). A JSON number with a fraction is binary floating point (0.1 + 0.2 is not 0.3 in it), so a fraction is
    sent as text, exactly: "12.5".

    It is the JSON schema of the decimal types below, so the OpenAPI document states exactly what a request may send;
    the API's request models hold a client to it (``check``, takt/api/models.py). A site file and an ERP's message
    may write a number any way a Decimal reads it: the bounds (digits, places, range) are the same everywhere."""

    least: int
    most: int
    pattern: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        if handler.mode != "validation":
            return handler(core_schema)
        return {"anyOf": [{"type": "integer", "minimum": self.least, "maximum": self.most},
                          {"type": "string", "pattern": self.pattern}]}

    def check(self, value: Any) -> Any:
        """``value`` as sent, if it has this form; else ValueError saying which form it needs. The text is matched as
        JSON Schema validators in Python match a pattern (``re.search``)."""
        if isinstance(value, str) and re.search(self.pattern, value) is None:
            top = f"{self.most}.{'9' * DECIMAL_PLACES}" if self.most == _LARGEST else str(self.most)
            raise ValueError(f"a decimal has at most {MAX_DIGITS} digits, {DECIMAL_PLACES} of them after the point, "
                             f'from {self.least} to {top}, written without exponent or blanks (e.g. "12.5")')
        if isinstance(value, float) and not value.is_integer():
            raise ValueError('a fraction is sent as text (e.g. "12.5"), not as a JSON number with a fraction '
                             "(binary floating point)")
        return value


_PLACES = rf"(\.[0-9]{{1,{DECIMAL_PLACES}}})?"
_WHOLE_DIGITS = rf"(0+|0*[1-9][0-9]{{0,{_WHOLE - 1}}})"
# a fraction of 1 to 6 places, not all of them 0
_SOME_PLACES = "|".join("0" * zeros + "[1-9]" + (f"[0-9]{{0,{DECIMAL_PLACES - 1 - zeros}}}"
                                                  if zeros < DECIMAL_PLACES - 1 else "")
                        for zeros in range(DECIMAL_PLACES))
_THOUSAND = rf"0*1000(\.0{{1,{DECIMAL_PLACES}}})?"
QUANTITY_FORM = DecimalForm(1, _LARGEST, rf"^(0*[1-9][0-9]{{0,{_WHOLE - 1}}}{_PLACES}|0+\.({_SOME_PLACES}))$")
COUNT_FORM = DecimalForm(0, _LARGEST, rf"^{_WHOLE_DIGITS}{_PLACES}$")
MEASURE_FORM = DecimalForm(-_LARGEST, _LARGEST, rf"^-?{_WHOLE_DIGITS}{_PLACES}$")
PERCENT_FORM = DecimalForm(0, 1000, rf"^({_THOUSAND}|(0+|0*[1-9][0-9]{{0,2}}){_PLACES})$")
BANDS_FORM = DecimalForm(1, 1000, rf"^({_THOUSAND}|0*[1-9][0-9]{{0,2}}{_PLACES})$")

Quantity = Annotated[Decimal, Field(gt=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False),
                     QUANTITY_FORM]
Count = Annotated[Decimal, Field(ge=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False),
                  COUNT_FORM]
# A measured value, a limit or a nominal of a characteristic: any sign, the same digits as a quantity, finite.
Measure = Annotated[Decimal, Field(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False),
                    MEASURE_FORM]
# A percentage (overproduction tolerance, count approval threshold): 0 to 1000 %.
Percent = Annotated[Decimal, Field(ge=0, le=1000, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                   allow_inf_nan=False), PERCENT_FORM]

# Whole numbers within the store's columns. (annotated_types.Interval rather than Field, so that FastAPI keeps the
# bounds of a path or query parameter declared as ``name: Annotated[Type, Query(...)] = default``.)
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# A position in the journal (seq, a sync cursor): 0 .. the largest BIGINT.
JournalSeq = Annotated[int, Interval(ge=0, le=INT64_MAX)]
# A row id the store numbers (a sync exception): 1 .. the largest INTEGER.
RowId = Annotated[int, Interval(ge=1, le=INT32_MAX)]
# An operation of a routing (10, 20, ...) and a line of a BOM or an order: 1 .. 99999.
OperationNumber = Annotated[int, Interval(ge=1, le=99_999)]
LineNumber = Annotated[int, Interval(ge=1, le=99_999)]
# A count of things (a sample size, parts, minutes): 0 .. a million.
SmallCount = Annotated[int, Interval(ge=0, le=1_000_000)]
# How often a characteristic's tolerance band a measurement may lie beyond its limits before it is implausible
# (edge.domain.contexts.quality): 1 .. 1000.
PlausibleBands = Annotated[Decimal, Field(ge=1, le=1000, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                          allow_inf_nan=False), BANDS_FORM]


# One adapter per type, kept with the type (its id alone could be a new object's): building one costs ~0.3 ms, and a
# B2MML schedule of 1,000 requests checks 10,000 numbers.
_ADAPTERS: dict[int, tuple[Any, TypeAdapter[Any]]] = {}


def number_problem(kind: Any, value: object) -> str | None:
    """Why ``value`` is not a ``kind`` (one of the types above), or None: for readers that are not pydantic models
    (a B2MML document's quantities), so they bound their numbers with the very same rules."""
    known = _ADAPTERS.get(id(kind))
    if known is None or known[0] is not kind:
        known = _ADAPTERS[id(kind)] = (kind, TypeAdapter(kind))
    adapter = known[1]
    try:
        adapter.validate_python(value)
    except ValidationError as err:
        return str(err.errors(include_url=False)[0]["msg"])
    return None


# Decimals beyond this many digits are written in scientific notation by decimal_text.
_PLAIN_DIGITS = 40


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros (12.5, 460), the same on SQLite and PostgreSQL; one too
    large or too small to write out (``1E+1000000``, from a store filled before numbers were bounded) in scientific
    notation, and NaN or infinity as they are. Never raises: the normalisation runs in an exact context."""
    if not value.is_finite():
        return str(value)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    while len(digits) > 1 and digits[-1] == 0:  # trailing zeros off, exactly (normalize() would round or overflow)
        digits, exponent = digits[:-1], exponent + 1
    if not any(digits):
        return "0"
    trimmed = Decimal((sign, digits, exponent))
    if not -_PLAIN_DIGITS <= exponent <= _PLAIN_DIGITS:
        return str(trimmed)
    return format(trimmed, "f")


def _valid_gtin(value: str) -> str:
    problem = gtin_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# A GS1 trade item number: GTIN-8, -12, -13 or -14 with its check digit. The schema states the digits (what
# gtin_problem checks first, with its own words); the check digit is arithmetic on them that a schema cannot state:
# a wrong one is refused with 422.
Gtin = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_valid_gtin),
                 WithJsonSchema({"type": "string", "pattern": r"^([0-9]{8}|[0-9]{12,14})$"}, mode="validation")]
