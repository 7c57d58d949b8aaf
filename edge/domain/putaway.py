"""Putaway rules: which bin a received or produced lot should go to, ranked with the reason, and what a bin refuses.

Pure: reads a ``PlantState``, changes nothing.

Two kinds of rules, and what each does when broken:

* **Hard** — a bin's master data: ``allowed_items`` (dedicated bins), ``capacity`` (all stock in the bin),
  ``max_per_item`` (stock of any one item in the bin) and ``lot_policy`` (``mixed``; ``one_item``: the bin holds
  one item, of any number of lots; ``one_lot``: the bin holds a single lot). A receipt, move, putaway or pick that
  breaks one is refused (``ITEM_NOT_ALLOWED_IN_BIN``, ``BIN_FULL``, ``BIN_ITEM_MAX``, ``BIN_ONE_ITEM``,
  ``BIN_ONE_LOT``) naming the bin and the rule. No reason overrides it: a bin that must take more is redefined.
* **Soft** — the site's putaway rules (``warehouse.putaway_rules``: an item code or pattern and the zones its lots
  go to, in order of preference; items no rule names go to the ``storage`` zone) and the ranking below. A putaway
  to another bin than the first suggestion (or anywhere, when no bin fits the rules) is booked only with an
  override reason, which the move event keeps (``StockMoved.override_reason`` beside ``suggested_bin``). The node
  checks this for the API and for handhelds, whose page asks the reason, when the site has putaway rules; a site
  without any gets the suggestions but no check, and a fixed scanner cannot ask and is not checked
  (``MoveStock.putaway_rules`` is None).

Ranking of the bins that take the lot without breaking a hard rule: the rule's zone order first, then a bin
dedicated to the item, one that holds the same lot, one that holds the item, an empty bin, any other bin with room;
within a group the fullest fit (keeps bins free), then the bin code.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from edge.domain.errors import DomainError
from edge.domain.model import Bin

if TYPE_CHECKING:  # plant.py checks bins with bin_refusal: a runtime import would go round in a circle
    from edge.domain.state import PlantState

ZERO = Decimal(0)
STORAGE_ZONES: tuple[str, ...] = ("storage",)
LOT_POLICIES: tuple[str, ...] = ("mixed", "one_item", "one_lot")
GROUPS: tuple[str, ...] = ("dedicated", "same_lot", "same_item", "empty", "free")
_WHY = {"dedicated": "dedicated to {item}", "same_lot": "already holds lot {lot}",
        "same_item": "already holds {item}", "empty": "empty", "free": "has room"}


@dataclass(frozen=True, slots=True)
class PutawayRule:
    """Lots of items matching ``item`` (a code, or a pattern with * and ?) go to ``zones``, the first preferred."""

    item: str
    zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    bin: str
    zone: str
    why: str  # dedicated | same_lot | same_item | empty | free
    reason: str  # the why in words, with the zone and the rule
    free: Decimal | None  # room left in the bin after the putaway (None: no capacity limit)


def zones_for(item: str, rules: tuple[PutawayRule, ...]) -> tuple[tuple[str, ...], str]:
    """The zones lots of ``item`` go to and why (the first rule that names it, else the storage zone)."""
    for i, rule in enumerate(rules):
        if fnmatchcase(item, rule.item):
            return rule.zones, f"putaway rule {i + 1} ({rule.item})"
    return STORAGE_ZONES, "no putaway rule names the item: storage zone"


Contents = tuple[dict[str, Decimal], set[str]]  # item -> quantity in a bin, and the lots in it


def _all_contents(state: PlantState) -> dict[str, Contents]:
    """Every bin's contents, in one pass over the stock."""
    out: dict[str, Contents] = {}
    for (lot, b), row in state.stock.items():
        if row.quantity > ZERO:
            by_item, lots = out.setdefault(b, ({}, set()))
            item = state.lots[lot].item if lot in state.lots else ""
            by_item[item] = by_item.get(item, ZERO) + row.quantity
            lots.add(lot)
    return out


def _contents(state: PlantState, bin_code: str) -> Contents:
    """One bin's contents (the lots the stock index says are in it)."""
    by_item: dict[str, Decimal] = {}
    lots: set[str] = set()
    for lot, bins in state.bins_of_lot.items():
        if bin_code in bins:
            row = state.stock.get((lot, bin_code))
            if row is not None and row.quantity > ZERO:
                item = state.lots[lot].item if lot in state.lots else ""
                by_item[item] = by_item.get(item, ZERO) + row.quantity
                lots.add(lot)
    return by_item, lots


def bin_refusal(state: PlantState, target: Bin, item: str, quantity: Decimal, lot: str | None = None,
                *, name: str = "bin", contents: Contents | None = None) -> DomainError | None:
    """Why ``target`` may not take ``quantity`` of ``item`` (of ``lot``), naming the bin and the rule; None if it
    may."""
    if target.allowed_items and item not in target.allowed_items:
        return DomainError("ITEM_NOT_ALLOWED_IN_BIN",
                           f"bin {target.bin} takes only {', '.join(target.allowed_items)}, not {item}",
                           field=name)
    if target.capacity is not None:
        load = state.bin_load.get(target.bin, ZERO)
        if load + quantity > target.capacity:
            return DomainError("BIN_FULL", f"bin {target.bin} holds {load} of {target.capacity}; {quantity} more "
                               "does not fit", field=name)
    policy, max_per_item = target.lot_policy, target.max_per_item
    if max_per_item is None and policy == "mixed":
        return None
    by_item, lots = contents if contents is not None else _contents(state, target.bin)
    if max_per_item is not None and by_item.get(item, ZERO) + quantity > max_per_item:
        return DomainError("BIN_ITEM_MAX", f"bin {target.bin} holds {by_item.get(item, ZERO)} of {item}; at most "
                           f"{max_per_item} of one item (rule: max per item), {quantity} more does not fit",
                           field=name)
    if policy == "one_item":
        others = sorted(i for i in by_item if i != item)
        if others:
            return DomainError("BIN_ONE_ITEM", f"bin {target.bin} holds one item only (rule: lot policy one_item) "
                               f"and holds {', '.join(others)}; {item} may not go in", field=name)
    if policy == "one_lot":
        others = sorted(x for x in lots if x != lot)
        if others:
            return DomainError("BIN_ONE_LOT", f"bin {target.bin} holds one lot only (rule: lot policy one_lot) and "
                               f"holds lot {', '.join(others)}; lot {lot or '(new)'} may not go in", field=name)
    return None


def suggest(state: PlantState, item: str, quantity: Decimal, rules: tuple[PutawayRule, ...] = (),
            *, lot: str | None = None, exclude: str | None = None, limit: int = 10) -> list[Candidate]:
    """The bins to put ``quantity`` of ``item`` (lot ``lot``) away in, best first, each with the reason; bins that
    would break a hard rule are left out. ``exclude`` is the bin the lot is in now."""
    zones, rule_text = zones_for(item, rules)
    everything = _all_contents(state)
    nothing: Contents = ({}, set())
    ranked: list[tuple[int, int, Decimal, str, Candidate]] = []
    for b in state.bins.values():
        if b.bin == exclude or b.zone not in zones:
            continue
        contents = everything.get(b.bin, nothing)
        if bin_refusal(state, b, item, quantity, lot, contents=contents) is not None:
            continue
        by_item, lots = contents
        if b.allowed_items:
            why = "dedicated"
        elif lot is not None and lot in lots:
            why = "same_lot"
        elif item in by_item:
            why = "same_item"
        elif not lots:
            why = "empty"
        else:
            why = "free"
        free = None if b.capacity is None else b.capacity - state.bin_load.get(b.bin, ZERO) - quantity
        zone_rank = zones.index(b.zone)
        where = f"zone {b.zone} ({rule_text}" + (f", choice {zone_rank + 1})" if len(zones) > 1 else ")")
        room = "no capacity limit" if free is None else f"{free} free after"
        reason = f"{_WHY[why].format(item=item, lot=lot)}; {where}; {room}"
        ranked.append((zone_rank, GROUPS.index(why), free if free is not None else Decimal("Infinity"), b.bin,
                       Candidate(b.bin, b.zone, why, reason, free)))
    ranked.sort(key=lambda r: r[:4])
    return [r[4] for r in ranked[:limit]]
