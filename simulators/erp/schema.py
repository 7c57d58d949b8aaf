"""The central simulator's own database: SQLAlchemy Core tables, created at start-up (no migrations: a simulator).

Quantities, rates and money are stored as decimal text (exact on SQLite and PostgreSQL alike) and added up in
Python; times as ISO 8601 text. The received events are keyed on (node, seq): the deduplication key of the
sync protocol.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
)


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its text: exact on every database, compared and summed in Python."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class JsonText(TypeDecorator[Any]):
    """A JSON value stored as text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


metadata = MetaData()
K = 200  # the protocol's Code length
T = 40  # an ISO 8601 time

# --- sync: what the edges pushed -----------------------------------------------------------------

sync_marks = Table(
    "sync_marks", metadata,
    Column("node", String(K), primary_key=True),
    Column("acknowledged", Integer, nullable=False),
    Column("updated_at", String(T), nullable=False),
)

# The last journal chain head each node pushed (erp_sync.protocol.ChainHead): a batch whose chain does not continue
# from it is refused (CHAIN_BROKEN), the node's journal was rewritten.
chain_heads = Table(
    "chain_heads", metadata,
    Column("node", String(K), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("updated_at", String(T), nullable=False),
)

# What each node last said of itself in a push (its journal's head: the backlog is head - acknowledged) and how
# many of its events the central side refused (rejected: a sync exception at the node; held: behind one).
node_reports = Table(
    "node_reports", metadata,
    Column("node", String(K), primary_key=True),
    Column("journal_head", Integer),
    Column("reported_at", String(T), nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("held", Integer, nullable=False),
)

received_events = Table(
    "received_events", metadata,
    Column("node", String(K), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False),
    Column("message", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("subject", String(K + 40), nullable=False),
    Column("occurred_at", String(T), nullable=False),
    Column("recorded_at", String(T), nullable=False),
    Column("actor", String(K), nullable=False),
    Column("device", String(K)),
    Column("payload", Text, nullable=False),
    Column("received_at", String(T), nullable=False),
    Column("recorded_by", String(K)),
    Column("on_behalf_of", String(K)),
)

# --- master data (ERP, PLM) ----------------------------------------------------------------------

items = Table(
    "items", metadata,
    Column("item", String(K), primary_key=True),
    Column("description", Text, nullable=False),
    Column("unit", String(K), nullable=False),
    Column("revision", String(K), nullable=False),
    Column("lot_controlled", Boolean, nullable=False),
    Column("gtin", String(14)),
    Column("family", String(K), nullable=False),
    Column("source", String(8), nullable=False),  # make | buy
    Column("lead_time_days", Integer, nullable=False),
    Column("supplier", String(K)),
    Column("bom_revision", String(K)),  # the current (released) BOM revision
)

bins = Table(
    "bins", metadata,
    Column("bin", String(K), primary_key=True),
    Column("zone", String(K), nullable=False),
    Column("capacity", DecimalText),
    Column("allowed_items", JsonText, nullable=False),
)

users = Table(
    "users", metadata,
    Column("user", String(K), primary_key=True),
    Column("name", Text, nullable=False),
    Column("roles", JsonText, nullable=False),
    Column("language", String(4), nullable=False),
    Column("active", Boolean, nullable=False),
)

customers = Table(
    "customers", metadata,
    Column("customer", String(K), primary_key=True),
    Column("name", Text, nullable=False),
)

workstations = Table(
    "workstations", metadata,
    Column("workstation", String(K), primary_key=True),
    Column("node", String(K)),  # the edge node that runs it: its work orders and dispatch list go there
    Column("labour_rate", DecimalText, nullable=False),  # per hour
    Column("machine_rate", DecimalText, nullable=False),  # per hour of running time
)

equipment = Table(
    "equipment", metadata,
    Column("equipment", String(K), primary_key=True),
    Column("workstation", String(K), nullable=False),
)

routings = Table(
    "routings", metadata,
    Column("item", String(K), primary_key=True),
    Column("operation", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("workstation", String(K), nullable=False),
    Column("standard_minutes", DecimalText, nullable=False),
    Column("instruction_url", Text),  # PLM's work instruction
)

bom_revisions = Table(
    "bom_revisions", metadata,
    Column("item", String(K), primary_key=True),
    Column("bom_revision", String(K), primary_key=True),
    Column("effective", String(16), nullable=False),
    Column("published_at", String(T), nullable=False),
)

bom_lines = Table(
    "bom_lines", metadata,
    Column("item", String(K), primary_key=True),
    Column("bom_revision", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("component", String(K), nullable=False),
    Column("component_revision", String(K), nullable=False),
    Column("quantity_per", DecimalText, nullable=False),
)

# --- work orders (ERP/MRP) and what the edges reported about them --------------------------------

work_orders = Table(
    "work_orders", metadata,
    Column("work_order", String(K), primary_key=True),
    Column("item", String(K), nullable=False),
    Column("item_revision", String(K), nullable=False),
    Column("bom_revision", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("due", String(10)),
    Column("customer_order", String(K)),
    Column("overproduction_tolerance_pct", DecimalText, nullable=False),
    Column("status", String(16), nullable=False),  # released | in_progress | completed | cancelled
    Column("source", String(8), nullable=False),  # ERP | MRP
    Column("node", String(K)),
    Column("good", DecimalText, nullable=False),  # as the edge reported it on completion
    Column("scrap", DecimalText, nullable=False),
    Column("released_at", String(T), nullable=False),
    Column("completed_at", String(T)),
)

wo_operations = Table(
    "wo_operations", metadata,
    Column("work_order", String(K), primary_key=True),
    Column("operation", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("workstation", String(K), nullable=False),
    Column("standard_minutes", DecimalText, nullable=False),
    Column("instruction_url", Text),
    Column("status", String(16), nullable=False),  # planned | running | paused | completed
    Column("good", DecimalText, nullable=False),
    Column("scrap", DecimalText, nullable=False),
    Column("actual_start", String(T)),
    Column("actual_end", String(T)),
    Column("labour_minutes", DecimalText, nullable=False),
    Column("machine_minutes", DecimalText, nullable=False),
    Column("labour_cost", DecimalText, nullable=False),
    Column("machine_cost", DecimalText, nullable=False),
)

wo_bom_lines = Table(
    "wo_bom_lines", metadata,
    Column("work_order", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("item", String(K), nullable=False),
    Column("item_revision", String(K), nullable=False),
    Column("quantity_per", DecimalText, nullable=False),
)

consumption = Table(
    "consumption", metadata,
    Column("work_order", String(K), primary_key=True),
    Column("node", String(K), primary_key=True),
    Column("lot", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),  # the BOM line; 0 when the edge named none
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
)

active_operations = Table(
    "active_operations", metadata,  # the operation running at a workstation: where machine time is costed
    Column("node", String(K), primary_key=True),
    Column("workstation", String(K), primary_key=True),
    Column("work_order", String(K), nullable=False),
    Column("operation", Integer, nullable=False),
)

# --- stock as the edges report it ----------------------------------------------------------------

stock = Table(
    "stock", metadata,
    Column("node", String(K), primary_key=True),
    Column("lot", String(K), primary_key=True),
    Column("bin", String(K), primary_key=True),
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
)

lots = Table(
    "lots", metadata,
    Column("node", String(K), primary_key=True),
    Column("lot", String(K), primary_key=True),
    Column("item", String(K), nullable=False),
    Column("item_revision", String(K)),
    Column("supplier_lot", String(K)),
    Column("expiry", String(10)),
    Column("status", String(16), nullable=False),
)

# --- machines and quality ------------------------------------------------------------------------

machine_states = Table(
    "machine_states", metadata,
    Column("node", String(K), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("equipment", String(K), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("since", String(T), nullable=False),
    Column("previous", String(16)),
    Column("previous_since", String(T)),
)

quality_results = Table(
    "quality_results", metadata,
    Column("node", String(K), primary_key=True),
    Column("inspection", String(K), primary_key=True),
    Column("plan", String(K), nullable=False),
    Column("lot", String(K)),
    Column("work_order", String(K)),
    Column("operation", Integer),
    Column("passed", Boolean, nullable=False),
    Column("results", JsonText, nullable=False),
    Column("at", String(T), nullable=False),
)

nonconformances = Table(
    "nonconformances", metadata,
    Column("node", String(K), primary_key=True),
    Column("ncr", String(K), primary_key=True),
    Column("lot", String(K)),
    Column("work_order", String(K)),
    Column("description", Text, nullable=False),
    Column("raised_by", String(K), nullable=False),
    Column("raised_at", String(T), nullable=False),
    Column("disposition", String(32)),
    Column("comment", Text),
    Column("dispositioned_by", String(K)),
    Column("dispositioned_at", String(T)),
)

supplier_lot_verdicts = Table(  # SRM supplier quality: the incoming inspection verdicts of supplier lots
    "supplier_lot_verdicts", metadata,
    Column("node", String(K), primary_key=True),
    Column("lot", String(K), primary_key=True),
    Column("supplier", String(K), nullable=False),
    Column("supplier_lot", String(K)),
    Column("purchase_order", String(K)),
    Column("po_line", Integer),
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("verdict", String(16), nullable=False),  # accepted | rejected
    Column("samples", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("ncr", String(K)),
    Column("plan", String(K), nullable=False),
    Column("at", String(T), nullable=False),
)

shift_oee = Table(  # OEE per workstation per shift, as the nodes closed their shifts
    "shift_oee", metadata,
    Column("node", String(K), primary_key=True),
    Column("workstation", String(K), primary_key=True),
    Column("shift", String(K), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("start", String(T), nullable=False),
    Column("end", String(T), nullable=False),
    Column("planned_minutes", DecimalText, nullable=False),
    Column("run_minutes", DecimalText, nullable=False),
    Column("good", DecimalText, nullable=False),
    Column("scrap", DecimalText, nullable=False),
    Column("availability", DecimalText, nullable=False),
    Column("performance", DecimalText, nullable=False),
    Column("quality", DecimalText, nullable=False),
    Column("oee", DecimalText, nullable=False),
)

# Maintenance per machine, as the nodes raised, worked and completed it (issue 20): one row per request; the spare
# parts issued to it (their stock left the bin by the StockMoved beside them) as a JSON list.
maintenance = Table(
    "maintenance", metadata,
    Column("node", String(K), primary_key=True),
    Column("request", String(K), primary_key=True),
    Column("equipment", String(K), nullable=False, index=True),
    Column("kind", String(K), nullable=False),
    Column("trigger", String(K), nullable=False),
    Column("reason", String(K)),
    Column("plan", String(K)),
    Column("status", String(K), nullable=False),
    Column("raised_by", String(K), nullable=False),
    Column("raised_at", String(T), nullable=False),
    Column("technician", String(K)),
    Column("labour_minutes", DecimalText),
    Column("released", Boolean),
    Column("completed_at", String(T)),
    Column("note", String(K)),
    Column("parts", JsonText, nullable=False),
)

# --- SRM, CRM, QMS -------------------------------------------------------------------------------

supplier_returns = Table(  # SRM: goods a node sent back to their supplier (a "return to supplier" disposition)
    "supplier_returns", metadata,
    Column("node", String(K), primary_key=True),
    Column("supplier_return", String(K), primary_key=True),
    Column("ncr", String(K), nullable=False),
    Column("lot", String(K), nullable=False),
    Column("item", String(K), nullable=False),
    Column("supplier", String(K)),
    Column("supplier_lot", String(K)),
    Column("purchase_order", String(K)),
    Column("quantity", DecimalText, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", String(T), nullable=False),
)

capas = Table(  # QMS: CAPA records as the nodes worked them
    "capas", metadata,
    Column("node", String(K), primary_key=True),
    Column("capa", String(K), primary_key=True),
    Column("problem", Text, nullable=False),
    Column("ncrs", Text),  # JSON list
    Column("containment", Text),
    Column("status", String(16)),
    Column("opened_by", String(K)),
    Column("opened_at", String(T)),
    Column("root_cause", Text),
    Column("whys", Text),  # JSON list
    Column("fishbone", String(16)),
    Column("effective", Boolean),
    Column("effectiveness", Text),
    Column("closed_at", String(T)),
)

capa_actions = Table(  # QMS: the corrective and preventive actions of the CAPAs
    "capa_actions", metadata,
    Column("node", String(K), primary_key=True),
    Column("capa", String(K), primary_key=True),
    Column("action", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(K), nullable=False),
    Column("due", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("done_by", String(K)),
    Column("done_at", String(T)),
)

purchase_orders = Table(
    "purchase_orders", metadata,
    Column("purchase_order", String(K), primary_key=True),
    Column("supplier", String(K), nullable=False),
    Column("status", String(16), nullable=False),  # open | cancelled
    Column("source", String(8), nullable=False),  # SRM | MRP
)

po_lines = Table(
    "po_lines", metadata,
    Column("purchase_order", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("due", String(10)),
    Column("received", DecimalText, nullable=False),
)

expected_lots = Table(
    "expected_lots", metadata,
    Column("purchase_order", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("supplier_lot", String(K), primary_key=True),
    Column("quantity", DecimalText, nullable=False),
    Column("expiry", String(10)),
    Column("received_lot", String(K)),  # the edge's lot that arrived with this supplier lot
    Column("received_node", String(K)),
)

sales_orders = Table(
    "sales_orders", metadata,
    Column("sales_order", String(K), primary_key=True),
    Column("customer", String(K), nullable=False),
    Column("status", String(16), nullable=False),  # open | cancelled
)

so_lines = Table(
    "so_lines", metadata,
    Column("sales_order", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("due", String(10)),
)

# What the edge shipped against a sales order line: one row per pallet, lot and line (from PalletShipped).
shipments = Table(
    "shipments", metadata,
    Column("node", String(K), primary_key=True),
    Column("sscc", String(18), primary_key=True),
    Column("lot", String(K), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("sales_order", String(K), nullable=False, index=True),
    Column("customer", String(K), nullable=False),
    Column("item", String(K), nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("shipped_at", String(T), nullable=False),
    Column("seq", Integer, nullable=False),  # the node's journal seq of the PalletShipped event
)

inspection_plans = Table(
    "inspection_plans", metadata,
    Column("plan", String(K), primary_key=True),
    Column("definition", JsonText, nullable=False),
)

# --- the change feed and bookkeeping -------------------------------------------------------------

changes = Table(
    "changes", metadata,
    Column("cursor", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(K), nullable=False),
    Column("source", String(8), nullable=False),
    Column("at", String(T), nullable=False),
    Column("node", String(K)),  # None: every node; else only that node
    Column("payload", Text, nullable=False),
)

settings = Table(
    "settings", metadata,  # e.g. closed_through (the last day of the last closed period), number counters
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def sqlite_file_url(path: str) -> str:
    return f"sqlite:///{path}"


def open_database(url: str, *, pool_size: int = 5) -> Engine:
    """An engine on ``url`` with the schema created. SQLite runs in WAL mode, fully synchronous (a batch is
    acknowledged only when it is on disk), with a busy timeout. ``pool_size``: PostgreSQL connections kept (as many
    as batches are stored at once, and a few for the reads)."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False} if is_sqlite else {},
                           **({} if is_sqlite else {"pool_pre_ping": True, "pool_size": pool_size}))
    if is_sqlite:
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()
    metadata.create_all(engine)
    return engine
