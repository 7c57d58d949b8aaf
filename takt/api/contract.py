"""The HTTP API's contract in one place: the statuses each kind of route answers, the bearer scheme, the
Idempotency-Key header and the one refusal body, as the routes declare them and the OpenAPI document states them.

Two kinds of route: a *command* records something (POST/PUT/DELETE: 201, or 200 where nothing new is stored, and
the refusals below); a *read* answers from the store (GET: 200 and the refusals below). FastAPI routers take the
tables as ``responses=`` where they are declared (``APIRouter(..., responses=READ_RESPONSES,
dependencies=BEARER)``); the hand-written Starlette routes (``takt.api.commands``, ``scans``, ``live``) take them
through ``openapi_responses``. ``allow_header`` gives a 405 the methods of every route at the path, not only those of
the first route Starlette tried.
"""
from __future__ import annotations

import re
from typing import Any

from fastapi import Depends
from fastapi.security import HTTPBearer
from starlette.routing import Match
from starlette.types import Scope

from takt.api.models import Refusal

# A key names one action: 1-200 visible ASCII characters (no spaces). A retry sends the same key.
KEY_MAX_LENGTH = 200
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")

# The one security scheme: `Authorization: Bearer <token>` (a user's API token or a page session's token).
BEARER_SCHEME = "bearer"
_bearer = HTTPBearer(scheme_name=BEARER_SCHEME, auto_error=False,
                     description="A user's API token (site file) or a page session's token (POST /api/v1/sessions)")
# As a router's or route's dependencies: states the scheme in the OpenAPI document. The route's own check
# (takt.api.auth) answers 401/403; this one only reads the header and never refuses.
BEARER = [Depends(_bearer)]
SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": "^[!-~]{1,200}$"},
    "description": "One fresh value per action (1-200 visible ASCII characters, e.g. a UUID); a retry with the "
                   "same value gets the first answer (with `Idempotent-Replayed: true`) and records nothing new. "
                   "The same value with another body is refused with 422 IDEMPOTENCY_KEY_REUSED.",
}

_REFUSED = {"model": Refusal}
# Statuses every authenticated route may answer.
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {**_REFUSED, "description": "No valid bearer token (UNAUTHENTICATED); `WWW-Authenticate: Bearer`"},
    403: {**_REFUSED, "description": "The user's roles do not allow this (FORBIDDEN)"},
    404: {**_REFUSED, "description": "No such resource (UNKNOWN_..., NOT_FOUND), or a path parameter of the wrong "
                                     "form"},
    422: {**_REFUSED, "description": "The request does not fit the schema, or a value breaks a rule the schema "
                                     "cannot state (field names the input); nothing recorded"},
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = dict(_AUTH)
COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {**_REFUSED, "description": "Idempotency-Key missing or malformed (IDEMPOTENCY_KEY_MISSING, "
                                     "IDEMPOTENCY_KEY_INVALID), or an X-Takt-Origin header sent (ORIGIN_NOT_ACCEPTED)"},
    **_AUTH,
    409: {**_REFUSED, "description": "Refused by the plant's rules (code and message say why); nothing recorded"},
    413: {**_REFUSED, "description": "The request body is over the site's api.max_body_bytes (REQUEST_TOO_LARGE); "
                                     "nothing recorded"},
    503: {**_REFUSED, "description": "The store cannot record right now (STORE_UNAVAILABLE); nothing recorded, "
                                     "retry with the same key"},
}
# A decision signed with the PIN at a page (X-Takt-Pin) may meet the PIN's lockout.
SIGNED_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {**_REFUSED, "description": "Too many wrong PINs (PIN_LOCKED); try again after `Retry-After` seconds"},
}
# Routes that need no idempotency key but take a body (a device's selection, a label print, a sync exception's
# handling, what a scanned text is): a body that cannot be parsed is a 400.
ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMAND_RESPONSES,
    400: {**_REFUSED, "description": "The body cannot be parsed (HTTP_400)"},
}
# The logon (no token yet): a malformed body; the route itself states 401 (unknown badge, PIN) and 429 (lockout).
LOGON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {**_REFUSED, "description": "The body cannot be parsed (HTTP_400)"}, 413: COMMAND_RESPONSES[413],
    422: _AUTH[422], 503: COMMAND_RESPONSES[503]}

_REF = "#/components/schemas/{model}"


def openapi_responses(table: dict[int | str, dict[str, Any]]) -> dict[str, Any]:
    """``table`` (FastAPI's ``responses=`` form) as an OpenAPI responses object, for a hand-written route."""
    out: dict[str, Any] = {}
    for status, entry in table.items():
        response: dict[str, Any] = {"description": entry["description"]}
        model = entry.get("model")
        if model is not None:
            response["content"] = {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}
        out[str(status)] = response
    return out


# Rules a request that fits its schema may still break (422 with the code), because they are about the plant's data,
# relate two inputs in a way JSON Schema cannot state, or are arithmetic on a value: each operation's 422 says its own.
DATA_RULES: dict[tuple[str, str], str] = {
    ("get", "/api/v1/oee"): "INVALID_PERIOD: from is before to, at most 93 days apart",
    ("get", "/api/v1/b2mml/oee"): "INVALID_PERIOD: from is before to, at most 93 days apart",
    ("get", "/api/v1/b2mml/maintenance"): "INVALID_PERIOD: from is before to, at most 93 days apart",
    ("get", "/api/v1/downtime/stops"): "INVALID_PERIOD: from is before to, at most 93 days apart",
    ("get", "/api/v1/downtime/reliability"): "INVALID_PERIOD: from is before to, at most 93 days apart",
    ("post", "/api/v1/signatures"): "SIGNATURE_REQUIRED: the signer's PIN again in X-Takt-Pin (no schema holds a "
                                    "user's PIN); INVALID_MEANING: one of the site's policy.signature_meanings",
    ("get", "/api/v1/putaway/suggest"): "MISSING_VALUE: qty, or a lot to take its stock",
    ("get", "/api/v1/work-orders/{work_order}/pick-list"):
        "STAGING_BIN_REQUIRED: staging_bin, unless a scanning device at the order's workstations has a line-side bin",
    ("post", "/api/v1/inspections"): "MISSING_VALUE: a pass/fail characteristic's result says passed, a numeric one "
                                     "its value (the plan says which)",
    ("get", "/api/v1/spc/{plan}/{characteristic}"): "NOT_NUMERIC: only a numeric characteristic has a control chart",
    ("post", "/api/v1/inspection-plans"): "MISSING_LIMITS: a numeric characteristic has a lower or upper limit; "
                                          "MISSING_VALUE: an incoming plan names its item or supplier, a final one its "
                                          "item, an in-process one its operation and how often",
    ("post", "/api/v1/work-orders"): "DUPLICATE_OPERATION, DUPLICATE_LINE: each operation and BOM line number once",
    ("post", "/api/v1/stock/moves"): "SAME_BIN: from_bin and to_bin differ; MISSING_REASON: a putaway to another bin "
                                     "than the first suggestion says why (override_reason)",
    ("post", "/api/v1/work-orders/{work_order}/picks"): "SAME_BIN: from_bin and to_bin differ; MISSING_REASON: less "
                                                        "picked than asked says why (short_reason); INVALID_REQUEST "
                                                        "(field gtin): a GTIN's last digit is its GS1 check digit",
    ("post", "/api/v1/scans"): "UNKNOWN_LABEL: the text is a GS1 label or one of this site's labels",
    ("post", "/api/v1/pages/labels"): "UNKNOWN_LABEL: the text is a GS1 label or one of this site's labels",
    ("put", "/api/v1/pages/devices/{device}/work-order"):
        "UNKNOWN_DEVICE, UNKNOWN_WORK_ORDER: a scanning device of this node, a work order it knows",
    ("delete", "/api/v1/sessions/current"): "NOT_A_SESSION: a user's own API token is not a page session",
    ("post", "/api/v1/items"): "INVALID_REQUEST (field gtin): a GTIN's last digit is its GS1 check digit",
    ("post", "/api/v1/maintenance-requests/{maintenance_request}/notes"): "NOTHING_TO_ADD: a note, a photo or both",
    ("post", "/api/v1/work-orders/{work_order}/operations/{operation}/steps"):
        "MISSING_VALUE: a step captures what its kind asks (result, value, scanned or photo: the instruction says "
        "which); SIGNATURE_REQUIRED: a sign-off step carries the second person's PIN in X-Takt-Pin; NOT_SERIALISED, "
        "UNKNOWN_STEP: a serial only for a serialised item, a step of the instruction",
    ("post", "/api/v1/work-orders/{work_order}/operations/{operation}/units"):
        "GS1_INVALID, NO_SERIAL, INVALID_SERIAL: a scanned GS1 label is valid and has AI 21; a GS1 serial is 1-20 "
        "characters of set 82",
    ("post", "/api/v1/work-instructions"):
        "STEPS_OUT_OF_ORDER, MISSING_VALUE, INVALID_LIMITS: steps numbered 1, 2, 3, ...; a measurement has a limit "
        "(lsl <= usl) and a scan says what to scan",
    ("post", "/api/v1/photos"): "INVALID_PHOTO: the body is a JPEG or PNG picture of at most 8 MB",
    ("post", "/api/v1/waves/{wave}/picks/{pick}"): "MISSING_REASON: less picked than asked says why (short_reason)",
    ("put", "/api/v1/line-side-bins/{bin}"): "INVALID_QUANTITY: maximum above minimum; MISSING_VALUE: a kanban "
                                             "(kanban_bins above 0) names its pack",
}


def add_to_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """The parts of the contract the hand-written routes share: the bearer scheme, the refusal body, and the rules
    a schema-valid request may still break (each in its operation's 422)."""
    for (method, path), rule in DATA_RULES.items():
        refused = schema.get("paths", {}).get(path, {}).get(method, {}).get("responses", {}).get("422")
        if refused is not None:
            refused["description"] = f"{refused['description']}. Here: {rule}"
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "http", "scheme": "bearer", "description": _bearer.model.description}
    found = Refusal.model_json_schema(ref_template=_REF)
    components.setdefault("schemas", {}).update(found.pop("$defs", {}))
    components["schemas"][Refusal.__name__] = found
    return schema


def allow_header(routes: list[Any], scope: Scope) -> str:
    """The methods every route at the request's path answers (for a 405's ``Allow``), HEAD with GET."""
    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches({**scope, "method": "GET"})
        if match == Match.NONE:
            continue
        route_methods = getattr(route, "methods", None)
        if route_methods:
            methods.update(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))
