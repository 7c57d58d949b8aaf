"""Sampling for inspections: how many samples a lot needs, and when an in-process inspection is due. Pure.

Sample size of a lot (incoming or final inspection): a plan gives a fixed ``sample_size`` n, or asks for the lot-size
table of ISO 2859-1 (ANSI/ASQ Z1.4), general inspection level II, normal inspection, single sampling. The table
below maps the lot size to the code letter and the code letter to the sample size. A sample size above the lot size
inspects the whole lot (100 %). The lot size is the received (or ordered) quantity rounded up to a whole number of
units. The verdict comes after n samples: the lot passes when no more than the plan's ``accept_number`` (Ac, default
0) samples failed. The AQL column of the standard (which would give Ac and Re per code letter) is not modelled: the
plan states its acceptance number.

In-process inspection: a plan on an operation asks for an inspection every ``every_n_parts`` parts reported (good +
scrap) since the last inspection, or every ``every_minutes`` minutes since the last inspection (or since the
operation started), whichever comes first. It is due once either limit is reached, and stays due until the plan's
sample size is recorded for that operation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

# ISO 2859-1 table 1, general inspection level II: (largest lot size, code letter).
LEVEL_II_CODE_LETTERS: tuple[tuple[int, str], ...] = (
    (8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"), (500, "H"), (1200, "J"),
    (3200, "K"), (10000, "L"), (35000, "M"), (150000, "N"), (500000, "P"),
)
LARGEST_LOT_LETTER = "Q"  # 500,001 and more
# ISO 2859-1 table 2-A (normal inspection, single sampling): code letter -> sample size.
SAMPLE_SIZE_OF_LETTER: dict[str, int] = {
    "A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50, "J": 80, "K": 125, "L": 200, "M": 315,
    "N": 500, "P": 800, "Q": 1250,
}


def lot_size(quantity: Decimal) -> int:
    """A lot's quantity as a whole number of units (rounded up, at least 1)."""
    return max(1, int(quantity.to_integral_value(rounding=ROUND_CEILING)))


def code_letter(size: int) -> str:
    """The ISO 2859-1 general inspection level II code letter of a lot of ``size`` units."""
    for largest, letter in LEVEL_II_CODE_LETTERS:
        if size <= largest:
            return letter
    return LARGEST_LOT_LETTER


def sample_size(quantity: Decimal, fixed: int | None, by_lot_size: bool) -> int:
    """How many samples a lot of ``quantity`` needs: the plan's fixed n, or the level II table's; never more than
    the lot holds, at least one."""
    size = lot_size(quantity)
    n = SAMPLE_SIZE_OF_LETTER[code_letter(size)] if by_lot_size else (fixed or 1)
    return max(1, min(n, size))


@dataclass(frozen=True, slots=True)
class Due:
    """Why an in-process inspection is due: ``reason`` is ``count`` or ``time``; ``due_since`` is when the time
    limit passed (None when only the count did)."""

    reason: str
    parts_since: Decimal
    minutes_since: float
    due_since: datetime | None


def interval_due(parts_since: Decimal, since: datetime, now: datetime, every_n_parts: int | None,
                 every_minutes: int | None) -> Due | None:
    """Whether an in-process inspection is due at ``now``, given the parts reported and the time since the last."""
    minutes = (now - since).total_seconds() / 60
    time_due = every_minutes is not None and now >= since + timedelta(minutes=every_minutes)
    count_due = every_n_parts is not None and parts_since >= every_n_parts
    if not (time_due or count_due):
        return None
    return Due(reason="count" if count_due else "time", parts_since=parts_since, minutes_since=minutes,
               due_since=since + timedelta(minutes=every_minutes) if time_due and every_minutes is not None else None)
