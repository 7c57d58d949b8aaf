"""ISA-95 B2MML adapter: validates B2MML documents against MESA's schemas, reads production schedules into
work-order commands, and renders the journal as production performance and material information (V0600).

**Validation.** A document's version is told by the namespace of its root element (V0401
``http://www.wbf.org/xml/B2MML-V0401``, V0600 ``http://www.mesa.org/xml/B2MML-V0600``, V0700
``http://www.mesa.org/xml/B2MML``); its root element picks the schema file that declares it (``SyncProductionSchedule``
→ ``B2MML-V0600-ProductionSchedule.xsd``). Each schema file is loaded once per process and kept (loading one takes
0.2-1.5 s). The schemas live in ``../shared/data/b2mml/`` beside the checkout, or where ``$TAKT_B2MML_SCHEMAS`` (or the
CLI's ``--schemas``) says.

**Incoming production schedules** (``ProductionSchedule``, ``SyncProductionSchedule`` or
``ProcessProductionSchedule``; V0600, V0401 accepted too) become ERP-origin ``ReleaseWorkOrder`` commands, one per
``ProductionRequest``, and, when asked, one ``SetDispatchList`` per workstation. The mapping:

=================================  ===========================================================================
work order                          ``ProductionRequest/ID``
item, quantity                      the request's ``MaterialProducedRequirement`` (``MaterialDefinitionID``,
                                    ``Quantity``); every segment that carries one must name the same item and quantity
item revision                       property ``ItemRevision`` of that requirement, else the item's revision at the edge
BOM revision                        ``ProductionRequest/Version`` (V0600), else production parameter ``BOMRevision``
operations                          the request's direct ``SegmentRequirement`` children, in document order
operation number                    the segment's ``ID`` when it is a whole number, or its trailing digits (``OP-20``
                                    → 20); a segment without ID is numbered 10, 20, 30 by position
workstation                         the segment's ``EquipmentRequirement/EquipmentID``: a machine the edge knows
                                    stands for its workstation, anything else is taken as the workstation code;
                                    without one, the segment's ``Location``/``HierarchyScope`` ``EquipmentID``
standard minutes                    the segment's ``Duration`` (``PT45M``), else 0
description                         the segment's ``Description``, else its ``ProcessSegmentID``
BOM lines                           every ``MaterialConsumedRequirement`` of the request's segments, in order
BOM line number                     property ``BOMLine``, else the position (1, 2, 3, ...)
component revision                  property ``ItemRevision``, else the component's revision at the edge
quantity per                        property ``QuantityPer``, else ``Quantity`` ÷ order quantity (6 decimals)
due date                            ``ProductionRequest/EndTime`` (its date where it is given), else the latest
                                    ``LatestEndTime`` of its segments
overproduction tolerance, customer  production parameters ``OverproductionTolerancePct`` and ``CustomerOrder``
dispatch list (optional)            per workstation, its operations in the order of the segments'
                                    ``EarliestStartTime`` when every one has it, else in document order
=================================  ===========================================================================

Production parameters are read from ``SegmentRequirement/ProductionParameter/Parameter`` (``ID`` and the first
``Value/ValueString``) of any segment of the request. Idempotency keys are ``b2mml:<schedule ID>:<request ID>`` and
``b2mml:<schedule ID>:dispatch:<workstation>``: importing the same schedule again records nothing. A document is
applied whole or not at all: it is refused when it is schema-invalid (the schema's reason and where), when a request
cannot be mapped, when a request was imported before with other content, or when the domain would refuse any of its
commands — every command is first decided, in order, against a copy of the current state, and only if all pass are
they sent through the one write path (``Service``), with origin ``erp`` and a service account as actor.

**Outgoing** edge-origin journal entries render as ``SyncProductionPerformance`` (ProductionResponse per work order,
SegmentResponse per operation with ProductionData per report, PersonnelActual per labour booking with its duration,
and a ``<work order>/materials`` SegmentResponse with MaterialConsumedActual per issue or return, by lot) and
``SyncMaterialInformation`` (a MaterialLot per lot receipt, status change or stock move). Documents are named after
the node and the journal sequence range they cover, so the ERP can drop a redelivered one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import xmlschema

from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain import commands as c
from edge.domain import events as e
from edge.shared_data import SHARED_DATA
from edge.store.store import JournalEntry

if TYPE_CHECKING:
    from edge.service import Service

log = logging.getLogger("takt.b2mml")

#: Where the schemas live in a developer checkout or CI: ``<repo>/../shared/data/b2mml/``.
DEFAULT_SCHEMA_DIR = SHARED_DATA / "b2mml"
ENV_VAR = "TAKT_B2MML_SCHEMAS"

Version = Literal["V0401", "V0600", "V0700"]
NAMESPACES: dict[str, Version] = {
    "http://www.wbf.org/xml/B2MML-V0401": "V0401",
    "http://www.mesa.org/xml/B2MML-V0600": "V0600",
    "http://www.mesa.org/xml/B2MML": "V0700",
}
NAMESPACE_OF: dict[Version, str] = {v: ns for ns, v in NAMESPACES.items()}
V0600_NS = NAMESPACE_OF["V0600"]
#: The service account that schedules are imported as (the demo site's sync user).
DEFAULT_ACTOR = "erp-sync"
SERVICE_ROLES = frozenset({"service"})
_XS = "{http://www.w3.org/2001/XMLSchema}"
# Where two draft BatchML files of V0401 declare the same elements, the later draft wins.
_PREFERRED_FILE = {"V0401": "BatchML-V0401xxxx-"}


def default_schema_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else DEFAULT_SCHEMA_DIR


# --- schemas and validation ------------------------------------------------------------------------


class SchemasMissing(Exception):
    """The B2MML schema folder is not where it was looked for."""


@dataclass(frozen=True)
class Validation:
    """Whether a document is valid B2MML. ``path`` and ``reason`` say where and why not; ``errors`` counts all."""

    ok: bool
    version: str | None
    document: str | None  # the root element's local name, e.g. SyncProductionSchedule
    reason: str | None = None
    path: str | None = None
    errors: int = 0

    def describe(self) -> str:
        if self.ok:
            return f"valid B2MML {self.version} {self.document}"
        where = f" at {self.path}" if self.path else ""
        more = f" ({self.errors - 1} more errors)" if self.errors > 1 else ""
        what = f"B2MML {self.version} {self.document}" if self.version else "B2MML"
        return f"not valid {what}{where}: {self.reason}{more}"


@cache
def _element_files(folder: str, version: str) -> dict[str, str]:
    """Global element name → the schema file of ``version`` that declares it (read once per folder)."""
    files = sorted(Path(folder, version).glob("*.xsd"))
    if not files:
        raise SchemasMissing(f"no B2MML {version} schemas in {Path(folder, version)} "
                             f"(set ${ENV_VAR} or --schemas to the folder holding V0401, V0600 and V0700)")
    found: dict[str, str] = {}
    preferred = _PREFERRED_FILE.get(version)
    for path in files:
        if path.name.startswith("AllSchemas"):
            continue
        root = ET.parse(path).getroot()
        for element in root.findall(f"{_XS}element"):
            name = element.get("name")
            if name is None:
                continue
            if name not in found or (preferred is not None and path.name.startswith(preferred)):
                found[name] = str(path)
    return found


@cache
def _load_schema(path: str) -> xmlschema.XMLSchema:
    log.debug("loading B2MML schema %s", path)
    return xmlschema.XMLSchema(path)


class Schemas:
    """The MESA B2MML schemas in one folder (``V0401/``, ``V0600/``, ``V0700/``), loaded as documents need them."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_schema_dir()
        if not self.folder.is_dir():
            raise SchemasMissing(f"B2MML schemas not found: {self.folder} is not a folder "
                                 f"(set ${ENV_VAR} or --schemas to the folder holding V0401, V0600 and V0700)")

    def schema_for(self, version: Version, element: str) -> xmlschema.XMLSchema | None:
        """The schema that declares ``element`` in ``version``, or None if no schema file declares it."""
        path = _element_files(str(self.folder.resolve()), version).get(element)
        return None if path is None else _load_schema(path)

    def validate(self, source: bytes | str | os.PathLike[str] | ET.Element) -> tuple[Validation, ET.Element | None]:
        """Validate a document (bytes, a file path, or a parsed root). Returns the verdict and the parsed root
        (None when the text is not even XML). DTDs and entities are refused: incoming files are not trusted."""
        try:
            resource = xmlschema.XMLResource(
                source if not isinstance(source, os.PathLike) else str(source), defuse="always")
        except (ET.ParseError, xmlschema.XMLResourceError, xmlschema.XMLSchemaException) as exc:
            return Validation(False, None, None, f"not well-formed XML: {exc}", errors=1), None
        except OSError as exc:
            return Validation(False, None, None, f"cannot read the document: {exc}", errors=1), None
        root = resource.root
        namespace, _, name = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        version = NAMESPACES.get(namespace)
        if version is None:
            known = ", ".join(f"{v} {ns}" for ns, v in NAMESPACES.items())
            shown = namespace or "no namespace"
            return Validation(False, None, name, f"the root element {name} is in {shown}, not a B2MML namespace "
                                                 f"({known})", path=f"/{name}", errors=1), root
        schema = self.schema_for(version, name)
        if schema is None:
            return Validation(False, version, name, f"{name} is not a document element of B2MML {version}",
                              path=f"/{name}", errors=1), root
        first: xmlschema.XMLSchemaValidationError | None = None
        count = 0
        for error in schema.iter_errors(resource):
            if first is None:
                first = error
            count += 1
            if count >= 100:
                break
        if first is None:
            return Validation(True, version, name), root
        reason = first.reason or first.message
        return Validation(False, version, name, reason, path=first.path, errors=count), root


@cache
def schemas(folder: str | None = None) -> Schemas:
    """The ``Schemas`` of ``folder`` (default: $TAKT_B2MML_SCHEMAS or ../shared/data/b2mml), made once."""
    return Schemas(folder)


# --- reading production schedules ------------------------------------------------------------------


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
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ScheduleRefused(f"{where}: quantity {raw!r} is not a number") from None
        if not value.is_finite():
            raise ScheduleRefused(f"{where}: quantity {raw!r} is not a number")
        return value

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
    return total.quantize(_SIX_PLACES, ROUND_HALF_EVEN).normalize() if total else Decimal(0)


def _datetime(raw: str | None, where: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleRefused(f"{where}: {raw!r} is not a date and time") from None


def _decimal(raw: str, where: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ScheduleRefused(f"{where}: {raw!r} is not a number") from None
    if not value.is_finite():
        raise ScheduleRefused(f"{where}: {raw!r} is not a number")
    return value


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
    """The commands a (schema-valid) production schedule asks for, as the module's mapping says.

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
            number = int(segment_id)
        else:
            digits = _TRAILING_DIGITS.search(segment_id)
            if digits is None:
                raise refuse(f"{seg_where}: its ID is not an operation number (a whole number, or one at its end)")
            number = int(digits.group(1))
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
        bom.append(c.BomLineSpec(line=int(line_raw) if line_raw else position, item=component,
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


# --- applying a production schedule ----------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the schedules, the work orders released now, those imported before (nothing
    recorded for them), the dispatch lists set, and the journal events recorded."""

    schedules: tuple[str, ...]
    released: tuple[str, ...]
    already_imported: tuple[str, ...]
    dispatch_lists: tuple[str, ...]
    events: int

    def summary(self) -> str:
        parts = [f"{len(self.released)} work orders released"]
        if self.already_imported:
            parts.append(f"{len(self.already_imported)} imported before")
        if self.dispatch_lists:
            parts.append(f"{len(self.dispatch_lists)} dispatch lists set")
        return f"schedule {', '.join(self.schedules)}: " + ", ".join(parts) + f" ({self.events} events)"


def check_schedule(source: bytes | str | os.PathLike[str], state: PlantState, *, schemas_: Schemas | None = None,
                   actor: str = DEFAULT_ACTOR, dispatch: bool = False,
                   workstations: Collection[str] | None = None) -> ScheduleCommands:
    """Validate a schedule and map it to commands; raises ScheduleRefused with the schema's reason or the
    mapping's. Pure apart from reading the file: nothing is recorded."""
    verdict, root = (schemas_ or schemas()).validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    return read_schedule(root, state, actor=actor, dispatch=dispatch, workstations=workstations)


def dry_run(planned: Sequence[PlannedCommand], state: PlantState, now: datetime) -> None:
    """Decide every command, in order, against ``state`` (a copy: it is changed); raise ScheduleRefused naming the
    request and the domain's reason at the first refusal."""
    for p in planned:
        try:
            events = decide(state, p.command, now)
        except DomainError as err:
            field_ = f" (field {err.field})" if err.field else ""
            subject = f"request {p.request}" if p.request else _dispatch_subject(p.command)
            raise ScheduleRefused(f"{subject}: {err.code}: {err.message}{field_}", request=p.request,
                                  code=err.code) from None
        for ev in events:
            evolve(state, ev)
        state.take_dirty()


def _dispatch_subject(command: c.Command) -> str:
    return f"dispatch list of {command.workstation}" if isinstance(command, c.SetDispatchList) else "schedule"


def import_schedule(service: Service, source: bytes | str | os.PathLike[str], *, schemas_: Schemas | None = None,
                    actor: str = DEFAULT_ACTOR, dispatch: bool = False, workstations: Collection[str] | None = None,
                    timeout: float = 120) -> ImportReport:
    """Apply a production schedule through ``service`` (the node's one write path), whole or not at all.

    Raises ScheduleRefused (nothing recorded) when the document is schema-invalid, cannot be mapped, reuses a
    request's key for other content, or holds a command the domain refuses."""
    from edge.service import IdempotencyKeyReused
    from edge.store.codec import fingerprint

    store = service.store
    state: PlantState = store.load_state()
    mapped = check_schedule(source, state, schemas_=schemas_, actor=actor, dispatch=dispatch,
                            workstations=workstations)
    with store.engine.connect() as conn:
        known = store.lookup_commands(conn, [p.command.idempotency_key for p in mapped.commands])
    fresh: list[PlannedCommand] = []
    already: list[str] = []
    for p in mapped.commands:
        row = known.get(p.command.idempotency_key)
        if row is None:
            fresh.append(p)
        elif row.fingerprint != fingerprint(p.command):
            subject = f"request {p.request}" if p.request else _dispatch_subject(p.command)
            raise ScheduleRefused(f"{subject} of schedule {', '.join(mapped.schedules)} was imported before with "
                                  f"other content; a changed work order is not re-released by a schedule import",
                                  request=p.request, code="IDEMPOTENCY_KEY_REUSED")
        elif p.request is not None:
            already.append(p.request)
    dry_run(fresh, state, service.clock())
    futures = [(p, service.submit(p.command)) for p in fresh]  # in order: the writer keeps the queue's order
    released: list[str] = []
    dispatched: list[str] = []
    events = 0
    failures: list[str] = []
    for p, fut in futures:
        try:
            recorded = fut.result(timeout)
        except (DomainError, IdempotencyKeyReused) as err:  # the state moved between the dry run and now
            failures.append(f"{p.request or _dispatch_subject(p.command)}: {err}")
            continue
        events += len(recorded.events)
        if recorded.replayed:
            if p.request is not None:
                already.append(p.request)
        elif isinstance(p.command, c.ReleaseWorkOrder):
            released.append(p.command.work_order)
        elif isinstance(p.command, c.SetDispatchList):
            dispatched.append(p.command.workstation)
    if failures:
        # Only possible when another input changed the state between the dry run and the commit; what was
        # recorded stays, and importing the same document again completes it (its keys make that harmless).
        raise ScheduleRefused("partly applied, another change came in between; import the document again to "
                              "complete it: " + "; ".join(failures))
    report = ImportReport(mapped.schedules, tuple(released), tuple(already), tuple(dispatched), events)
    log.info("imported %s", report.summary(), extra={"schedules": list(mapped.schedules), "released": released})
    return report


# --- rendering the journal -------------------------------------------------------------------------

#: Event types that go out as production performance, and as material information.
PERFORMANCE_EVENTS = frozenset({"ProductionReported", "OperationStarted", "OperationCompleted", "LabourClockedOff",
                                "WorkOrderCompleted"})
MATERIAL_EVENTS = frozenset({"LotReceived", "LotStatusChanged"})
CONSUMPTION_KINDS = frozenset({"issue", "return"})

Kind = Literal["ProductionPerformance", "MaterialInformation"]


@dataclass(frozen=True)
class RenderedDocument:
    """One B2MML document: its kind, the journal range it covers, how many events it holds, and its XML."""

    kind: Kind
    document_id: str
    first_seq: int
    last_seq: int
    events: int
    xml: bytes

    def file_name(self, node_id: str) -> str:
        return f"{_safe(node_id)}_{self.kind}_{self.first_seq:012d}-{self.last_seq:012d}.xml"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (a scanner's GS in a typed reason, say): shown as
    U+FFFD so the document stays well-formed."""
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _when(value: datetime) -> str:
    return value.isoformat()


class _Builder:
    """ElementTree building in the V0600 namespace (elements appended in schema order by the callers)."""

    def __init__(self) -> None:
        self.ns = V0600_NS

    def el(self, parent: ET.Element, name: str, text: str | None = None, **attrib: str) -> ET.Element:
        child = ET.SubElement(parent, f"{{{self.ns}}}{name}", attrib)
        if text is not None:
            child.text = _xml_text(text)
        return child

    def value(self, parent: ET.Element, name: str, text: str, data_type: str, unit: str | None = None) -> None:
        v = self.el(parent, name)
        self.el(v, "ValueString" if name == "Value" else "QuantityString", text)
        self.el(v, "DataType", data_type)
        if unit:
            self.el(v, "UnitOfMeasure", unit)

    def data(self, parent: ET.Element, name: str, key: str, text: str, data_type: str,
             unit: str | None = None) -> ET.Element:
        holder = self.el(parent, name)
        self.el(holder, "ID", key)
        self.value(holder, "Value", text, data_type, unit)
        return holder

    def document(self, verb_document: str, node_id: str, document_id: str, created: datetime
                 ) -> tuple[ET.Element, ET.Element]:
        root = ET.Element(f"{{{self.ns}}}{verb_document}", {"releaseID": "6.0"})
        area = self.el(root, "ApplicationArea")
        sender = self.el(area, "Sender")
        self.el(sender, "LogicalID", node_id)
        self.el(sender, "ComponentID", "takt")
        self.el(area, "CreationDateTime", _when(created))
        self.el(area, "BODID", f"{verb_document}:{document_id}")  # unique per business object document
        data_area = self.el(root, "DataArea")
        self.el(data_area, "Sync")
        return root, data_area


ET.register_namespace("", V0600_NS)


@dataclass
class _Segment:
    operation: int | None
    workstation: str | None = None
    started: datetime | None = None
    completed: datetime | None = None
    reports: list[tuple[int, e.ProductionReported]] = field(default_factory=list)
    labour: list[tuple[int, e.LabourClockedOff]] = field(default_factory=list)
    materials: list[tuple[int, e.StockMoved]] = field(default_factory=list)


@dataclass
class _Response:
    work_order: str
    segments: dict[int | None, _Segment] = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None
    completed: e.WorkOrderCompleted | None = None

    def segment(self, operation: int | None) -> _Segment:
        found = self.segments.get(operation)
        if found is None:
            found = self.segments[operation] = _Segment(operation)
        return found

    def saw(self, at: datetime) -> None:
        if self.started is None or at < self.started:
            self.started = at
        if self.ended is None or at > self.ended:
            self.ended = at


def render_production_performance(entries: Iterable[JournalEntry], *, node_id: str, state: PlantState | None = None,
                                  created: datetime | None = None, edge_only: bool = True
                                  ) -> RenderedDocument | None:
    """Edge-origin production events of ``entries`` as one SyncProductionPerformance, or None if there are none.

    ``state`` (optional) adds what the events do not carry: each work order's item (MaterialProducedActual), units
    of measure and operation descriptions."""
    responses: dict[str, _Response] = {}
    first = last = None
    count = 0
    for entry in entries:
        first = entry.seq if first is None else first
        last = entry.seq
        if edge_only and entry.origin != "edge":
            continue
        if entry.type not in PERFORMANCE_EVENTS and entry.type != "StockMoved":
            continue
        ev = entry.event()
        if isinstance(ev, e.StockMoved):
            if ev.kind not in CONSUMPTION_KINDS or ev.work_order is None:
                continue
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(None).materials.append((entry.seq, ev))
            resp.saw(ev.at)
        elif isinstance(ev, e.ProductionReported):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            seg = resp.segment(ev.operation)
            seg.workstation = ev.workstation
            seg.reports.append((entry.seq, ev))
            resp.saw(ev.at)
        elif isinstance(ev, e.OperationStarted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            seg = resp.segment(ev.operation)
            seg.started = ev.at if seg.started is None else min(seg.started, ev.at)
            resp.saw(ev.at)
        elif isinstance(ev, e.OperationCompleted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(ev.operation).completed = ev.at
            resp.saw(ev.at)
        elif isinstance(ev, e.LabourClockedOff):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(ev.operation).labour.append((entry.seq, ev))
            resp.saw(ev.since)
            resp.saw(ev.at)
        elif isinstance(ev, e.WorkOrderCompleted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.completed = ev
            resp.saw(ev.at)
        else:
            continue
        count += 1
    if not responses or first is None or last is None:
        return None
    document_id = f"{node_id}:{first}-{last}"
    b = _Builder()
    root, data_area = b.document("SyncProductionPerformance", node_id, document_id, created or datetime.now(UTC))
    perf = b.el(data_area, "ProductionPerformance")
    b.el(perf, "ID", document_id)
    b.el(perf, "Description", f"Production performance of node {node_id}, journal {first} to {last}")
    b.el(perf, "PublishedDate", _when(created or datetime.now(UTC)))
    starts = [r.started for r in responses.values() if r.started is not None]
    ends = [r.ended for r in responses.values() if r.ended is not None]
    if starts:
        b.el(perf, "StartTime", _when(min(starts)))
    if ends:
        b.el(perf, "EndTime", _when(max(ends)))
    for resp in responses.values():
        _render_response(b, perf, resp, state)
    return RenderedDocument("ProductionPerformance", document_id, first, last, count,
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _unit(state: PlantState | None, item: str | None) -> str | None:
    if state is None or item is None:
        return None
    found = state.items.get(item)
    return found.unit if found is not None else None


def _render_response(b: _Builder, perf: ET.Element, resp: _Response, state: PlantState | None) -> None:
    order = state.work_orders.get(resp.work_order) if state is not None else None
    pr = b.el(perf, "ProductionResponse")
    b.el(pr, "ID", resp.work_order)
    b.el(pr, "ProductionRequestID", resp.work_order)
    if order is not None:
        b.el(pr, "Version", order.bom_revision)
    if resp.started is not None:
        b.el(pr, "StartTime", _when(resp.started))
    if resp.ended is not None:
        b.el(pr, "EndTime", _when(resp.ended))
    for operation in sorted(resp.segments, key=lambda op: (op is None, op or 0)):
        _render_segment(b, pr, resp.work_order, resp.segments[operation], order, state)
    if resp.completed is not None:
        done = b.el(pr, "SegmentResponse")
        b.el(done, "ID", f"{resp.work_order}/completed")
        b.el(done, "Description", "Work order completed: totals")
        b.el(done, "ActualEndTime", _when(resp.completed.at))
        b.data(done, "ProductionData", "GoodQuantity", _num(resp.completed.good), "decimal")
        b.data(done, "ProductionData", "ScrapQuantity", _num(resp.completed.scrap), "decimal")
        b.el(done, "SegmentState", "Completed")
    b.el(pr, "ResponseState", "Completed" if resp.completed is not None else "Running")


def _render_segment(b: _Builder, pr: ET.Element, work_order: str, seg: _Segment, order: Any,
                    state: PlantState | None) -> None:
    sr = b.el(pr, "SegmentResponse")
    if seg.operation is None:
        b.el(sr, "ID", f"{work_order}/materials")
        b.el(sr, "Description", "Material issued to and returned from the work order")
    else:
        b.el(sr, "ID", f"{work_order}/{seg.operation}")
        b.el(sr, "ProcessSegmentID", str(seg.operation))
        op = state.operations.get((work_order, seg.operation)) if state is not None else None
        if op is not None:
            b.el(sr, "Description", op.description)
        workstation = seg.workstation or (op.workstation if op is not None else None)
        if workstation is not None:
            loc = b.el(sr, "Location")
            b.el(loc, "EquipmentID", workstation)
            b.el(loc, "EquipmentElementLevel", "WorkCenter")
    if seg.started is not None:
        b.el(sr, "ActualStartTime", _when(seg.started))
    if seg.completed is not None:
        b.el(sr, "ActualEndTime", _when(seg.completed))
    item = order.item if order is not None else None
    unit = _unit(state, item)
    for seq, rep in seg.reports:
        pd = b.el(sr, "ProductionData")
        b.el(pd, "ID", f"Report-{seq}")
        b.el(pd, "Description", f"reported at {_when(rep.at)}")
        b.data(pd, "ProductionData", "GoodQuantity", _num(rep.good), "decimal", unit)
        b.data(pd, "ProductionData", "ScrapQuantity", _num(rep.scrap), "decimal", unit)
        if rep.scrap_reason:
            b.data(pd, "ProductionData", "ScrapReason", rep.scrap_reason, "string")
    for seq, lab in seg.labour:
        pa = b.el(sr, "PersonnelActual")
        b.el(pa, "PersonID", lab.operator)
        b.el(pa, "Description", f"labour {_when(lab.since)} to {_when(lab.at)} (journal {seq})")
        b.value(pa, "Quantity", _num(lab.minutes), "decimal", "min")
        for key, when in (("ClockedOn", lab.since), ("ClockedOff", lab.at)):
            b.data(pa, "PersonnelActualProperty", key, _when(when), "dateTime")
    if item is not None and seg.reports and seg.operation is not None and state is not None:
        last_op = max((o.operation for o in state.operations_of(work_order)), default=None)
        good = sum((rep.good for _, rep in seg.reports), Decimal(0))
        if seg.operation == last_op and good:
            mp = b.el(sr, "MaterialProducedActual")
            b.el(mp, "MaterialDefinitionID", item)
            b.value(mp, "Quantity", _num(good), "decimal", unit)
    for seq, mv in seg.materials:
        mc = b.el(sr, "MaterialConsumedActual")
        b.el(mc, "MaterialDefinitionID", mv.item)
        b.el(mc, "MaterialLotID", mv.lot)
        if mv.serial:
            b.el(mc, "MaterialSubLotID", mv.serial)
        b.el(mc, "Description", f"{mv.kind} at {_when(mv.at)} (journal {seq})")
        signed = mv.quantity if mv.kind == "issue" else -mv.quantity
        b.value(mc, "Quantity", _num(signed), "decimal", _unit(state, mv.item))
        b.data(mc, "MaterialConsumedActualProperty", "Movement", mv.kind, "string")
        bin_code = mv.from_bin if mv.kind == "issue" else mv.to_bin
        if bin_code:
            b.data(mc, "MaterialConsumedActualProperty", "Bin", bin_code, "string")
        if mv.bom_line is not None:
            b.data(mc, "MaterialConsumedActualProperty", "BOMLine", str(mv.bom_line), "integer")
    if seg.operation is not None:
        state_text = "Completed" if seg.completed is not None else ("Running" if seg.started or seg.reports else None)
        if state_text is not None:
            b.el(sr, "SegmentState", state_text)


_LOT_STATUS = {"available": "Available", "hold": "Hold", "quarantine": "Quarantine", "consumed": "Consumed"}


def render_material_information(entries: Iterable[JournalEntry], *, node_id: str, state: PlantState | None = None,
                                created: datetime | None = None, edge_only: bool = True
                                ) -> RenderedDocument | None:
    """Edge-origin lot events of ``entries`` (receipts, status changes, stock moves other than issues and returns)
    as one SyncMaterialInformation with a MaterialLot per event, or None if there are none."""
    b = _Builder()
    lots: list[tuple[int, e.Event]] = []
    first = last = None
    for entry in entries:
        first = entry.seq if first is None else first
        last = entry.seq
        if edge_only and entry.origin != "edge":
            continue
        if entry.type in MATERIAL_EVENTS:
            lots.append((entry.seq, entry.event()))
        elif entry.type == "StockMoved":
            ev = entry.event()
            assert isinstance(ev, e.StockMoved)
            if ev.kind not in CONSUMPTION_KINDS:
                lots.append((entry.seq, ev))
    if not lots or first is None or last is None:
        return None
    document_id = f"{node_id}:{first}-{last}"
    now = created or datetime.now(UTC)
    root, data_area = b.document("SyncMaterialInformation", node_id, document_id, now)
    info = b.el(data_area, "MaterialInformation")
    b.el(info, "ID", document_id)
    b.el(info, "Description", f"Material lots of node {node_id}, journal {first} to {last}")
    b.el(info, "PublishedDate", _when(now))
    for seq, ev in lots:
        _render_lot(b, info, seq, ev, state)
    return RenderedDocument("MaterialInformation", document_id, first, last, len(lots),
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _render_lot(b: _Builder, info: ET.Element, seq: int, ev: e.Event, state: PlantState | None) -> None:
    lot = b.el(info, "MaterialLot")
    if isinstance(ev, e.LotReceived):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"received at {_when(ev.at)} (journal {seq})")
        b.el(lot, "MaterialDefinitionID", ev.item)
        b.el(lot, "Status", _LOT_STATUS.get(ev.status, ev.status))
        b.data(lot, "MaterialLotProperty", "Event", "LotReceived", "string")
        b.data(lot, "MaterialLotProperty", "ItemRevision", ev.item_revision, "string")
        if ev.expiry is not None:
            b.data(lot, "MaterialLotProperty", "ExpiryDate", ev.expiry.isoformat(), "date")
        if ev.supplier_lot:
            b.data(lot, "MaterialLotProperty", "SupplierLot", ev.supplier_lot, "string")
        b.el(lot, "StorageLocation", ev.bin)
        b.value(lot, "Quantity", _num(ev.quantity), "decimal", _unit(state, ev.item))
    elif isinstance(ev, e.LotStatusChanged):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"status {ev.previous} to {ev.status}: {ev.reason} (journal {seq})")
        known = state.lots.get(ev.lot) if state is not None else None
        if known is not None:
            b.el(lot, "MaterialDefinitionID", known.item)
        b.el(lot, "Status", _LOT_STATUS.get(ev.status, ev.status))
        b.data(lot, "MaterialLotProperty", "Event", "LotStatusChanged", "string")
        b.data(lot, "MaterialLotProperty", "PreviousStatus", _LOT_STATUS.get(ev.previous, ev.previous), "string")
        b.data(lot, "MaterialLotProperty", "Reason", ev.reason, "string")
        if ev.ncr:
            b.data(lot, "MaterialLotProperty", "Nonconformance", ev.ncr, "string")
    elif isinstance(ev, e.StockMoved):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"{ev.kind} at {_when(ev.at)} (journal {seq})")
        b.el(lot, "MaterialDefinitionID", ev.item)
        b.data(lot, "MaterialLotProperty", "Event", "StockMoved", "string")
        b.data(lot, "MaterialLotProperty", "Movement", ev.kind, "string")
        if ev.from_bin:
            b.data(lot, "MaterialLotProperty", "FromBin", ev.from_bin, "string")
        if ev.to_bin:
            b.data(lot, "MaterialLotProperty", "ToBin", ev.to_bin, "string")
        b.data(lot, "MaterialLotProperty", "LotQuantityChange", _num(ev.lot_quantity_delta), "decimal")
        if ev.reason:
            b.data(lot, "MaterialLotProperty", "Reason", ev.reason, "string")
        if ev.to_bin:
            b.el(lot, "StorageLocation", ev.to_bin)
        b.value(lot, "Quantity", _num(ev.quantity), "decimal", _unit(state, ev.item))


def render(entries: Sequence[JournalEntry], *, node_id: str, state: PlantState | None = None,
           created: datetime | None = None) -> list[RenderedDocument]:
    """Both documents for a slice of the journal: production performance and material information (each only when
    the slice holds events of its kind). Both name the whole slice's sequence range."""
    docs = [render_production_performance(entries, node_id=node_id, state=state, created=created),
            render_material_information(entries, node_id=node_id, state=state, created=created)]
    return [d for d in docs if d is not None]

