"""Constrained input types shared by the API's request models and the site configuration, so a
code or a quantity is valid in a YAML file exactly when it is valid in a request."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from edge.domain.gs1 import gtin_problem

# A code as the plant writes it on labels (item, bin, lot, work order, workstation ...): no control
# characters, no leading, trailing or double spaces.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                        pattern=r"^[^\s\x00-\x1f]+( [^\s\x00-\x1f]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Quantities are exact decimals with at most 6 places (what the store keeps).
Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]
Count = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


def _valid_gtin(value: str) -> str:
    problem = gtin_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# A GS1 trade item number: GTIN-8, -12, -13 or -14 with its check digit.
Gtin = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_valid_gtin)]
