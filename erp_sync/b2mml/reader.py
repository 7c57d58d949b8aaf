"""Reading B2MML production schedules: the commands a schema-valid ProductionSchedule asks for, one
``ReleaseWorkOrder`` per ProductionRequest and, when asked, one ``SetDispatchList`` per workstation; a
``CancelProductionSchedule`` (or a Sync with action Delete) asks for a ``CancelWorkOrder`` per request it names (the
apply step turns a request of an order a schedule released before into a ``ChangeWorkOrder``).

Every schema-valid shape is read as senders write it (no schedule ID, several requests, nested segment
requirements, MaterialRequirement with equipment locations, production parameters, other units). The mapping from
the document's elements to the commands' fields is written down in docs/b2mml.md ("Incoming production
schedules"); a schedule that cannot be mapped is refused with ``ScheduleRefused`` listing every problem.

About 650 lines on purpose: the mapping of a request is one table (the docs' one) read by ``_release`` and the
helpers beside it; split, each half would need the other to be read.
"""
from __future__ import annotations

import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from edge.domain import PlantState
from edge.domain import commands as c
from edge.fields import Measure, OperationNumber, number_problem
from erp_sync.b2mml.schemas import NAMESPACES, Schemas, schemas
from erp_sync.b2mml.units import UnitMismatch, convert

#: The service account that schedules are imported as (the demo site's sync user).
DEFAULT_ACTOR = "erp-sync"
SERVICE_ROLES = frozenset({"service"})


class ScheduleRefused(Exception):
    """A production schedule that is not applied, and why; nothing of it was recorded.

    ``request`` names the ProductionRequest at fault (when one is; the first one when several are), ``code`` the
    domain's error code (when the domain refused), ``path`` where in the document the schema objected (when it
    did); ``problems`` lists everything found wrong, ``reason`` is them joined by "; "."""

    def __init__(self, reason: str, *, request: str | None = None, code: str | None = None,
                 path: str | None = None) -> None:
        self.reason = reason
        self.request = request
        self.code = code
        self.path = path
        self.problems: tuple[str, ...] = (reason,)
        super().__init__(reason)

    @classmethod
    def listing(cls, problems: list[tuple[str, str | None]]) -> ScheduleRefused:
        """One refusal for every problem found (in document order); ``request`` is the first one's."""
        refused = cls("; ".join(p for p, _ in problems), request=next((q for _, q in problems if q), None))
        refused.problems = tuple(p for p, _ in problems)
        return refused


@dataclass(frozen=True)
class PlannedCommand:
    """A command the schedule asks for, with the request it comes from (None for a dispatch list)."""

    request: str | None
    command: c.Command


@dataclass(frozen=True)
class ScheduleCommands:
    schedules: tuple[str, ...]
    commands: tuple[PlannedCommand, ...]
    #: schedules cancelled whole (a Cancel that names no request): their work orders are cancelled
    cancel_schedules: tuple[str, ...] = ()
    actor: str = DEFAULT_ACTOR
    reason: str = ""  # why the work orders of ``cancel_schedules`` are cancelled


_TRAILING_DIGITS = re.compile(r"(\d+)$")
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_SIX_PLACES = Decimal("0.000001")


class _Reader:
    """Walks one schedule document of one namespace; values are the text of the first matching element."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def q(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))

    def all(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall(self.q(path))

    def text(self, element: ET.Element, path: str) -> str | None:
        found = element.find(self.q(path))
        if found is None or found.text is None:
            return None
        value = found.text.strip()
        return value or None

    def quantity(self, element: ET.Element, path: str, where: str) -> Decimal | None:
        raw = self.text(element, f"{path}/QuantityString")
        return None if raw is None else _decimal(raw, where, "quantity ")

    def properties(self, element: ET.Element, name: str) -> dict[str, str]:
        """``<name>`` children as ID → first ValueString (or QuantityString)."""
        found: dict[str, str] = {}
        for prop in self.all(element, name):
            key = self.text(prop, "ID")
            value = self.text(prop, "Value/ValueString") or self.text(prop, "Quantity/QuantityString")
            if key is not None and value is not None:
                found.setdefault(key, value)
        return found


def _minutes(duration: str, where: str) -> Decimal:
    m = _DURATION.match(duration)
    if m is None or m.group(1):
        raise ScheduleRefused(f"{where}: Duration {duration!r} is not a positive day/time duration such as PT45M")
    days, hours, minutes, seconds = (Decimal(g) if g else Decimal(0) for g in m.groups()[1:])
    total = days * 1440 + hours * 60 + minutes + seconds / 60
    if total.adjusted() >= 12:  # beyond what the store keeps (edge.fields.Count); quantize would raise
        raise ScheduleRefused(f"{where}: Duration {duration!r} is implausibly long")
    return total.quantize(_SIX_PLACES, ROUND_HALF_EVEN).normalize() if total else Decimal(0)


def _datetime(raw: str | None, where: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleRefused(f"{where}: {raw!r} is not a date and time") from None


def _decimal(raw: str, where: str, what: str = "") -> Decimal:
    """``raw`` as a finite number, or ScheduleRefused saying where (and ``what``, e.g. "quantity ") it is not."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ScheduleRefused(f"{where}: {what}{raw!r} is not a number") from None
    if not value.is_finite():
        raise ScheduleRefused(f"{where}: {what}{raw!r} is not a number")
    problem = number_problem(Measure, value)  # bounded as the API bounds a number (edge.fields)
    if problem is not None:
        raise ScheduleRefused(f"{where}: {what}{raw!r} is out of bounds: {problem}")
    return value


def _whole(raw: str, where: str, what: str) -> int:
    """``raw`` digits as an operation or line number (1..99999, as the API takes them)."""
    problem = number_problem(OperationNumber, int(raw))
    if problem is not None:
        raise ScheduleRefused(f"{where}: {what} {raw} is out of bounds: {problem}")
    return int(raw)


def _revision(state: PlantState, item: str, given: str | None) -> str:
    if given:
        return given
    known = state.items.get(item)
    return known.revision if known is not None else ""  # an unknown item is refused by the domain, naming it


def idempotency_key(schedule: str, part: str) -> str:
    """``b2mml:<schedule>:<part>``; hashed when too long for the command log's key column."""
    key = f"b2mml:{schedule}:{part}"
    if len(key) <= 250:
        return key
    return "b2mml:" + hashlib.sha256(f"{schedule}\x00{part}".encode()).hexdigest()


_SCHEDULE_DOCUMENTS = ("ProductionSchedule", "SyncProductionSchedule", "ProcessProductionSchedule",
                       "ChangeProductionSchedule", "CancelProductionSchedule", "ProductionRequest")
#: the longest cancel reason the domain keeps
_REASON_LENGTH = 200


def cancels(r: _Reader, root: ET.Element) -> bool:
    """Whether a schedule document cancels what it names: the ``CancelProductionSchedule`` verb, or a ``Sync`` whose
    action criteria say ``actionCode="Delete"`` (OAGIS's way to delete by sync)."""
    name = root.tag.rpartition("}")[2]
    if name == "CancelProductionSchedule":
        return True
    return name == "SyncProductionSchedule" and any(
        (expression.get("actionCode") or "").strip().lower() == "delete"
        for expression in r.all(root, "DataArea/Sync/ActionCriteria/ActionExpression"))
#: Production parameters the reader maps to the work order's own fields; the others stay with their operation.
ORDER_PARAMETERS = frozenset({"BOMRevision", "CustomerOrder", "OverproductionTolerancePct"})


@dataclass(frozen=True)
class _Leaf:
    """A SegmentRequirement that becomes an operation, with the segments it is nested in (outermost first)."""

    element: ET.Element
    outer: tuple[ET.Element, ...]
    path: str  # segment IDs, outermost first, "/"-joined ("#2" for one without ID)


def _leaves(r: _Reader, segments: list[ET.Element], outer: tuple[ET.Element, ...] = (),
            prefix: str = "") -> Iterator[_Leaf]:
    """The segments without nested ones, in document order (a routing written as nested segments, flattened)."""
    for position, segment in enumerate(segments, start=1):
        path = f"{prefix}{r.text(segment, 'ID') or f'#{position}'}"
        inner = r.all(segment, "SegmentRequirement")
        if inner:
            yield from _leaves(r, inner, (*outer, segment), path + "/")
        else:
            yield _Leaf(segment, outer, path)


def content_digest(element: ET.Element) -> str:
    """A hash of an element's content: tags, attributes (sorted), nesting and text with surrounding whitespace left
    out, so a document laid out otherwise (indented, or not) has the same digest."""
    digest = hashlib.sha256()

    def feed(node: ET.Element) -> None:
        attributes = "\x1f".join(f"{k}={v}" for k, v in sorted(node.attrib.items()))
        digest.update(f"<{node.tag}\x1f{attributes}>{(node.text or '').strip()}".encode())
        for child in node:
            feed(child)
        digest.update(f"</>{(node.tail or '').strip() if node is not element else ''}".encode())

    feed(element)
    return digest.hexdigest()[:20]


def request_key(sender: str | None, request: ET.Element, request_id: str) -> str:
    """The idempotency key of a request of a schedule without ID: its sender, its ID and a hash of its content
    (``content_digest``), so the same request sent again records nothing."""
    return idempotency_key(sender or "unknown-sender", f"{request_id}:{content_digest(request)}")


def read_schedule(root: ET.Element, state: PlantState, *, actor: str = DEFAULT_ACTOR,
                  dispatch: bool = False, workstations: Collection[str] | None = None,
                  locations: Mapping[str, str] | None = None, known_only: bool = False) -> ScheduleCommands:
    """The commands a (schema-valid) production schedule asks for, as the mapping in docs/b2mml.md says.

    ``state`` is the edge's current state: it names the workstations of known machines, the revisions and units of
    items the document gives none for. ``workstations`` (the site's, when known) refuses a segment on any other
    one; ``locations`` maps a material requirement's equipment location to ``workstation:<code>`` or
    ``bin:<code>``; ``known_only`` also refuses items, bins and units the edge does not know (the import asks
    for it; the domain would refuse the items one at a time). Raises ScheduleRefused listing every problem."""
    namespace, _, name = root.tag[1:].partition("}")
    version = NAMESPACES.get(namespace)
    if version not in ("V0401", "V0600"):
        raise ScheduleRefused(f"production schedules are read in B2MML V0600 (or V0401); this is "
                              f"{version or namespace} {name}")
    if name not in _SCHEDULE_DOCUMENTS:
        raise ScheduleRefused(f"{name} is not a production schedule this node applies "
                              f"(one of {', '.join(_SCHEDULE_DOCUMENTS)})")
    r = _Reader(namespace)
    schedules = [root] if name in ("ProductionSchedule", "ProductionRequest") \
        else r.all(root, "DataArea/ProductionSchedule")
    sender = r.text(root, "ApplicationArea/Sender/LogicalID")
    meta: dict[str, Any] = {"actor": actor, "actor_roles": SERVICE_ROLES, "origin": "erp"}
    planned: list[PlannedCommand] = []
    schedule_ids: list[str] = []
    problems: list[tuple[str, str | None]] = []  # (problem, request)
    context = _Context(r, state, workstations, locations or {}, known_only, problems)
    cancel = cancels(r, root)
    whole: list[str] = []
    for s_index, schedule in enumerate(schedules, start=1):
        # a ProductionRequest on its own is a schedule of one request, without schedule ID
        requests = [schedule] if name == "ProductionRequest" else r.all(schedule, "ProductionRequest")
        schedule_id = None if name == "ProductionRequest" else r.text(schedule, "ID")
        keyed_by_id = schedule_id is not None
        if cancel:
            _cancel(r, requests, schedule_id, sender, name, s_index, meta, planned, problems, whole)
            if schedule_id is not None:
                schedule_ids.append(schedule_id)
            continue
        if schedule_id is None:
            # No ID (optional in every B2MML version): each request is keyed by sender, request ID and content
            # (request_key), the dispatch lists by sender and the schedule's content, so that the same schedule
            # sent again records nothing.
            schedule_id = f"{sender or 'unknown-sender'}:{content_digest(schedule)}"
            label = f"ProductionSchedule #{s_index}"
        else:
            label = f"schedule {schedule_id}"
        schedule_ids.append(schedule_id)
        seen_requests: set[str] = set()
        slots: dict[str, list[tuple[datetime | None, int, c.DispatchSlot]]] = {}
        for q_index, request in enumerate(requests, start=1):
            request_id = r.text(request, "ID")
            if request_id is None:
                problems.append((f"{label}: ProductionRequest #{q_index} has no ID (it is the work order number)",
                                 None))
                continue
            if request_id in seen_requests:
                problems.append((f"{label}: request {request_id} appears twice", request_id))
                continue
            seen_requests.add(request_id)
            before = len(problems)
            try:
                key = (idempotency_key(schedule_id, request_id) if keyed_by_id
                       else request_key(sender, request, request_id))
                mapped = _release(context, request, request_id, key, meta)
            except ScheduleRefused as unreadable:
                problems.append((unreadable.reason, request_id))
                continue
            if mapped is None or len(problems) > before:
                continue
            command, starts = mapped
            planned.append(PlannedCommand(request_id, command))
            for op, start in zip(command.operations, starts, strict=True):
                slots.setdefault(op.workstation, []).append(
                    (start, len(planned), c.DispatchSlot(work_order=command.work_order, operation=op.operation)))
        if dispatch:
            for workstation, entries in slots.items():
                if all(start is not None for start, _, _ in entries):
                    entries.sort(key=lambda x: (x[0], x[1]))
                planned.append(PlannedCommand(None, c.SetDispatchList(
                    idempotency_key=idempotency_key(schedule_id, f"dispatch:{workstation}"), **meta,
                    workstation=workstation, sequence=tuple(slot for _, _, slot in entries))))
    if problems:
        listed = ScheduleRefused.listing(problems)
        listed.code = context.first_code
        raise listed
    return ScheduleCommands(tuple(schedule_ids) or (f"{name} from {sender or 'unknown-sender'}",), tuple(planned),
                            tuple(whole), actor, f"cancelled by {name} from {sender or 'the sender'}")


def _cancel(r: _Reader, requests: list[ET.Element], schedule_id: str | None, sender: str | None, verb: str,
            s_index: int, meta: dict[str, Any], planned: list[PlannedCommand],
            problems: list[tuple[str, str | None]], whole: list[str]) -> None:
    """The ``CancelWorkOrder`` of each request a cancelling schedule names; a schedule with ID that names none is
    cancelled whole (``whole``: the apply step finds the work orders it released)."""
    base = schedule_id if schedule_id is not None else (sender or "unknown-sender")
    label = f"schedule {schedule_id}" if schedule_id is not None else f"ProductionSchedule #{s_index}"
    reason = f"cancelled by {verb}" + (f" {schedule_id}" if schedule_id else "") + f" from {sender or 'the sender'}"
    if not requests:
        if schedule_id is None:
            problems.append((f"{label}: a cancel names the ProductionRequests to cancel, or the schedule's ID", None))
        else:
            whole.append(schedule_id)
        return
    for q_index, request in enumerate(requests, start=1):
        request_id = r.text(request, "ID")
        if request_id is None:
            problems.append((f"{label}: ProductionRequest #{q_index} has no ID (the work order to cancel)", None))
            continue
        planned.append(PlannedCommand(request_id, c.CancelWorkOrder(
            idempotency_key=idempotency_key(base, f"cancel:{request_id}"), **meta, work_order=request_id,
            reason=reason[:_REASON_LENGTH])))


@dataclass
class _Context:
    r: _Reader
    state: PlantState
    workstations: Collection[str] | None
    locations: Mapping[str, str]
    known_only: bool
    problems: list[tuple[str, str | None]]
    request: str | None = None  # the request being read, named with its problems
    first_code: str | None = None  # the domain's error code of the first problem, when it has one


def _utc(start: datetime | None) -> datetime | None:
    return start.astimezone(UTC) if start is not None and start.utcoffset() is not None else None


def _operation_number(r: _Reader, leaf: _Leaf, position: int) -> int | None:
    segment_id = r.text(leaf.element, "ID")
    if segment_id is None:
        return position * 10
    if segment_id.isdigit():
        return int(segment_id)
    digits = _TRAILING_DIGITS.search(segment_id)
    return None if digits is None else int(digits.group(1))


def _first(r: _Reader, chain: tuple[ET.Element, ...], *paths: str) -> str | None:
    """The first of ``paths`` found on the innermost segment of ``chain`` that has one."""
    for segment in reversed(chain):
        for path in paths:
            value = r.text(segment, path)
            if value is not None:
                return value
    return None


def _workstation_of(ctx: _Context, equipment: str, where: str) -> str | None:
    machine = ctx.state.equipment.get(equipment)
    workstation = machine.workstation if machine is not None else equipment
    if ctx.workstations is not None and workstation not in ctx.workstations:
        ctx.problems.append((f"{where}: {equipment} is neither a workstation of this site "
                             f"({', '.join(sorted(ctx.workstations))}) nor a machine of one", ctx.request))
        return None
    return workstation


def _materials(r: _Reader, segment: ET.Element) -> Iterator[tuple[str, ET.Element, str]]:
    """(use, element, property element name) of a segment's own material requirements, in document order:
    ``MaterialRequirement`` by its MaterialUse (Consumed when it gives none), and the older
    ``MaterialProducedRequirement`` and ``MaterialConsumedRequirement``."""
    for child in segment:
        tag = child.tag.rpartition("}")[2]
        if tag == "MaterialRequirement":
            use = r.text(child, "MaterialUse") or "Consumed"
            if use in ("Consumed", "Consumable"):
                yield "consumed", child, "MaterialRequirementProperty"
            elif use == "Produced":
                yield "produced", child, "MaterialRequirementProperty"
        elif tag == "MaterialProducedRequirement":
            yield "produced", child, "MaterialProducedRequirementProperty"
        elif tag == "MaterialConsumedRequirement":
            yield "consumed", child, "MaterialConsumedRequirementProperty"


def _quantity_in_item_unit(ctx: _Context, element: ET.Element, item: str | None, where: str) -> Decimal | None:
    r = ctx.r
    quantity = r.quantity(element, "Quantity", where)
    if quantity is None or item is None:
        return quantity
    unit = r.text(element, "Quantity/UnitOfMeasure")
    known = ctx.state.items.get(item)
    if known is None:
        return quantity  # an unknown item is named on its own
    try:
        return convert(quantity, unit, known.unit)
    except UnitMismatch as mismatch:
        ctx.problems.append((f"{where} ({item}): {mismatch}", ctx.request))
        return None


def _staging(ctx: _Context, element: ET.Element, item: str, where: str) -> str | None:
    """Where a material is staged, ``ITEM=workstation:WS-10`` or ``ITEM=bin:B-01``, from its Location through the
    site's table; None when it gives no location."""
    equipment = ctx.r.text(element, "Location/EquipmentID")
    if equipment is None:
        return None
    place = ctx.locations.get(equipment)
    if place is None:
        machine = ctx.state.equipment.get(equipment)
        if machine is not None:
            place = f"workstation:{machine.workstation}"
        elif equipment in ctx.state.bins:
            place = f"bin:{equipment}"
        elif ctx.workstations is not None and equipment in ctx.workstations:
            place = f"workstation:{equipment}"
    if place is None:
        ctx.problems.append((f"{where} ({item}): equipment location {equipment} is not in the site's b2mml "
                             f"locations table, nor a bin, machine or workstation here", ctx.request))
        return None
    kind, _, code = place.partition(":")
    if kind == "bin" and ctx.known_only and code not in ctx.state.bins:
        ctx.problems.append((f"{where} ({item}): location {equipment} is bin {code}, which is not known here",
                             ctx.request))
    return f"{item}={place}"


def _release(ctx: _Context, request: ET.Element, request_id: str, command_key: str, meta: dict[str, Any]
             ) -> tuple[c.ReleaseWorkOrder, list[datetime | None]] | None:
    """The request's ReleaseWorkOrder and its operations' start times; None when it has problems (listed in
    ``ctx.problems``)."""
    r, state = ctx.r, ctx.state
    ctx.request = request_id
    found_before = len(ctx.problems)
    where = f"request {request_id}"

    def refuse(reason: str) -> ScheduleRefused:
        return ScheduleRefused(f"{where}: {reason}", request=request_id)

    def problem(reason: str) -> None:
        ctx.problems.append((f"{where}: {reason}", request_id))

    def unknown_item(reason: str) -> None:
        if not ctx.problems:
            ctx.first_code = "UNKNOWN_ITEM"  # the domain's code for it, as the dry run would name it
        problem(reason)

    top = r.all(request, "SegmentRequirement")
    if not top:
        raise refuse("no SegmentRequirement: a work order needs at least one operation")
    leaves = list(_leaves(r, top))
    nested = any(leaf.outer for leaf in leaves)
    numbers = [_operation_number(r, leaf, position) for position, leaf in enumerate(leaves, start=1)]
    if nested and (None in numbers or len(set(numbers)) != len(numbers)):
        numbers = [position * 10 for position in range(1, len(leaves) + 1)]  # the segment path keeps the IDs
    order_parameters: dict[str, str] = {}
    produced: list[tuple[str | None, Decimal | None, dict[str, str], str]] = []
    operations: list[c.OperationSpec] = []
    starts: list[datetime | None] = []
    consumed: list[tuple[ET.Element, str, str]] = []
    latest_end: datetime | None = None
    for leaf, number in zip(leaves, numbers, strict=True):
        segment = leaf.element
        chain = (*leaf.outer, segment)
        segment_id = r.text(segment, "ID")
        seg_where = f"SegmentRequirement {leaf.path if nested else (segment_id or leaf.path)}"
        parameters: dict[str, str] = {}
        for part in chain:  # the outer segments' parameters first: an inner one of the same ID overrides them
            for pp in r.all(part, "ProductionParameter"):
                key = r.text(pp, "Parameter/ID")
                value = r.text(pp, "Parameter/Value/ValueString")
                if key is not None and value is not None:
                    order_parameters.setdefault(key, value)
                    if key not in ORDER_PARAMETERS:
                        parameters[key] = value
        staging: list[str] = []
        for part in chain if len(leaves) == 1 else (segment,):
            for use, element, props_name in _materials(r, part):
                item = r.text(element, "MaterialDefinitionID")
                if use == "produced":
                    produced.append((item, _quantity_in_item_unit(ctx, element, item, f"{where}, {seg_where}, "
                                                                                       f"produced material"),
                                     r.properties(element, props_name), seg_where))
                else:
                    consumed.append((element, seg_where, props_name))
                    if item is not None:
                        place = _staging(ctx, element, item, f"{where}, {seg_where}")
                        if place is not None:
                            staging.append(place)
        if number is None:
            problem(f"{seg_where}: its ID is not an operation number (a whole number, or one at its end)")
            continue
        try:
            number = _whole(str(number), where, f"{seg_where}: operation")  # bounded as the API takes them
        except ScheduleRefused as out_of_bounds:
            problem(out_of_bounds.reason.removeprefix(f"{where}: "))
            continue
        equipment = _first(r, chain, "EquipmentRequirement/EquipmentID", "Location/EquipmentID",
                           "HierarchyScope/EquipmentID")
        if equipment is None:
            problem(f"{seg_where}: no workstation (EquipmentRequirement/EquipmentID)")
            continue
        workstation = _workstation_of(ctx, equipment, f"{where}, {seg_where}")
        duration = r.text(segment, "Duration")
        description = (r.text(segment, "Description") or r.text(segment, "ProcessSegmentID")
                       or r.text(segment, "ProductSegmentID") or f"Operation {number}")
        try:
            minutes = _minutes(duration, f"{where}, {seg_where}") if duration else Decimal(0)
            start = _datetime(_first(r, chain, "EarliestStartTime"), where)
            end = _datetime(r.text(segment, "LatestEndTime"), f"{where}, {seg_where}")
        except ScheduleRefused as refused:
            problem(refused.reason.removeprefix(f"{where}: ").removeprefix(f"{where}, "))
            continue
        if end is not None and (latest_end is None or _later(end, latest_end)):
            latest_end = end
        if workstation is None:
            continue
        starts.append(_utc(start))
        operations.append(c.OperationSpec(
            operation=number, description=description, workstation=workstation, standard_minutes=minutes,
            segment=leaf.path if nested else None, parameters=tuple(f"{k}={v}" for k, v in parameters.items()),
            staging=tuple(staging)))
    if len(leaves) > 1:  # materials of the outer segments of a nested routing belong to the order, not one step
        outer_segments: dict[int, tuple[ET.Element, str]] = {}
        for leaf in leaves:
            for position, part in enumerate(leaf.outer):
                outer_segments.setdefault(id(part), (part, "/".join(leaf.path.split("/")[:position + 1])))
        for part, path in outer_segments.values():
            for use, element, props_name in _materials(r, part):
                item = r.text(element, "MaterialDefinitionID")
                if use == "produced":
                    produced.append((item, _quantity_in_item_unit(ctx, element, item, f"{where}, SegmentRequirement "
                                                                                       f"{path}, produced material"),
                                     r.properties(element, props_name), f"SegmentRequirement {path}"))
                else:
                    consumed.append((element, f"SegmentRequirement {path}", props_name))
    if not produced:
        problem("no produced material (MaterialProducedRequirement, or MaterialRequirement with MaterialUse "
                "Produced): it names the item to make and the quantity")
        return None
    item, quantity, item_props, _ = produced[0]
    for other_item, other_quantity, _, seg_where in produced[1:]:
        if other_item != item or other_quantity != quantity:
            problem(f"{seg_where}: its MaterialProducedRequirement ({other_item} × {other_quantity}) differs "
                    f"from the first one ({item} × {quantity}); the edge makes one item per work order")
    if item is None:
        problem("MaterialProducedRequirement has no MaterialDefinitionID (the item to make)")
        return None
    if ctx.known_only and item not in state.items:
        unknown_item(f"UNKNOWN_ITEM: item {item} (to make) is not known here")
    if quantity is None:
        if len(ctx.problems) == found_before:  # not a unit that failed to convert (that is named already)
            problem("MaterialProducedRequirement has no Quantity (how many to make)")
        return None
    if quantity <= 0:
        problem(f"the quantity to make must be greater than zero, got {quantity}")
        return None
    bom: list[c.BomLineSpec] = []
    for position, (mc, seg_where, props_name) in enumerate(consumed, start=1):
        mc_where = f"{where}, {seg_where}, material #{position}"
        component = r.text(mc, "MaterialDefinitionID")
        if component is None:
            problem(f"{seg_where}, material #{position}: no MaterialDefinitionID")
            continue
        if ctx.known_only and component not in state.items:
            unknown_item(f"UNKNOWN_ITEM: item {component} is not known here ({seg_where})")
            continue
        props = r.properties(mc, props_name)
        if "QuantityPer" in props:
            per = _decimal(props["QuantityPer"], f"{mc_where}, QuantityPer")
        else:
            total = _quantity_in_item_unit(ctx, mc, component, mc_where)
            if total is None:
                if r.quantity(mc, "Quantity", mc_where) is None:
                    problem(f"{seg_where}, material #{position} ({component}): no Quantity and no QuantityPer "
                            f"property")
                continue
            per = (total / quantity).quantize(_SIX_PLACES, ROUND_HALF_EVEN).normalize()
        line_raw = props.get("BOMLine")
        if line_raw is not None and not line_raw.isdigit():
            problem(f"{seg_where}, material #{position}: BOMLine {line_raw!r} is not a whole number")
            continue
        try:
            line = _whole(line_raw, mc_where, "BOMLine") if line_raw else position
        except ScheduleRefused as out_of_bounds:
            problem(out_of_bounds.reason.removeprefix(f"{where}, "))
            continue
        bom.append(c.BomLineSpec(line=line, item=component,
                                 item_revision=_revision(state, component, props.get("ItemRevision")),
                                 quantity_per=per))
    bom_revision = r.text(request, "Version") or order_parameters.get("BOMRevision")
    if bom_revision is None:
        problem("no BOM revision: give ProductionRequest/Version (V0600) or a production parameter BOMRevision")
        return None
    end_time = _datetime(r.text(request, "EndTime"), f"{where}, EndTime") or latest_end
    tolerance = order_parameters.get("OverproductionTolerancePct")
    return c.ReleaseWorkOrder(
        idempotency_key=command_key, **meta,
        work_order=request_id, item=item, item_revision=_revision(state, item, item_props.get("ItemRevision")),
        bom_revision=bom_revision, quantity=quantity, operations=tuple(operations), bom=tuple(bom),
        overproduction_tolerance_pct=(_decimal(tolerance, f"{where}, OverproductionTolerancePct")
                                      if tolerance is not None else Decimal(0)),
        due=end_time.date() if end_time is not None else None,
        customer_order=order_parameters.get("CustomerOrder"),
    ), starts


def _later(a: datetime, b: datetime) -> bool:
    if (a.utcoffset() is None) != (b.utcoffset() is None):
        return a.replace(tzinfo=None) > b.replace(tzinfo=None)
    return a > b


def refuse_unless_xml(source: bytes | str | os.PathLike[str]) -> None:
    """Refuse document bytes that do not begin with ``<``: the validator would take such bytes as a file name or a
    URL and read it (a body posted over HTTP must never make the node open a file or fetch a URL)."""
    if isinstance(source, bytes):
        head = source.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not (head.startswith(b"<") or source.startswith((b"\xff\xfe<", b"\xfe\xff\x00<"))):
            raise ScheduleRefused("schema: not well-formed XML: a document begins with '<'", path="/")


def check_schedule(source: bytes | str | os.PathLike[str], state: PlantState, *, schemas_: Schemas | None = None,
                   actor: str = DEFAULT_ACTOR, dispatch: bool = False,
                   workstations: Collection[str] | None = None,
                   locations: Mapping[str, str] | None = None) -> ScheduleCommands:
    """Validate a schedule and map it to commands; raises ScheduleRefused with the schema's reason or every problem
    of the mapping (items, bins and units the edge does not know among them). Pure apart from reading the file:
    nothing is recorded."""
    refuse_unless_xml(source)
    verdict, root = (schemas_ or schemas()).validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    return read_schedule(root, state, actor=actor, dispatch=dispatch, workstations=workstations,
                         locations=locations, known_only=True)
