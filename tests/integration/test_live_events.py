"""GET /api/v1/events over the wire: a terminal page's live feed of durable events and scan answers (booked or
refused, with the code), filtered to its device or workstation; a client that cannot keep up is dropped and the
writer never waits for it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.domain import commands as c
from edge.domain.scans import LabelPatterns, ScanContext
from edge.store import sqlite_url
from scanners.gs1 import GS
from scanners.pipeline import ScanPipeline

from .conftest import TOKENS, RunningNode, start_node
from .test_scan_api import ADMIN, GTIN, _seed

D = Decimal
Event = tuple[str, dict[str, Any], str | None]  # (event, data, id)


class Stream:
    """The client side of one event stream: reads one server-sent event at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> Event:
        kind, data, seq = "message", "", None
        for line in self.lines:
            if line == "":
                if data:
                    return kind, json.loads(data), seq
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            if name == "event":
                kind = value
            elif name == "data":
                data += value
            elif name == "id":
                seq = value
        raise EOFError("the stream ended")

    def until(self, kind: str, test: Any = lambda data: True) -> tuple[Event, list[Event]]:
        """Read up to and including the first `kind` event whose data passes `test`; return it and what came first."""
        before: list[Event] = []
        while True:
            event = self.next()
            if event[0] == kind and test(event[1]):
                return event, before
            before.append(event)


@contextmanager
def listen(node: RunningNode, role: str = "operator", **params: str) -> Iterator[Stream]:
    with httpx.Client(base_url=node.url, timeout=httpx.Timeout(10.0),
                      headers={"Authorization": f"Bearer {TOKENS[role]}"}) as client:
        with client.stream("GET", "/api/v1/events", params=params) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = Stream(response)
            kind, data, _ = stream.next()
            assert kind == "ready" and data == {"workstation": params.get("workstation"),
                                                 "device": params.get("device")}
            yield stream


def scan(node: RunningNode, text: str, **extra: Any) -> httpx.Response:
    return node.post("operator", "/scans", {"text": text, **extra})


def test_a_handhelds_feed_carries_its_scan_answers_and_the_events_it_booked(node: RunningNode) -> None:
    _seed(node)
    with listen(node, device="handheld:operator1") as stream:
        node.post("warehouse", "/stock/moves", {"lot": "LGSK", "from_bin": "LINE1", "to_bin": "LINE1",
                                                "quantity": "1"})  # another user's, refused: not in this feed
        assert scan(node, "WO1").status_code == 200
        (_, selected, _), before = stream.until("scan")
        assert before == [] and selected["ok"] and selected["message"] == "work order WO1 selected"
        assert scan(node, "BIN:LINE1").status_code == 200
        assert stream.until("scan")[0][1]["label"] == "bin"
        refused = scan(node, f"]C101{GTIN}10LGSK{GS}301")
        assert refused.status_code == 409
        (_, answer, _), _ = stream.until("scan")
        assert (answer["ok"], answer["code"], answer["label"]) == (False, "WRONG_ITEM", "lot")
        assert "needs SCREW" in answer["message"] and answer["device"] == "handheld:operator1"
        booked = scan(node, f"]C101{GTIN}10L1{GS}304").json()
        (_, recorded, seq), before = stream.until("recorded")
        assert before == []  # the durable event comes first, then the answer
        assert (recorded["type"], recorded["command"], recorded["device"], recorded["actor"]) == (
            "StockMoved", "IssueToWorkOrder", "handheld:operator1", "operator1")
        assert recorded["subject"] == "lot:L1" and int(seq or 0) == recorded["seq"] == booked["seq"]
        (_, answer, _), _ = stream.until("scan")
        assert answer["ok"] and answer["command"] == "IssueToWorkOrder" and answer["seq"] == booked["seq"]


def test_a_workstation_feed_and_the_plant_wide_feed(node: RunningNode) -> None:
    _seed(node)
    app: Any = node.server.config.app
    app.state.scans = ScanPipeline(node.service, {
        "WS1-terminal": ScanContext(device="", workstation="WS1", bin="LINE1", work_order="WO1"),
        "WS2-terminal": ScanContext(device="", workstation="WS2", bin="LINE1", work_order="WO1"),
    }, LabelPatterns({"work_order": r"WO\d+"}))
    with listen(node, workstation="WS1") as ws1, listen(node) as everything:
        assert scan(node, f"]C101{GTIN}10L1{GS}301", device="WS2-terminal").status_code == 200
        assert scan(node, f"]C101{GTIN}10L1{GS}302", device="WS1-terminal").status_code == 200
        (_, recorded, _), before = ws1.until("recorded")
        assert before == [] and (recorded["device"], recorded["workstation"]) == ("WS1-terminal", "WS1")
        (_, answer, _), _ = ws1.until("scan")
        assert answer["workstation"] == "WS1" and "2 of lot L1 issued" in answer["message"]
        seen = [everything.until("scan")[0][1]["device"] for _ in range(2)]
        assert seen == ["WS2-terminal", "WS1-terminal"]
        node.service.handle(c.DefineBin(idempotency_key="b9", bin="B9", zone="A", **ADMIN))  # no device
        (_, defined, _), _ = everything.until("recorded", lambda data: data["type"] == "BinDefined")
        assert defined["device"] is None and defined["subject"] == "bin:B9"


def test_the_feed_needs_a_token_and_a_known_filter(node: RunningNode) -> None:
    anonymous = httpx.get(f"{node.url}/api/v1/events", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHENTICATED"
    bad = node.client("operator").get("/api/v1/events", params={"station": "WS1"})
    assert bad.status_code == 422 and bad.json()["field"] == "station"
    doc = node.client("operator").get("/openapi.json").json()
    assert "/api/v1/events" in doc["paths"]


@pytest.fixture
def small_queue_node(tmp_path: Path) -> Iterator[RunningNode]:
    """A node whose live feed lets a client lag only 5 messages behind."""
    running = start_node(sqlite_url(tmp_path), live_queue_size=5)
    yield running
    running.stop()


def test_a_client_that_falls_behind_is_dropped_and_the_writer_does_not_wait(small_queue_node: RunningNode) -> None:
    node = small_queue_node
    _seed(node)
    gate, holding = threading.Event(), [True]

    def hold_first_commit(_events: list[dict[str, Any]]) -> None:  # so the rest arrive as one batch
        if holding[0]:
            holding[0] = False
            gate.wait(10)

    node.service.on_recorded(hold_first_commit)
    with listen(node) as slow:
        started = time.monotonic()
        answers = [node.service.submit(c.DefineBin(idempotency_key=f"d{i}", bin=f"D{i}", zone="D", **ADMIN))
                   for i in range(300)]
        gate.set()
        assert all(not answer.result(10).replayed for answer in answers)
        assert time.monotonic() - started < 10
        (_, dropped, _), before = slow.until("dropped")
        assert "reconnect" in dropped["reason"] and len(before) < 300
        with pytest.raises(EOFError):
            slow.next()
    app: Any = node.server.config.app
    assert app.state.live.dropped == 1 and not app.state.live.listeners
    with listen(node) as fresh:  # a reconnecting client gets what happens from then on
        node.service.handle(c.DefineBin(idempotency_key="d-after", bin="D-AFTER", zone="D", **ADMIN))
        (_, recorded, _), _ = fresh.until("recorded")
        assert recorded["subject"] == "bin:D-AFTER"
