"""B2MML over HTTP: ``POST /api/v1/b2mml`` takes a production schedule or master data as the file drop's inbox does (same rules:
schema, mapping, whole or not at all; docs/b2mml.md "HTTP"), for senders that post documents rather than drop files.

The answer is 201 with what was released (or found imported before), or 422 listing every problem of the
document. An ``Idempotency-Key`` is required, as for every command: a retry with the same key and the same
document gets the first answer again (``Idempotent-Replayed: true``), the same key with another document is
refused. The answers are kept in the store (``edge.store.document_answers``), so a retry after a restart gets the
first answer too; the document's own keys (docs/b2mml.md) make any resend record nothing in any case.
"""
from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from edge.service import StoreUnavailable
from edge.store.document_answers import answer_for, keep_answer
from takt.api.auth import allowed_roles, authorize
from takt.api.contract import BEARER, COMMAND_RESPONSES, IDEMPOTENCY_KEY, KEY_PATTERN, READ_RESPONSES
from takt.api.errors import refusal
from takt.api.models import Moment
from takt.api.site import site_config

router = APIRouter(prefix="/api/v1", responses=COMMAND_RESPONSES, dependencies=BEARER)
#: who may post documents: the service accounts of the ERP and MES links (and admin)
SENDERS = allowed_roles("service")
#: the endpoint's body limit when the site names none (``b2mml.max_body_bytes``); the API's own limit does not apply
DEFAULT_MAX_BODY_BYTES = 16_777_216
PATH = "/api/v1/b2mml"


def max_body_bytes(request: Request) -> int:
    site = site_config(request)
    return site.b2mml.max_body_bytes if site is not None and site.b2mml is not None else DEFAULT_MAX_BODY_BYTES


@router.post("/b2mml", tags=["b2mml"], status_code=201,
             summary="Apply a B2MML production schedule or master data (V0600, V0401): whole or not at all, 422 "
                     "listing its problems",
             responses={201: {"description": "Applied: work orders released, master data defined, and what was "
                                             "imported before"},
                        413: {**COMMAND_RESPONSES[413], "description": "The document is larger than "
                                                                       "b2mml.max_body_bytes (REQUEST_TOO_LARGE)"},
                        422: {**COMMAND_RESPONSES[422], "description": "Refused (SCHEDULE_REFUSED, or the "
                                                                       "refusal's own code): every problem of the "
                                                                       "document in `problems` (schema, mapping, "
                                                                       "domain); nothing recorded"},
                        503: {**COMMAND_RESPONSES[503], "description": "The store or the B2MML schemas are "
                                                                       "unavailable; nothing recorded"}},
             openapi_extra={
                 "requestBody": {"required": True, "description": "a B2MML V0600 or V0401 document",
                                 "content": {"application/xml": {"schema": {"type": "string"}}}},
                 "parameters": [IDEMPOTENCY_KEY],
                 "description": "Roles: admin, service."})
async def post_b2mml(request: Request) -> JSONResponse:
    user = await authorize(request, SENDERS)
    key = (request.headers.get("idempotency-key") or "").strip().strip('"')
    if not key:
        return refusal(400, "IDEMPOTENCY_KEY_MISSING",
                       "send an Idempotency-Key header: one fresh value per document, the same value on a retry",
                       "Idempotency-Key")
    if not KEY_PATTERN.match(key):
        return refusal(400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-200 visible ASCII characters",
                       "Idempotency-Key")
    limit = max_body_bytes(request)
    document = bytearray()
    async for chunk in request.stream():
        document += chunk
        if len(document) > limit:
            return refusal(413, "REQUEST_TOO_LARGE", f"the document is over {limit} bytes (b2mml.max_body_bytes)")
    body = bytes(document)
    digest = hashlib.sha256(body).hexdigest()
    store = request.app.state.service.store
    seen = await run_in_threadpool(answer_for, store, key)
    if seen is not None:
        if seen.document_sha256 != digest:
            return refusal(422, "IDEMPOTENCY_KEY_REUSED", f"Idempotency-Key {key} was sent before with another "
                           f"document; nothing recorded", "Idempotency-Key")
        return JSONResponse(seen.answer, status_code=201, headers={"Idempotent-Replayed": "true"})
    if not body.strip():
        return refusal(422, "SCHEDULE_REFUSED", "the body is empty: send a B2MML production schedule", "body",
                       problems=["the body is empty"])
    site = site_config(request)
    workstations = ({w.workstation for w in site.site.workstations} or None) if site is not None else None
    section = site.b2mml if site is not None else None
    # imported when used: the B2MML validator (xmlschema) is no part of a node that is never sent a document
    from erp_sync.b2mml import ScheduleRefused, SchemasMissing, import_document

    try:
        report = await run_in_threadpool(
            import_document, request.app.state.service, body, actor=user.user,
            dispatch=section.dispatch if section is not None else False, workstations=workstations,
            locations=dict(section.locations) if section is not None else None,
            personnel_classes=dict(section.personnel_classes) if section is not None else None)
    except ScheduleRefused as refused:
        return refusal(422, refused.code or "SCHEDULE_REFUSED", refused.reason, refused.path or "body",
                       problems=list(refused.problems), request=refused.request)
    except SchemasMissing as missing:
        return refusal(503, "B2MML_SCHEMAS_MISSING", str(missing))
    except StoreUnavailable as err:
        return refusal(503, "STORE_UNAVAILABLE", str(err))
    answer = {"schedules": list(report.schedules), "released": list(report.released), "defined": list(report.defined),
              "changed": list(report.changed), "cancelled": list(report.cancelled),
              "already_imported": list(report.already_imported), "dispatch_lists": list(report.dispatch_lists),
              "events": report.events, "summary": report.summary()}
    kept = await run_in_threadpool(keep_answer, store, key, digest, user.user, answer)
    if kept.document_sha256 != digest:  # another document with this key was answered in between
        return refusal(422, "IDEMPOTENCY_KEY_REUSED", f"Idempotency-Key {key} was sent before with another "
                       f"document", "Idempotency-Key")
    return JSONResponse(kept.answer, status_code=201)


# --- exports: shift OEE and the inspection plans as B2MML, for an ERP or MES that pulls them ---------------------

exports = APIRouter(prefix="/api/v1/b2mml", responses=READ_RESPONSES, dependencies=BEARER)
#: who may read the exports: the integration accounts and supervisors (and admin)
READERS = allowed_roles("service", "supervisor")
_XML: dict[int | str, dict[str, Any]] = {200: {"description": "The B2MML document, valid against MESA's schema",
              "content": {"application/xml": {"schema": {"type": "string"}}}}}


@exports.get("/oee", tags=["b2mml"], response_class=Response, responses=_XML,
             summary="Shift OEE per workstation as B2MML V0600 SyncProductionPerformance (roles: admin, service, "
                     "supervisor)")
async def get_b2mml_oee(request: Request, workstation: str | None = None,
                        start: Moment | None = Query(None, alias="from", description="period start (default: 24 h "
                                                                                     "ago)"),
                        end: Moment | None = Query(None, alias="to", description="period end (default: now)")
                        ) -> Response:
    await authorize(request, READERS)
    from zoneinfo import ZoneInfo

    from erp_sync.b2mml.exports import render_shift_oee
    from takt.api.oee import oee_period
    from takt.downtime import node_oee
    from takt.shift_close import shift_calendar, workstations

    start, end = oee_period(start, end)
    config = site_config(request)
    zone_name, shifts = shift_calendar(config)
    store = request.app.state.service.store

    def report() -> Any:
        with store.engine.connect() as conn:
            known = workstations(conn, config)
            if workstation is not None and workstation not in known:
                return None
            return node_oee(conn, config, known, shifts, ZoneInfo(zone_name), start, end, only=workstation)

    found = await run_in_threadpool(report)
    if found is None:
        return refusal(404, "UNKNOWN_WORKSTATION", f"workstation {workstation} is not on this line", "workstation")
    doc = render_shift_oee(found, node_id=store.node_id(), start=start, end=end, timezone=zone_name)
    if doc is None:
        return refusal(404, "NOTHING_TO_EXPORT", "no shift with planned time in the period", "from")
    return Response(doc.xml, media_type="application/xml")


@exports.get("/maintenance", tags=["b2mml"], response_class=Response, responses=_XML,
             summary="Maintenance requests and completed maintenance (labour, spare parts) as B2MML V0600 "
                     "SyncOperationsPerformance of OperationsType Maintenance (roles: admin, service, supervisor, "
                     "maintenance)")
async def get_b2mml_maintenance(request: Request,
                                start: Moment | None = Query(None, alias="from", description="raised from (default: "
                                                                                             "24 h ago)"),
                                end: Moment | None = Query(None, alias="to", description="raised before (default: "
                                                                                         "now)")) -> Response:
    await authorize(request, READERS | {"maintenance"})
    from sqlalchemy import select

    from edge.store import schema
    from erp_sync.b2mml.exports import render_maintenance
    from takt.api.oee import oee_period

    start, end = oee_period(start, end)
    store = request.app.state.service.store
    spec = schema.ENTITY_TABLES["maintenance_requests"]

    def requests() -> list[Any]:
        with store.engine.connect() as conn:
            return [spec.entity(r) for r in conn.execute(
                select(spec.table).where(spec.table.c.raised_at >= start, spec.table.c.raised_at < end)
                .order_by(spec.table.c.raised_at, spec.table.c.request))]

    doc = render_maintenance(await run_in_threadpool(requests), node_id=store.node_id(), start=start, end=end)
    if doc is None:
        return refusal(404, "NOTHING_TO_EXPORT", "no maintenance request was raised in the period", "from")
    return Response(doc.xml, media_type="application/xml")


@exports.get("/test-specifications", tags=["b2mml"], response_class=Response, responses=_XML,
             summary="The inspection plans as B2MML V0700 SyncTestSpecification (roles: admin, service, supervisor)")
async def get_b2mml_test_specifications(request: Request, plan: str | None = None) -> Response:
    await authorize(request, READERS)
    from edge.domain import PlantState
    from erp_sync.b2mml.exports import render_test_specifications

    service = request.app.state.service
    live = service.state  # copied at once (a dict copy holds the GIL): the writer goes on changing its own
    state = PlantState(inspection_plans=dict(live.inspection_plans), characteristics=dict(live.characteristics))
    if plan is not None and plan not in state.inspection_plans:
        return refusal(404, "UNKNOWN_PLAN", f"inspection plan {plan} is not known here", "plan")
    doc = render_test_specifications(state, node_id=service.store.node_id(),
                                     plans=[plan] if plan is not None else None)
    if doc is None:
        return refusal(404, "NOTHING_TO_EXPORT", "no inspection plan is defined here", "plan")
    return Response(doc.xml, media_type="application/xml")
