"""Mutating routes: one per use case. Each turns a request into a domain command and records it
through the one write path; the response says what was recorded (or why not).

The routes are a table (``COMMAND_ROUTES``) served by plain Starlette endpoints rather than by
FastAPI's dependency-injection layer, and the same table writes their OpenAPI description
(``add_to_openapi``). Measured on the 2-core reference machine with 64 clients, FastAPI's
per-request machinery (route scan, dependency solving, body handling) cost about 30 % of the
throughput of the busiest routes; an endpoint here does only what the use case needs: bearer
auth and role check, one ``model_validate_json`` of the body, the command, the durable answer.
Read routes stay ordinary FastAPI routes (``reads.py``).
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain.contexts.signatures import signature_id
from edge.fields import LineNumber, OperationNumber
from edge.service import IdempotencyKeyReused, Service, StoreUnavailable
from edge.store import schema
from edge.store.audit import records_by_seq
from edge.store.users import User
from scanners import gs1
from takt.api import models as m
from takt.api.auth import allowed_roles, authorize
from takt.api.contract import (
    COMMAND_RESPONSES,
    IDEMPOTENCY_KEY,
    KEY_PATTERN,
    SECURITY,
    SIGNED_RESPONSES,
    openapi_responses,
)
from takt.api.errors import invalid_request, refusal
from takt.pages.sessions import audit_signature, signature_refusal

PREFIX = "/api/v1"
# The statuses a command answers and its Idempotency-Key's form: takt.api.contract, shared with every other route.


def _meta(request: Request, user: User, body: m.Request) -> dict[str, Any] | JSONResponse:
    key = request.headers.get("idempotency-key")
    if key is None:
        return refusal(400, "IDEMPOTENCY_KEY_MISSING",
                       "send an Idempotency-Key header: one fresh value per action, the same value on a retry",
                       "Idempotency-Key")
    key = key.strip().strip('"')
    if not KEY_PATTERN.match(key):
        return refusal(400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-200 visible ASCII characters",
                       "Idempotency-Key")
    if body.occurred_at is not None and (late := m.backdating_problem(body.occurred_at,
                                                                     request.app.state.max_backdate)):
        return refusal(422, "BACKDATED_TOO_FAR", late, "occurred_at")
    if "x-takt-origin" in request.headers:
        # Only the sync's pull path (erp_sync.pull) records changes as the ERP's: an ERP-origin event is never pushed
        # back, so a change marked so over HTTP would silently never reach the ERP. Refused rather than ignored, so
        # that a client relying on the header learns it at once.
        return refusal(400, "ORIGIN_NOT_ACCEPTED", "X-Takt-Origin is not accepted on the API: only the ERP sync's "
                       "pull records changes as coming from the ERP; nothing recorded", "X-Takt-Origin")
    return {
        "idempotency_key": key, "actor": user.user, "actor_roles": user.roles, "recorded_by": user.user,
        "source_device": (request.headers.get("x-takt-device") or None), "origin": "edge",
        "occurred_at": body.occurred_at,
    }


async def record(request: Request, user: User, body: m.Request, build: Any, /, **fields: Any) -> JSONResponse:
    meta = _meta(request, user, body)
    if isinstance(meta, JSONResponse):
        return meta
    service: Service = request.app.state.service
    metrics = request.app.state.metrics
    name = build.__name__
    started = time.perf_counter()
    try:
        command = build(**meta, **fields)
        recorded = await service.execute(command)
    except DomainError as err:
        metrics.command(name, "refused", time.perf_counter() - started)
        return refusal(422 if err.invalid else 409, err.code, err.message, err.field)
    except IdempotencyKeyReused as err:
        metrics.command(name, "key_reused", time.perf_counter() - started)
        return refusal(422, "IDEMPOTENCY_KEY_REUSED", str(err), "Idempotency-Key")
    except StoreUnavailable as err:
        metrics.command(name, "unavailable", time.perf_counter() - started)
        return refusal(503, "STORE_UNAVAILABLE", str(err))
    metrics.command(name, "replayed" if recorded.replayed else "recorded", time.perf_counter() - started)
    headers = {"Idempotent-Replayed": "true"} if recorded.replayed else None
    return JSONResponse(
        {"idempotency_key": recorded.idempotency_key, "command": recorded.command, "events": recorded.events,
         "replayed": recorded.replayed},
        status_code=201, headers=headers,
    )


Fields = Callable[[Any, dict[str, Any], User], dict[str, Any]]
# A step of a route beside recording its command: ``before`` runs first and may refuse (a setpoint download at
# operation start); ``run`` replaces the recording by a use case that does I/O and records through the same write
# path (a setpoint download writes the PLC, reads it back, then records).
Step = Callable[[Request, User, Any, dict[str, Any]], Awaitable[JSONResponse | None]]


def body_fields(body: m.Request, params: dict[str, Any], user: User) -> dict[str, Any]:
    """The command's fields: the path parameters and every body field but ``occurred_at``."""
    fields = {k: getattr(body, k) for k in type(body).model_fields if k != "occurred_at"}
    fields.update(params)
    return fields


@dataclass(frozen=True)
class CommandRoute:
    method: str
    path: str  # below PREFIX, with Starlette convertors: /work-orders/{work_order}/operations/{operation:int}/start
    body: type[m.Request]
    command: type[c.Command]
    roles: tuple[str, ...]
    summary: str
    tag: str
    fields: Fields = body_fields
    # A decision that can be electronically signed (its name: ``disposition``, ``inspection``, ...): with the
    # signer's PIN in X-Takt-Pin the command carries a signature of its events, recorded with them (a RecordsSigned
    # event, edge.domain.contexts.signatures). Signed always: a disposition by a user signed in at a page (badge
    # logon), the decisions the site's policy.signatures_required names, and a verdict of a signed inspection
    # plan (the domain asks); otherwise when the PIN is sent. ``meaning``: the signature's, unless
    # X-Takt-Signature-Meaning names another of the site's.
    signed: str | None = None
    meaning: str = "approved"
    # Command fields that are the site's settings, not the user's input: (field, attribute of app.state).
    settings: tuple[tuple[str, str], ...] = ()
    before: Step | None = None
    run: Step | None = None
    # Fields the store must fill in (the journal events a signature names): an awaitable that may refuse.
    resolve: Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any] | JSONResponse]] | None = None
    # What the answer of a recorded command adds for the one who asked (a step's verdict), read from the store.
    tell: Callable[[Request, JSONResponse], Awaitable[JSONResponse]] | None = None

    @property
    def name(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.command.__name__).lower()

    def starlette_route(self) -> Route:
        allowed = allowed_roles(*self.roles)
        model, command, fields, signed, settings = self.body, self.command, self.fields, self.signed, self.settings
        before, run = self.before, self.run
        meaning, resolve, tell = self.meaning, self.resolve, self.tell

        async def told(request: Request, answer: JSONResponse) -> JSONResponse:
            return answer if tell is None or answer.status_code != 201 else await tell(request, answer)

        async def endpoint(request: Request) -> Response:
            user = await authorize(request, allowed)
            raw = await request.body()
            try:
                body = model.model_validate_json(raw or b"{}")
            except ValidationError as err:
                return invalid_request(err.errors(include_url=False))
            problem = _path_problem(request.path_params)
            if problem is not None:
                return problem
            values = fields(body, request.path_params, user)
            for name, attribute in settings:
                values[name] = getattr(request.app.state, attribute, None)
            if before is not None and (refused := await before(request, user, body, values)) is not None:
                return refused
            if run is not None:
                answer = await run(request, user, body, values)
                assert answer is not None
                return answer
            if resolve is not None:
                resolved = await resolve(request, values)
                if isinstance(resolved, JSONResponse):
                    return resolved
                values = resolved
            if signed is None:
                return await told(request, await record(request, user, body, command, **values))
            at_page = signed == "disposition" and user.session  # signed at a page as before: 403 without the PIN
            pin = request.headers.get("x-takt-pin")
            if not (pin or at_page or signed == "signature"
                    or signed in getattr(request.app.state, "signatures_required", frozenset())):
                return await told(request, await record(request, user, body, command, **values))
            if not pin and not at_page:
                what = "a signature" if signed == "signature" else f"a {signed.replace('_', ' ')}"
                return refusal(422, "SIGNATURE_REQUIRED", f"{what} is electronically signed here: send your PIN "
                               "again in X-Takt-Pin", "X-Takt-Pin")
            refused = await signature_refusal(request, user, "record" if signed == "signature"
                                              else signed.replace("_", " "))
            if refused is not None:
                return refused
            spec = signature_spec(request, user, values.pop("signing", None) or {}, meaning)
            if isinstance(spec, JSONResponse):
                return spec
            answer = await told(request, await record(request, user, body, command, signature=spec, **values))
            if answer.status_code == 201 and at_page:
                await audit_signature(request, user, signed, values)
            return answer

        return Route(PREFIX + self.path, endpoint, methods=[self.method], name=self.name)


_SIGNATURE_ID = re.compile(r"^SIG-[0-9A-F]{16}$")
_MEANING = re.compile(r"^[a-z][a-z_]{1,31}$")


def signature_spec(request: Request, user: User, given: dict[str, Any], meaning: str) -> c.SignatureSpec | JSONResponse:
    """The signature a command carries, once the signer's PIN held: its id (from the Idempotency-Key, so a retry signs
    once), the signer's full name, the meaning and the signature it supersedes (the body's, or X-Takt-Signature-Meaning
    and X-Takt-Supersedes), and the site's meanings."""
    header = request.headers.get("x-takt-signature-meaning", "").strip()
    if header and not given.get("meaning") and not _MEANING.match(header):
        return refusal(422, "INVALID_MEANING", "X-Takt-Signature-Meaning is a lower-case word", "X-Takt-Signature-Meaning")
    meaning = given.get("meaning") or header or meaning  # the body's is checked against the site's list (domain)
    supersedes = given.get("supersedes") or request.headers.get("x-takt-supersedes", "").strip() or None
    if supersedes is not None and not _SIGNATURE_ID.match(supersedes):
        return refusal(422, "INVALID_SIGNATURE", "X-Takt-Supersedes names a signature: SIG- and 16 hex digits",
                       "X-Takt-Supersedes")
    key = request.headers.get("idempotency-key", "").strip().strip('"')
    return c.SignatureSpec(signature=signature_id(key), signer_name=user.name or user.user, meaning=meaning,
                           supersedes=supersedes, comment=given.get("comment") or "",
                           meanings=getattr(request.app.state, "signature_meanings", c.MEANINGS))


# Path parameters that Starlette's ``int`` convertor passes with any number of digits: bounded like the same field
# in a body (edge.fields), so that no number beyond the store's columns reaches a command.
PATH_NUMBERS: dict[str, TypeAdapter[int]] = {"operation": TypeAdapter(OperationNumber),
                                             "action": TypeAdapter(OperationNumber), "pick": TypeAdapter(LineNumber)}


def _path_problem(params: dict[str, Any]) -> JSONResponse | None:
    """422 naming the path parameter that is out of its bounds, or None."""
    for name, adapter in PATH_NUMBERS.items():
        if name in params:
            try:
                adapter.validate_python(params[name])
            except ValidationError as err:
                return invalid_request([{**e, "loc": ("path", name)} for e in err.errors(include_url=False)])
    return None


# --- the field mappings that are more than "body fields + path parameters" -------------------------

def _bin_fields(body: m.BinRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user), "allowed_items": tuple(body.allowed_items)}


def _pallet_fields(body: m.PackPalletRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user),
            "lines": tuple(c.PalletLineSpec(lot=ln.lot, quantity=ln.quantity) for ln in body.lines)}


def _wave_fields(body: m.ReleaseWavesRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user),
            "lines": tuple(c.OrderLineRef(sales_order=ln.sales_order, line=ln.line) for ln in body.lines)}


def _ahead_fields(body: m.ReplenishAheadRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user), "work_orders": tuple(body.work_orders)}


def _work_order_fields(body: m.WorkOrderRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user),
            "operations": tuple(c.OperationSpec(**{**o.model_dump(), "parameters": tuple(
                f"{k}={v}" for k, v in o.parameters.items())}) for o in body.operations),
            "bom": tuple(c.BomLineSpec(**b.model_dump()) for b in body.bom)}


def _dispatch_fields(body: m.DispatchListRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {"workstation": params["workstation"],
            "sequence": tuple(c.DispatchSlot(work_order=s.work_order, operation=s.operation) for s in body.sequence)}


def _plan_fields(body: m.InspectionPlanRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user),
            "characteristics": tuple(c.CharacteristicSpec(**ch.model_dump()) for ch in body.characteristics)}


def _disposition_fields(body: m.DispositionRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    rework = body.rework
    return {**body_fields(body, params, user), "rework": None if rework is None else c.ReworkSpec(
        operations=tuple(c.ReworkOperationSpec(**o.model_dump()) for o in rework.operations), plan=rework.plan,
        mode=rework.mode, rework_order=rework.rework_order, subjects=tuple(rework.subjects))}


def _capa_fields(body: m.OpenCapaRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user), "ncrs": tuple(body.ncrs)}


def _root_cause_fields(body: m.RootCauseRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user), "whys": tuple(body.whys)}


def _split_fields(body: m.SplitLotRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**params, "parts": tuple(c.SubLotSpec(**p.model_dump()) for p in body.parts)}


def _labour_fields(body: m.LabourRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**params, "operator": body.operator or user.user}


def _signature_fields(body: m.SignatureRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {"records": tuple(body.events),
            "signing": {"meaning": body.meaning, "supersedes": body.supersedes, "comment": body.comment}}


async def _journal_records(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    """The events a signature names, as the journal holds them (edge.store.audit)."""
    asked: tuple[m.SignedEventRequest, ...] = values["records"]
    found = await run_in_threadpool(records_by_seq, request.app.state.store, [ref.seq for ref in asked])
    refs = []
    for ref in asked:
        hit = found.get(ref.seq)
        refs.append(c.RecordRef(seq=ref.seq, found=hit is not None, hash=hit[0] if hit else "",
                                type=hit[1] if hit else "", subject=hit[2] if hit else "", expected_hash=ref.hash))
    return {**values, "records": tuple(refs)}


async def _stop_leaves(request: Request, values: dict[str, Any]) -> dict[str, Any] | JSONResponse:
    from takt.api.downtime import stop_leaves  # the downtime reads import this module's neighbours

    return await stop_leaves(request, values)


def _inspection_fields(body: m.InspectionRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {**body_fields(body, params, user),
            "measurements": tuple(c.Measurement(**x.model_dump()) for x in body.measurements)}


# --- setpoints down to the machine (connectors.setpoints) ------------------------------------------------------

def _setpoint_downloads(request: Request) -> Any:
    connectivity = getattr(getattr(request.app.state, "node", None), "connectivity", None)
    return getattr(connectivity, "setpoints", None)


async def _download(request: Request, user: User, body: m.Request, values: dict[str, Any],
                    source: str) -> JSONResponse:
    """Write an operation's setpoints to its machine with read-back, and record the download."""
    meta = _meta(request, user, body)
    if isinstance(meta, JSONResponse):
        return meta
    downloads = _setpoint_downloads(request)
    metrics = request.app.state.metrics
    started = time.perf_counter()
    if downloads is None:
        return refusal(409, "NO_SETPOINTS", "no machine of this node takes setpoints (connectivity.machines[]."
                       "setpoints in the site file)", "equipment")
    key = meta["idempotency_key"] if source == "changeover" else f"{meta['idempotency_key']}:setpoints"
    try:
        recorded = await downloads.download(
            values["work_order"], values["operation"], idempotency_key=key, actor=meta["actor"],
            actor_roles=meta["actor_roles"], source=source, recorded_by=meta["recorded_by"],
            source_device=meta["source_device"])
    except DomainError as err:
        metrics.command("DownloadSetpoints", "refused", time.perf_counter() - started)
        return refusal(422 if err.invalid else 409, err.code, err.message, err.field)
    except IdempotencyKeyReused as err:
        metrics.command("DownloadSetpoints", "key_reused", time.perf_counter() - started)
        return refusal(422, "IDEMPOTENCY_KEY_REUSED", str(err), "Idempotency-Key")
    except StoreUnavailable as err:
        return refusal(503, "STORE_UNAVAILABLE", str(err))
    metrics.command("DownloadSetpoints", "recorded", time.perf_counter() - started)
    replayed = all(r.replayed for r in recorded)
    return JSONResponse(
        {"idempotency_key": meta["idempotency_key"], "command": "DownloadSetpoints",
         "events": [ev for r in recorded for ev in r.events], "replayed": replayed},
        status_code=201, headers={"Idempotent-Replayed": "true"} if replayed else None)


async def _changeover(request: Request, user: User, body: Any, values: dict[str, Any]) -> JSONResponse:
    return await _download(request, user, body, values, "changeover")


async def _setpoints_at_start(request: Request, user: User, body: Any, values: dict[str, Any]) -> JSONResponse | None:
    """Before an operation starts: download its setpoints when a machine at its workstation takes them (and they
    were not downloaded yet); a refusal blocks the start with the reason naming the parameter."""
    downloads = _setpoint_downloads(request)
    if downloads is None:
        return None
    service: Service = request.app.state.service
    op = service.state.operations.get((values["work_order"], values["operation"]))
    if op is None or op.status != "released" or not await downloads.at_start(service.state, values["work_order"],
                                                                             values["operation"]):
        return None
    answer = await _download(request, user, body, values, "start")
    return None if answer.status_code == 201 else answer


MASTER_DATA = ("service", "supervisor")
TECHNICIAN = ("maintenance",)
MAINTENANCE_REQUEST = "/maintenance-requests/{maintenance_request}"


def _maintenance_fields(body: Any, params: dict[str, Any], user: User) -> dict[str, Any]:
    """The request's code from the path (``request`` is the HTTP request's name here)."""
    fields = body_fields(body, {k: v for k, v in params.items() if k != "maintenance_request"}, user)
    fields["request"] = params["maintenance_request"]
    return fields
FLOOR = ("operator", "supervisor")
WAREHOUSE = ("warehouse", "supervisor")
OPERATION = "/work-orders/{work_order}/operations/{operation:int}"

async def _serial_label(request: Request, user: User, body: Any, values: dict[str, Any]) -> JSONResponse | None:
    """A serial scanned from a pre-printed GS1 label (AIM identifier, HRI or Digital Link): its AI 21, and its AI 01
    for the domain to match with the item's GTIN; a plain text is the serial itself."""
    text = values.get("serial")
    if text is None or not (text.startswith(("]", "(", "http://", "https://")) or "\x1d" in text):
        return None
    try:
        label = gs1.parse(text)
    except gs1.GS1Error as err:
        return refusal(422, "GS1_INVALID", f"the scanned label is not a valid GS1 label: {err}", "serial")
    if label.serial is None:
        return refusal(422, "NO_SERIAL", "the scanned GS1 label has no serial (AI 21)", "serial")
    values["serial"], values["gtin"] = label.serial, label.gtin
    return None


async def _step_verdict(request: Request, answer: JSONResponse) -> JSONResponse:
    """A recorded step's answer says its verdict at once (``step``: passed, why not, the nonconformance it raised),
    so that the terminal shows it without a second read."""
    body = json.loads(bytes(answer.body))
    seq = next((ev["seq"] for ev in body["events"] if ev["type"] == "StepRecorded"), None)
    if seq is None:
        return answer
    store = request.app.state.store
    us = schema.unit_steps

    def read() -> Any:
        with store.engine.connect() as conn:
            return conn.execute(select(us.c.passed, us.c.note, us.c.ncr, us.c.step).where(us.c.seq == seq)).first()

    row = await run_in_threadpool(read)
    if row is not None:
        body["step"] = {"step": row.step, "passed": row.passed, "note": row.note, "ncr": row.ncr}
    return JSONResponse(body, status_code=answer.status_code, headers={
        k: v for k, v in answer.headers.items() if k.lower() == "idempotent-replayed"})


def _instruction_fields(body: m.WorkInstructionRequest, params: dict[str, Any], user: User) -> dict[str, Any]:
    return {"item": body.item, "operation": body.operation, "revision": body.revision,
            "item_revision": body.item_revision, "title": body.title, "steps": tuple(
                c.InstructionStepSpec(step=s.step, kind=s.kind, texts=tuple(s.texts), media=tuple(s.media),
                                      nominal=s.nominal, lsl=s.lsl, usl=s.usl, unit=s.unit, expect=s.expect,
                                      component=s.component, on_fail=s.on_fail, plan=s.plan,
                                      characteristic=s.characteristic) for s in body.steps)}


# Ordered by how often a plant calls them: the route scan stops at the first match.
COMMAND_ROUTES: tuple[CommandRoute, ...] = (
    CommandRoute("POST", OPERATION + "/production", m.ProductionRequest, c.ReportProduction, ("service", *FLOOR),
                 "Report good and scrap quantities", "work orders"),
    CommandRoute("POST", OPERATION + "/steps", m.StepRequest, c.RecordStep, ("quality", *FLOOR),
                 "Record a step of the operation's work instruction for a unit (or the order's lot-built output): "
                 "its check, measurement, scan, photo or sign-off (a sign-off is a second person's electronic "
                 "signature: their PIN in X-Takt-Pin); a failed step blocks the next one or raises a nonconformance",
                 "work instructions", signed="signoff", meaning="approved", tell=_step_verdict),
    CommandRoute("POST", OPERATION + "/units", m.SerialiseUnitRequest, c.SerialiseUnit, FLOOR,
                 "Start a unit of a serialised item at the order's first operation: its serial scanned from a "
                 "pre-printed label (plain or GS1 with AI 21) or the next of the site's pattern", "work instructions",
                 settings=(("pattern", "serial_pattern"), ("gs1", "serial_gs1")), before=_serial_label),
    CommandRoute("POST", OPERATION + "/units/{serial}/complete", m.UnitActionRequest, c.CompleteUnitOperation, FLOOR,
                 "Complete a unit's operation where it has no work instruction (with one, its last step does)",
                 "work instructions"),
    CommandRoute("POST", "/stock/moves", m.MoveRequest, c.MoveStock, ("operator", *WAREHOUSE),
                 "Move stock of a lot from bin to bin (or put it away: elsewhere than suggested with an override "
                 "reason)", "inventory", settings=(("putaway_rules", "putaway_rules"),)),
    CommandRoute("POST", "/work-orders/{work_order}/issues", m.IssueRequest, c.IssueToWorkOrder,
                 ("operator", *WAREHOUSE), "Issue (consume) a lot to a work order", "inventory"),
    CommandRoute("POST", "/work-orders/{work_order}/picks", m.PickRequest, c.PickForKitting, ("operator", *WAREHOUSE),
                 "Record a kitting pick: stock of a lot to the order's staging bin (a short pick with its reason)",
                 "inventory"),
    CommandRoute("PUT", "/equipment/{equipment}/state", m.MachineStateRequest, c.SetMachineState, ("service", *FLOOR),
                 "Set a machine's state and reason", "machines"),
    CommandRoute("POST", "/equipment/{equipment}/stops/reason", m.StopReasonRequest, c.GiveStopReason, FLOOR,
                 "Say why a machine stopped: a leaf of its reason tree, for the stop that started at stop_start",
                 "machines", resolve=_stop_leaves),
    CommandRoute("POST", "/equipment/{equipment}/stops/reclassify", m.ReclassifyStopRequest, c.ReclassifyStop,
                 ("supervisor",), "Book a stop to another reason of the machine's tree afterwards, saying why",
                 "machines", resolve=_stop_leaves),
    CommandRoute("POST", "/inspections", m.InspectionRequest, c.RecordInspection, ("quality", "warehouse", *FLOOR),
                 "Record an inspection's results; the verdict follows (a verdict of a plan marked signed carries the "
                 "inspector's signature: the PIN again in X-Takt-Pin)", "quality", _inspection_fields,
                 settings=(("duties", "duty_policy"),), signed="inspection"),
    CommandRoute("POST", OPERATION + "/start", m.OperationActionRequest, c.StartOperation, FLOOR,
                 "Start an operation (its machine's setpoints are downloaded first when the site says so: a "
                 "refused download blocks the start)", "work orders", before=_setpoints_at_start),
    CommandRoute("POST", OPERATION + "/setpoints", m.OperationActionRequest, c.DownloadSetpoints, FLOOR,
                 "Changeover: write the operation's setpoints (its parameters, or the site's recipe) to its machine, "
                 "read them back and record both (roles, writable tags, limits and a running machine as the site "
                 "says)", "work orders", run=_changeover),
    CommandRoute("POST", OPERATION + "/pause", m.PauseRequest, c.PauseOperation, FLOOR,
                 "Pause an operation, with a reason", "work orders"),
    CommandRoute("POST", OPERATION + "/resume", m.OperationActionRequest, c.ResumeOperation, FLOOR,
                 "Resume a paused operation", "work orders"),
    CommandRoute("POST", OPERATION + "/complete", m.OperationActionRequest, c.CompleteOperation, FLOOR,
                 "Complete an operation (signed where the site's policy.signatures_required names "
                 "operation_completion)", "work orders", signed="operation_completion", meaning="released"),
    CommandRoute("POST", OPERATION + "/clock-on", m.LabourRequest, c.ClockOnLabour, FLOOR,
                 "Clock an operator on to an operation (the signed-in user if none is named)", "labour",
                 _labour_fields),
    CommandRoute("POST", OPERATION + "/clock-off", m.LabourRequest, c.ClockOffLabour, FLOOR,
                 "Clock an operator off an operation", "labour", _labour_fields),
    CommandRoute("POST", "/lots", m.ReceiveRequest, c.ReceiveLot, WAREHOUSE, "Receive a lot into a bin", "inventory"),
    CommandRoute("POST", "/work-orders/{work_order}/output", m.ProducedLotRequest, c.ReceiveProducedLot,
                 ("operator", *WAREHOUSE), "Put a work order's good output into stock as a lot (its genealogy)",
                 "inventory"),
    CommandRoute("POST", "/purchase-orders/{purchase_order}/receipts", m.PurchaseOrderReceiptRequest,
                 c.ReceiveAgainstPurchaseOrder, WAREHOUSE,
                 "Receive a lot delivered on a purchase order (no more than the line still expects)", "inventory"),
    CommandRoute("POST", "/work-orders/{work_order}/returns", m.IssueRequest, c.ReturnFromWorkOrder,
                 ("operator", *WAREHOUSE), "Return unused material from a work order to a bin", "inventory"),
    CommandRoute("POST", "/pallets", m.PackPalletRequest, c.PackPallet, WAREHOUSE,
                 "Pack lots onto a pallet with a GS1 SSCC (the next of the site's sequence, or a pre-printed one)",
                 "shipping", _pallet_fields, settings=(("company_prefix", "gs1_company_prefix"),
                                                       ("extension_digit", "sscc_extension_digit"))),
    CommandRoute("POST", "/pallets/{sscc}/lots", m.AddToPalletRequest, c.AddToPallet, WAREHOUSE,
                 "Add stock of a lot in the pallet's bin to an open pallet", "shipping"),
    CommandRoute("POST", "/pallets/{sscc}/units", m.AddUnitsToPalletRequest, c.AddUnitsToPallet, WAREHOUSE,
                 "Pack serialised units onto an open pallet by their serials (each one of its output lot's stock)",
                 "shipping"),
    CommandRoute("POST", "/pallets/{sscc}/unpack", m.AddToPalletRequest, c.RemoveFromPallet, WAREHOUSE,
                 "Take stock of a lot off an open pallet (it stays in the bin, free to move again)", "shipping"),
    CommandRoute("POST", "/pallets/{sscc}/ship", m.ShipPalletRequest, c.ShipPallet, WAREHOUSE,
                 "Ship a pallet against a sales order: its stock leaves the bin, the order's shipped quantity goes up",
                 "shipping"),
    CommandRoute("POST", "/waves/{wave}/picks/{pick:int}", m.WavePickRequest, c.PickWaveLine, WAREHOUSE,
                 "Record a stop of a wave's walk as scanned: bin, lot, quantity and the order's tote, each checked (a "
                 "short pick with its reason; another lot only where the order allows substitution)", "outbound"),
    CommandRoute("POST", "/replenishment-tasks/{task}/done", m.CompleteReplenishmentRequest, c.CompleteReplenishment,
                 ("operator", *WAREHOUSE), "Record a replenishment task done: stock of a lot moved to its line-side "
                 "bin", "outbound"),
    CommandRoute("POST", "/line-side-bins/{bin}/empty", m.EmptyBinRequest, c.SignalEmptyBin, ("operator", *WAREHOUSE),
                 "A kanban card scanned at the line: a container is empty, a replenishment task is raised", "outbound"),
    CommandRoute("POST", "/waves", m.ReleaseWavesRequest, c.ReleaseWaves, WAREHOUSE,
                 "Release open sales order lines as waves (by zone, carrier cut-off or one wave): lots chosen FEFO "
                 "within each customer's shelf-life requirement, stock reserved, picks in walk order", "outbound",
                 _wave_fields, settings=(("min_shelf_life_pct", "min_shelf_life_pct"),
                                         ("shelf_life_days", "shelf_life_days"))),
    CommandRoute("POST", "/waves/{wave}/picks/{pick:int}/correction", m.CorrectPickRequest, c.CorrectPick,
                 ("quality", *WAREHOUSE), "Record a pick found wrong (at packing, at the line, by the customer), linked "
                 "to the original pick and who made it", "outbound"),
    CommandRoute("POST", "/replenishment/ahead", m.ReplenishAheadRequest, c.ReplenishAhead, WAREHOUSE,
                 "Fill the line-side bins ahead of need for work orders released for the next shift (from their "
                 "BOMs)", "outbound", _ahead_fields),
    CommandRoute("PUT", "/line-side-bins/{bin}", m.LineSideBinRequest, c.DefineLineSideBin, MASTER_DATA,
                 "Define a line-side bin's min/max (or kanban) for an item and the zone it is filled from",
                 "master data"),
    CommandRoute("POST", "/stock/adjustments", m.AdjustRequest, c.AdjustStock, WAREHOUSE,
                 "Correct a bin's stock of a lot to what was counted (a large variance waits for a supervisor)",
                 "inventory", settings=(("approval_pct", "count_approval_pct"), ("duties", "duty_policy"))),
    CommandRoute("POST", "/stock/counts/decision", m.CountDecisionRequest, c.DecideCount, ("supervisor",),
                 "Approve (book) or discard a count that waits for approval (never by its counter)", "inventory",
                 settings=(("duties", "duty_policy"),), signed="count_decision"),
    CommandRoute("POST", "/stock/scrap", m.ScrapRequest, c.ScrapStock, ("quality", *WAREHOUSE),
                 "Scrap stock of a lot, with a reason", "inventory"),
    CommandRoute("POST", "/lots/{lot}/hold", m.LotStatusRequest, c.HoldLot, ("quality", "operator", *WAREHOUSE),
                 "Put a lot on hold", "quality"),
    CommandRoute("POST", "/lots/{lot}/release", m.LotStatusRequest, c.ReleaseLot, ("quality",),
                 "Release a lot from hold or quarantine", "quality"),
    CommandRoute("POST", "/nonconformances", m.NonconformanceRequest, c.RaiseNonconformance, ("quality", *FLOOR),
                 "Raise a nonconformance (and hold the lot)", "quality"),
    CommandRoute("POST", "/nonconformances/{ncr}/disposition", m.DispositionRequest, c.DispositionNonconformance,
                 ("quality",), "Disposition a nonconformance: scrap, rework (with a rework: rework operations on the "
                 "work order or a rework order, its subjects held until the re-inspection passes), use as is (a "
                 "signed justification), return to supplier (a supplier return for the SRM); the site's policy names "
                 "those that need a second person's signature: the first is a proposal",
                 "quality", _disposition_fields, signed="disposition",
                 settings=(("duties", "duty_policy"), ("rework_mode", "rework_mode"))),
    CommandRoute("POST", "/lots/{lot}/split", m.SplitLotRequest, c.SplitLot, ("quality",),
                 "Partial acceptance: split a lot under inspection into accepted and rejected sub-lots (the whole "
                 "lot; a rejected sub-lot is held under an NCR)", "quality", _split_fields),
    CommandRoute("POST", "/capa", m.OpenCapaRequest, c.OpenCapa, ("quality",),
                 "Open a CAPA: the problem, its containment, the NCRs it answers", "quality", _capa_fields),
    CommandRoute("POST", "/capa/{capa}/root-cause", m.RootCauseRequest, c.RecordRootCause, ("quality",),
                 "Record a CAPA's root cause: a 5-why chain and/or its fishbone category (6M)", "quality",
                 _root_cause_fields),
    CommandRoute("POST", "/capa/{capa}/actions", m.CapaActionRequest, c.PlanCapaAction, ("quality",),
                 "Plan a corrective or preventive action of a CAPA, with its owner and due date", "quality"),
    CommandRoute("POST", "/capa/{capa}/actions/{action:int}/complete", m.CompleteCapaActionRequest,
                 c.CompleteCapaAction, ("quality", *FLOOR), "Mark a CAPA action done, with its result", "quality"),
    CommandRoute("POST", "/capa/{capa}/effectiveness", m.EffectivenessRequest, c.CheckCapaEffectiveness,
                 ("quality",), "The effectiveness check of a CAPA: effective closes it (its actions done)",
                 "quality"),
    CommandRoute("POST", "/signatures", m.SignatureRequest, c.SignRecords, ("quality", "supervisor"),
                 "Sign recorded events (by journal sequence number and chain hash) with a meaning: the PIN again in "
                 "X-Takt-Pin; a signed record is superseded by a new signature that names it, never changed",
                 "quality", _signature_fields, signed="signature", resolve=_journal_records),
    CommandRoute("POST", "/work-orders/{work_order}/cancel", m.CancelWorkOrderRequest, c.CancelWorkOrder,
                 ("supervisor",), "Cancel a work order here (labour still clocked on is clocked off)", "work orders"),
    CommandRoute("POST", "/work-orders/{work_order}/conflict", m.ResolveConflictRequest, c.ResolveWorkOrderConflict,
                 ("supervisor",), "Decide on a change the ERP made while the order ran here", "work orders"),
    CommandRoute("POST", "/equipment/{equipment}/unassigned-production/assign", m.AssignProductionRequest,
                 c.AssignProduction, ("supervisor",),
                 "Book parts a machine counted with no operation running to the operation they were made for",
                 "work orders"),
    CommandRoute("POST", "/equipment/{equipment}/unassigned-production/write-off", m.WriteOffProductionRequest,
                 c.WriteOffUnassignedProduction, ("supervisor",),
                 "Close parts a machine counted with no operation running without an order, saying why",
                 "work orders"),
    CommandRoute("POST", "/work-orders", m.WorkOrderRequest, c.ReleaseWorkOrder, MASTER_DATA,
                 "Release a work order to the floor (and, where the site asks, its line-side replenishment ahead "
                 "of need)", "work orders", _work_order_fields,
                 settings=(("replenish_ahead", "replenish_ahead_on_release"),)),
    CommandRoute("PUT", "/workstations/{workstation}/dispatch-list", m.DispatchListRequest, c.SetDispatchList,
                 MASTER_DATA, "Set a workstation's dispatch list (APS sequence)", "work orders", _dispatch_fields),
    CommandRoute("POST", "/items", m.ItemRequest, c.DefineItem, MASTER_DATA, "Define or revise an item",
                 "master data"),
    CommandRoute("POST", "/bins", m.BinRequest, c.DefineBin, MASTER_DATA, "Define a bin (location)", "master data",
                 _bin_fields),
    CommandRoute("POST", "/equipment", m.EquipmentRequest, c.DefineEquipment, MASTER_DATA,
                 "Define a machine and its workstation", "master data"),
    CommandRoute("POST", "/equipment/{equipment}/maintenance-requests", m.MaintenanceRequestRequest,
                 c.RaiseMaintenanceRequest, ("maintenance", "quality", "service", *FLOOR),
                 "Call maintenance to a machine by hand, with a note and (from a terminal's camera) a photo",
                 "maintenance"),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/notes", m.MaintenanceNoteRequest, c.AddMaintenanceNote,
                 ("maintenance", "quality", *FLOOR), "Add the operator's note (and a photo) to a maintenance request",
                 "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/accept", m.MaintenanceActionRequest, c.AcceptMaintenanceRequest,
                 TECHNICIAN, "Accept a maintenance request (the technician takes it)", "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/start", m.MaintenanceActionRequest, c.StartMaintenanceWork,
                 TECHNICIAN, "Start (or resume) work on a request: labour clocked on, the machine in maintenance",
                 "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/stop", m.MaintenanceActionRequest, c.StopMaintenanceWork,
                 TECHNICIAN, "Stop work on a request for now: labour clocked off", "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/parts", m.MaintenancePartsRequest, c.IssueMaintenanceParts,
                 TECHNICIAN, "Issue spare parts from a bin to a request (a stock issue)", "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", MAINTENANCE_REQUEST + "/close", m.MaintenanceCloseRequest, c.CloseMaintenanceRequest,
                 TECHNICIAN, "Close a request: labour clocked off, the machine released for production or not",
                 "maintenance",
                 _maintenance_fields),
    CommandRoute("POST", "/maintenance-plans", m.MaintenancePlanRequest, c.DefineMaintenancePlan,
                 ("maintenance", *MASTER_DATA), "Define a preventive maintenance plan of a machine by calendar, "
                 "cycles, good parts or run hours", "maintenance"),
    CommandRoute("POST", "/maintenance-plans/{plan}/start", m.PreventiveStartRequest, c.StartPreventiveMaintenance,
                 ("maintenance", "supervisor"), "Take up a preventive plan's work: a request of the plan, closed "
                 "like any other (which restarts the plan's interval)", "maintenance"),
    CommandRoute("POST", "/inspection-plans", m.InspectionPlanRequest, c.DefineInspectionPlan,
                 ("quality", *MASTER_DATA), "Define an inspection plan (a signed plan is redefined only by a signed "
                 "definition that supersedes its signature: X-Takt-Pin and X-Takt-Supersedes)", "quality",
                 _plan_fields, signed="inspection_plan"),
    CommandRoute("POST", "/work-instructions", m.WorkInstructionRequest, c.DefineWorkInstruction,
                 ("quality", *MASTER_DATA), "Define a work instruction for an operation of an item revision (PLM's, "
                 "or the site's instruction folder): ordered steps that capture data", "work instructions",
                 _instruction_fields),
)


def routes() -> list[Route]:
    return [route.starlette_route() for route in COMMAND_ROUTES]


def command_roles() -> dict[str, frozenset[str]]:
    """The roles that may book each command (admin included), by command name, as its route allows them: a scan
    that books the command checks the same (takt.scanning)."""
    roles: dict[str, frozenset[str]] = {}
    for route in COMMAND_ROUTES:
        name = route.command.__name__
        roles[name] = roles.get(name, frozenset()) | allowed_roles(*route.roles)
    return roles


# --- OpenAPI --------------------------------------------------------------------------------------

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
_SIGNED_NOTE = (" Electronically signed (docs/signatures.md) when the PIN is sent again in X-Takt-Pin, and where the "
                "site requires it (422 SIGNATURE_REQUIRED without); X-Takt-Signature-Meaning names the meaning, "
                "X-Takt-Supersedes the signature a signed record supersedes.")


def add_to_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe the command routes in an OpenAPI document FastAPI generated for the other routes."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    ref = "#/components/schemas/{model}"
    for model in (m.CommandAccepted,):
        found = model.model_json_schema(ref_template=ref)
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    for route in COMMAND_ROUTES:
        found = route.body.model_json_schema(ref_template=ref)
        schemas.update(found.pop("$defs", {}))
        schemas[route.body.__name__] = found
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True,
             "schema": (PATH_NUMBERS[name].json_schema() if name in PATH_NUMBERS
                        else {"type": "integer" if convertor == "int" else "string"})}
            for name, convertor in _PARAM.findall(route.path)
        ]
        parameters.append(IDEMPOTENCY_KEY)
        responses: dict[str, Any] = {"201": {
            "description": "Recorded (or, with Idempotent-Replayed: true, recorded before)",
            "headers": {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]},
                                                "description": "Sent when this answers a repeated key"}},
            "content": {"application/json": {"schema": {"$ref": ref.format(model="CommandAccepted")}}}}}
        responses.update(openapi_responses({**COMMAND_RESPONSES, **(SIGNED_RESPONSES if route.signed else {})}))
        path = PREFIX + _PARAM.sub(r"{\1}", route.path)
        schema.setdefault("paths", {}).setdefault(path, {})[route.method.lower()] = {
            "tags": [route.tag], "summary": route.summary, "operationId": route.name,
            "description": f"Roles: {', '.join(sorted(allowed_roles(*route.roles)))}." + (_SIGNED_NOTE if route.signed
                                                                                          else ""),
            "parameters": parameters, "security": SECURITY,
            # a command whose fields are all optional takes no body too (an empty body is {})
            "requestBody": {"required": bool(found.get("required")), "content": {"application/json": {
                "schema": {"$ref": ref.format(model=route.body.__name__)}}}},
            "responses": responses,
        }
    return schema
