"""GET /api/v1/events: live feedback as server-sent events — every durable event the node records and the answer to
every scan (booked or refused, with its code), optionally only for one workstation or one device. Terminal and
handheld pages listen to it.

The writer thread hands each commit's events to the event loop (``call_soon_threadsafe``) and returns at once; the
loop puts them into every listening client's bounded queue. A client too slow to keep up is dropped (it gets a
last ``dropped`` event when it reads again, and reconnects): the writer never waits for a client.

A stream lives no longer than the token that opened it: every ``TOKEN_CHECK_S`` the token is looked up again (the
token cache, which a log-off clears), and a session logged off or expired, or a user disabled, ends the stream with
a last ``closed`` event. One user may hold at most ``max_streams_per_user`` streams at once (``api`` section of
the site file); one more is refused with 429.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from takt.api.auth import TokenCache, current_user
from takt.api.commands import PREFIX
from takt.api.contract import READ_RESPONSES, SECURITY, openapi_responses
from takt.api.errors import invalid_request, refusal
from takt.api.models import Refusal

if TYPE_CHECKING:  # the node's scan pipeline (takt.runtime builds it from the site's scanning section)
    from scanners.pipeline import ScanPipeline, ScanResult

log = logging.getLogger("takt.api.live")

QUEUE_SIZE = 1000  # messages a client may lag behind before it is dropped
HEARTBEAT_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
TOKEN_CHECK_S = 2.0  # how often a stream checks that its token is still valid (log-off, expiry)
MAX_STREAMS_PER_USER = 8
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
    user: str | None = None
    token: str | None = None  # checked again every TOKEN_CHECK_S: the stream ends with its session
    dropped: bool = False

    def wants(self, device: str | None, workstation: str | None) -> bool:
        if self.device is not None and device != self.device:
            return False
        return self.workstation is None or workstation == self.workstation


class LiveFeed:
    """Fans recorded events and scan answers out to the connected clients of one app (one event loop)."""

    def __init__(self, queue_size: int = QUEUE_SIZE, max_streams_per_user: int = MAX_STREAMS_PER_USER) -> None:
        self.queue_size = queue_size
        self.max_streams_per_user = max_streams_per_user
        self.listeners: set[Listener] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        self._scan_sources: list[ScanPipeline] = []

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

    def scanned(self, result: ScanResult) -> None:
        """Scan pipeline listener (in the loop): the answer to one scan, for the device's clients."""
        if not self.listeners:
            return
        message = ("scan", None, result.to_json())
        for listener in list(self.listeners):
            if listener.wants(result.device, result.workstation):
                self._put(listener, message)

    def watch_scans(self, pipeline: ScanPipeline | None) -> None:
        """Listen to a scan pipeline's answers (once per pipeline)."""
        if pipeline is None or any(p is pipeline for p in self._scan_sources):
            return
        pipeline.on_result(self.scanned)
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

    def streams_of(self, user: str) -> int:
        return sum(1 for listener in self.listeners if listener.user == user)

    def subscribe(self, workstation: str | None, device: str | None, user: str | None = None,
                  token: str | None = None) -> Listener:
        self.loop = asyncio.get_running_loop()
        listener = Listener(workstation, device, asyncio.Queue(self.queue_size), user, token)
        self.listeners.add(listener)
        return listener

    async def stream(self, listener: Listener, tokens: TokenCache | None = None) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        check_at = loop.time() + TOKEN_CHECK_S
        idle_since = loop.time()
        try:
            ready = {"workstation": listener.workstation, "device": listener.device}
            yield _sse("ready", None, ready)
            while True:
                if listener.dropped:
                    yield _sse("dropped", None, {"reason": f"more than {self.queue_size} messages behind: reconnect "
                                                          "and read the current state"})
                    return
                if tokens is not None and listener.token is not None and loop.time() >= check_at:
                    check_at = loop.time() + TOKEN_CHECK_S
                    if await tokens.user(listener.token) is None:
                        yield _sse("closed", None, {"reason": "the session ended (logged off or expired): log on "
                                                              "again"})
                        return
                wait = HEARTBEAT_S if tokens is None or listener.token is None else TOKEN_CHECK_S
                try:
                    message = await asyncio.wait_for(listener.queue.get(), wait)
                except TimeoutError:  # (a client that went away cancels this generator: Starlette listens)
                    if loop.time() - idle_since >= HEARTBEAT_S:
                        idle_since = loop.time()
                        yield b": keep-alive\n\n"
                    continue
                idle_since = loop.time()
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
    user = await current_user(request)
    try:
        query = EventsQuery.model_validate(dict(request.query_params))
    except ValidationError as err:
        return invalid_request(err.errors(include_url=False))
    live = feed(request)
    if live.streams_of(user.user) >= live.max_streams_per_user:
        return refusal(429, "TOO_MANY_STREAMS", f"{user.user} already has {live.max_streams_per_user} live streams "
                       "open (api.max_streams_per_user): close one first", None)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    listener = live.subscribe(query.workstation, query.device, user.user, token)
    return StreamingResponse(live.stream(listener, request.app.state.tokens), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


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
                       "that device. A client that falls too far behind gets `event: dropped` and should reconnect; "
                       "a stream whose session is logged off or expires gets `event: closed` and ends. "
                       "Any signed-in user, at most `api.max_streams_per_user` streams at once.",
        "parameters": [
            {"name": "workstation", "in": "query", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 100}},
            {"name": "device", "in": "query", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 100}},
        ],
        "security": SECURITY,
        "responses": {"200": {"description": "The event stream", "content": {"text/event-stream": {}}},
                      **openapi_responses({**READ_RESPONSES, 429: {
                          "description": "The user has as many streams open as the site allows (TOO_MANY_STREAMS)",
                          "model": Refusal}})},
    }}
    return schema
