"""What a scan means where it happens: a label read at a station, in that station's context, becomes a command or a
change of context (operator, work order, bin), or is refused with a code and a reason. Pure: no I/O.

The reader (serial, camera, handheld page) says which device read which text; the scanner adapter turns GS1 text
into a `Label` (it owns the GS1 parser); in-house codes are classified here by the site's patterns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from edge.domain import commands as c
from edge.domain.errors import DomainError

LabelKind = Literal["badge", "work_order", "bin", "lot", "sscc", "product", "tote"]
Task = Literal["consume", "receive", "putaway", "move", "pick", "idle"]
TASKS: tuple[Task, ...] = ("consume", "receive", "putaway", "move", "pick", "idle")
RECEIVING_ROLES = frozenset({"warehouse", "supervisor"})
MOVE_TASKS: tuple[Task, ...] = ("putaway", "move", "pick")  # a lot label, then the bin it goes to
# in-house kinds, in matching order (a tote: the container of a customer order in a wave, edge.domain.contexts.outbound)
LABEL_KINDS: tuple[LabelKind, ...] = ("badge", "work_order", "bin", "lot", "tote")


@dataclass(frozen=True, slots=True)
class Label:
    """A label as understood: its kind and the values the plant uses (from GS1 AIs or an in-house pattern)."""

    kind: LabelKind
    value: str  # the badge, work order, bin, lot, SSCC or GTIN
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    quantity: Decimal | None = None
    gs1: bool = False


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What a device's station is doing when a scan arrives (kept per device by the adapter, changed by scans)."""

    device: str
    workstation: str | None = None
    task: Task = "consume"
    operator: str | None = None  # the badge logged on at a fixed station, or the handheld's user
    work_order: str | None = None
    bin: str | None = None  # where material is taken from (line-side bin), set by config or by a bin label
    default_quantity: Decimal | None = None  # per scan, when the label carries no quantity (consumption)
    # Putaway/move: the lot label scanned, waiting for the bin it goes to (quantity None: all of it in `bin`).
    carrying: str | None = None
    carrying_quantity: Decimal | None = None
    carrying_gtin: str | None = None
    purchase_order: str | None = None  # receiving: lot labels are receipts on this purchase order


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """The new context, the command to record through the one write path (if any) and what to tell the user."""

    context: ScanContext
    command: c.Command | None
    message: str


class LabelPatterns:
    """In-house label patterns, one regular expression per kind; a named group `value` (if any) is the code."""

    def __init__(self, patterns: Mapping[str, str]) -> None:
        self.patterns: dict[LabelKind, re.Pattern[str]] = {}
        for kind, pattern in patterns.items():
            if kind not in LABEL_KINDS:
                raise ValueError(f"label_patterns.{kind}: not a label kind (one of {', '.join(LABEL_KINDS)})")
            try:
                self.patterns[kind] = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"label_patterns.{kind}: invalid regular expression: {exc}") from None

    def classify(self, text: str) -> Label | None:
        for kind in LABEL_KINDS:
            pattern = self.patterns.get(kind)
            found = pattern.fullmatch(text) if pattern else None
            if found:
                value = found.groupdict().get("value") or text
                return Label(kind=kind, value=value, lot=value if kind == "lot" else None)
        return None


def with_task(context: ScanContext, task: str) -> ScanContext:
    """The context with the device doing `task` now; a lot carried for a putaway/move is dropped on a change."""
    if task not in TASKS:
        raise DomainError("UNKNOWN_TASK", f"task {task!r} is not one of {', '.join(TASKS)}", field="task",
                          invalid=True)
    if task == context.task:
        return context
    return replace(context, task=task, carrying=None, carrying_quantity=None, carrying_gtin=None, purchase_order=None)


def interpret(context: ScanContext, label: Label, *, idempotency_key: str, actor: str,
              actor_roles: frozenset[str] = frozenset(), at: datetime | None = None) -> ScanOutcome:
    """The meaning of `label` scanned in `context`. Raises DomainError when the scan makes no sense here."""
    if label.kind == "badge":
        if context.operator == label.value:
            return ScanOutcome(replace(context, operator=None), None, f"operator {label.value} logged off")
        return ScanOutcome(replace(context, operator=label.value), None, f"operator {label.value} logged on")
    if label.kind == "work_order":
        return ScanOutcome(replace(context, work_order=label.value), None, f"work order {label.value} selected")
    if label.kind == "bin":
        if context.task in MOVE_TASKS and context.carrying is not None:
            return _move_to(context, label.value, idempotency_key=idempotency_key, actor=actor,
                            actor_roles=actor_roles, at=at)
        then = f": scan a lot label to {context.task}" if context.task in MOVE_TASKS else ""
        return ScanOutcome(replace(context, bin=label.value), None, f"location set to bin {label.value}{then}")
    if label.kind == "sscc":
        return ScanOutcome(context, None, f"pallet {label.value} identified")
    if label.kind == "tote":
        return ScanOutcome(context, None, f"tote {label.value} identified")
    if label.kind == "product" or label.lot is None:
        raise DomainError("LOT_REQUIRED", f"label {label.value} names no lot: scan the lot label", field="scan")
    if context.task in MOVE_TASKS:
        return _pick_up(context, label)
    if context.task == "receive":
        return _receive(context, label, idempotency_key=idempotency_key, actor=actor, actor_roles=actor_roles, at=at)
    if context.task != "consume":
        raise DomainError("SCAN_NOT_EXPECTED", f"device {context.device} is not consuming material now",
                          field="scan")
    if context.work_order is None:
        raise DomainError("WORK_ORDER_REQUIRED", f"scan a work order at {context.device} before lot {label.lot}",
                          field="work_order")
    if context.bin is None:
        raise DomainError("BIN_REQUIRED", f"scan the bin lot {label.lot} is taken from", field="bin")
    quantity = label.quantity if label.quantity is not None else context.default_quantity
    if quantity is None:
        raise DomainError("QUANTITY_REQUIRED", f"label of lot {label.lot} carries no quantity and device "
                          f"{context.device} has no default", field="quantity")
    command = c.IssueToWorkOrder(
        idempotency_key=idempotency_key, actor=context.operator or actor, actor_roles=actor_roles,
        source_device=context.device, occurred_at=at, work_order=context.work_order, lot=label.lot,
        bin=context.bin, quantity=quantity, serial=label.serial, gtin=label.gtin,
    )
    return ScanOutcome(context, command, f"{quantity} of lot {label.lot} issued to work order {context.work_order}")


def _pick_up(context: ScanContext, label: Label) -> ScanOutcome:
    """Putaway/move/pick, first half: the lot (from the bin the device is at) waits for the bin it goes to."""
    lot, quantity = label.value, label.quantity
    if context.task == "pick":
        return _pick_for_kitting(context, label)
    if context.bin is None:
        raise DomainError("BIN_REQUIRED", f"scan the bin lot {lot} is taken from", field="bin")
    how_much = f"{quantity} of lot {lot}" if quantity is not None else f"lot {lot} (all of it)"
    where = "to put it away" if context.task == "putaway" else "it goes to"
    return ScanOutcome(replace(context, carrying=lot, carrying_quantity=quantity, carrying_gtin=label.gtin), None,
                       f"{how_much} from bin {context.bin}: scan the bin {where}")


def _pick_for_kitting(context: ScanContext, label: Label) -> ScanOutcome:
    """Kitting, first half: with a work order chosen and at the bin of a pick, the lot label (its quantity, else the
    device's default) is what is taken; the staging bin scanned next books the pick."""
    lot = label.value
    if context.work_order is None:
        raise DomainError("WORK_ORDER_REQUIRED", f"scan the work order to kit before lot {lot}", field="work_order")
    if context.bin is None:
        raise DomainError("BIN_REQUIRED", f"scan the bin lot {lot} is picked from", field="bin")
    quantity = label.quantity if label.quantity is not None else context.default_quantity
    if quantity is None:
        raise DomainError("QUANTITY_REQUIRED", f"label of lot {lot} carries no quantity and device "
                          f"{context.device} has no default", field="quantity")
    return ScanOutcome(replace(context, carrying=lot, carrying_quantity=quantity, carrying_gtin=label.gtin), None,
                       f"{quantity} of lot {lot} from bin {context.bin} for {context.work_order}: scan the staging "
                       "bin")


def _move_to(context: ScanContext, to_bin: str, *, idempotency_key: str, actor: str,
             actor_roles: frozenset[str], at: datetime | None) -> ScanOutcome:
    """Putaway/move/pick, second half: the bin scanned after a lot is where the lot goes; the move is booked."""
    assert context.carrying is not None and context.bin is not None
    if context.task == "pick":
        if context.work_order is None or context.carrying_quantity is None:
            raise DomainError("WORK_ORDER_REQUIRED", "scan the work order, then the lot label again", field="work_order")
        pick = c.PickForKitting(
            idempotency_key=idempotency_key, actor=context.operator or actor, actor_roles=actor_roles,
            source_device=context.device, occurred_at=at, work_order=context.work_order, lot=context.carrying,
            from_bin=context.bin, to_bin=to_bin, quantity=context.carrying_quantity,
            asked=context.carrying_quantity, gtin=context.carrying_gtin)
        return ScanOutcome(replace(context, carrying=None, carrying_quantity=None, carrying_gtin=None), pick,
                           f"{context.carrying_quantity} of lot {context.carrying} picked from bin {context.bin} to "
                           f"bin {to_bin} for {context.work_order}")
    putaway = context.task == "putaway"
    command = c.MoveStock(
        idempotency_key=idempotency_key, actor=context.operator or actor, actor_roles=actor_roles,
        source_device=context.device, occurred_at=at, lot=context.carrying, from_bin=context.bin, to_bin=to_bin,
        quantity=context.carrying_quantity, putaway=putaway, gtin=context.carrying_gtin,
    )
    how_much = (f"{context.carrying_quantity} of lot {context.carrying}" if context.carrying_quantity is not None
                else f"lot {context.carrying}")
    done = "put away" if putaway else "moved"
    return ScanOutcome(replace(context, carrying=None, carrying_quantity=None, carrying_gtin=None), command,
                       f"{how_much} {done} from bin {context.bin} to bin {to_bin}")


def _receive(context: ScanContext, label: Label, *, idempotency_key: str, actor: str, actor_roles: frozenset[str],
             at: datetime | None) -> ScanOutcome:
    """Receiving: a GS1 lot label (GTIN, lot, quantity, expiry) of a lot not known yet books it into the device's
    bin; the item is the one with the label's GTIN."""
    assert label.lot is not None
    if actor_roles and not actor_roles & RECEIVING_ROLES:
        raise DomainError("ROLE_REQUIRED", f"receiving needs the role warehouse or supervisor; {actor} does not "
                          "have it", field="task")
    if label.gtin is None:
        raise DomainError("GTIN_REQUIRED", f"label of lot {label.lot} names no item (no GTIN): receive it at a "
                          "terminal", field="scan")
    if context.bin is None:
        raise DomainError("BIN_REQUIRED", f"scan the bin lot {label.lot} is received into", field="bin")
    quantity = label.quantity if label.quantity is not None else context.default_quantity
    if quantity is None:
        raise DomainError("QUANTITY_REQUIRED", f"label of lot {label.lot} carries no quantity and device "
                          f"{context.device} has no default", field="quantity")
    if context.purchase_order is not None:
        # a supplier's label: its batch (AI 10) is the supplier's lot number, the one the order announced
        on_order = c.ReceiveAgainstPurchaseOrder(
            idempotency_key=idempotency_key, actor=context.operator or actor, actor_roles=actor_roles,
            source_device=context.device, occurred_at=at, purchase_order=context.purchase_order, line=None,
            lot=label.lot, gtin=label.gtin, quantity=quantity, bin=context.bin, expiry=label.expiry,
            supplier_lot=label.lot)
        return ScanOutcome(context, on_order, f"{quantity} of lot {label.lot} received into bin {context.bin} "
                                              f"on {context.purchase_order}")
    command = c.ReceiveLot(
        idempotency_key=idempotency_key, actor=context.operator or actor, actor_roles=actor_roles,
        source_device=context.device, occurred_at=at, lot=label.lot, item=None, gtin=label.gtin, item_revision=None,
        quantity=quantity, bin=context.bin, expiry=label.expiry,
    )
    return ScanOutcome(context, command, f"{quantity} of lot {label.lot} received into bin {context.bin}")
