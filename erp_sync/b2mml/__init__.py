"""ISA-95 B2MML adapter: validates B2MML documents against MESA's schemas, reads production schedules into
work-order commands, and renders the journal as production performance and material information (V0600).

The package, by what each module does (the specification they follow is docs/b2mml.md):

- ``schemas``: finding and loading the MESA XSDs (V0401, V0600, V0700) and validating a document against them;
- ``reader``: a schema-valid production schedule (every shape senders write) read into ``ReleaseWorkOrder`` and
  ``SetDispatchList`` commands, a cancel into ``CancelWorkOrder``;
- ``units``: a quantity's unit converted to the item's;
- ``apply``: those commands applied through the one write path, whole or not at all (a request of an order a
  schedule released before as its ``ChangeWorkOrder``, refused once the order was started);
- ``master``: master data documents (material definitions and classes, lots and sub-lots, equipment) read into
  Define* commands, and
  ``import_document`` for any document the node reads;
- ``personnel``: personnel documents (people and their classes) written as users through the user store;
- ``render``: the journal's edge-origin events as ``SyncProductionPerformance`` and ``SyncMaterialInformation``;
- ``exports``: shift OEE as ``SyncProductionPerformance`` and inspection plans as V0700 ``SyncTestSpecification``;
- ``filedrop``: the outbox and inbox folders for ERPs that exchange the documents as files.

Every public name of the modules (but the file drop's) is importable from here.
"""
from __future__ import annotations

from erp_sync.b2mml.apply import ImportReport, dry_run, import_schedule
from erp_sync.b2mml.exports import render_shift_oee, render_test_specifications
from erp_sync.b2mml.master import (
    MASTER_DATA_DOCUMENTS,
    import_document,
    import_master_data,
    master_data_noun,
    read_master_data,
)
from erp_sync.b2mml.personnel import PERSONNEL_DOCUMENTS, PersonChange, apply_personnel, read_personnel
from erp_sync.b2mml.reader import (
    DEFAULT_ACTOR,
    ORDER_PARAMETERS,
    SERVICE_ROLES,
    PlannedCommand,
    ScheduleCommands,
    ScheduleRefused,
    _minutes,
    check_schedule,
    content_digest,
    idempotency_key,
    read_schedule,
    request_key,
)
from erp_sync.b2mml.render import (
    CONSUMPTION_KINDS,
    MATERIAL_EVENTS,
    PERFORMANCE_EVENTS,
    Kind,
    RenderedDocument,
    render,
    render_material_information,
    render_production_performance,
)
from erp_sync.b2mml.schemas import (
    DEFAULT_SCHEMA_DIR,
    ENV_VAR,
    NAMESPACE_OF,
    NAMESPACES,
    V0600_NS,
    Schemas,
    SchemasMissing,
    Validation,
    Version,
    default_schema_dir,
    schemas,
)
from erp_sync.b2mml.units import UnitMismatch, convert

__all__ = [
    "CONSUMPTION_KINDS",
    "DEFAULT_ACTOR",
    "DEFAULT_SCHEMA_DIR",
    "ENV_VAR",
    "MASTER_DATA_DOCUMENTS",
    "MATERIAL_EVENTS",
    "ORDER_PARAMETERS",
    "PERSONNEL_DOCUMENTS",
    "NAMESPACES",
    "NAMESPACE_OF",
    "PERFORMANCE_EVENTS",
    "SERVICE_ROLES",
    "V0600_NS",
    "ImportReport",
    "Kind",
    "PersonChange",
    "PlannedCommand",
    "RenderedDocument",
    "ScheduleCommands",
    "ScheduleRefused",
    "Schemas",
    "SchemasMissing",
    "UnitMismatch",
    "Validation",
    "Version",
    "_minutes",
    "apply_personnel",  # the Duration parser, which the unit tests check on its own
    "check_schedule",
    "content_digest",
    "convert",
    "default_schema_dir",
    "dry_run",
    "idempotency_key",
    "import_document",
    "import_master_data",
    "import_schedule",
    "master_data_noun",
    "read_master_data",
    "read_personnel",
    "read_schedule",
    "render",
    "render_material_information",
    "render_production_performance",
    "render_shift_oee",
    "render_test_specifications",
    "request_key",
    "schemas",
]
