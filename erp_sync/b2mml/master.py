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
MASTER_DATA_DOCUMENTS = ("MaterialDefinition", "MaterialLot", "MaterialInformation", "Equipment",
                         "EquipmentInformation")
#: the equipment levels of a workstation (a machine nested in one belongs to it)
WORKSTATION_LEVELS = frozenset({"WorkCell", "WorkCenter", "ProductionUnit", "ProductionLine", "Unit"})
DEFAULT_UNIT = "pcs"
DEFAULT_REVISION = "1"


def master_data_noun(root: ET.Element) -> str | None:
    """The master data noun of a document's root element (``SyncMaterialDefinition`` -> ``MaterialDefinition``),
    or None when it is no master data document this node reads."""
    name = root.tag.rpartition("}")[2]
    for verb in ("Sync", "Process", ""):
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
    if noun is None:
        raise ScheduleRefused(f"{name} is not a master data document this node applies "
                              f"(one of {', '.join(MASTER_DATA_DOCUMENTS)}, with or without Sync/Process)")
    r = _Reader(namespace)
    sender = r.text(root, "ApplicationArea/Sender/LogicalID") or "unknown-sender"
    meta: dict[str, Any] = {"actor": actor, "actor_roles": SERVICE_ROLES, "origin": "erp"}
    nouns = [root] if root.tag.rpartition("}")[2] == noun else r.all(root, f"DataArea/{noun}")
    definitions: list[ET.Element] = []
    lots: list[tuple[ET.Element, str | None]] = []  # (lot, the MaterialInformation ID it is in)
    machines: list[tuple[ET.Element, ET.Element | None]] = []  # (equipment, the one it is nested in)
    for element in nouns:
        if noun == "MaterialDefinition":
            definitions.append(element)
        elif noun == "MaterialLot":
            lots.append((element, None))
        elif noun == "MaterialInformation":
            definitions.extend(r.all(element, "MaterialDefinition"))
            lots.extend((lot, r.text(element, "ID")) for lot in r.all(element, "MaterialLot"))
        else:
            top = [element] if noun == "Equipment" else r.all(element, "Equipment")
            machines.extend(_equipment_tree(r, top, None))
    problems: list[tuple[str, str | None]] = []
    planned: list[PlannedCommand] = []
    defined_items: set[str] = set()
    for element in definitions:
        item = r.text(element, "ID")
        if item is None:
            problems.append(("a MaterialDefinition has no ID (the item code)", None))
            continue
        props = _props(r, element, "MaterialDefinitionProperty")
        known = state.items.get(item)
        gtin = props.get("gtin")
        lot_controlled = props.get("lotcontrolled")
        planned.append(PlannedCommand(f"item {item}", c.DefineItem(
            idempotency_key=idempotency_key(sender, f"item:{item}:{content_digest(element)}"), **meta, item=item,
            description=r.text(element, "Description") or (known.description if known else item),
            unit=(props.get("baseunitofmeasure") or props.get("unitofmeasure") or props.get("unit")
                  or (known.unit if known else DEFAULT_UNIT)),
            revision=(props.get("revision") or props.get("itemrevision")
                      or (known.revision if known else DEFAULT_REVISION)),
            lot_controlled=(lot_controlled.lower() in ("true", "1", "yes") if lot_controlled is not None
                            else (known.lot_controlled if known else True)),
            gtin=gtin or (known.gtin if known else None))))
        defined_items.add(item)
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
        expiry_raw = props.get("expirydate") or props.get("expiry") or props.get("bestbeforedate")
        expiry = _date(expiry_raw)
        if expiry_raw is not None and expiry is None:
            problems.append((f"lot {lot}: expiry {expiry_raw!r} is not a date", f"lot {lot}"))
            continue
        planned.append(PlannedCommand(f"lot {lot}", c.DefineLot(
            idempotency_key=idempotency_key(sender, f"lot:{lot}:{content_digest(element)}"), **meta, lot=lot,
            item=item, expiry=expiry, supplier_lot=props.get("supplierlot") or props.get("vendorlot"))))
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
    state: PlantState = service.store.load_state()
    mapped = read_master_data(root, state, actor=actor, workstations=workstations, locations=locations)
    return apply_planned(service, mapped, state, timeout=timeout)


def import_document(service: Service, source: bytes | str | os.PathLike[str], *, schemas_: Schemas | None = None,
                    actor: str = DEFAULT_ACTOR, dispatch: bool = False, workstations: Collection[str] | None = None,
                    locations: Mapping[str, str] | None = None, timeout: float = 120) -> ImportReport:
    """Apply any document the node reads: a production schedule (``import_schedule``) or master data
    (``import_master_data``), told by its root element."""
    refuse_unless_xml(source)
    check = schemas_ or schemas()
    verdict, root = check.validate(source)
    if not verdict.ok or root is None:
        raise ScheduleRefused(f"schema: {verdict.describe()}", path=verdict.path)
    state: PlantState = service.store.load_state()
    if master_data_noun(root) is not None:
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
