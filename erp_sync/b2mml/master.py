"""Reading B2MML master data documents: material definitions, material lots and equipment (V0401 and V0600) read
into ``DefineItem``, ``DefineLot`` and ``DefineEquipment`` commands, so a sender that keeps its master data in B2MML
can set a node up; and ``import_document``, which applies any document the node reads (a production schedule or
master data) as the file drop and ``POST /api/v1/b2mml`` take it.

The mapping is written down in docs/b2mml.md ("Master data"); a document is applied whole or not at all, and a
refusal lists every problem.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from edge.domain import PlantState
from edge.domain import commands as c
from erp_sync.b2mml.apply import ImportReport, apply_planned
from erp_sync.b2mml.personnel import PERSONNEL_DOCUMENTS, apply_personnel, read_personnel
from erp_sync.b2mml.reader import (
    _SCHEDULE_DOCUMENTS,
    DEFAULT_ACTOR,
    SERVICE_ROLES,
    PlannedCommand,
    ScheduleCommands,
    ScheduleRefused,
    _Reader,
    content_digest,
    idempotency_key,
    read_schedule,
    refuse_unless_xml,
)
from erp_sync.b2mml.schemas import NAMESPACES, Schemas, schemas

if TYPE_CHECKING:
    from edge.service import Service

#: the document elements read as master data (with or without a Sync/Process verb in front)
MASTER_DATA_DOCUMENTS = ("MaterialDefinition", "MaterialClass", "MaterialLot", "MaterialSubLot",
                         "MaterialInformation", "Equipment", "EquipmentInformation", *PERSONNEL_DOCUMENTS)
#: item properties a MaterialClass gives its materials (a definition's own win)
CLASS_DEFAULTS = ("baseunitofmeasure", "unitofmeasure", "unit", "revision", "itemrevision", "lotcontrolled")
#: the equipment levels of a workstation (a machine nested in one belongs to it)
WORKSTATION_LEVELS = frozenset({"WorkCell", "WorkCenter", "ProductionUnit", "ProductionLine", "Unit"})
DEFAULT_UNIT = "pcs"
DEFAULT_REVISION = "1"


def master_data_noun(root: ET.Element) -> str | None:
    """The master data noun of a document's root element (``SyncMaterialDefinition`` -> ``MaterialDefinition``),
    or None when it is no master data document this node reads."""
    name = root.tag.rpartition("}")[2]
    for verb in ("Sync", "Process", "Change", ""):
        if name.startswith(verb) and name[len(verb):] in MASTER_DATA_DOCUMENTS:
            return name[len(verb):]
    return None


def _props(r: _Reader, element: ET.Element, name: str) -> dict[str, str]:
    """``<name>`` children as ID -> first ValueString, by ID without regard to case."""
    return {k.lower(): v for k, v in r.properties(element, name).items()}


def _date(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date() if "T" in raw else date.fromisoformat(raw)
    except ValueError:
        return None


def read_master_data(root: ET.Element, state: PlantState, *, actor: str = DEFAULT_ACTOR,
                     workstations: Collection[str] | None = None,
                     locations: Mapping[str, str] | None = None) -> ScheduleCommands:
    """The commands a (schema-valid) master data document asks for; raises ScheduleRefused listing every problem.

    ``workstations`` (the site's) are not defined as machines (the site file defines them); ``locations`` maps an
    equipment ID to ``workstation:<code>`` for a machine that names its workstation no other way."""
    namespace, _, name = root.tag[1:].partition("}")
    if NAMESPACES.get(namespace) not in ("V0401", "V0600"):
        raise ScheduleRefused(f"master data is read in B2MML V0600 (or V0401); this is {namespace} {name}")
    noun = master_data_noun(root)
    if noun in PERSONNEL_DOCUMENTS:
        raise ScheduleRefused(f"{name} is personnel: people are read by erp_sync.b2mml.personnel (import_document)")
    if noun is None:
        raise ScheduleRefused(f"{name} is not a master data document this node applies "
                              f"(one of {', '.join(MASTER_DATA_DOCUMENTS)}, with or without Sync/Process)")
    r = _Reader(namespace)
    sender = r.text(root, "ApplicationArea/Sender/LogicalID") or "unknown-sender"
    meta: dict[str, Any] = {"actor": actor, "actor_roles": SERVICE_ROLES, "origin": "erp"}
    nouns = [root] if root.tag.rpartition("}")[2] == noun else r.all(root, f"DataArea/{noun}")
    definitions: list[ET.Element] = []
    classes: list[ET.Element] = []
    lots: list[tuple[ET.Element, str | None]] = []  # (lot, the MaterialInformation ID it is in)
    sublots: list[ET.Element] = []  # sub-lots on their own (a MaterialSubLot document), naming their lot
    machines: list[tuple[ET.Element, ET.Element | None]] = []  # (equipment, the one it is nested in)
    for element in nouns:
        if noun == "MaterialDefinition":
            definitions.append(element)
        elif noun == "MaterialClass":
            classes.append(element)
        elif noun == "MaterialLot":
            lots.append((element, None))
        elif noun == "MaterialSubLot":
            sublots.append(element)
        elif noun == "MaterialInformation":
            definitions.extend(r.all(element, "MaterialDefinition"))
            classes.extend(r.all(element, "MaterialClass"))
            lots.extend((lot, r.text(element, "ID")) for lot in r.all(element, "MaterialLot"))
        else:
            top = [element] if noun == "Equipment" else r.all(element, "Equipment")
            machines.extend(_equipment_tree(r, top, None))
    problems: list[tuple[str, str | None]] = []
    planned: list[PlannedCommand] = []
    # a MaterialClass's properties are defaults of its materials: those it lists and those that name it
    class_props: dict[str, dict[str, str]] = {}
    class_members: dict[str, list[str]] = {}
    for element in classes:
        class_id = r.text(element, "ID")
        if class_id is None:
            problems.append(("a MaterialClass has no ID", None))
            continue
        class_props[class_id] = {k: v for k, v in _props(r, element, "MaterialClassProperty").items()
                                 if k in CLASS_DEFAULTS}
        for member in r.all(element, "MaterialDefinitionID"):
            if member.text and member.text.strip():
                class_members.setdefault(member.text.strip(), []).append(class_id)
    defined_items: set[str] = set()

    def defaults_of(item: str, element: ET.Element | None) -> dict[str, str]:
        named = [c.text.strip() for c in (r.all(element, "MaterialClassID") if element is not None else [])
                 if c.text and c.text.strip()]
        found: dict[str, str] = {}
        for class_id in dict.fromkeys(class_members.get(item, []) + named):
            for key, value in class_props.get(class_id, {}).items():
                found.setdefault(key, value)
        return found

    def define(item: str, element: ET.Element | None, key_part: str) -> None:
        props = defaults_of(item, element) | (_props(r, element, "MaterialDefinitionProperty")
                                              if element is not None else {})
        known = state.items.get(item)
        gtin = props.get("gtin")
        lot_controlled = props.get("lotcontrolled")
        description = (r.text(element, "Description") if element is not None else None)
        planned.append(PlannedCommand(f"item {item}", c.DefineItem(
            idempotency_key=idempotency_key(sender, f"item:{item}:{key_part}"), **meta, item=item,
            description=description or (known.description if known else item),
            unit=(props.get("baseunitofmeasure") or props.get("unitofmeasure") or props.get("unit")
                  or (known.unit if known else DEFAULT_UNIT)),
            revision=(props.get("revision") or props.get("itemrevision")
                      or (known.revision if known else DEFAULT_REVISION)),
            lot_controlled=(lot_controlled.lower() in ("true", "1", "yes") if lot_controlled is not None
                            else (known.lot_controlled if known else True)),
            gtin=gtin or (known.gtin if known else None))))
        defined_items.add(item)

    for element in definitions:
        item = r.text(element, "ID")
        if item is None:
            problems.append(("a MaterialDefinition has no ID (the item code)", None))
            continue
        digest = content_digest(element)
        if defaults_of(item, element):  # the class's properties are part of what defines the item
            digest = f"{digest}:{content_digest(ET.Element('c', {k: str(v) for k, v in defaults_of(item, element).items()}))}"
        define(item, element, digest)
    for item, class_ids in class_members.items():
        if item in defined_items:
            continue
        if item not in state.items:
            problems.append((f"material class {', '.join(class_ids)}: UNKNOWN_ITEM: item {item} is not known here "
                             f"(define it with a MaterialDefinition)", f"item {item}"))
            continue
        if defaults_of(item, None):  # an item known here, given its class's unit, revision or lot control
            define(item, None, "class:" + content_digest(ET.Element(
                "c", {k: str(v) for k, v in defaults_of(item, None).items()})))
    for element, information_id in lots:
        lot = r.text(element, "ID")
        if lot is None:
            problems.append(("a MaterialLot has no ID (the lot number)", None))
            continue
        item = r.text(element, "MaterialDefinitionID")
        if item is None and information_id is not None and (information_id in defined_items
                                                            or information_id in state.items):
            item = information_id  # a lot inside the MaterialInformation of its material, as some MESs write it
        if item is None:
            problems.append((f"lot {lot}: no MaterialDefinitionID (the item of the lot)", f"lot {lot}"))
            continue
        if item not in state.items and item not in defined_items:
            problems.append((f"lot {lot}: UNKNOWN_ITEM: item {item} is not known here", f"lot {lot}"))
            continue
        props = _props(r, element, "MaterialLotProperty")
        try:
            expiry = _expiry(props, f"lot {lot}")
        except ScheduleRefused as refused:
            problems.append((refused.reason, f"lot {lot}"))
            continue
        supplier_lot = props.get("supplierlot") or props.get("vendorlot")
        planned.append(PlannedCommand(f"lot {lot}", c.DefineLot(
            idempotency_key=idempotency_key(sender, f"lot:{lot}:{content_digest(element)}"), **meta, lot=lot,
            item=item, expiry=expiry, supplier_lot=supplier_lot)))
        _sublots(r, r.all(element, "MaterialSubLot"), lot, item, expiry, supplier_lot, sender, meta, planned,
                 problems)
    for element in sublots:
        parent_lot = r.text(element, "MaterialLotID")
        known_lot = state.lots.get(parent_lot) if parent_lot is not None else None
        sub = r.text(element, "ID") or "#?"
        if known_lot is None:
            problems.append((f"sub-lot {sub}: its lot {parent_lot or '(no MaterialLotID)'} is not known here (send the "
                             f"MaterialLot first, or the sub-lot inside it)", f"lot {sub}"))
            continue
        _sublots(r, [element], known_lot.lot, known_lot.item, known_lot.expiry, known_lot.supplier_lot, sender,
                 meta, planned, problems)
    site = set(workstations or ())
    for element, parent in machines:
        equipment = r.text(element, "ID")
        if equipment is None:
            problems.append(("an Equipment has no ID", None))
            continue
        level = (r.text(element, "EquipmentLevel/EquipmentElementLevel")  # V0600
                 or r.text(element, "Location/EquipmentElementLevel"))
        if equipment in site or (parent is None and (level in WORKSTATION_LEVELS or r.all(element, "Equipment"))):
            continue  # a workstation (the site's, of a workstation's level, or holding machines): the site defines it
        props = _props(r, element, "EquipmentProperty")
        mapped = (locations or {}).get(equipment, "")
        workstation = (props.get("workstation")
                       or (mapped.partition(":")[2] if mapped.startswith("workstation:") else None)
                       or (r.text(parent, "ID") if parent is not None else None)
                       or r.text(element, "Location/EquipmentID"))
        machine = state.equipment.get(equipment)
        if workstation is None and machine is not None:
            workstation = machine.workstation
        if workstation is None:
            problems.append((f"equipment {equipment}: no workstation (nest it in its workstation's Equipment, or "
                             f"give property Workstation, or map it in b2mml.locations)", f"equipment {equipment}"))
            continue
        if site and workstation not in site:
            problems.append((f"equipment {equipment}: {workstation} is not a workstation of this site "
                             f"({', '.join(sorted(site))})", f"equipment {equipment}"))
            continue
        planned.append(PlannedCommand(f"equipment {equipment}", c.DefineEquipment(
            idempotency_key=idempotency_key(sender, f"equipment:{equipment}:{content_digest(element)}"), **meta,
            equipment=equipment, workstation=workstation, description=r.text(element, "Description") or "")))
    if problems:
        raise ScheduleRefused.listing(problems)
    if not planned:
        raise ScheduleRefused(f"{name} holds no item, lot or machine this node defines")
    return ScheduleCommands((f"{name} from {sender}",), tuple(planned))


def _expiry(props: Mapping[str, str], where: str) -> date | None:
    raw = props.get("expirydate") or props.get("expiry") or props.get("bestbeforedate")
    expiry = _date(raw)
    if raw is not None and expiry is None:
        raise ScheduleRefused(f"{where}: expiry {raw!r} is not a date")
    return expiry


def _sublots(r: _Reader, elements: list[ET.Element], lot: str, item: str, expiry: date | None,
             supplier_lot: str | None, sender: str, meta: dict[str, Any], planned: list[PlannedCommand],
             problems: list[tuple[str, str | None]]) -> None:
    """Each sub-lot (and the sub-lots nested in it) as a lot of its own, of its lot's item, with its lot's expiry and
    supplier lot unless its own properties give them."""
    for element in elements:
        sub = r.text(element, "ID")
        if sub is None:
            problems.append((f"lot {lot}: a MaterialSubLot has no ID", f"lot {lot}"))
            continue
        props = _props(r, element, "MaterialSublotProperty") | _props(r, element, "MaterialSubLotProperty")
        try:
            own_expiry = _expiry(props, f"sub-lot {sub} of lot {lot}")
        except ScheduleRefused as refused:
            problems.append((refused.reason, f"lot {sub}"))
            continue
        sub_expiry = own_expiry or expiry
        sub_supplier = props.get("supplierlot") or props.get("vendorlot") or supplier_lot
        planned.append(PlannedCommand(f"lot {sub}", c.DefineLot(
            idempotency_key=idempotency_key(sender, f"lot:{sub}:{lot}:{content_digest(element)}"), **meta, lot=sub,
            item=item, expiry=sub_expiry, supplier_lot=sub_supplier)))
        _sublots(r, r.all(element, "MaterialSubLot"), sub, item, sub_expiry, sub_supplier, sender, meta, planned,
                 problems)


def _equipment_tree(r: _Reader, elements: list[ET.Element], parent: ET.Element | None
                    ) -> Iterator[tuple[ET.Element, ET.Element | None]]:
    for element in elements:
        yield element, parent
        yield from _equipment_tree(r, r.all(element, "Equipment"), element)


def import_master_data(service: Service, source: bytes | str | os.PathLike[str] | ET.Element, *,
                       schemas_: Schemas | None = None, actor: str = DEFAULT_ACTOR,
                       workstations: Collection[str] | None = None, locations: Mapping[str, str] | None = None,
                       timeout: float = 120) -> ImportReport:
    """Apply a master data document through ``service``, whole or not at all (ScheduleRefused listing every
    problem, nothing recorded); the same document again records nothing."""
    if not isinstance(source, ET.Element):
        refuse_unless_xml(source)
    verdict, root = (schemas_ or schemas()).validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    noun = master_data_noun(root)
    if noun in PERSONNEL_DOCUMENTS:
        label, people = read_personnel(root, noun)
        return apply_personnel(service.store, label, people)
    state: PlantState = service.store.load_state()
    mapped = read_master_data(root, state, actor=actor, workstations=workstations, locations=locations)
    return apply_planned(service, mapped, state, timeout=timeout)


def import_document(service: Service, source: bytes | str | os.PathLike[str], *, schemas_: Schemas | None = None,
                    actor: str = DEFAULT_ACTOR, dispatch: bool = False, workstations: Collection[str] | None = None,
                    locations: Mapping[str, str] | None = None, personnel_classes: Mapping[str, str] | None = None,
                    timeout: float = 120) -> ImportReport:
    """Apply any document the node reads: a production schedule (``import_schedule``), master data
    (``import_master_data``) or personnel (``erp_sync.b2mml.personnel``), told by its root element;
    ``personnel_classes`` is the site's table of personnel classes to roles (``b2mml.personnel_classes``)."""
    refuse_unless_xml(source)
    check = schemas_ or schemas()
    verdict, root = check.validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    noun = master_data_noun(root)
    if noun in PERSONNEL_DOCUMENTS:
        label, people = read_personnel(root, noun, classes=personnel_classes)
        return apply_personnel(service.store, label, people)
    state: PlantState = service.store.load_state()
    if noun is not None:
        mapped = read_master_data(root, state, actor=actor, workstations=workstations, locations=locations)
        return apply_planned(service, mapped, state, timeout=timeout)
    name = root.tag.rpartition("}")[2]
    if name not in _SCHEDULE_DOCUMENTS:
        raise ScheduleRefused(f"{name} is neither a production schedule nor master data this node applies "
                              f"(schedules: {', '.join(_SCHEDULE_DOCUMENTS)}; master data: "
                              f"{', '.join(MASTER_DATA_DOCUMENTS)})")
    mapped = read_schedule(root, state, actor=actor, dispatch=dispatch, workstations=workstations,
                           locations=locations, known_only=True)  # as check_schedule, validated once
    return apply_planned(service, mapped, state, timeout=timeout)
