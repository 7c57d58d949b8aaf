"""Reading B2MML production schedules: the commands a schema-valid ProductionSchedule asks for, one
``ReleaseWorkOrder`` per ProductionRequest and, when asked, one ``SetDispatchList`` per workstation.

The mapping from the document's elements to the commands' fields is written down in docs/b2mml.md ("Incoming
production schedules"); a schedule that cannot be mapped is refused with ``ScheduleRefused`` naming the request and
the reason.
"""
from __future__ import annotations

import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from edge.domain import PlantState
from edge.domain import commands as c
from edge.fields import Measure, OperationNumber, number_problem
from erp_sync.b2mml.schemas import NAMESPACES, Schemas, schemas

#: The service account that schedules are imported as (the demo site's sync user).
DEFAULT_ACTOR = "erp-sync"
SERVICE_ROLES = frozenset({"service"})


class ScheduleRefused(Exception):
    """A production schedule that is not applied, and why; nothing of it was recorded.

    ``request`` names the ProductionRequest at fault (when one is), ``code`` the domain's error code (when the
    domain refused), ``path`` where in the document the schema objected (when it did)."""

    def __init__(self, reason: str, *, request: str | None = None, code: str | None = None,
                 path: str | None = None) -> None:
        self.reason = reason
        self.request = request
        self.code = code
        self.path = path
        super().__init__(reason)


@dataclass(frozen=True)
class PlannedCommand:
    """A command the schedule asks for, with the request it comes from (None for a dispatch list)."""

    request: str | None
    command: c.Command


@dataclass(frozen=True)
class ScheduleCommands:
    schedules: tuple[str, ...]
    commands: tuple[PlannedCommand, ...]


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


_SCHEDULE_DOCUMENTS = ("ProductionSchedule", "SyncProductionSchedule", "ProcessProductionSchedule")


def read_schedule(root: ET.Element, state: PlantState, *, actor: str = DEFAULT_ACTOR,
                  dispatch: bool = False, workstations: Collection[str] | None = None) -> ScheduleCommands:
    """The commands a (schema-valid) production schedule asks for, as the mapping in docs/b2mml.md says.

    ``state`` is the edge's current state: it names the workstations of known machines and the revisions of items
    the document gives none for. ``workstations`` (the site's, when known) refuses a segment on any other one.
    Raises ScheduleRefused naming the request and the reason."""
    namespace, _, name = root.tag[1:].partition("}")
    version = NAMESPACES.get(namespace)
    if version not in ("V0401", "V0600"):
        raise ScheduleRefused(f"production schedules are read in B2MML V0600 (or V0401); this is "
                              f"{version or namespace} {name}")
    if name not in _SCHEDULE_DOCUMENTS:
        raise ScheduleRefused(f"{name} is not a production schedule this node applies "
                              f"(one of {', '.join(_SCHEDULE_DOCUMENTS)})")
    r = _Reader(namespace)
    schedules = [root] if name == "ProductionSchedule" else r.all(root, "DataArea/ProductionSchedule")
    meta: dict[str, Any] = {"actor": actor, "actor_roles": SERVICE_ROLES, "origin": "erp"}
    planned: list[PlannedCommand] = []
    schedule_ids: list[str] = []
    for s_index, schedule in enumerate(schedules, start=1):
        schedule_id = r.text(schedule, "ID")
        if schedule_id is None:
            raise ScheduleRefused(f"ProductionSchedule #{s_index} has no ID: the schedule ID keys the import, "
                                  f"so that importing it again records nothing")
        schedule_ids.append(schedule_id)
        seen_requests: set[str] = set()
        slots: dict[str, list[tuple[datetime | None, int, c.DispatchSlot]]] = {}
        for q_index, request in enumerate(r.all(schedule, "ProductionRequest"), start=1):
            request_id = r.text(request, "ID")
            if request_id is None:
                raise ScheduleRefused(f"schedule {schedule_id}: ProductionRequest #{q_index} has no ID "
                                      f"(it is the work order number)")
            if request_id in seen_requests:
                raise ScheduleRefused(f"schedule {schedule_id}: request {request_id} appears twice",
                                      request=request_id)
            seen_requests.add(request_id)
            command = _release(r, request, request_id, schedule_id, state, meta, workstations)
            planned.append(PlannedCommand(request_id, command))
            for op, start in _operation_starts(r, request, command):
                slots.setdefault(op.workstation, []).append(
                    (start, len(planned), c.DispatchSlot(work_order=command.work_order, operation=op.operation)))
        if dispatch:
            for workstation, entries in slots.items():
                if all(start is not None for start, _, _ in entries):
                    entries.sort(key=lambda x: (x[0], x[1]))
                planned.append(PlannedCommand(None, c.SetDispatchList(
                    idempotency_key=idempotency_key(schedule_id, f"dispatch:{workstation}"), **meta,
                    workstation=workstation, sequence=tuple(slot for _, _, slot in entries))))
    return ScheduleCommands(tuple(schedule_ids), tuple(planned))


def _operation_starts(r: _Reader, request: ET.Element, command: c.ReleaseWorkOrder
                      ) -> Iterator[tuple[c.OperationSpec, datetime | None]]:
    for op, segment in zip(command.operations, r.all(request, "SegmentRequirement"), strict=True):
        start = _datetime(r.text(segment, "EarliestStartTime"), f"request {command.work_order}")
        yield op, (start.astimezone(UTC) if start is not None and start.utcoffset() is not None else None)


def _release(r: _Reader, request: ET.Element, request_id: str, schedule_id: str, state: PlantState,
             meta: dict[str, Any], workstations: Collection[str] | None) -> c.ReleaseWorkOrder:
    where = f"request {request_id}"

    def refuse(reason: str) -> ScheduleRefused:
        return ScheduleRefused(f"{where}: {reason}", request=request_id)

    segments = r.all(request, "SegmentRequirement")
    if not segments:
        raise refuse("no SegmentRequirement: a work order needs at least one operation")
    parameters: dict[str, str] = {}
    produced: list[tuple[str | None, Decimal | None, dict[str, str], str]] = []
    operations: list[c.OperationSpec] = []
    consumed: list[tuple[ET.Element, str]] = []
    latest_end: datetime | None = None
    for position, segment in enumerate(segments, start=1):
        segment_id = r.text(segment, "ID")
        seg_where = f"SegmentRequirement {segment_id or f'#{position}'}"
        if r.all(segment, "SegmentRequirement"):
            raise refuse(f"{seg_where} has nested segment requirements; give one SegmentRequirement per operation")
        for pp in r.all(segment, "ProductionParameter"):
            key = r.text(pp, "Parameter/ID")
            value = r.text(pp, "Parameter/Value/ValueString")
            if key is not None and value is not None:
                parameters.setdefault(key, value)
        if segment_id is None:
            number = position * 10
        elif segment_id.isdigit():
            number = _whole(segment_id, where, f"{seg_where}: operation")
        else:
            digits = _TRAILING_DIGITS.search(segment_id)
            if digits is None:
                raise refuse(f"{seg_where}: its ID is not an operation number (a whole number, or one at its end)")
            number = _whole(digits.group(1), where, f"{seg_where}: operation")
        equipment = (r.text(segment, "EquipmentRequirement/EquipmentID") or r.text(segment, "Location/EquipmentID")
                     or r.text(segment, "HierarchyScope/EquipmentID"))
        if equipment is None:
            raise refuse(f"{seg_where}: no workstation (EquipmentRequirement/EquipmentID)")
        machine = state.equipment.get(equipment)
        workstation = machine.workstation if machine is not None else equipment
        if workstations is not None and workstation not in workstations:
            raise refuse(f"{seg_where}: {equipment} is neither a workstation of this site "
                         f"({', '.join(sorted(workstations))}) nor a machine of one")
        duration = r.text(segment, "Duration")
        description = r.text(segment, "Description") or r.text(segment, "ProcessSegmentID") or f"Operation {number}"
        operations.append(c.OperationSpec(
            operation=number, description=description, workstation=workstation,
            standard_minutes=_minutes(duration, f"{where}, {seg_where}") if duration else Decimal(0)))
        for mp in r.all(segment, "MaterialProducedRequirement"):
            produced.append((r.text(mp, "MaterialDefinitionID"),
                             r.quantity(mp, "Quantity", f"{where}, {seg_where}, MaterialProducedRequirement"),
                             r.properties(mp, "MaterialProducedRequirementProperty"), seg_where))
        consumed.extend((mc, seg_where) for mc in r.all(segment, "MaterialConsumedRequirement"))
        end = _datetime(r.text(segment, "LatestEndTime"), f"{where}, {seg_where}")
        if end is not None and (latest_end is None or _later(end, latest_end)):
            latest_end = end
    if not produced:
        raise refuse("no MaterialProducedRequirement: it names the item to make and the quantity")
    item, quantity, item_props, _ = produced[0]
    for other_item, other_quantity, _, seg_where in produced[1:]:
        if other_item != item or other_quantity != quantity:
            raise refuse(f"{seg_where}: its MaterialProducedRequirement ({other_item} × {other_quantity}) differs "
                         f"from the first one ({item} × {quantity}); the edge makes one item per work order")
    if item is None:
        raise refuse("MaterialProducedRequirement has no MaterialDefinitionID (the item to make)")
    if quantity is None:
        raise refuse("MaterialProducedRequirement has no Quantity (how many to make)")
    if quantity <= 0:
        raise refuse(f"the quantity to make must be greater than zero, got {quantity}")
    bom: list[c.BomLineSpec] = []
    for position, (mc, seg_where) in enumerate(consumed, start=1):
        mc_where = f"{where}, {seg_where}, MaterialConsumedRequirement #{position}"
        component = r.text(mc, "MaterialDefinitionID")
        if component is None:
            raise refuse(f"{seg_where}, MaterialConsumedRequirement #{position}: no MaterialDefinitionID")
        props = r.properties(mc, "MaterialConsumedRequirementProperty")
        if "QuantityPer" in props:
            per = _decimal(props["QuantityPer"], f"{mc_where}, QuantityPer")
        else:
            total = r.quantity(mc, "Quantity", mc_where)
            if total is None:
                raise refuse(f"{seg_where}, MaterialConsumedRequirement #{position} ({component}): no Quantity "
                             f"and no QuantityPer property")
            per = (total / quantity).quantize(_SIX_PLACES, ROUND_HALF_EVEN).normalize()
        line_raw = props.get("BOMLine")
        if line_raw is not None and not line_raw.isdigit():
            raise refuse(f"{seg_where}, MaterialConsumedRequirement #{position}: BOMLine {line_raw!r} is not a "
                         f"whole number")
        bom.append(c.BomLineSpec(line=_whole(line_raw, mc_where, "BOMLine") if line_raw else position, item=component,
                                 item_revision=_revision(state, component, props.get("ItemRevision")),
                                 quantity_per=per))
    bom_revision = r.text(request, "Version") or parameters.get("BOMRevision")
    if bom_revision is None:
        raise refuse("no BOM revision: give ProductionRequest/Version (V0600) or a production parameter BOMRevision")
    end_time = _datetime(r.text(request, "EndTime"), f"{where}, EndTime") or latest_end
    tolerance = parameters.get("OverproductionTolerancePct")
    return c.ReleaseWorkOrder(
        idempotency_key=idempotency_key(schedule_id, request_id), **meta,
        work_order=request_id, item=item, item_revision=_revision(state, item, item_props.get("ItemRevision")),
        bom_revision=bom_revision, quantity=quantity, operations=tuple(operations), bom=tuple(bom),
        overproduction_tolerance_pct=(_decimal(tolerance, f"{where}, OverproductionTolerancePct")
                                      if tolerance is not None else Decimal(0)),
        due=end_time.date() if end_time is not None else None,
        customer_order=parameters.get("CustomerOrder"),
    )


def _later(a: datetime, b: datetime) -> bool:
    if (a.utcoffset() is None) != (b.utcoffset() is None):
        return a.replace(tzinfo=None) > b.replace(tzinfo=None)
    return a > b


def check_schedule(source: bytes | str | os.PathLike[str], state: PlantState, *, schemas_: Schemas | None = None,
                   actor: str = DEFAULT_ACTOR, dispatch: bool = False,
                   workstations: Collection[str] | None = None) -> ScheduleCommands:
    """Validate a schedule and map it to commands; raises ScheduleRefused with the schema's reason or the
    mapping's. Pure apart from reading the file: nothing is recorded."""
    verdict, root = (schemas_ or schemas()).validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    return read_schedule(root, state, actor=actor, dispatch=dispatch, workstations=workstations)

