"""GET /api/v1/events: live feedback as server-sent events — every durable event the node records and the answer to
every scan (booked or refused, with its code), optionally only for one workstation or one device. Terminal and
handheld pages listen to it.

The writer thread hands each commit's events to the event loop (``call_soon_threadsafe``) and returns at once; the
loop puts them into every listening client's bounded queue. A client too slow to keep up is dropped (it gets a
last ``dropped`` event when it reads again, and reconnects): the writer never waits for a client.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from takt.api.auth import current_user
from takt.api.commands import PREFIX
from takt.api.contract import READ_RESPONSES, SECURITY, openapi_responses
from takt.api.errors import invalid_request

log = logging.getLogger("takt.api.live")

QUEUE_SIZE = 1000  # messages a client may lag behind before it is dropped
HEARTBEAT_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
_CLOSE = object()


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workstation: str | None = Field(default=None, min_length=1, max_length=100)
    device: str | None = Field(default=None, min_length=1, max_length=100)


@dataclass(eq=False)
class Listener:
    """One connected client: what it asked for and the messages waiting for it."""

    workstation: str | None
    device: str | None
    queue: asyncio.Queue[Any]
    dropped: bool = False

    def wants(self, device: str | None, workstation: str | None) -> bool:
        if self.device is not None and device != self.device:
            return False
        return self.workstation is None or workstation == self.workstation


class LiveFeed:
    """Fans recorded events and scan answers out to the connected clients of one app (one event loop)."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self.listeners: set[Listener] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        self._scan_sources: list[Any] = []

    # --- inputs ---------------------------------------------------------------------------------

    def recorded(self, events: list[dict[str, Any]]) -> None:
        """``Service.on_recorded`` listener, called in the writer thread: hand over to the loop and return."""
        loop = self.loop
        if loop is None or not self.listeners:
            return
        try:
            loop.call_soon_threadsafe(self._fan_out_events, events)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass

    def scanned(self, result: Any) -> None:
        """Scan pipeline listener (in the loop): the answer to one scan, for the device's clients."""
        if not self.listeners:
            return
        message = ("scan", None, result.to_json())
        for listener in list(self.listeners):
            if listener.wants(result.device, result.workstation):
                self._put(listener, message)

    def watch_scans(self, pipeline: Any) -> None:
        """Listen to a scan pipeline's answers (once per pipeline)."""
        if pipeline is None or any(p is pipeline for p in self._scan_sources):
            return
        on_result = getattr(pipeline, "on_result", None)
        if on_result is not None:
            on_result(self.scanned)
            self._scan_sources.append(pipeline)

    def close(self) -> None:
        """End every stream (the node is shutting down)."""
        for listener in list(self.listeners):
            self._put(listener, _CLOSE)

    # --- fan-out --------------------------------------------------------------------------------

    def _workstation_of(self, device: str | None) -> str | None:
        if device is None:
            return None
        for pipeline in self._scan_sources:
            context = pipeline.contexts.get(device)
            if context is not None and context.workstation is not None:
                return str(context.workstation)
        return None

    def _fan_out_events(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            device = ev.get("device")
            workstation = self._workstation_of(device)
            message = ("recorded", ev["seq"], {**ev, "workstation": workstation})
            for listener in list(self.listeners):
                if listener.wants(device, workstation):
                    self._put(listener, message)

    def _put(self, listener: Listener, message: Any) -> None:
        try:
            listener.queue.put_nowait(message)
        except asyncio.QueueFull:
            if not listener.dropped:
                listener.dropped = True
                self.dropped += 1
                log.warning("live client dropped: %d messages behind", listener.queue.qsize(),
                            extra={"device": listener.device, "workstation": listener.workstation})
            self.listeners.discard(listener)

    def subscribe(self, workstation: str | None, device: str | None) -> Listener:
        self.loop = asyncio.get_running_loop()
        listener = Listener(workstation, device, asyncio.Queue(self.queue_size))
        self.listeners.add(listener)
        return listener

    async def stream(self, listener: Listener) -> AsyncIterator[bytes]:
        try:
            ready = {"workstation": listener.workstation, "device": listener.device}
            yield _sse("ready", None, ready)
            while True:
                if listener.dropped:
                    yield _sse("dropped", None, {"reason": f"more than {self.queue_size} messages behind: reconnect "
                                                          "and read the current state"})
                    return
                try:
                    message = await asyncio.wait_for(listener.queue.get(), HEARTBEAT_S)
                except TimeoutError:  # (a client that went away cancels this generator: Starlette listens)
                    yield b": keep-alive\n\n"
                    continue
                if message is _CLOSE:
                    return
                if listener.dropped:
                    continue  # the loop above says so
                kind, seq, data = message
                yield _sse(kind, seq, data)
        finally:
            self.listeners.discard(listener)


def _sse(kind: str, seq: int | None, data: dict[str, Any]) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


def feed(request: Request) -> LiveFeed:
    live: LiveFeed = request.app.state.live
    live.watch_scans(getattr(request.app.state, "scans", None))
    return live


async def get_events(request: Request) -> Response:
    await current_user(request)
    try:
        query = EventsQuery.model_validate(dict(request.query_params))
    except ValidationError as err:
        return invalid_request(err.errors(include_url=False))
    live = feed(request)
    listener = live.subscribe(query.workstation, query.device)
    return StreamingResponse(live.stream(listener), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def route() -> Route:
    return Route(PREFIX + "/events", get_events, methods=["GET"], name="get_events")


def add_to_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe GET /api/v1/events (a plain Starlette route) in the OpenAPI document."""
    schema.setdefault("paths", {})[PREFIX + "/events"] = {"get": {
        "tags": ["live"], "summary": "Live feedback: recorded events and scan answers as server-sent events",
        "operationId": "get_events",
        "description": "A `text/event-stream`. First `event: ready`; then `event: recorded` (id: the journal "
                       "sequence; data: seq, type, subject, command, actor, device, workstation) for every durable "
                       "event, and `event: scan` (data: the scan's answer, ok or refused with code and message) for "
                       "every scan. `workstation` / `device` keep only what comes from that workstation's devices / "
                       "that device. A client that falls too far behind gets `event: dropped` and should reconnect. "
                       "Any signed-in user.",
        "parameters": [
            {"name": "workstation", "in": "query", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 100}},
            {"name": "device", "in": "query", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 100}},
        ],
        "security": SECURITY,
        "responses": {"200": {"description": "The event stream", "content": {"text/event-stream": {}}},
                      **openapi_responses(READ_RESPONSES)},
    }}
    return schema
