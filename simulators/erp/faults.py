"""Fault switches of the central simulator, for tests: down, slow, 500s, dropped connections, rejected events,
and a crash after a batch is stored but before it is answered.

They act on the sync routes (``/sync/v1/...``) only, so a test can always switch them off again through
``POST /sim/v1/faults``. Switches set through the HTTP API and through :class:`Faults` directly are the same.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from erp_sync.protocol import PREFIX


class RejectRule(BaseModel):
    """Reject every pushed event of this ``type`` (and, when given, this ``subject``) with ``code``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str | None = Field(default=None, description="the event type, e.g. ProductionReported; None: any type")
    subject: str | None = Field(default=None, description="e.g. work_order:WO-1; None: any subject")
    code: str = Field(default="REJECTED_BY_ERP", min_length=1)
    message: str = "the ERP refused this event (fault switch)"

    def matches(self, event_type: str, subject: str) -> bool:
        return (self.type is None or self.type == event_type) and (self.subject is None or self.subject == subject)


class FaultSettings(BaseModel):
    """The body of ``POST /sim/v1/faults``: the fields given replace the current switches; ``reset`` clears all
    first."""

    model_config = ConfigDict(extra="forbid")
    reset: bool = False
    down: bool | None = Field(default=None, description="answer every sync request 503 SERVICE_DOWN")
    delay_ms: int | None = Field(default=None, ge=0, le=600_000, description="wait this long before handling a sync request")
    fail_next: int | None = Field(default=None, ge=0, description="answer the next N sync requests 500")
    drop_next: int | None = Field(default=None, ge=0, description="drop the connection of the next N pushes mid-batch "
                                                          "(after reading part of the body, nothing stored)")
    crash_after_store: bool | None = Field(default=None, description=(
        "os._exit(70) right after the next push is committed, before answering (a simulator in a subprocess); "
        "in-process (running_erp_sim) the connection is dropped instead and the switch turns itself off"))
    reject: list[RejectRule] | None = Field(default=None, description="business rejections to apply to pushed events")


@dataclass
class Faults:
    """The current switches (thread-safe: the sync routes run in a thread pool)."""

    down: bool = False
    delay_ms: int = 0
    fail_next: int = 0
    drop_next: int = 0
    crash_after_store: bool = False
    reject: list[RejectRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply(self, settings: FaultSettings) -> None:
        with self._lock:
            if settings.reset:
                self.down, self.delay_ms, self.fail_next, self.drop_next = False, 0, 0, 0
                self.crash_after_store, self.reject = False, []
            for name in ("down", "delay_ms", "fail_next", "drop_next", "crash_after_store"):
                value = getattr(settings, name)
                if value is not None:
                    setattr(self, name, value)
            if settings.reject is not None:
                self.reject = list(settings.reject)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"down": self.down, "delay_ms": self.delay_ms, "fail_next": self.fail_next,
                    "drop_next": self.drop_next, "crash_after_store": self.crash_after_store,
                    "reject": [r.model_dump() for r in self.reject]}

    def take(self, name: Literal["fail_next", "drop_next"]) -> bool:
        """Use one of a counted switch; True if it was armed."""
        with self._lock:
            left: int = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def rejection(self, event_type: str, subject: str) -> RejectRule | None:
        for rule in self.reject:
            if rule.matches(event_type, subject):
                return rule
        return None


def _json(status: int, code: str, message: str) -> tuple[Message, Message]:
    import json

    body = json.dumps({"code": code, "message": message}).encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


class DroppedConnection(Exception):
    """Raised after a partial answer has started: the server then closes the connection without finishing it."""


class AnswerLost(Exception):
    """The batch is stored but its answer must never arrive (``crash_after_store`` in a simulator that runs
    in the test's own process, where exiting is not an option)."""


async def drop_connection(receive: Receive, send: Send, *, read_first: bool) -> None:
    """Start an answer, send a few bytes of it, and raise: uvicorn then closes the connection mid-answer."""
    if read_first:
        await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
    await send({"type": "http.response.body", "body": b'{"protocol":', "more_body": True})
    raise DroppedConnection("fault switch: connection dropped")


class FaultGate:
    """ASGI middleware in front of the simulator that plays the switches on the sync routes."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if faults.down:
            for message in _json(503, "SERVICE_DOWN", "the ERP is down (fault switch)"):
                await send(message)
            return
        if faults.take("fail_next"):
            for message in _json(500, "INTERNAL_ERROR", "the ERP failed (fault switch)"):
                await send(message)
            return
        if scope.get("method") == "POST" and faults.take("drop_next"):
            # the first part of the batch arrives, then the line goes dead
            await drop_connection(receive, send, read_first=True)
        await self.app(scope, receive, send)
