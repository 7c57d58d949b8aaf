"""The Tryton adapter's JSON-RPC client (trytond 8.x): login, typed values, gzip, and the retries its server needs.

Tryton's JSON-RPC endpoint is ``POST /<database>/rpc/`` with ``{"id", "method", "params"}``; a session is a
``Authorization: Session base64(login:uid:token)`` header. Business errors come back with HTTP 200 and
``{"error": ["UserError", [message, description]]}`` (:class:`TrytonUserError`); a row lock or a serialization
failure is HTTP 503 and is worth retrying (:class:`TrytonBusy`); a method not exposed over RPC is HTTP 403.
Dates, datetimes, decimals and time deltas travel as ``{"__class__": ..., ...}`` objects (:func:`encode`,
:func:`decode`).

Two traps of trytond 8.2 handled here: without ``Accept-Encoding: gzip`` a large answer is streamed token by
token (about 9x slower), and some uncompressed answers are labelled ``Content-Encoding: gzip``, so the raw bytes
are read and decompressed only when they start with the gzip magic.

:class:`JsonRpcSession` holds what any client of this wire format shares (the endpoint, the login, the headers,
the request body); :class:`TrytonRPC` is the product's asynchronous one. A blocking one for setting up test data
lives with the throwaway Tryton of the tests and benchmarks (``simulators/tryton.py``).
"""
from __future__ import annotations

import base64
import gzip
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from edge.retry import RetryPolicy


class TrytonError(Exception):
    """Tryton answered with an error (``kind`` is e.g. UserError, AccessError, ValidationError)."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {message}" + (f" ({detail})" if detail else ""))
        self.kind, self.message, self.detail = kind, message, detail


class TrytonUserError(TrytonError):
    """A business rule refused the call: a wrong state, a missing lot, a validation error."""


class TrytonBusy(Exception):
    """HTTP 503: a lock or serialization failure; the same call may succeed a moment later."""


class TrytonUnreachable(Exception):
    """The server cannot be reached, timed out or failed (5xx other than a lock)."""


class TrytonForbidden(Exception):
    """HTTP 401/403: a bad login, an expired session or a method not exposed over RPC."""


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    raise TypeError(f"cannot send a {type(value).__name__} to Tryton")


def encode(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def _hook(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind is None:
        return obj
    if kind == "datetime":
        return datetime(obj["year"], obj["month"], obj["day"], obj.get("hour", 0), obj.get("minute", 0),
                        obj.get("second", 0), obj.get("microsecond", 0))
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "timedelta":
        return timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def decode(raw: bytes) -> Any:
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw, object_hook=_hook)


def result_of(status: int, raw: bytes) -> Any:
    """The result of an answer with HTTP ``status`` and body ``raw``, or the error it stands for."""
    if status == 503:
        raise TrytonBusy("Tryton answered 503 (a lock or serialization failure)")
    if status in (401, 403):
        raise TrytonForbidden(f"Tryton answered {status}")
    if status >= 400:
        raise TrytonUnreachable(f"Tryton answered {status}: {raw[:200]!r}")
    answer = decode(raw)
    error = answer.get("error")
    if error is not None:
        if isinstance(error, list) and error:
            kind = str(error[0])
            args = error[1] if len(error) > 1 and isinstance(error[1], list) else [error[1:]]
            message = str(args[0]) if args else kind
            detail = str(args[1]) if len(args) > 1 and isinstance(args[1], str) else ""
        else:
            kind, message, detail = "Error", str(error), ""
        if kind in ("UserError", "UserWarning", "ValidationError", "RequiredValidationError",
                    "DomainValidationError", "SelectionValidationError", "SizeValidationError",
                    "DigitsValidationError", "ForeignKeyError", "SQLConstraintError", "AccessError",
                    "ImportDataError", "AccessButtonError"):
            raise TrytonUserError(kind, message, detail)
        if kind in ("ConcurrencyException",):
            raise TrytonBusy(message)
        raise TrytonError(kind, message, detail)
    return answer.get("result")


class JsonRpcSession:
    """What every client of Tryton's JSON-RPC shares: the endpoint, the session header, the login's parameters
    and answer, and numbered request bodies."""

    def __init__(self, url: str, database: str, user: str, password: str) -> None:
        self.endpoint = f"{url.rstrip('/')}/{database}/rpc/"
        self.user = user
        self.password = password
        self.session: str | None = None
        self.uid: int | None = None
        self.context: dict[str, Any] = {}
        self._id = 0

    def _body(self, method: str, params: list[Any]) -> bytes:
        self._id += 1
        return encode({"id": self._id, "method": method, "params": params})

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
        if self.session is not None:
            headers["Authorization"] = f"Session {self.session}"
        return headers

    def _login_params(self) -> list[Any]:
        return [self.user, {"password": self.password}, "en"]

    def _set_session(self, result: Any) -> None:
        if not isinstance(result, list) or len(result) < 2:
            raise TrytonForbidden(f"Tryton refused the login of {self.user!r}")
        uid, token = result[0], result[1]
        self.uid = int(uid)
        self.session = base64.b64encode(f"{self.user}:{uid}:{token}".encode()).decode()


class TrytonRPC(JsonRpcSession):
    """Async JSON-RPC session. ``call`` retries 503s ``busy_retries`` times with a short backoff (50 ms doubling
    up to 1 s); other failures raise at once (the caller decides)."""

    def __init__(self, url: str, database: str, user: str, password: str, *, timeout_s: float = 30.0,
                 busy_retries: int = 5) -> None:
        super().__init__(url, database, user, password)
        self.busy_retries = busy_retries
        self.busy = RetryPolicy(attempts=busy_retries + 1, initial_s=0.05, maximum_s=1.0)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)))

    async def close(self) -> None:
        await self._http.aclose()

    async def _post(self, body: bytes) -> Any:
        try:
            request = self._http.build_request("POST", self.endpoint, content=body, headers=self._headers())
            response = await self._http.send(request, stream=True)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise TrytonUnreachable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
        return result_of(response.status_code, raw)

    async def login(self) -> None:
        self.session = None
        self._set_session(await self._post(self._body("common.db.login", self._login_params())))
        prefs = await self._post(self._body("model.res.user.get_preferences", [True, {}]))
        self.context = dict(prefs) if isinstance(prefs, dict) else {}

    async def call(self, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """``model.<model>.<method>`` with ``args`` and the session's context (plus ``context``) last."""
        if self.session is None:
            await self.login()

        async def attempt() -> Any:
            return await self._post(self._body(method, [*args, {**self.context, **(context or {})}]))

        try:
            return await self.busy.call(attempt, TrytonBusy)
        except TrytonForbidden:
            if self.session is None:
                raise
            await self.login()  # the session expired (the server restarted): log in again once
            return await self.busy.call(attempt, TrytonBusy)
