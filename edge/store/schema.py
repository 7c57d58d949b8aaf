"""Table definitions: the journal, the command log, users, and the projections of the journal.

The current-state tables are derived from the domain's flat entity dataclasses (one column per
field), so the domain model and the tables cannot drift apart; alembic migrations are generated
from this metadata and a test checks that the migrations reach exactly this schema.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from edge.domain import model

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})


class Quantity(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, canonical text on SQLite (whose REAL would round)."""

    impl = Numeric(24, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, 6))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive timestamp {value!r}: Takt stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _column_type(hint: Any) -> tuple[TypeEngine[Any], bool]:
    """SQL type for a dataclass field's type hint, and whether the column is nullable."""
    nullable = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(hint))
        hint = args[0]
    if typing.get_origin(hint) is tuple:
        return JSON(), nullable
    mapping: dict[Any, TypeEngine[Any]] = {
        str: String(200), int: Integer(), bool: Boolean(), Decimal: Quantity(), date: Date(), datetime: UtcDateTime(),
    }
    return mapping[hint], nullable


@dataclasses.dataclass(frozen=True)
class EntityTable:
    name: str
    cls: type
    key: tuple[str, ...]
    table: Table
    tuple_fields: tuple[str, ...]

    def row(self, entity: Any) -> dict[str, Any]:
        row = {f: getattr(entity, f) for f in self.table.columns.keys()}
        for f in self.tuple_fields:
            row[f] = list(row[f])
        return row

    def entity(self, row: Any) -> Any:
        values = dict(row._mapping)
        for f in self.tuple_fields:
            values[f] = tuple(values[f] or ())
        return self.cls(**values)

    def key_of(self, entity: Any) -> Any:
        if len(self.key) == 1:
            return getattr(entity, self.key[0])
        return tuple(getattr(entity, k) for k in self.key)


def _entity_table(name: str, cls: type, key: tuple[str, ...]) -> EntityTable:
    hints = typing.get_type_hints(cls, vars(model))
    columns = []
    tuple_fields = []
    for f in dataclasses.fields(cls):
        sql_type, nullable = _column_type(hints[f.name])
        if isinstance(sql_type, JSON):
            tuple_fields.append(f.name)
        columns.append(Column(f.name, sql_type, primary_key=f.name in key, nullable=nullable and f.name not in key))
    return EntityTable(name, cls, key, Table(name, metadata, *columns), tuple(tuple_fields))


ENTITY_TABLES: dict[str, EntityTable] = {
    spec.name: spec
    for spec in (
        _entity_table("items", model.Item, ("item",)),
        _entity_table("bins", model.Bin, ("bin",)),
        _entity_table("equipment", model.Equipment, ("equipment",)),
        _entity_table("lots", model.Lot, ("lot",)),
        _entity_table("stock", model.Stock, ("lot", "bin")),
        _entity_table("work_orders", model.WorkOrder, ("work_order",)),
        _entity_table("operations", model.Operation, ("work_order", "operation")),
        _entity_table("bom_lines", model.BomLine, ("work_order", "line")),
        _entity_table("dispatch", model.DispatchEntry, ("workstation", "position")),
        _entity_table("clock_ons", model.ClockOn, ("operator", "work_order", "operation")),
        _entity_table("inspection_plans", model.InspectionPlan, ("plan",)),
        _entity_table("characteristics", model.Characteristic, ("plan", "characteristic")),
        _entity_table("nonconformances", model.Nonconformance, ("ncr",)),
        _entity_table("machine_states", model.MachineState, ("equipment",)),
        _entity_table("serials", model.SerialUse, ("item", "serial")),
        _entity_table("work_order_conflicts", model.WorkOrderConflict, ("work_order",)),
        _entity_table("bom_revisions", model.BomRevision, ("item", "bom_revision")),
        _entity_table("bom_revision_lines", model.BomRevisionLine, ("item", "bom_revision", "line")),
        _entity_table("purchase_orders", model.PurchaseOrder, ("purchase_order",)),
        _entity_table("purchase_order_lines", model.PurchaseOrderLine, ("purchase_order", "line")),
        _entity_table("expected_lots", model.ExpectedLot, ("purchase_order", "line", "supplier_lot")),
        _entity_table("customers", model.Customer, ("customer",)),
        _entity_table("sales_orders", model.SalesOrder, ("sales_order",)),
        _entity_table("sales_order_lines", model.SalesOrderLine, ("sales_order", "line")),
        _entity_table("pending_counts", model.PendingCount, ("lot", "bin")),
        _entity_table("unassigned_production", model.UnassignedProduction, ("equipment",)),
        _entity_table("inspection_tasks", model.InspectionTask, ("task",)),
        _entity_table("inspection_intervals", model.InspectionInterval, ("plan", "work_order", "operation")),
        _entity_table("staged", model.StagedStock, ("work_order", "lot", "bin")),
        _entity_table("pallets", model.Pallet, ("sscc",)),
        _entity_table("pallet_lines", model.PalletLine, ("sscc", "lot")),
        _entity_table("maintenance_settings", model.MaintenanceSetting, ("equipment",)),
        _entity_table("machine_usage", model.MachineUsage, ("equipment",)),
        _entity_table("maintenance_plans", model.MaintenancePlan, ("plan",)),
        _entity_table("maintenance_requests", model.MaintenanceRequest, ("request",)),
        _entity_table("work_instructions", model.WorkInstruction, ("item", "operation", "revision")),
        _entity_table("instruction_steps", model.InstructionStep, ("item", "operation", "revision", "step")),
        _entity_table("instruction_runs", model.InstructionRun, ("work_order", "operation", "serial")),
        _entity_table("units", model.Unit, ("item", "serial")),
        _entity_table("reworks", model.Rework, ("rework",)),
        _entity_table("capas", model.Capa, ("capa",)),
        _entity_table("capa_actions", model.CapaAction, ("capa", "action")),
        _entity_table("line_side_bins", model.LineSideBin, ("bin", "item")),
        _entity_table("replenishment_tasks", model.ReplenishmentTask, ("task",)),
        _entity_table("waves", model.Wave, ("wave",)),
        _entity_table("wave_picks", model.WavePick, ("wave", "pick")),
    )
}
# A unit is traced by its serial alone (a label, a customer's complaint), and listed per work order.
Index("ix_units_serial", ENTITY_TABLES["units"].table.c.serial)
Index("ix_units_work_order", ENTITY_TABLES["units"].table.c.work_order)
Index("ix_units_lot", ENTITY_TABLES["units"].table.c.lot)
Index("ix_units_sscc", ENTITY_TABLES["units"].table.c.sscc)

# The line view asks for the open CAPA actions past their due date: by status and due date, not a scan of them all.
Index("ix_capa_actions_status_due", ENTITY_TABLES["capa_actions"].table.c.status,
      ENTITY_TABLES["capa_actions"].table.c.due)

# --- the journal: the outbox and the source of truth ---------------------------------------------

journal = Table(
    "journal", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("node_id", String(100), nullable=False),
    Column("type", String(64), nullable=False),
    Column("subject", String(250), nullable=False),
    Column("payload", Text, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("source_device", String(100)),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("origin", String(8), nullable=False),
    Column("idempotency_key", String(250), nullable=False),
    Column("key_part", Integer, nullable=False),
    # Who sent the command: the authenticated account (a token's user, a page session, a scanning device wired to
    # the node), and the operator on whose behalf it was booked when that is someone else (a badge logged on at a
    # station). Empty in rows recorded before they were kept (migration 0018).
    Column("recorded_by", String(100)),
    Column("on_behalf_of", String(100)),
    # SHA-256 over the previous row's chain_hash and this row's content (edge.store.chain), from migration 0020 on.
    Column("chain_hash", String(64)),
    UniqueConstraint("idempotency_key", "key_part", name="uq_journal_idempotency_key"),
    Index("ix_journal_subject", "subject"),
)

# One row per accepted command: what a repeat of its idempotency key gets back.
command_log = Table(
    "command_log", metadata,
    Column("idempotency_key", String(250), primary_key=True),
    Column("command", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

node_settings = Table(
    "node_settings", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Users are configuration, not plant facts: they are not journaled, but every journal row names
# the user (actor) that caused it.
users = Table(
    "users", metadata,
    Column("user", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    # scrypt of the badge code with the store's badge salt (node_settings): deterministic, so a scanned badge is
    # found by its hash; the code itself is never kept. None: the user cannot log on by badge.
    Column("badge_hash", String(64), unique=True),
    # scrypt of the PIN with its own random salt, as "scrypt$n$r$p$salt$hash"; None: no PIN
    Column("pin_hash", String(200)),
    # the unsalted SHA-256 PIN digests of stores before 0017: kept by the upgrade (which changes no old column), then
    # emptied by every user save (edge.store.users) and at every node start; nothing reads them
    Column("pin_sha256", String(64)),
    Column("language", String(8), nullable=False),
    Column("active", Boolean, nullable=False),
)

# People from the plant's directory (LDAP/AD, takt.identity): their ``users`` row holds name, roles, badge hash and
# the hash of the last password the directory accepted; this row says where in the directory they are and when the
# directory last confirmed them, so that the line keeps working for the cache time while the directory is away.
directory_users = Table(
    "directory_users", metadata,
    Column("user", String(100), primary_key=True),
    Column("dn", String(500), nullable=False),
    Column("groups", JSON, nullable=False),  # the groups (DNs) that gave the roles
    Column("disabled", Boolean, nullable=False),  # the directory said so: refused at once, also from the cache
    Column("confirmed_at", UtcDateTime, nullable=False),  # the directory's last answer about this person
)

# Failed logons (and wrong e-signature PINs), kept so that the limits survive a restart. One row per scope and
# key: ``pair`` (an account at one client address), ``client`` (one address, every account) and ``account`` (one
# account from every address). An account is a user name, or ``badge:`` and a prefix of an unknown badge's hash.
logon_failures = Table(
    "logon_failures", metadata,
    Column("scope", String(16), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("clients", JSON, nullable=False),  # the addresses that failed in this window (the account count)
    Column("last_failed_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("lockouts", Integer, nullable=False),
)

# Page sessions: a badge (and PIN) logon at a terminal or handheld gives a short-lived bearer token with the user's
# roles. Like users, these are configuration of access, not plant facts: not journaled.
sessions = Table(
    "sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user", String(100), nullable=False, index=True),
    Column("device", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Electronic signatures: each PIN re-entry that signs a quality decision (who, what, when, from which session).
signatures = Table(
    "signatures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(100), nullable=False, index=True),
    Column("meaning", String(250), nullable=False),
    Column("subject", String(250), nullable=False),
    Column("idempotency_key", String(250), nullable=False),
    Column("device", String(100)),
    Column("signed_at", UtcDateTime, nullable=False),
)

# The answers POST /api/v1/b2mml gave, by the request's Idempotency-Key (edge.store.document_answers): a retry gets
# the first answer again, also after a restart; the same key with another document (its SHA-256) is refused.
b2mml_answers = Table(
    "b2mml_answers", metadata,
    Column("idempotency_key", String(250), primary_key=True),
    Column("document_sha256", String(64), nullable=False),
    Column("user", String(100), nullable=False),
    Column("answer", Text, nullable=False),  # the 201 answer as JSON
    Column("answered_at", UtcDateTime, nullable=False, index=True),
)

# --- history projections (append-only, one row per event, keyed by the journal seq) ---------------

moves = Table(
    "moves", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("lot", String(200), nullable=False, index=True),
    Column("item", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("from_bin", String(200)),
    Column("to_bin", String(200)),
    Column("quantity", Quantity, nullable=False),
    Column("work_order", String(200), index=True),  # genealogy: what went into and came out of an order
    Column("bom_line", Integer),
    Column("reason", String(200)),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("suggested_bin", String(200)),  # a putaway elsewhere: the bin the rules suggested
    Column("override_reason", String(200)),  # ... and why it went elsewhere
    Column("sales_order", String(200), index=True),  # a shipment: the customer's order
    Column("sscc", String(18), index=True),  # a shipment: the pallet
)

production_reports = Table(
    "production_reports", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("work_order", String(200), nullable=False, index=True),
    Column("operation", Integer, nullable=False),
    Column("workstation", String(200), nullable=False),
    Column("good", Quantity, nullable=False),
    Column("scrap", Quantity, nullable=False),
    Column("scrap_reason", String(200)),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

labour_records = Table(
    "labour_records", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("operator", String(100), nullable=False),
    Column("work_order", String(200), nullable=False, index=True),
    Column("operation", Integer, nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("minutes", Quantity, nullable=False),
)

inspection_results = Table(
    "inspection_results", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("inspection", String(200), nullable=False, unique=True),
    Column("plan", String(200), nullable=False),
    Column("lot", String(200)),
    Column("work_order", String(200)),
    Column("operation", Integer),
    Column("passed", Boolean, nullable=False),
    Column("results", JSON, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Electronic signatures (edge.domain.contexts.signatures): one row per RecordsSigned event, with the signed events
# (seq, chain hash, type, subject) as JSON; the page of signatures by day reads it by ``at``.
record_signatures = Table(
    "record_signatures", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("signature", String(40), nullable=False, unique=True),
    Column("signer", String(100), nullable=False, index=True),
    Column("signer_name", String(200), nullable=False),
    Column("meaning", String(64), nullable=False),
    Column("records", JSON, nullable=False),
    Column("supersedes", String(40)),
    Column("comment", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
)

# Partial acceptance: the sub-lots split off a lot under inspection (genealogy: edge.store.trace follows a split
# forward from the parent and backward from a sub-lot).
lot_splits = Table(
    "lot_splits", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("parent", String(200), nullable=False, index=True),
    Column("lot", String(200), nullable=False, index=True),
    Column("item", String(200), nullable=False),
    Column("quantity", Quantity, nullable=False),
    Column("verdict", String(16), nullable=False),  # accepted | rejected
    Column("samples", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("task", String(200)),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

machine_state_history = Table(
    "machine_state_history", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("equipment", String(200), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("reason", String(200)),
    Column("since", UtcDateTime, nullable=False),
    Column("previous", String(16)),
    Column("previous_since", UtcDateTime),
)

# Kitting's short picks: less of a lot found in a bin than the pick list asked for, and why.
short_picks = Table(
    "short_picks", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("work_order", String(200), nullable=False, index=True),
    Column("bom_line", Integer, nullable=False),
    Column("item", String(200), nullable=False),
    Column("lot", String(200), nullable=False),
    Column("bin", String(200), nullable=False),
    Column("asked", Quantity, nullable=False),
    Column("picked", Quantity, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Photos of machines attached to maintenance requests at the terminal (data URLs, bounded where they enter).
maintenance_photos = Table(
    "maintenance_photos", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("request", String(200), nullable=False, index=True),
    Column("photo", Text, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# The steps of work instructions as they were done (edge.domain.contexts.units): one row per StepRecorded, for a
# unit (serial) or a work order's lot-built output (serial NULL), with the instruction revision followed and the
# step's time (shown at ``started_at``, done at ``at``).
unit_steps = Table(
    "unit_steps", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("work_order", String(200), nullable=False, index=True),
    Column("operation", Integer, nullable=False),
    Column("item", String(200), nullable=False),
    Column("serial", String(200), index=True),
    Column("instruction_revision", String(200), nullable=False),
    Column("step", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("result", String(16)),
    Column("value", Quantity),
    Column("scanned", String(200)),
    Column("photo", String(200)),
    Column("note", String(200), nullable=False),
    Column("ncr", String(200)),
    Column("actor", String(100), nullable=False),
    Column("started_at", UtcDateTime),
    Column("at", UtcDateTime, nullable=False),
)

# The components that went into each unit (a serial, or a lot): the unit's genealogy, traced backward from the
# unit and forward from the component's serial or lot (edge.store.trace).
unit_components = Table(
    "unit_components", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("item", String(200), nullable=False),
    Column("serial", String(200), nullable=False, index=True),
    Column("work_order", String(200), nullable=False),
    Column("operation", Integer, nullable=False),
    Column("component", String(200), nullable=False),
    Column("component_lot", String(200), index=True),
    Column("component_serial", String(200), index=True),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Picks found wrong later (edge.domain.contexts.outbound): each linked to the original pick (wave, pick) with who
# picked it and with which device; the mis-pick report counts them per person, zone and item.
pick_corrections = Table(
    "pick_corrections", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("wave", String(200), nullable=False),
    Column("pick", Integer, nullable=False),
    Column("sales_order", String(200), nullable=False, index=True),
    Column("item", String(200), nullable=False),
    Column("zone", String(200), nullable=False),
    Column("bin", String(200), nullable=False),
    Column("wrong_lot", String(200), nullable=False),
    Column("right_lot", String(200), nullable=False),
    Column("picked_by", String(100), nullable=False, index=True),
    Column("device", String(100)),
    Column("picked_at", UtcDateTime, nullable=False),
    Column("found_at", String(16), nullable=False),
    Column("note", String(200), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# People's decisions on stops (edge.domain.downtime): a reason given at the terminal or a supervisor's
# re-classification, one row per StopReasonGiven; the latest row of a stop (equipment, stop_start) wins.
stop_reasons = Table(
    "stop_reasons", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("equipment", String(200), nullable=False, index=True),
    Column("stop_start", UtcDateTime, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("why", String(200)),
    Column("previous", String(200)),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Downtime reason trees from the central systems (ReasonTreeDefined): the latest row of a name is its tree.
reason_trees = Table(
    "reason_trees", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False, index=True),
    Column("workstations", JSON, nullable=False),
    Column("machine_class", String(200)),
    Column("definition", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

HISTORY_TABLES: dict[str, Table] = {
    t.name: t for t in (moves, production_reports, labour_records, inspection_results, machine_state_history,
                        short_picks, record_signatures, maintenance_photos, unit_steps, unit_components,
                        stop_reasons, reason_trees, lot_splits, pick_corrections)
}

# --- sync bookkeeping (not plant facts: not journaled, not replayed) -------------------------------

# Where the sync stands: ``push`` is the highest journal seq the central side acknowledged; ``pull`` the
# change-feed cursor after the last change applied.
sync_cursors = Table(
    "sync_cursors", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A sync exception: an event the central side refused for a business reason (push), or a central change this
# node refused (pull). A supervisor sees it, fixes the cause and retries it, or sets it aside with a reason.
sync_exceptions = Table(
    "sync_exceptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(8), nullable=False),  # push | pull
    Column("subject", String(250), nullable=False, index=True),
    Column("seq", BigInteger),  # push: the refused journal event
    Column("change_cursor", BigInteger),  # pull: the refused change
    Column("code", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("field", String(200)),
    Column("detail", Text),  # pull: the refused change as JSON, applied again on a retry
    Column("status", String(16), nullable=False, index=True),  # open | retry | set_aside | resolved
    Column("attempts", Integer, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("resolution", String(16)),  # retry | set_aside: what the supervisor chose
    Column("handled_by", String(100)),
    Column("handled_at", UtcDateTime),
    Column("note", Text),
)

# Events kept back behind a push exception: the refused one and every later event of its subject, in seq
# order, until the exception is retried successfully or set aside.
sync_parked = Table(
    "sync_parked", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("exception_id", Integer, ForeignKey("sync_exceptions.id"), nullable=False, index=True),
    Column("subject", String(250), nullable=False),
)

# Journal events moved out of the store by retention (``takt store compact``): delivered to the ERP and older
# than the configured age, each batch in a gzip'd JSON-lines file. ``takt store verify`` replays these files
# before the journal, so they remain part of the record.
journal_archives = Table(
    "journal_archives", metadata,
    Column("first_seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("events", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("archived_at", UtcDateTime, nullable=False),
    # The chain hash of the file's last event: the live journal's chain continues from it (none: archived before
    # the chain, migration 0020).
    Column("last_hash", String(64)),
)

# Where the journal's hash chain starts (one row, written by migration 0020): the first seq it covers (events archived
# before stay checked by their file's SHA-256 only) and the last seq that migration chained (not the writer).
journal_chain = Table(
    "journal_chain", metadata,
    Column("chained_from", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("chained_since", BigInteger, nullable=False),
    Column("chained_at", UtcDateTime, nullable=False),
)

# Signed checkpoints of the journal's hash chain (edge.store.chain): every ``every`` events and when the node
# stops, an HMAC of (node, seq, chain hash) with a secret kept outside the store.
journal_checkpoints = Table(
    "journal_checkpoints", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("chain_hash", String(64), nullable=False),
    Column("signature", String(64)),
    Column("reason", String(16), nullable=False),  # interval | shutdown
    Column("every", Integer, nullable=False),
    Column("signed_at", UtcDateTime, nullable=False),
)
