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

from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, ValidationError

from edge.domain.gs1 import gtin_problem

# A code as the plant writes it on labels (item, bin, lot, work order, workstation ...): no control
# characters, no leading, trailing or double spaces.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                        pattern=r"^[^\s\x00-\x1f]+( [^\s\x00-\x1f]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Quantities are exact decimals with at most 6 places (what the store keeps).
MAX_DIGITS = 18
DECIMAL_PLACES = 6
Quantity = Annotated[Decimal, Field(gt=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False)]
Count = Annotated[Decimal, Field(ge=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False)]
# A measured value, a limit or a nominal of a characteristic: any sign, the same digits as a quantity, finite.
Measure = Annotated[Decimal, Field(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False)]
# A percentage (overproduction tolerance, count approval threshold): 0 to 1000 %.
Percent = Annotated[Decimal, Field(ge=0, le=1000, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                   allow_inf_nan=False)]

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
                                          allow_inf_nan=False)]


def number_problem(kind: Any, value: object) -> str | None:
    """Why ``value`` is not a ``kind`` (one of the types above), or None: for readers that are not pydantic models
    (a B2MML document's quantities), so they bound their numbers with the very same rules."""
    try:
        TypeAdapter(kind).validate_python(value)
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


# A GS1 trade item number: GTIN-8, -12, -13 or -14 with its check digit.
Gtin = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_valid_gtin)]
