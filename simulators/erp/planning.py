"""MRP and APS of the central simulator as pure functions: BOM explosion with netting, and dispatch sequencing.

No I/O: the caller loads the plan's inputs from the central tables and stores what comes out.

MRP (:func:`plan_requirements`): gross requirements are the open sales order lines plus what released work
orders still need of their components; items are planned level by level (every parent before any of its
components, by low-level code), each item's gross requirement is netted against its stock on hand (what the
edges reported, available lots only) and its scheduled receipts (open work orders, open purchase order lines);
a shortage becomes one planned order (make: a work order, exploded through the item's current BOM revision
into its components' gross requirements; buy: a purchase order line), due the earliest day it is needed.
Components are needed the item's lead time before the parent is due.

APS (:func:`sequence_operations`): per workstation, earliest due date first; an operation of the family the
workstation is set up for goes first instead when the earliest-due operation still meets its due date after
it and the changeover (so same-family work runs back to back where due dates allow).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class PlannedItem:
    item: str
    source: str  # make | buy
    lead_time_days: int = 0
    bom_revision: str | None = None  # the current revision (make items)
    supplier: str | None = None


@dataclass(frozen=True)
class Demand:
    item: str
    quantity: Decimal
    due: date | None
    reference: str  # e.g. SO-1/1 or WO-7 (dependent demand of a released work order)


@dataclass(frozen=True)
class PlannedOrder:
    item: str
    source: str  # make | buy
    quantity: Decimal
    due: date | None
    bom_revision: str | None
    supplier: str | None
    pegged_to: tuple[str, ...]  # the demands this order covers (sales order lines first)


@dataclass
class MrpResult:
    planned: list[PlannedOrder] = field(default_factory=list)
    # per item: gross requirement, on hand, scheduled receipts, net requirement (for the planner to read)
    netting: dict[str, dict[str, str]] = field(default_factory=dict)


class PlanningError(ValueError):
    """The data cannot be planned (a BOM cycle, a make item without a BOM revision); says which item."""


def low_level_codes(items: Iterable[str], bom: Mapping[str, Sequence[tuple[str, Decimal]]]) -> dict[str, int]:
    """The deepest level each item occurs at in any BOM (top items 0): planning in this order nets every
    item once, after all its parents. A cycle raises :class:`PlanningError`."""
    codes: dict[str, int] = {}

    def visit(item: str, level: int, path: tuple[str, ...]) -> None:
        if item in path:
            raise PlanningError(f"BOM cycle: {' -> '.join((*path, item))}")
        if codes.get(item, -1) >= level:
            return
        codes[item] = level
        for component, _ in bom.get(item, ()):
            visit(component, level + 1, (*path, item))

    for item in items:
        visit(item, codes.get(item, 0), ())
    return codes


def plan_requirements(
    demands: Sequence[Demand],
    items: Mapping[str, PlannedItem],
    bom: Mapping[str, Sequence[tuple[str, Decimal]]],
    on_hand: Mapping[str, Decimal],
    scheduled_receipts: Mapping[str, Decimal],
) -> MrpResult:
    """Explode and net. ``bom`` maps a make item to its current revision's lines (component, quantity per)."""
    gross: dict[str, Decimal] = defaultdict(lambda: ZERO)
    needed_by: dict[str, date | None] = {}
    pegs: dict[str, list[str]] = defaultdict(list)

    def need(item: str, quantity: Decimal, due: date | None, reference: str) -> None:
        gross[item] += quantity
        known = needed_by.get(item)
        if item not in needed_by or (due is not None and (known is None or due < known)):
            needed_by[item] = due
        pegs[item].append(reference)

    for d in demands:
        if d.item not in items:
            raise PlanningError(f"{d.reference}: item {d.item} is not in the item master")
        need(d.item, d.quantity, d.due, d.reference)
    codes = low_level_codes(list(items), bom)
    result = MrpResult()
    for item in sorted(items, key=lambda i: (codes.get(i, 0), i)):
        if item not in gross:
            continue
        spec = items[item]
        have = on_hand.get(item, ZERO)
        coming = scheduled_receipts.get(item, ZERO)
        net = gross[item] - have - coming
        result.netting[item] = {"gross": str(gross[item]), "on_hand": str(have), "scheduled": str(coming),
                                "net": str(max(net, ZERO))}
        if net <= 0:
            continue
        due = needed_by.get(item)
        if spec.source == "make":
            lines = bom.get(item)
            if not spec.bom_revision or not lines:
                raise PlanningError(f"item {item} is made but has no released BOM revision")
            component_due = due - timedelta(days=spec.lead_time_days) if due is not None else None
            for component, per in lines:
                if component not in items:
                    raise PlanningError(f"BOM of {item} rev {spec.bom_revision}: component {component} is not "
                                        "in the item master")
                need(component, net * per, component_due, f"{item}:{spec.bom_revision}")
        result.planned.append(PlannedOrder(item=item, source=spec.source, quantity=net, due=due,
                                           bom_revision=spec.bom_revision if spec.source == "make" else None,
                                           supplier=spec.supplier, pegged_to=tuple(pegs[item])))
    return result


# --- APS -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationToSequence:
    work_order: str
    operation: int
    workstation: str
    family: str
    due: date | None
    minutes: Decimal  # processing time of the whole operation (standard minutes x quantity)


@dataclass(frozen=True)
class ScheduledOperation:
    work_order: str
    operation: int
    family: str
    start: datetime
    end: datetime
    due: date | None

    @property
    def late(self) -> bool:
        return self.due is not None and self.end.date() > self.due


def _due_key(op: OperationToSequence) -> tuple[date, str, int]:
    return (op.due or date.max, op.work_order, op.operation)


def _finish(op: OperationToSequence, t: datetime, family: str | None, changeover: timedelta) -> datetime:
    setup = changeover if family is not None and op.family != family else timedelta(0)
    return t + setup + timedelta(minutes=float(op.minutes))


def _on_time(op: OperationToSequence, end: datetime) -> bool:
    return op.due is None or end.date() <= op.due


def sequence_workstation(ops: Iterable[OperationToSequence], start: datetime, changeover: timedelta,
                         set_up_for: str | None = None) -> list[ScheduledOperation]:
    """One workstation's sequence (see the module docstring)."""
    remaining = sorted(ops, key=_due_key)
    t, family = start, set_up_for
    out: list[ScheduledOperation] = []
    while remaining:
        first = remaining[0]
        pick = first
        if family is not None and first.family != family:
            same = next((op for op in remaining if op.family == family), None)
            if same is not None:
                after_same = _finish(same, t, family, changeover)
                if _on_time(first, _finish(first, after_same, family, changeover)):
                    pick = same
        end = _finish(pick, t, family, changeover)
        begins = end - timedelta(minutes=float(pick.minutes))  # after the changeover, if any
        out.append(ScheduledOperation(pick.work_order, pick.operation, pick.family, begins, end, pick.due))
        remaining.remove(pick)
        t, family = end, pick.family
    return out


def sequence_operations(ops: Iterable[OperationToSequence], start: datetime,
                        changeover: timedelta) -> dict[str, list[ScheduledOperation]]:
    """Every workstation's sequence, by workstation."""
    by_ws: dict[str, list[OperationToSequence]] = defaultdict(list)
    for op in ops:
        by_ws[op.workstation].append(op)
    return {ws: sequence_workstation(group, start, changeover) for ws, group in sorted(by_ws.items())}
