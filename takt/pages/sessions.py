"""Badge logons of the terminal and handheld pages, and the PIN e-signature of quality decisions.

A page cannot know a user's API token, so ``POST /api/v1/sessions`` turns a scanned badge (and the user's PIN) into a
session token: a bearer token with the user's roles, valid for one shift, that the page sends with every API call.
The existing routes stay the only way to change anything. A quality decision made from a page (a disposition) asks
for the PIN again; the signature is kept in the ``signatures`` table with who, what and when.

A badge is found by its code's hash, never by the user name (``edge.store.users``). Users whose roles change records
of others (supervisor, quality, admin) always need their PIN. The answer does not tell who exists: a badge without
a PIN gets ``PIN_REQUIRED`` whether or not anyone has it (unless it is a known badge that needs no PIN), and a wrong
PIN, an unknown badge, a disabled user or a privileged user without a PIN all get the same 401
``PIN_WRONG`` after the same work (one scrypt for the badge, one for the PIN). Failed logons are limited per
account and client address and kept in the store (``edge.store.logons``); a locked attempt gets 429 with
``Retry-After``. Every failure and lock is logged with the client address, never with the badge code or PIN.
"""
from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from edge.domain import DomainError
from edge.store import Store
from edge.store.directory import cached
from edge.store.logons import FailedLogons, LogonLimits
from edge.store.users import (
    User,
    badge_hash,
    close_session,
    open_session,
    record_signature,
    user_by_badge_hash,
    verify_pin,
)
from takt.api.auth import current_user
from takt.api.contract import BEARER, LOGON_RESPONSES, READ_RESPONSES
from takt.api.errors import refusal
from takt.api.models import Refusal
from takt.identity import BadgeHolder, Directory, DirectoryDown

SESSION_HOURS = 12  # one shift and a bit: a page session ends at log-off or after this

log = logging.getLogger("takt.logon")
router = APIRouter(prefix="/api/v1")


class LogonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    badge: str = Field(min_length=1, max_length=200, description="the badge as scanned (or its code typed)")
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


def failed_logons(request: Request) -> FailedLogons:
    """The store's failed-logon counts under the site's limits (``logon`` in the site file)."""
    found: FailedLogons | None = getattr(request.app.state, "failed_logons", None)
    if found is None:
        limits = getattr(request.app.state, "logon_limits", None)
        found = request.app.state.failed_logons = FailedLogons(request.app.state.store,
                                                               limits if isinstance(limits, LogonLimits) else None)
    return found


def client_address(request: Request) -> str:
    """The address the request came from (the TCP peer: a forwarded-for header is anyone's to write)."""
    return request.client.host if request.client is not None else "unknown"


def badge_code(request: Request, text: str) -> str:
    """The badge code in a scanned text: by the site's badge label pattern when there is one, else the text itself."""
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


def _refused(status: int, code: str, message: str, field: str | None,
             headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field}, headers=headers)


def _locked(code: str, wait: float, what: str, field: str | None) -> HTTPException:
    seconds = max(1, math.ceil(wait))
    return _refused(429, code, f"{what}: try again in {seconds} s", field, {"Retry-After": str(seconds)})


def _wrong() -> HTTPException:
    return _refused(401, "PIN_WRONG", "the badge or the PIN is not right", "pin")


async def _count_failure(request: Request, client: str, account: str | None, user: str | None, reason: str) -> None:
    locks = await run_in_threadpool(failed_logons(request).failed, client, account)
    log.warning("logon failed", extra={"client": client, "user": user, "reason": reason})
    for lock in locks:
        log.warning("logon locked", extra={"client": client, "user": user, "lock": lock.scope,
                                           "locked_s": lock.seconds})


@router.post("/sessions", tags=["pages"], status_code=201, response_model=Session,
             summary="Log on at a terminal or handheld page by badge (+ PIN): a session token with the user's roles",
             responses={**LOGON_RESPONSES,
                        401: {"model": Refusal, "description": "PIN_REQUIRED (send the PIN) or PIN_WRONG"},
                        429: {"model": Refusal,
                              "description": "too many failed logons (PIN_LOCKED, CLIENT_LOCKED); see Retry-After"},
                        503: {"model": Refusal,
                              "description": "STORE_UNAVAILABLE (the store cannot record right now), or "
                                             "DIRECTORY_UNAVAILABLE: the site's directory (identity) cannot be "
                                             "reached and the badge has no logon within its cache time; see "
                                             "Retry-After"}})
async def log_on(request: Request, body: LogonRequest) -> Session:
    store: Store = request.app.state.store
    failures = failed_logons(request)
    client = client_address(request)
    wait, _ = await run_in_threadpool(failures.locked_for, client)
    if wait > 0:  # refused before any work: a locked client costs the node nothing and extends nothing
        log.warning("logon refused: client locked", extra={"client": client, "locked_s": math.ceil(wait)})
        raise _locked("CLIENT_LOCKED", wait, "too many failed logons from this device", None)
    code = badge_code(request, body.badge)
    hashed = await run_in_threadpool(badge_hash, store, code)
    found = await run_in_threadpool(user_by_badge_hash, store, hashed)
    directory: Directory | None = getattr(request.app.state, "directory", None)
    if directory is not None and (found is None or await run_in_threadpool(cached, store, found.user) is not None):
        return await _log_on_from_directory(request, body, directory, code, hashed, found, client)
    # a disabled user and a device account (which never logs on at a page) are answered like an unknown badge
    user = found if found is not None and found.active and found.roles - {"service"} else None
    account = user.user if user is not None else f"badge:{hashed[:16]}"
    wait, _ = await run_in_threadpool(failures.locked_for, client, account)
    if wait > 0:
        log.warning("logon refused: locked", extra={"client": client, "user": user.user if user else None,
                                                    "locked_s": math.ceil(wait)})
        raise _locked("PIN_LOCKED", wait, "too many wrong PINs for this badge", "pin")
    if user is None or user.has_pin or user.privileged:  # a PIN is needed
        if body.pin is None:
            if user is None:  # counted for the client: guessing badges is guessing too
                await _count_failure(request, client, None, None, _unknown(found))
            raise _refused(401, "PIN_REQUIRED", "enter your PIN", "pin")
        right = await run_in_threadpool(verify_pin, user.pin_hash if user is not None else None, body.pin)
        if user is None or not right:
            reason = _unknown(found) if user is None else ("wrong_pin" if user.has_pin else "privileged_without_pin")
            await _count_failure(request, client, account, user.user if user else None, reason)
            raise _wrong()
        await run_in_threadpool(failures.passed, client, account)
    return await _session(request, body, user, client)


async def _session(request: Request, body: LogonRequest, user: User, client: str, **logged: Any) -> Session:
    """Open the page session of a user whose logon holds."""
    store: Store = request.app.state.store
    if body.device is not None:
        _operator_at(request, body.device, user.user)
    lifetime = timedelta(hours=SESSION_HOURS)
    token = await run_in_threadpool(open_session, store, user.user, body.device, lifetime)
    request.app.state.tokens.clear()
    log.info("logon", extra={"client": client, "user": user.user, "device": body.device, **logged})
    return Session(token=token, user=user.user, name=user.name, roles=sorted(user.roles), language=user.language,
                   has_pin=user.has_pin, expires_in_s=int(lifetime.total_seconds()))


async def _log_on_from_directory(request: Request, body: LogonRequest, directory: Directory, code: str,
                                 hashed: str, found: User | None, client: str) -> Session:
    """A badge logon of a person from the plant's directory (``takt.identity``): the directory (or, while it is
    away, the store's cache of its last answers) says who holds the badge and with which roles; the second factor
    is the directory password. Refusals answer as for site-file users; nobody to ask gives 503."""
    store: Store = request.app.state.store
    failures = failed_logons(request)
    try:
        holder = await run_in_threadpool(directory.holder_of_badge, store, code, found, hashed)
    except DirectoryDown as exc:
        log.warning("logon refused: directory unavailable", extra={"client": client, "reason": str(exc)})
        raise _refused(503, "DIRECTORY_UNAVAILABLE", "the directory cannot be reached and this badge has no recent "
                       "logon on this node: try again later or ask a supervisor", None,
                       {"Retry-After": "30"}) from None
    user = holder.user
    if user is None and holder.reason in ("user_disabled", "no_takt_role"):
        request.app.state.tokens.clear()  # their open sessions end now, not when the token cache runs out
    account = user.user if user is not None else f"badge:{hashed[:16]}"
    wait, _ = await run_in_threadpool(failures.locked_for, client, account)
    if wait > 0:
        log.warning("logon refused: locked", extra={"client": client, "user": user.user if user else None,
                                                    "locked_s": math.ceil(wait)})
        raise _locked("PIN_LOCKED", wait, "too many wrong PINs for this badge", "pin")
    if user is None or directory.needs_password(user):
        if body.pin is None:
            if user is None:
                await _count_failure(request, client, None, None, holder.reason)
            raise _refused(401, "PIN_REQUIRED", "enter your PIN", "pin")
        right = await run_in_threadpool(directory.second_factor, store, holder, body.pin)
        if user is None or not right:
            await _count_failure(request, client, account, user.user if user else None,
                                 holder.reason if user is None else "wrong_directory_password")
            raise _wrong()
        await run_in_threadpool(failures.passed, client, account)
    return await _session(request, body, user, client, directory="cache" if holder.from_cache else "live")


def _unknown(found: User | None) -> str:
    """Why a badge was answered as unknown (for the log only)."""
    if found is None:
        return "unknown_badge"
    return "user_disabled" if not found.active else "device_account"


def _operator_at(request: Request, device: str, operator: str | None) -> None:
    """The terminal's scanning device books its scans for the user now logged on there (as a badge scan would)."""
    from dataclasses import replace

    pipeline = getattr(request.app.state, "scans", None)
    contexts = getattr(pipeline, "contexts", None)
    if contexts is None or device not in contexts:
        raise _refused(422, "UNKNOWN_DEVICE", f"device {device} is not a scanning device of this node", "device")
    contexts[device] = replace(contexts[device], operator=operator)


@router.delete("/sessions/current", tags=["pages"], status_code=204, responses=READ_RESPONSES, dependencies=BEARER,
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


async def _directory_holder(request: Request, user: User) -> BadgeHolder | None:
    """The directory's entry of a person from the plant's directory (their second factor is their directory
    password), or None for a site-file user."""
    directory: Directory | None = getattr(request.app.state, "directory", None)
    if directory is None:
        return None
    entry = await run_in_threadpool(cached, request.app.state.store, user.user)
    return BadgeHolder(user, dn=entry.dn) if entry is not None else None


async def signature_refusal(request: Request, user: User, meaning: str) -> JSONResponse | None:
    """Why ``user`` cannot sign a ``meaning`` with the PIN in ``X-Takt-Pin`` now (no PIN, locked out, none given,
    wrong: a wrong one counts as a failed logon), or None when the signature holds. A person from the plant's
    directory signs with their directory password (asked of the directory; while it is down, checked against the
    last one it accepted, as at logon)."""
    holder = await _directory_holder(request, user)
    if holder is None and not user.has_pin:
        return refusal(403, "SIGNATURE_NEEDS_PIN", f"{user.user} has no PIN and cannot sign a {meaning}: ask an "
                       "administrator for one", "X-Takt-Pin")
    failures = failed_logons(request)
    client = client_address(request)
    wait, _ = await run_in_threadpool(failures.locked_for, client, user.user)
    if wait > 0:
        log.warning("signature refused: locked", extra={"client": client, "user": user.user,
                                                        "locked_s": math.ceil(wait)})
        seconds = max(1, math.ceil(wait))
        locked = refusal(429, "PIN_LOCKED", f"too many wrong PINs for {user.user}: try again in {seconds} s",
                         "X-Takt-Pin")
        locked.headers["Retry-After"] = str(seconds)
        return locked
    pin = request.headers.get("x-takt-pin")
    if not pin:
        return refusal(403, "SIGNATURE_REQUIRED", f"a {meaning} is signed: enter your PIN again", "X-Takt-Pin")
    if holder is not None:
        directory: Directory = request.app.state.directory
        right = await run_in_threadpool(directory.second_factor, request.app.state.store, holder, pin)
    else:
        right = await run_in_threadpool(user.check_pin, pin)
    if not right:
        await _count_failure(request, client, user.user, user.user, "wrong_signature_pin")
        return refusal(403, "SIGNATURE_INVALID", "the PIN is not right: nothing recorded", "X-Takt-Pin")
    await run_in_threadpool(failures.passed, client, user.user)
    return None


async def audit_signature(request: Request, user: User, meaning: str, fields: dict[str, Any]) -> None:
    """Audit the signature of a recorded decision (a resent request with the same Idempotency-Key signs once)."""
    subject = str(fields.get("ncr") or fields.get("lot") or fields.get("work_order") or "")
    what = f"{meaning}: {fields['disposition']}" if "disposition" in fields else meaning
    await run_in_threadpool(record_signature, request.app.state.store, user.user, what, subject,
                            request.headers.get("idempotency-key", "").strip().strip('"'),
                            request.headers.get("x-takt-device"))


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
