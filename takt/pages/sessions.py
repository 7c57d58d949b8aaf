"""Badge logons of the terminal and handheld pages, and the PIN e-signature of quality decisions.

A page cannot know a user's API token, so ``POST /api/v1/sessions`` turns a scanned badge (and the user's PIN, when
they have one) into a session token: a bearer token with the user's roles, valid for one shift, that the page sends
with every API call. The existing routes stay the only way to change anything. A quality decision made from a page
(a disposition) asks for the PIN again; the signature is kept in the ``signatures`` table with who, what and when.
"""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from edge.domain import DomainError
from edge.store import Store
from edge.store.users import User, close_session, open_session, record_signature, user_by_name
from takt.api.auth import current_user
from takt.api.errors import refusal

SESSION_HOURS = 12  # one shift and a bit: a page session ends at log-off or after this
MAX_PIN_FAILURES = 5  # wrong PINs in a row for one badge before it is locked for LOCK_SECONDS
LOCK_SECONDS = 60.0

router = APIRouter(prefix="/api/v1")


class LogonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    badge: str = Field(min_length=1, max_length=200, description="the badge as scanned (or the user's code)")
    pin: str | None = Field(default=None, min_length=1, max_length=32)
    device: str | None = Field(default=None, min_length=1, max_length=100,
                               description="the terminal's scanning device: its scans are booked for this user")


class Session(BaseModel):
    token: str = Field(description="bearer token for the page's API calls until log-off or expiry")
    user: str
    name: str
    roles: list[str]
    language: str
    has_pin: bool
    expires_in_s: int


class PinFailures:
    """Wrong PINs per badge: after MAX_PIN_FAILURES in a row the badge is locked for a while."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, float]] = {}

    def locked_for(self, user: str) -> float:
        count, until = self.failures.get(user, (0, 0.0))
        return max(0.0, until - time.monotonic()) if count >= MAX_PIN_FAILURES else 0.0

    def failed(self, user: str) -> None:
        count, _ = self.failures.get(user, (0, 0.0))
        self.failures[user] = (count + 1, time.monotonic() + LOCK_SECONDS)

    def passed(self, user: str) -> None:
        self.failures.pop(user, None)


def _failures(request: Request) -> PinFailures:
    found: PinFailures | None = getattr(request.app.state, "pin_failures", None)
    if found is None:
        found = request.app.state.pin_failures = PinFailures()
    return found


def badge_user(request: Request, text: str) -> str:
    """The user a scanned badge names: by the site's badge label pattern when there is one, else the text itself."""
    pipeline = getattr(request.app.state, "scans", None)
    patterns = getattr(pipeline, "patterns", None)
    if patterns is not None and "badge" in patterns.patterns:
        label = patterns.classify(text)
        if label is not None and label.kind == "badge":
            return str(label.value)
        if label is not None:
            raise _refused(422, "NOT_A_BADGE", f"{text!r} is a {label.kind.replace('_', ' ')} label, not a badge",
                           "badge")
    return text


def _refused(status: int, code: str, message: str, field: str | None) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field})


@router.post("/sessions", tags=["pages"], status_code=201, response_model=Session,
             summary="Log on at a terminal or handheld page by badge (+ PIN): a session token with the user's roles")
async def log_on(request: Request, body: LogonRequest) -> Session:
    store: Store = request.app.state.store
    code = badge_user(request, body.badge)
    user = await run_in_threadpool(user_by_name, store, code)
    if user is None or not user.active:
        raise _refused(401, "UNKNOWN_BADGE", f"badge {code} does not belong to an active user here", "badge")
    if not user.roles - {"service"}:
        raise _refused(403, "FORBIDDEN", f"{user.user} is a device account: it cannot log on at a page", "badge")
    failures = _failures(request)
    if user.pin_sha256 is not None:
        wait = failures.locked_for(user.user)
        if wait > 0:
            raise _refused(429, "PIN_LOCKED", f"too many wrong PINs for {user.user}: try again in {wait:.0f} s",
                           "pin")
        if body.pin is None:
            raise _refused(401, "PIN_REQUIRED", f"{user.name}: enter your PIN", "pin")
        if not user.check_pin(body.pin):
            failures.failed(user.user)
            raise _refused(401, "PIN_WRONG", "the PIN is not right", "pin")
        failures.passed(user.user)
    if body.device is not None:
        _operator_at(request, body.device, user.user)
    lifetime = timedelta(hours=SESSION_HOURS)
    token = await run_in_threadpool(open_session, store, user.user, body.device, lifetime)
    request.app.state.tokens.clear()
    return Session(token=token, user=user.user, name=user.name, roles=sorted(user.roles), language=user.language,
                   has_pin=user.pin_sha256 is not None, expires_in_s=int(lifetime.total_seconds()))


def _operator_at(request: Request, device: str, operator: str | None) -> None:
    """The terminal's scanning device books its scans for the user now logged on there (as a badge scan would)."""
    from dataclasses import replace

    pipeline = getattr(request.app.state, "scans", None)
    contexts = getattr(pipeline, "contexts", None)
    if contexts is None or device not in contexts:
        raise _refused(422, "UNKNOWN_DEVICE", f"device {device} is not a scanning device of this node", "device")
    contexts[device] = replace(contexts[device], operator=operator)


@router.delete("/sessions/current", tags=["pages"], status_code=204,
               summary="Log off: the page's session token stops working")
async def log_off(request: Request, device: str | None = None) -> Response:
    user = await current_user(request)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    if not user.session:
        raise _refused(422, "NOT_A_SESSION", "this token is a user's own token, not a page session", "Authorization")
    await run_in_threadpool(close_session, request.app.state.store, token)
    request.app.state.tokens.clear()
    if device is not None:
        contexts = getattr(getattr(request.app.state, "scans", None), "contexts", {})
        if device in contexts and contexts[device].operator == user.user:
            _operator_at(request, device, None)
    return Response(status_code=204)


async def signed_record(request: Request, user: User, body: Any, command: Any, meaning: str,
                        fields: dict[str, Any]) -> JSONResponse:
    """Record ``command`` as an e-signed decision: the user's PIN in ``X-Takt-Pin`` must be right; the signature
    is audited once the decision is recorded (a resent request with the same Idempotency-Key signs once)."""
    from takt.api.commands import record

    if user.pin_sha256 is None:
        return refusal(403, "SIGNATURE_NEEDS_PIN", f"{user.user} has no PIN and cannot sign a {meaning}: ask an "
                       "administrator for one", "X-Takt-Pin")
    failures = _failures(request)
    wait = failures.locked_for(user.user)
    if wait > 0:
        return refusal(429, "PIN_LOCKED", f"too many wrong PINs for {user.user}: try again in {wait:.0f} s",
                       "X-Takt-Pin")
    pin = request.headers.get("x-takt-pin")
    if not pin:
        return refusal(403, "SIGNATURE_REQUIRED", f"a {meaning} is signed: enter your PIN again", "X-Takt-Pin")
    if not user.check_pin(pin):
        failures.failed(user.user)
        return refusal(403, "SIGNATURE_INVALID", "the PIN is not right: nothing recorded", "X-Takt-Pin")
    failures.passed(user.user)
    answer = await record(request, user, body, command, **fields)
    if answer.status_code == 201:
        subject = str(fields.get("ncr") or fields.get("lot") or fields.get("work_order") or "")
        what = f"{meaning}: {fields['disposition']}" if "disposition" in fields else meaning
        await run_in_threadpool(record_signature, request.app.state.store, user.user, what, subject,
                                request.headers.get("idempotency-key", "").strip().strip('"'),
                                request.headers.get("x-takt-device"))
    return answer


def label_of(request: Request, text: str) -> dict[str, Any]:
    """What a scanned text is (kind and values), by the node's scan pipeline, without booking anything."""
    from takt.api.scans import _handler

    try:
        label = _handler(request).label(text)  # type: ignore[attr-defined]
    except DomainError as err:
        raise _refused(422, err.code, err.message, "text") from None
    return {"kind": label.kind, "value": label.value, "gtin": label.gtin, "lot": label.lot, "serial": label.serial,
            "expiry": label.expiry.isoformat() if label.expiry else None,
            "quantity": str(label.quantity) if label.quantity is not None else None, "gs1": label.gs1}
