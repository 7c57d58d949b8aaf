"""POST /api/v1/scans: a scan from a handheld or terminal page (keyboard wedge) through the same pipeline as a
serial or camera scanner: the answer says what the scan did at that station, or why it was refused."""
from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.domain.putaway import PutawayRule
from takt.api.auth import allowed_roles, authorize
from takt.api.commands import PREFIX
from takt.api.contract import COMMAND_RESPONSES, IDEMPOTENCY_KEY, KEY_PATTERN, SECURITY, openapi_responses
from takt.api.errors import invalid_request, refusal

# A refused scan: 409 when the plant's rules refuse it, else the label's or the request's fault, the caller's rights
# (who may book what, whose badge logs on: scanners.pipeline), or the store's.
STATUS = {"GS1_INVALID": 422, "UNKNOWN_LABEL": 422, "UNKNOWN_DEVICE": 422, "UNKNOWN_TASK": 422,
          "IDEMPOTENCY_KEY_REUSED": 422,
          "FORBIDDEN": 403, "UNKNOWN_BADGE": 403, "BADGE_PIN_REQUIRED": 403, "PIN_WRONG": 403,
          "OPERATOR_REQUIRED": 403, "PIN_LOCKED": 429,
          "STORE_UNAVAILABLE": 503}
ROLES = allowed_roles("operator", "warehouse", "quality", "supervisor", "service")


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096, description="the label as scanned (AIM identifier and GS kept)")
    device: str | None = Field(default=None, min_length=1, max_length=100,
                               description="a configured scanning device; default: the signed-in user's handheld")
    task: Literal["consume", "receive", "putaway", "move", "pick", "idle"] | None = Field(
        default=None, description="what the device is doing now (a change drops a lot waiting for its bin); "
                                  "default: as before (consume for a new handheld)")
    purchase_order: str | None = Field(
        default=None, max_length=200,
        description="receiving against this purchase order (task receive): a lot label books a receipt on the "
                    "order's line for the label's item; an empty value ends it")
    override_reason: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="a handheld's putaway to another bin than the first suggestion: why (the bin scan is refused "
                    "PUTAWAY_OVERRIDE_REASON_REQUIRED without it; send the same bin again with the reason)")
    pin: str | None = Field(
        default=None, min_length=1, max_length=32,
        description="with a badge scan of someone other than the signed-in user: that person's PIN (without it their "
                    "badge logs them on only while they are logged on at a page)")


class ScanAnswer(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def code(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def field(self) -> str | None: ...

    def to_json(self) -> dict[str, Any]: ...


class ScanHandler(Protocol):
    async def scan(self, device: str, text: str, *, idempotency_key: str, actor: str | None = None,
                   actor_roles: frozenset[str] = frozenset(), handheld: bool = False,
                   task: str | None = None, purchase_order: str | None = None,
                   putaway_rules: tuple[PutawayRule, ...] | None = None,
                   override_reason: str | None = None, pin: str | None = None) -> ScanAnswer: ...


def _handler(request: Request) -> ScanHandler:
    """The node's scan pipeline (takt.runtime builds it once; serial scanners and cameras scan through it too)."""
    handler: ScanHandler = request.app.state.scans
    live = getattr(request.app.state, "live", None)
    if live is not None:
        live.watch_scans(handler)  # its answers go to GET /api/v1/events too
    return handler


async def post_scan(request: Request) -> Response:
    user = await authorize(request, ROLES)
    try:
        body = ScanRequest.model_validate_json(await request.body() or b"{}")
    except ValidationError as err:
        return invalid_request(err.errors(include_url=False))
    key = (request.headers.get("idempotency-key") or "").strip().strip('"')
    if not KEY_PATTERN.match(key):
        return refusal(400, "IDEMPOTENCY_KEY_MISSING", "send an Idempotency-Key header: one per physical read",
                       "Idempotency-Key")
    device = body.device or request.headers.get("x-takt-device") or f"handheld:{user.user}"
    result = await _handler(request).scan(device, body.text, idempotency_key=key, actor=user.user,
                                          actor_roles=user.roles, handheld=body.device is None,
                                          task=body.task, purchase_order=body.purchase_order,
                                          # a handheld's page can ask why a lot goes elsewhere than suggested
                                          putaway_rules=(getattr(request.app.state, "putaway_rules", None)
                                                         if body.device is None else None),
                                          override_reason=body.override_reason, pin=body.pin)
    if result.ok:
        return JSONResponse(result.to_json(), status_code=200)
    status = STATUS.get(result.code or "", 409)
    return refusal(status, result.code or "REFUSED", result.message, result.field, scan=result.to_json())


def route() -> Route:
    return Route(PREFIX + "/scans", post_scan, methods=["POST"], name="post_scan")


class ScanAccepted(BaseModel):
    device: str
    workstation: str | None = Field(None, description="the device's workstation, when it is bound to one")
    text: str
    ok: bool
    message: str = Field(description="what the scan did, e.g. '8 of lot L1 issued to work order WO1'")
    label: str | None = Field(None, description="badge, work_order, bin, lot, sscc or product")
    code: str | None = None
    field: str | None = None
    command: str | None = Field(None, description="the command recorded, if the scan booked something")
    seq: int | None = Field(None, description="journal sequence number of the booking")
    replayed: bool = False


def add_to_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe POST /api/v1/scans (a plain Starlette route) in the OpenAPI document."""
    ref = "#/components/schemas/{model}"
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ScanRequest, ScanAccepted):
        schemas[model.__name__] = model.model_json_schema(ref_template=ref)
    refusal_ref = {"content": {"application/json": {"schema": {"$ref": ref.format(model="Refusal")}}}}
    schema.setdefault("paths", {})[PREFIX + "/scans"] = {"post": {
        "tags": ["scanning"], "summary": "A scan from a handheld or terminal: its meaning at that device",
        "operationId": "post_scan",
        "description": f"Roles: {', '.join(sorted(ROLES))}; a scan that books a command needs the roles of that "
                       "command's route (and, on behalf of an operator logged on at the device, theirs too); a "
                       "badge of someone else needs their `pin` or their open page session. The journal records "
                       "the caller (`recorded_by`), the operator (`on_behalf_of`) and the device. Without `device`, "
                       "the signed-in user's handheld. A lot "
                       "label during a consumption books an issue to the selected work order; in a putaway or move "
                       "task a lot label then a bin label moves the lot (the label's quantity, else all of it in "
                       "the bin the device is at) to that bin; in a pick task (kitting the selected work order) a "
                       "lot label then the staging bin books a pick; a badge, work-order or bin label changes the "
                       "device's context. GS1 labels may carry their AIM identifier and GS.",
        "parameters": [{**IDEMPOTENCY_KEY, "description": "One per physical read; a retry gets the first answer."}],
        "security": SECURITY,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": ref.format(model="ScanRequest")}}}},
        "responses": {
            "200": {"description": "Understood (and booked, when `command` is set)",
                    "content": {"application/json": {"schema": {"$ref": ref.format(model="ScanAccepted")}}}},
            **openapi_responses(COMMAND_RESPONSES),
            "401": {"description": "No valid bearer token", **refusal_ref},
            "403": {"description": "The caller's roles do not allow the command the scan would book (FORBIDDEN), "
                                   "or a badge that does not log on here: unknown (UNKNOWN_BADGE), someone else's "
                                   "without their PIN or page session (BADGE_PIN_REQUIRED), a wrong PIN "
                                   "(PIN_WRONG); nothing recorded", **refusal_ref},
            "409": {"description": "Refused by the plant's rules (WRONG_ITEM, LOT_EXPIRED, ...); nothing recorded",
                    **refusal_ref},
            "422": {"description": "Not a label this site knows, an invalid GS1 label, or an unknown device",
                    **refusal_ref},
            "429": {"description": "Too many wrong PINs for the badge's holder (PIN_LOCKED)", **refusal_ref},
            "503": {"description": "The store cannot record right now; scan again", **refusal_ref},
        },
    }}
    return schema
