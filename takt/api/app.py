"""The node's FastAPI application: REST routes, auth, refusals that name the field, /health, /metrics."""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import edge
from edge import reference
from edge.domain.duties import DutyPolicy
from edge.domain.putaway import PutawayRule
from edge.service import Service
from edge.store import Store
from edge.store.logons import LogonLimits
from takt import pages
from takt.api import (
    audit,
    b2mml,
    capa,
    commands,
    contract,
    docs,
    downtime,
    inspections,
    kitting,
    labels,
    live,
    maintenance,
    oee,
    outbound,
    process_values,
    reads,
    scans,
    setpoints,
    spc,
    sync,
    units,
    warehouse,
)
from takt.api.auth import TokenCache, current_user
from takt.api.errors import invalid_request
from takt.api.headers import HSTS_MAX_AGE_S, SecurityHeaders
from takt.api.routing import guard_by_prefix, index_routes
from takt.config import TaktConfig, WarehouseSection
from takt.config.instructions import InstructionsSection
from takt.config.policy import PolicySection
from takt.identity import Directory
from takt.scanning import scan_pipeline

DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_BACKDATE_DAYS = 90


class NodeLike(Protocol):
    store: Store
    service: Service
    node_id: str


class Metrics:
    """Prometheus metrics of one app (own registry, so several apps can live in one process)."""

    def __init__(self, service: Service) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter("takt_commands", "Commands received over HTTP, by command and outcome",
                                ["command", "outcome"], registry=self.registry)
        self.latency = Histogram("takt_command_seconds", "Time from request to durable answer",
                                 buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5),
                                 registry=self.registry)
        Gauge("takt_journal_last_seq", "Sequence number of the newest journal event",
              registry=self.registry).set_function(service.snapshot_seq)
        Gauge("takt_store_commits", "Durable transactions committed by the writer (one per group)",
              registry=self.registry).set_function(lambda: service.commits)
        Gauge("takt_writer_running", "1 while the writer records commands",
              registry=self.registry).set_function(lambda: 1 if service.running else 0)

        self._children: dict[tuple[str, str], Any] = {}

    def command(self, name: str, outcome: str, seconds: float) -> None:
        child = self._children.get((name, outcome))
        if child is None:
            child = self._children[(name, outcome)] = self.commands.labels(name, outcome)
        child.inc()
        self.latency.observe(seconds)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int, own_limits: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limit = limit
        self.own_limits = own_limits  # paths whose endpoint enforces its own limit (POST /api/v1/b2mml)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.own_limits:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(send)
                    return
        seen = 0
        refused = False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            if refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"code": "REQUEST_TOO_LARGE", "message": f"request body is over {self.limit} bytes",
                           "field": None}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def putaway_rules(warehouse: WarehouseSection | None) -> tuple[PutawayRule, ...]:
    """The site's soft putaway rules (warehouse.putaway_rules) as the domain takes them."""
    entries = warehouse.putaway_rules if warehouse is not None else []
    return tuple(PutawayRule(item=r.item, zones=tuple(r.zones)) for r in entries)


def create_app(node: NodeLike, *, max_body_bytes: int | None = None,
               live_queue_size: int = live.QUEUE_SIZE) -> FastAPI:
    # A takt.runtime.Node has its site file; a bare node (a store served by a test or a benchmark) has none.
    site: TaktConfig | None = getattr(node, "config", None)
    if max_body_bytes is None:
        max_body_bytes = site.api.max_body_bytes if site is not None else DEFAULT_MAX_BODY_BYTES
    app = FastAPI(
        title="Takt edge node",
        version=edge.__version__,
        description="Shop-floor MES + WMS edge node. Every mutating route needs `Authorization: Bearer <token>` and "
                    "an `Idempotency-Key` header; a retry with the same key returns the first answer.",
        # Takt exports its own Prometheus metrics; FastAPI's OpenTelemetry hooks would cost every request an
        # environment and provider look-up for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        docs_url=None, redoc_url=None,  # FastAPI's pages load Swagger UI from a CDN: takt.api.docs serves its own
    )
    app.state.node = node
    app.state.store = node.store
    app.state.service = node.service
    app.state.tokens = TokenCache(node.store)
    app.state.metrics = Metrics(node.service)
    if (connectivity := getattr(node, "connectivity", None)) is not None:  # connectors' values, reads, errors
        app.state.metrics.registry.register(connectivity.collector())
    app.state.started = time.time()
    # The routes go on the app's own router rather than through include_router: FastAPI matches an
    # included router by scanning its routes once to see whether it matches and again to pick the
    # route. They go in front of FastAPI's /docs and /openapi.json, which a floor device never calls.
    # the site's settings that commands carry (takt.api.commands settings)
    app.state.count_approval_pct = site.warehouse.count_approval_pct if site is not None else None
    app.state.duty_policy = site.policy.duty_policy() if site is not None else DutyPolicy()  # segregation of duties
    app.state.rework_mode = site.policy.rework_mode if site is not None else "operations"  # rework's default
    policy = site.policy if site is not None else PolicySection()  # electronic signatures (takt.api.commands)
    app.state.signature_meanings = tuple(policy.signature_meanings)
    app.state.signatures_required = frozenset(policy.signatures_required)
    app.state.putaway_rules = putaway_rules(site.warehouse if site is not None else None)
    app.state.gs1_company_prefix = site.warehouse.gs1_company_prefix if site is not None else None
    app.state.min_shelf_life_pct = tuple(site.warehouse.customer_shelf_life_pct.items()) if site is not None else ()
    app.state.shelf_life_days = tuple(site.warehouse.item_shelf_life_days.items()) if site is not None else ()
    app.state.sscc_extension_digit = site.warehouse.sscc_extension_digit if site is not None else 0
    app.state.replenish_ahead_on_release = site.warehouse.replenish_ahead_on_release if site is not None else False
    instructions = site.instructions if site is not None else InstructionsSection()  # issue 21
    app.state.serial_pattern, app.state.serial_gs1 = instructions.serial_pattern, instructions.serial_gs1
    app.state.instruction_folder = instructions.folder
    data_dir = getattr(node, "data_dir", None)  # a takt.runtime.Node's; a bare node keeps photos in a temporary folder
    app.state.photo_folder = Path(data_dir) / "photos" if data_dir is not None else None
    logon = site.logon if site is not None else None  # the limits on failed logons at the pages (takt.pages.sessions)
    app.state.logon_limits = LogonLimits(**{f.name: getattr(logon, f.name) for f in dataclasses.fields(LogonLimits)}
                                         ) if logon is not None else LogonLimits()
    app.state.sync = getattr(node, "sync", None)  # erp_sync.daemon.SyncDaemon when the site has a sync section
    identity = site.identity if site is not None else None  # people from the plant's directory (takt.identity)
    app.state.directory = Directory(identity) if identity is not None else None
    # built from the site's scanning section (takt.runtime); a node without one scans handhelds and GS1 labels only
    app.state.scans = getattr(node, "scans", None) or scan_pipeline(node.service, node.store)
    api_config = site.api if site is not None else None  # TLS and the limits of the site's api section
    app.state.max_backdate = timedelta(days=api_config.max_backdate_days if api_config is not None
                                       else DEFAULT_MAX_BACKDATE_DAYS)
    # GET /api/v1/events: recorded events and scan answers as they happen
    app.state.live = live.LiveFeed(live_queue_size, api_config.max_streams_per_user if api_config is not None
                                   else live.MAX_STREAMS_PER_USER)
    node.service.on_recorded(app.state.live.recorded)
    app.state.live.watch_scans(app.state.scans)
    app.router.routes[0:0] = [*commands.routes(), scans.route(), live.route(), *reads.router.routes,
                              *sync.router.routes, *spc.router.routes, *pages.routes()]  # terminal, handheld and line pages (takt.pages)
    app.router.routes[0:0] = process_values.router.routes  # machines' time series (connectors.process_values)
    app.router.routes[0:0] = setpoints.router.routes  # setpoint downloads and variances (connectors.setpoints)
    app.router.routes[0:0] = [*kitting.router.routes, *oee.router.routes, *labels.router.routes,  # issue 7
                              *inspections.router.routes, *maintenance.router.routes, *warehouse.router.routes,
                              *b2mml.router.routes, *b2mml.exports.routes, *audit.router.routes,
                              *units.router.routes, *downtime.router.routes,
                              *capa.router.routes]  # issues 7, 18, 17, 20, 21
    app.router.routes[0:0] = outbound.router.routes  # waves, replenishment, mis-picks, delivery notes (issue 23)
    app.router.routes.extend(docs.routes(app.title))  # Swagger UI from the node itself, not a CDN

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = get_openapi(title=app.title, version=app.version, description=app.description,
                                    routes=app.routes)
            app.openapi_schema = contract.add_to_openapi(
                live.add_to_openapi(scans.add_to_openapi(commands.add_to_openapi(generated))))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, limit=max_body_bytes, own_limits=frozenset({b2mml.PATH}))
    tls = api_config.tls if api_config is not None else None
    app.add_middleware(SecurityHeaders, hsts_max_age_s=tls.hsts_max_age_s if tls is not None else HSTS_MAX_AGE_S)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            detail = exc.detail
        else:
            detail = {"code": "NOT_FOUND" if exc.status_code == 404 else f"HTTP_{exc.status_code}",
                      "message": str(exc.detail), "field": None}
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # every method of the path, not just those of the first route Starlette tried
            headers = {**(headers or {}), "Allow": contract.allow_header(app.router.routes, request.scope)}
        return JSONResponse(detail, status_code=exc.status_code, headers=headers)

    @app.get("/health", tags=["node"], summary="Up or down (200 when all is well, else 503); with a bearer token "
                                               "also the store's and every component's status")
    async def health(request: Request) -> JSONResponse:
        service: Service = app.state.service
        shown_to_user = bool(request.headers.get("authorization"))
        if shown_to_user:
            await current_user(request)  # a token that is sent must be valid: 401 otherwise
        store_status: dict[str, Any]
        try:
            def probe() -> int:
                with node.store.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return node.store.last_seq()
            last_seq = await run_in_threadpool(probe)
            store_status = {"status": "ok", "dialect": node.store.dialect, "last_seq": last_seq}
        except Exception as exc:  # the health page must answer even when the store does not
            store_status = {"status": "down", "dialect": node.store.dialect, "error": str(exc)}
        writer = {
            "status": "running" if service.running else "stopped",
            "commits": service.commits, "commands_recorded": service.commands_recorded,
            "commands_refused": service.commands_refused, "last_error": service.last_error,
            # False while the writer loads a large store at start: reads answer, commands wait for it
            "state_loaded": service.state_loaded, "load_seconds": service.load_seconds,
        }
        ok = store_status["status"] == "ok" and service.running and service.last_error is None
        if not shown_to_user:  # anyone may ask whether the node is up; URLs, errors and counts need a token
            return JSONResponse({"status": "ok" if ok else "degraded"}, status_code=200 if ok else 503)
        body = {"status": "ok" if ok else "degraded", "node_id": node.node_id, "version": edge.__version__,
                "uptime_s": round(time.time() - app.state.started, 1),
                "store": store_status, "components": {"writer": writer}}
        body["clock"] = service.clock_watch.status(service.clock())  # jumps of the wall clock (edge.clock)
        connectivity = getattr(node, "connectivity", None)
        if connectivity is not None and connectivity.connectors:
            body["connectivity"] = connectivity.health()  # informative: a dead PLC does not make the node 503
        retention = getattr(node, "retention", None)
        if retention is not None:
            body["retention"] = retention.health()  # informative: the last run of the retention timer (takt.upkeep)
        if app.state.directory is not None:  # informative: cached people log on while the directory is away
            body["directory"] = await run_in_threadpool(app.state.directory.health, node.store)
        if app.state.sync is not None:
            body["sync"] = app.state.sync.health.as_dict()  # informative too: the node records while the ERP is away
        # GS1 dictionary, B2MML schemas, ...: "degraded" while GS1 scans are checked by biip only (edge.reference)
        body["reference"] = await run_in_threadpool(reference.health)
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["node"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    guard_by_prefix(app.router.routes)  # a request tries only the routes its path can match (takt.api.routing)
    index_routes(app.router)
    return app
