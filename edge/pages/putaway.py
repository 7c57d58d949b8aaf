"""Where to put a lot away: the suggested bin for an item and quantity, from the bins and their stock. Pure."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

STORAGE_ZONES = ("storage",)


@dataclass(frozen=True, slots=True)
class BinSpace:
    bin: str
    zone: str
    capacity: Decimal | None
    allowed_items: tuple[str, ...]
    held: Decimal  # all stock in the bin now
    holds_item: bool  # the bin already holds the item


@dataclass(frozen=True, slots=True)
class Suggestion:
    bin: str
    why: str  # dedicated | with_same_item | free
    free: Decimal | None  # room left after the putaway (None: no capacity limit)


def suggest_bin(item: str, quantity: Decimal, bins: Iterable[BinSpace], *, exclude: str | None = None,
                zones: tuple[str, ...] = STORAGE_ZONES) -> Suggestion | None:
    """The storage bin to put ``quantity`` of ``item`` away in: a bin dedicated to the item first, then one that
    already holds it, then any open bin; only bins that allow the item and have room; the fullest fit first in
    each group (keeps bins free), then by bin code. None when no bin fits."""
    ranked: list[tuple[int, Decimal, str, Suggestion]] = []
    for b in bins:
        if b.bin == exclude or b.zone not in zones:
            continue
        if b.allowed_items and item not in b.allowed_items:
            continue
        free = None if b.capacity is None else b.capacity - b.held - quantity
        if free is not None and free < 0:
            continue
        if b.allowed_items:
            group, why = 0, "dedicated"
        elif b.holds_item:
            group, why = 1, "with_same_item"
        else:
            group, why = 2, "free"
        room = free if free is not None else Decimal("Infinity")
        ranked.append((group, room, b.bin, Suggestion(b.bin, why, free)))
    if not ranked:
        return None
    ranked.sort(key=lambda r: (r[0], r[1], r[2]))
    return ranked[0][3]


def spaces(bins: Iterable[Mapping[str, object]], stock: Iterable[Mapping[str, object]], item: str) -> list[BinSpace]:
    """BinSpace rows from the bins table and the stock rows (lot, bin, quantity, item)."""
    held: dict[str, Decimal] = {}
    with_item: set[str] = set()
    for row in stock:
        name = str(row["bin"])
        held[name] = held.get(name, Decimal(0)) + Decimal(str(row["quantity"]))
        if row["item"] == item:
            with_item.add(name)
    out = []
    for b in bins:
        name = str(b["bin"])
        capacity = b.get("capacity")
        allowed = b.get("allowed_items") or ()
        out.append(BinSpace(name, str(b["zone"]), Decimal(str(capacity)) if capacity is not None else None,
                            tuple(str(i) for i in allowed), held.get(name, Decimal(0)),  # type: ignore[attr-defined]
                            name in with_item))
    return out
