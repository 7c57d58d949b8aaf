"""The central simulator's HTTP service: the sync protocol's routes, the planner routes, reads, fault switches.

Routes (bearer tokens: one per node for ``/sync/v1``; the admin token for everything else):

- ``/sync/v1/nodes/{node}/events`` (POST), ``/cursor``, ``/changes``: the protocol of :mod:`erp_sync.protocol`.
- ``/central/v1/...``: planner decisions (items, bins, users, customers, workstations, routings, BOM revisions,
  work orders, purchase and sales orders, inspection plans, period close, MRP and APS runs) and reads (work
  orders with progress, consumption and cost; stock; lots; received events; nodes; machine states; quality).
- ``/sim/v1/faults``: the fault switches (:mod:`simulators.erp.faults`).
"""
from __future__ import annotations

import os
import random
import threading
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy.exc
from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from erp_sync.protocol import (
    PREFIX,
    BatchAck,
    BinChange,
    ChangeFeed,
    Cursor,
    CustomerChange,
    InspectionPlanChange,
    LotChange,
    PurchaseOrderChange,
    ReasonTreeChange,
    SalesOrderChange,
    SyncRefusal,
    UserChange,
)
from simulators.erp.admission import Admission, Busy
from simulators.erp.batch import SyncRefused
from simulators.erp.central import Central
from simulators.erp.faults import AnswerLost, FaultGate, Faults, FaultSettings, drop_connection
from simulators.erp.ingest import Ingest
from simulators.erp.inputs import (
    ApsRunIn,
    BomIn,
    ItemIn,
    PeriodCloseIn,
    RoutingIn,
    WorkOrderIn,
    WorkOrderPatch,
    WorkstationIn,
)
from simulators.erp.plant import NodeView, plant_view
from simulators.erp.schema import open_database

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024  # after decompression; a batch of 5,000 events is ~2-3 MB
MAX_FEED_PAGE = 5000
MAX_LOAD = 50_000  # items or bins per master data load


@dataclass
class ErpSimConfig:
    """How to run the simulator. ``node_tokens`` maps a bearer token to the node id it may push as."""

    database_url: str
    node_tokens: dict[str, str]
    admin_token: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    faults: Faults = field(default_factory=Faults)
    # crash_after_store: exit the process (a simulator of its own), or, False, drop the answer's connection
    # (a simulator inside the test's process) and turn the switch off
    crash_exits_process: bool = True
    # at most this many pushed batches stored at once (a plant's many nodes); past it, 503 BUSY + Retry-After at once.
    # None: no limit.
    max_ingest: int | None = None


def _exit_process() -> None:
    os._exit(70)


def _refusal(exc: SyncRefused) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return JSONResponse(exc.body(), status_code=exc.status, headers={**headers, **exc.headers})


# PostgreSQL's "try the transaction again" states: a deadlock between two nodes' batches over a shared row (a work
# order both report on), a serialisation failure. The batch's transaction was rolled back whole: nothing stored.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def retryable(exc: BaseException) -> bool:
    """A database failure the node should simply retry (rolled back, nothing stored): a deadlock, a serialisation
    failure, no pooled connection in time, or a (node, seq) a concurrent transaction stored first (the primary key of
    received_events is the backstop of the dedup: the loser's whole batch rolls back, its retry finds them stored)."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return True
    if isinstance(exc, sqlalchemy.exc.IntegrityError):
        return "received_events" in str(exc.orig) or "sync_marks" in str(exc.orig)
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    sqlstate = getattr(exc, "sqlstate", None)  # the driver's own error, not wrapped by SQLAlchemy (psycopg's COPY)
    if sqlstate == "23505":  # unique_violation
        return "received_events" in str(exc) or "sync_marks" in str(exc)
    return sqlstate in RETRYABLE_SQLSTATES


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise SyncRefused(401, "UNAUTHENTICATED", "send Authorization: Bearer <token>", "Authorization")
    return token.strip()


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {401: "No or unknown bearer token", 403: "The token may not act for this node",
            429: "TOO_MANY_REQUESTS: a batch of this node is being stored already (with a limit of batches at once); "
                 "send again after `Retry-After` seconds (`Retry-After-Ms`: the same in milliseconds)",
            409: "SEQUENCE_GAP: resend after `acknowledged`", 413: "The body is larger than the limit; nothing stored",
            422: "The batch or the query is malformed (the field is named)",
            503: "The service is down, or BUSY: as many batches as it takes at once are being stored, or RETRY: the "
                 "batch's transaction met another's and was rolled back. Nothing of the batch is stored; send it "
                 "again after `Retry-After` seconds (`Retry-After-Ms`: the same in milliseconds)"}
    retry = {"Retry-After": {"description": "seconds to wait before sending again (with BUSY and RETRY)",
                             "schema": {"type": "integer"}},
             "Retry-After-Ms": {"description": "the same wait in milliseconds; preferred when present",
                                "schema": {"type": "integer"}}}
    return {c: {"model": SyncRefusal, "description": text[c], **({"headers": retry} if c in (429, 503) else {})}
            for c in codes}


class ErpSimulator:
    """The simulator's parts: database, ingest, central tables, faults. :attr:`app` is the ASGI app."""

    def __init__(self, config: ErpSimConfig) -> None:
        self.config = config
        self.engine = open_database(config.database_url, pool_size=(config.max_ingest or 5) + 2)
        self.faults = config.faults
        self.admission = Admission(config.max_ingest)
        write_lock = threading.Lock()
        sqlite = self.engine.dialect.name == "sqlite"
        self.ingest = Ingest(self.engine, self.faults, write_lock=write_lock,
                             crash=_exit_process if config.crash_exits_process else self._lose_answer)
        self.central = Central(self.engine, write_lock if sqlite else threading.Lock())
        self.app = self._build()

    def close(self) -> None:
        self.engine.dispose()

    def _lose_answer(self) -> None:
        self.faults.apply(FaultSettings(crash_after_store=False))
        raise AnswerLost("crash_after_store in process: the batch is stored, its answer is dropped")

    # --- auth ----------------------------------------------------------------------------------------

    def node_of(self, request: Request, node: str) -> str:
        token = _bearer(request)
        acting = self.config.node_tokens.get(token)
        if acting is None:
            if token == self.config.admin_token:
                raise SyncRefused(403, "FORBIDDEN", "the admin token does not push or pull as a node; use the "
                                  "node's token")
            raise SyncRefused(401, "UNAUTHENTICATED", "unknown bearer token", "Authorization")
        if acting != node:
            raise SyncRefused(403, "FORBIDDEN", f"this token belongs to node {acting}, not {node}", "node")
        return node

    def admin(self, request: Request) -> None:
        if _bearer(request) != self.config.admin_token:
            raise SyncRefused(403, "FORBIDDEN", "the central routes need the admin token")

    async def read_body(self, request: Request) -> bytes:
        """The request body, gunzipped when sent with Content-Encoding: gzip; 413 past the limit."""
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise SyncRefused(413, "BODY_TOO_LARGE", f"the body has {length} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise SyncRefused(413, "BODY_TOO_LARGE", f"the body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        encoding = request.headers.get("content-encoding", "identity").lower()
        if encoding == "gzip":
            inflate = zlib.decompressobj(wbits=31)
            try:
                plain = inflate.decompress(body, limit + 1)
            except zlib.error as exc:
                raise SyncRefused(400, "BAD_ENCODING", f"the gzip body does not decompress: {exc}",
                                  "Content-Encoding") from None
            if len(plain) > limit or inflate.unconsumed_tail:
                raise SyncRefused(413, "BODY_TOO_LARGE", f"the body decompresses to more than {limit} bytes")
            return plain
        if encoding != "identity":
            raise SyncRefused(415, "BAD_ENCODING", f"Content-Encoding {encoding} is not supported (gzip is)",
                              "Content-Encoding")
        return body

    async def discard_body(self, request: Request) -> None:
        """Take in a refused request's body without keeping it, up to the limit: a client sends the whole body before
        it reads the answer, and an answer sent while the body is still coming is lost to a connection reset."""
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.config.max_body_bytes:
                break

    # --- the app -------------------------------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI(title="Takt central ERP simulator", version="1",
                      description="Stands in for the central ERP/MRP/APS/PLM/SRM/CRM backend of Takt edge nodes.")
        app.state.simulator = self

        @app.exception_handler(SyncRefused)
        async def _refused(_request: Request, exc: SyncRefused) -> JSONResponse:
            return _refusal(exc)

        @app.exception_handler(RequestValidationError)
        async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
            return JSONResponse({"code": "INVALID_REQUEST", "message": f"{where}: {err['msg']}", "field": where},
                                status_code=422)

        app.include_router(sync_router(self))
        app.include_router(central_router(self))

        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        app.add_middleware(FaultGate, faults=self.faults)
        return app


class _LostAnswer(Response):
    """An answer that breaks off after a few bytes: the connection closes, the node never learns the outcome."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_connection(receive, send, read_first=False)


def sync_router(sim: ErpSimulator | None) -> APIRouter:
    """The protocol's routes. ``sim`` None builds the routes for the OpenAPI document only."""
    router = APIRouter(prefix=PREFIX, tags=["sync"])

    def need() -> ErpSimulator:
        assert sim is not None
        return sim

    @router.post("/nodes/{node}/events", response_model=BatchAck, summary="Push a batch of journal events",
                 responses=_error_responses(401, 403, 409, 413, 422, 429, 503),
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/EventBatch"}}},
                     "description": "An EventBatch; may be sent with Content-Encoding: gzip"}})
    async def push(node: str, request: Request) -> Response:
        simulator = need()
        simulator.node_of(request, node)
        try:
            started = simulator.admission.enter(node)
        except Busy as busy:  # refused unread: a refusal costs the central side next to nothing
            await simulator.discard_body(request)
            raise SyncRefused(busy.status, busy.code, str(busy), headers=busy.headers) from None
        try:
            body = await simulator.read_body(request)
            ack = await run_in_threadpool(simulator.ingest.store, node, body)
        except AnswerLost:
            return _LostAnswer()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            if not retryable(exc):
                raise
            wait = Busy(node, random.uniform(0.1, 0.5), 0)  # spread the retries of a deadlock's parties
            raise SyncRefused(503, "RETRY", f"the batch's transaction was rolled back ({type(getattr(exc, 'orig', None) or exc).__name__}"
                              "); nothing of it is stored: send it again", headers=wait.headers) from None
        finally:
            simulator.admission.leave(node, started)
        return Response(ack.model_dump_json(), media_type="application/json")

    @router.get("/nodes/{node}/cursor", response_model=Cursor, summary="The acknowledged sequence of a node",
                responses=_error_responses(401, 403, 503))
    def cursor(node: str, request: Request) -> Cursor:
        simulator = need()
        simulator.node_of(request, node)
        return Cursor(node=node, acknowledged=simulator.ingest.cursor(node))

    @router.get("/nodes/{node}/changes", response_model=ChangeFeed, summary="Pull the central changes after a cursor",
                responses=_error_responses(401, 403, 422, 503))
    def changes(node: str, request: Request, after: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 500) -> ChangeFeed:
        simulator = need()
        simulator.node_of(request, node)
        return simulator.central.changes(node, after, limit)

    return router


def central_router(sim: ErpSimulator) -> APIRouter:
    router = APIRouter(dependencies=[Depends(sim.admin)])
    c = sim.central

    def published(cursor: int) -> dict[str, int]:
        return {"cursor": cursor}

    # ERP master data
    @router.put("/central/v1/items", tags=["ERP"])
    def put_item(body: ItemIn) -> dict[str, int]:
        return published(c.put_item(body))

    @router.put("/central/v1/items/load", tags=["ERP"], summary="Many items in one transaction")
    def put_items(body: Annotated[list[ItemIn], Body(max_length=MAX_LOAD)]) -> dict[str, int]:
        return c.put_items(body)

    @router.put("/central/v1/bins/load", tags=["ERP"], summary="Many bins in one transaction")
    def put_bins(body: Annotated[list[BinChange], Body(max_length=MAX_LOAD)]) -> dict[str, int]:
        return c.put_bins(body)

    @router.put("/central/v1/bins", tags=["ERP"])
    def put_bin(body: BinChange) -> dict[str, int]:
        return published(c.put_bin(body))

    @router.put("/central/v1/users", tags=["ERP"])
    def put_user(body: UserChange) -> dict[str, int]:
        return published(c.put_user(body))

    @router.put("/central/v1/workstations", tags=["ERP"])
    def put_workstation(body: WorkstationIn) -> dict[str, str]:
        c.put_workstation(body)
        return {"workstation": body.workstation}

    @router.put("/central/v1/routings", tags=["PLM"])
    def put_routing(body: RoutingIn) -> dict[str, str]:
        c.put_routing(body)
        return {"item": body.item}

    @router.post("/central/v1/boms", tags=["PLM"])
    def publish_bom(body: BomIn) -> dict[str, int]:
        return published(c.publish_bom(body))

    @router.post("/central/v1/work-orders", tags=["ERP"])
    def release(body: WorkOrderIn) -> dict[str, int]:
        return published(c.release_work_order(body))

    @router.patch("/central/v1/work-orders/{work_order}", tags=["ERP"])
    def change(work_order: str, body: WorkOrderPatch) -> dict[str, int]:
        return published(c.change_work_order(work_order, body))

    @router.post("/central/v1/work-orders/{work_order}/cancel", tags=["ERP"])
    def cancel(work_order: str) -> dict[str, int]:
        return published(c.cancel_work_order(work_order))

    @router.post("/central/v1/periods/close", tags=["ERP"])
    def close_period(body: PeriodCloseIn) -> dict[str, str]:
        c.close_period(body)
        return {"closed_through": body.through.isoformat()}

    @router.put("/central/v1/purchase-orders", tags=["SRM"])
    def put_purchase_order(body: PurchaseOrderChange) -> dict[str, int]:
        return published(c.put_purchase_order(body))

    @router.put("/central/v1/customers", tags=["CRM"])
    def put_customer(body: CustomerChange) -> dict[str, int]:
        return published(c.put_customer(body))

    @router.put("/central/v1/reason-trees", tags=["ERP"])
    def put_reason_tree(body: ReasonTreeChange) -> dict[str, int]:
        return published(c.put_reason_tree(body))

    @router.put("/central/v1/sales-orders", tags=["CRM"])
    def put_sales_order(body: SalesOrderChange) -> dict[str, int]:
        return published(c.put_sales_order(body))

    @router.put("/central/v1/inspection-plans", tags=["QMS"])
    def put_inspection_plan(body: InspectionPlanChange) -> dict[str, int]:
        return published(c.put_inspection_plan(body))

    @router.put("/central/v1/lots", tags=["ERP"])
    def put_lot(body: LotChange) -> dict[str, int]:
        return published(c.put_lot(body))

    @router.post("/central/v1/mrp/run", tags=["MRP"])
    def mrp_run() -> dict[str, Any]:
        return c.run_mrp()

    @router.post("/central/v1/aps/run", tags=["APS"])
    def aps_run(body: ApsRunIn | None = None) -> dict[str, Any]:
        return c.run_aps(body or ApsRunIn())

    # reads
    @router.get("/central/v1/work-orders/{work_order}", tags=["reads"])
    def work_order(work_order: str) -> dict[str, Any]:
        return c.work_order(work_order)

    @router.get("/central/v1/work-orders", tags=["reads"])
    def work_orders(status: str | None = None, item: str | None = None) -> list[dict[str, Any]]:
        return c.rows("work_orders", status=status, item=item)

    @router.get("/central/v1/stock", tags=["reads"])
    def stock(node: str | None = None, item: str | None = None, lot: str | None = None) -> list[dict[str, Any]]:
        return c.rows("stock", node=node, item=item, lot=lot)

    @router.get("/central/v1/lots", tags=["reads"])
    def lots(node: str | None = None, item: str | None = None) -> list[dict[str, Any]]:
        return c.rows("lots", node=node, item=item)

    @router.get("/central/v1/consumption", tags=["reads"])
    def consumption(work_order: str | None = None, node: str | None = None) -> list[dict[str, Any]]:
        return c.rows("consumption", work_order=work_order, node=node)

    @router.get("/central/v1/machine-states", tags=["reads"])
    def machine_states(node: str | None = None, equipment: str | None = None) -> list[dict[str, Any]]:
        return c.rows("machine_states", node=node, equipment=equipment)

    @router.get("/central/v1/quality-results", tags=["reads"])
    def quality_results(node: str | None = None) -> list[dict[str, Any]]:
        return c.rows("quality_results", node=node)

    @router.get("/central/v1/nonconformances", tags=["reads"])
    def nonconformances(node: str | None = None) -> list[dict[str, Any]]:
        return c.rows("nonconformances", node=node)

    @router.get("/central/v1/purchase-orders", tags=["reads"])
    def purchase_orders() -> list[dict[str, Any]]:
        lines = c.rows("po_lines")
        lots = c.rows("expected_lots")
        return [{**po, "lines": [{**ln, "expected_lots": [x for x in lots if x["purchase_order"] == po["purchase_order"]
                                                          and x["line"] == ln["line"]]}
                                 for ln in lines if ln["purchase_order"] == po["purchase_order"]]}
                for po in c.rows("purchase_orders")]

    @router.get("/central/v1/supplier-quality", tags=["SRM"],
                summary="Supplier quality: the incoming inspection verdicts of supplier lots, per supplier")
    def supplier_quality(supplier: str | None = None) -> list[dict[str, Any]]:
        return c.supplier_quality(supplier)

    @router.get("/central/v1/supplier-returns", tags=["SRM"],
                summary="Supplier returns: goods nodes sent back to their supplier (return to supplier dispositions)")
    def supplier_returns(supplier: str | None = None) -> list[dict[str, Any]]:
        return c.rows("supplier_returns", order=("at", "supplier_return"), supplier=supplier)

    @router.get("/central/v1/capas", tags=["QMS"], summary="CAPA records as the nodes worked them, with their actions")
    def capas(node: str | None = None) -> list[dict[str, Any]]:
        actions = c.rows("capa_actions", node=node)
        return [{**capa, "actions": [a for a in actions if (a["node"], a["capa"]) == (capa["node"], capa["capa"])]}
                for capa in c.rows("capas", node=node)]

    @router.get("/central/v1/shift-oee", tags=["reads"], summary="OEE per workstation per shift, as nodes closed them")
    def shift_oee(node: str | None = None, workstation: str | None = None) -> list[dict[str, Any]]:
        return c.rows("shift_oee", order=("day", "start", "workstation"), node=node, workstation=workstation)

    @router.get("/central/v1/equipment/{equipment}/maintenance", tags=["reads"],
                summary="A machine's maintenance as the nodes raised, worked and completed it, oldest first")
    def equipment_maintenance(equipment: str, node: str | None = None) -> list[dict[str, Any]]:
        return c.rows("maintenance", order=("raised_at", "request"), equipment=equipment, node=node)

    @router.get("/central/v1/sales-orders/{sales_order}/shipments", tags=["reads"])
    def sales_order_shipments(sales_order: str) -> dict[str, Any]:
        return c.sales_order_shipments(sales_order)

    @router.get("/central/v1/nodes", tags=["reads"], response_model=list[NodeView],
                summary="The plant view: each node's last sync, backlog, refused events and busy answers")
    def nodes() -> list[NodeView]:
        return plant_view(sim.engine, sim.admission.refused)

    @router.get("/central/v1/nodes/{node}/events", tags=["reads"])
    def received(node: str, after: Annotated[int, Query(ge=0)] = 0,
                 limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
                 type: str | None = None) -> list[dict[str, Any]]:
        return c.received_events(node, after, limit, type)

    # fault switches
    @router.get("/sim/v1/faults", tags=["faults"])
    def faults() -> dict[str, Any]:
        return sim.faults.snapshot()

    @router.post("/sim/v1/faults", tags=["faults"])
    def set_faults(body: FaultSettings) -> dict[str, Any]:
        sim.faults.apply(body)
        return sim.faults.snapshot()

    return router


def create_app(config: ErpSimConfig) -> FastAPI:
    """The simulator's ASGI app (the :class:`ErpSimulator` is at ``app.state.simulator``)."""
    return ErpSimulator(config).app

