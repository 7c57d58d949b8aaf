"""The central ERP simulator over HTTP: the sync protocol (dedup, gaps, rejections, holds, limits, auth, the change
feed), the planner routes (MRP, APS, PLM), the effects of edge events (progress, stock, consumption, cost), the
fault switches and the faulty link, a crash between store and answer, and two nodes at once on PostgreSQL.

Events are built from the edge's own event types and journal encoding, so the field names the simulator reads
are the ones the edge writes.
"""
from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from edge.domain import events as ev
from edge.store.codec import event_data
from erp_sync.protocol import CHANGE_PAYLOADS, BatchAck, ChangeFeed, isa95_message
from simulators.erp import RunningErpSim, running_erp_sim
from simulators.erp.openapi import DOCUMENT, render
from simulators.faulty_link import FaultyLink, running_link
from tests.integration.wire import free_port

ADMIN = "erp-admin-token-test"
TOKENS = {"token-node-a": "node-a", "token-node-b": "node-b"}
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def sync_event(seq: int, event: ev.Event, at: datetime = T0) -> dict[str, Any]:
    """A journal event as the node pushes it (the edge's own encoding of the payload)."""
    name = type(event).__name__
    return {"seq": seq, "event_id": str(uuid.uuid4()), "message": isa95_message(name), "type": name,
            "subject": event.subject, "occurred_at": at.isoformat(), "recorded_at": at.isoformat(),
            "actor": "op1", "device": None, "payload": event_data(event)}


def produced(wo: str, good: int = 1, scrap: int = 0, operation: int = 10, ws: str = "WS-10") -> ev.ProductionReported:
    return ev.ProductionReported(work_order=wo, operation=operation, workstation=ws, good=D(good), scrap=D(scrap),
                                 scrap_reason="burr" if scrap else None, at=T0)


def received(lot: str, item: str, quantity: int, bin_: str = "A-01", supplier_lot: str | None = None
             ) -> ev.LotReceived:
    return ev.LotReceived(lot=lot, item=item, item_revision="A", quantity=D(quantity), bin=bin_, expiry=None,
                          supplier_lot=supplier_lot, status="available", at=T0)


def moved(lot: str, item: str, quantity: int, kind: str, from_bin: str | None, to_bin: str | None,
          wo: str | None = None, line: int | None = None) -> ev.StockMoved:
    delta = D(quantity) if from_bin is None else (-D(quantity) if to_bin is None else D(0))
    return ev.StockMoved(lot=lot, item=item, kind=kind, from_bin=from_bin, to_bin=to_bin, quantity=D(quantity),
                         lot_quantity_delta=delta, work_order=wo, bom_line=line, reason=None, at=T0)


class Node:
    """One edge node's side of the protocol: a client with its token, and its journal sequence."""

    def __init__(self, sim: RunningErpSim, node: str, token: str) -> None:
        self.node = node
        self.client = httpx.Client(base_url=sim.url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        self.seq = 0
        self.acked = 0

    def events(self, *events: ev.Event, at: datetime = T0) -> list[dict[str, Any]]:
        out = []
        for event in events:
            self.seq += 1
            out.append(sync_event(self.seq, event, at))
        return out

    def push_raw(self, body: dict[str, Any], *, compress: bool = True) -> httpx.Response:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if compress:
            data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
        return self.client.post(f"/sync/v1/nodes/{self.node}/events", content=data, headers=headers)

    def push(self, events: list[dict[str, Any]], *, after: int | None = None, through: int | None = None,
             redelivery: bool = False) -> BatchAck:
        body = {"node": self.node, "after": self.acked if after is None else after,
                "through": self.seq if through is None else through, "redelivery": redelivery, "events": events}
        response = self.push_raw(body)
        assert response.status_code == 200, response.text
        ack = BatchAck.model_validate_json(response.content)
        if not redelivery:
            self.acked = ack.acknowledged
        return ack

    def changes(self, after: int, limit: int = 500) -> ChangeFeed:
        response = self.client.get(f"/sync/v1/nodes/{self.node}/changes", params={"after": after, "limit": limit})
        assert response.status_code == 200, response.text
        return ChangeFeed.model_validate_json(response.content)

    def cursor(self) -> int:
        response = self.client.get(f"/sync/v1/nodes/{self.node}/cursor")
        assert response.status_code == 200, response.text
        return int(response.json()["acknowledged"])


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/erp.db", TOKENS, ADMIN, max_body_bytes=2_000_000) as running:
        yield running


@pytest.fixture
def node_a(sim: RunningErpSim) -> Iterator[Node]:
    node = Node(sim, "node-a", "token-node-a")
    yield node
    node.client.close()


def set_up_plant(sim: RunningErpSim, node: str = "node-a") -> None:
    """Items, a workstation with rates, a routing, a BOM, and work order WO-1 for 10 of FG-1."""
    for item in ({"item": "FG-1", "description": "Gearbox", "family": "gearbox", "lead_time_days": 1},
                 {"item": "C-1", "description": "Housing", "source": "buy", "supplier": "ACME"},
                 {"item": "C-2", "description": "Shaft", "source": "buy", "supplier": "ACME"}):
        sim.call("PUT", "/central/v1/items", item)
    sim.call("PUT", "/central/v1/workstations", {"workstation": "WS-10", "node": node, "labour_rate": "60",
                                                 "machine_rate": "120", "equipment": ["M-10"]})
    sim.call("PUT", "/central/v1/routings", {"item": "FG-1", "operations": [
        {"operation": 10, "description": "Assemble", "workstation": "WS-10", "standard_minutes": "3"}]})
    sim.call("POST", "/central/v1/boms", {"item": "FG-1", "bom_revision": "A", "lines": [
        {"line": 1, "item": "C-1", "quantity_per": "1"}, {"line": 2, "item": "C-2", "quantity_per": "2"}]})
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-1", "item": "FG-1", "quantity": "10",
                                                 "due": "2026-12-01"})


# --- push: dedup, redelivery, gaps ---------------------------------------------------------------


def test_push_stores_once_whatever_is_redelivered(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    first = node_a.events(*[produced("WO-1") for _ in range(100)])
    ack = node_a.push(first)
    assert (ack.acknowledged, ack.stored, ack.duplicates) == (100, 100, 0)
    # the answer was lost: the same batch again changes nothing
    again = node_a.push(first, after=0, through=100)
    assert (again.acknowledged, again.stored, again.duplicates) == (100, 0, 100)
    # a batch overlapping what is stored: only the new half counts
    more = node_a.events(*[produced("WO-1") for _ in range(50)])
    overlap = node_a.push(first[50:] + more, after=50, through=150)
    assert (overlap.acknowledged, overlap.stored, overlap.duplicates) == (150, 50, 50)
    # the journal's ERP-origin events are not sent: through may lie beyond the last event
    node_a.seq += 5
    assert node_a.push([]).acknowledged == 155
    assert node_a.cursor() == 155
    order = sim.call("GET", "/central/v1/work-orders/WO-1")
    assert order["operations"][0]["good"] == "150" and order["status"] == "released"
    stored = sim.call("GET", "/central/v1/nodes/node-a/events", limit=1000)
    assert [e["seq"] for e in stored] == list(range(1, 151))
    assert stored[0]["message"] == "ProductionPerformance" and stored[0]["payload"]["good"] == "1"
    assert sim.call("GET", "/central/v1/nodes") == [
        {"node": "node-a", "acknowledged": 155, "last_sync_at": sim.call("GET", "/central/v1/nodes")[0]["last_sync_at"],
         "events": 150, "journal_head": None, "backlog": None, "rejected": 0, "held": 0, "busy": 0}]


def test_a_batch_after_a_gap_is_refused_with_the_central_cursor(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    node_a.push(node_a.events(produced("WO-1"), produced("WO-1")))
    node_a.seq = 10
    response = node_a.push_raw({"node": "node-a", "after": 8, "through": 10,
                                "events": [sync_event(9, produced("WO-1")), sync_event(10, produced("WO-1"))]})
    assert response.status_code == 409
    assert response.json() == {"code": "SEQUENCE_GAP", "field": "after", "acknowledged": 2,
                               "message": "the ERP holds node node-a through seq 2; the batch starts after 8"}
    assert node_a.cursor() == 2
    assert sim.call("GET", "/central/v1/work-orders/WO-1")["operations"][0]["good"] == "2"


def test_a_malformed_batch_is_refused_naming_the_field(sim: RunningErpSim, node_a: Node) -> None:
    bad = sync_event(1, produced("WO-1"))
    del bad["subject"]
    response = node_a.push_raw({"node": "node-a", "after": 0, "through": 1, "events": [bad]})
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_BATCH" and response.json()["field"] == "events.0.subject"
    outside = node_a.push_raw({"node": "node-a", "after": 0, "through": 1,
                               "events": [sync_event(2, produced("WO-1"))]})
    assert outside.status_code == 422 and outside.json()["field"] == "events.0.seq"
    assert node_a.cursor() == 0


def test_a_field_from_a_newer_node_is_ignored_not_refused(sim: RunningErpSim, node_a: Node) -> None:
    """takt-sync/1 grows by optional fields that each end ignores when it does not know them (the protocol's
    "Versions" rule): a node a release ahead of its central side keeps syncing."""
    set_up_plant(sim)
    event = {**sync_event(1, produced("WO-1")), "signed_by": "q.lead"}  # a field no release has today
    response = node_a.push_raw({"node": "node-a", "after": 0, "through": 1, "events": [event],
                                "compression_hint": "zstd"})
    assert response.status_code == 200, response.text
    assert response.json()["acknowledged"] == 1
    [stored] = sim.call("GET", "/central/v1/nodes/node-a/events")
    assert stored["seq"] == 1 and "signed_by" not in stored


# --- business rejections ------------------------------------------------------------------------


def test_rejected_events_hold_their_subject_and_the_rest_is_stored(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    batch = node_a.events(
        produced("WO-1"),                                    # 1 stored
        produced("WO-9"),                                    # 2 rejected: WO-9 unknown
        received("L-1", "C-1", 40),                          # 3 stored
        ev.OperationStarted(work_order="WO-9", operation=10, at=T0),  # 4 held (same subject as 2)
        produced("WO-1", 2),                                 # 5 stored
    )
    ack = node_a.push(batch)
    assert ack.acknowledged == 5 and ack.stored == 3 and ack.held == [4]
    assert [(r.seq, r.code, r.field) for r in ack.rejected] == [(2, "UNKNOWN_ORDER", "payload.work_order")]
    assert "WO-9" in ack.rejected[0].message
    assert [e["seq"] for e in sim.call("GET", "/central/v1/nodes/node-a/events")] == [1, 3, 5]
    # the planner releases WO-9; the supervisor retries the parked events: a redelivery, stored now
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-9", "item": "FG-1", "quantity": "5"})
    retry = node_a.push([batch[1], batch[3]], after=5, through=5, redelivery=True)
    assert (retry.stored, retry.duplicates, retry.rejected, retry.held) == (2, 0, [], [])
    assert retry.acknowledged == 5
    # a second retry of the same is a duplicate
    assert node_a.push([batch[1], batch[3]], after=5, through=5, redelivery=True).duplicates == 2
    wo9 = sim.call("GET", "/central/v1/work-orders/WO-9")
    assert wo9["status"] == "in_progress" and wo9["operations"][0]["good"] == "1"
    assert wo9["operations"][0]["status"] == "running"


def test_closed_period_and_the_reject_switch(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    sim.call("POST", "/central/v1/periods/close", {"through": "2026-10-31"})
    old = node_a.events(produced("WO-1"), at=datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    new = node_a.events(produced("WO-1", 3), at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC))
    ack = node_a.push(old + new)
    assert [(r.seq, r.code, r.field) for r in ack.rejected] == [(1, "PERIOD_CLOSED", "occurred_at")]
    assert ack.held == [2]  # the same work order's later report waits
    # the fault switch refuses one type on one subject with the code asked for
    sim.call("POST", "/sim/v1/faults", {"reject": [{"type": "LotReceived", "subject": "lot:L-BAD",
                                                    "code": "LOT_BLOCKED", "message": "supplier blocked"}]})
    ack2 = node_a.push(node_a.events(received("L-BAD", "C-1", 5), received("L-OK", "C-1", 5),
                                     moved("L-BAD", "C-1", 5, "move", "A-01", "B-01")))
    assert [(r.seq, r.code, r.message) for r in ack2.rejected] == [(3, "LOT_BLOCKED", "supplier blocked")]
    assert ack2.held == [5] and ack2.stored == 1
    assert [s["lot"] for s in sim.call("GET", "/central/v1/stock", node="node-a")] == ["L-OK"]
    sim.call("POST", "/sim/v1/faults", {"reset": True})
    assert node_a.push(node_a.events(received("L-BAD", "C-1", 5))).rejected == []


def test_an_event_the_erp_cannot_book_is_refused_naming_the_field(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    broken = sync_event(1, received("L-1", "C-1", 5))
    del broken["payload"]["bin"]
    odd = sync_event(3, received("L-2", "C-1", 5))
    odd["payload"]["quantity"] = "five"
    node_a.seq = 4
    ack = node_a.push([broken, sync_event(2, moved("L-1", "C-1", 5, "move", "A-01", "B-01")), odd,
                       sync_event(4, received("L-3", "C-1", 7))])
    assert [(r.seq, r.code, r.field) for r in ack.rejected] == [(1, "INVALID_EVENT", "payload.bin"),
                                                                 (3, "INVALID_EVENT", None)]
    assert ack.held == [2] and ack.stored == 1 and ack.acknowledged == 4
    assert [(s["lot"], s["quantity"]) for s in sim.call("GET", "/central/v1/stock")] == [("L-3", "7")]


# --- limits and auth ------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_413_and_nothing_is_stored(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    events = node_a.events(*[produced("WO-1") for _ in range(6000)])  # ~3.5 MB of JSON, limit 2 MB
    body = {"node": "node-a", "after": 0, "through": node_a.seq, "events": events}
    plain = node_a.push_raw(body, compress=False)
    assert plain.status_code == 413 and plain.json()["code"] == "BODY_TOO_LARGE"
    # compressed it is small on the wire, but it decompresses beyond the limit: refused all the same
    packed = node_a.push_raw(body, compress=True)
    assert packed.status_code == 413 and "decompresses" in packed.json()["message"]
    # a body without Content-Length (chunked) is counted as it streams
    data = json.dumps(body).encode()
    chunked = node_a.client.post("/sync/v1/nodes/node-a/events", content=iter([data[i:i + 65536] for i in
                                                                               range(0, len(data), 65536)]))
    assert chunked.status_code == 413
    assert node_a.cursor() == 0
    assert sim.call("GET", "/central/v1/nodes/node-a/events") == []


def test_tokens_act_only_for_their_own_node(sim: RunningErpSim, node_a: Node) -> None:
    batch = {"node": "node-b", "after": 0, "through": 1, "events": [sync_event(1, received("L", "C-1", 1))]}
    as_a = node_a.client.post("/sync/v1/nodes/node-b/events", json=batch)
    assert as_a.status_code == 403 and as_a.json()["code"] == "FORBIDDEN" and "node-a" in as_a.json()["message"]
    assert node_a.client.get("/sync/v1/nodes/node-b/changes").status_code == 403
    anonymous = httpx.post(f"{sim.url}/sync/v1/nodes/node-b/events", json=batch)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    wrong = httpx.get(f"{sim.url}/sync/v1/nodes/node-b/cursor", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    # the admin token plans; it does not push as a node; a node token does not plan
    assert sim.admin.post("/sync/v1/nodes/node-b/events", json=batch).status_code == 403
    assert node_a.client.put("/central/v1/items", json={"item": "X", "description": "x"}).status_code == 403
    assert node_a.client.post("/sim/v1/faults", json={"down": True}).status_code == 403
    # a batch for another node than the route's is malformed even with the right token
    mismatch = node_a.client.post("/sync/v1/nodes/node-a/events", json=batch)
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "node"


# --- pull: the change feed ------------------------------------------------------------------------


def test_the_change_feed_pages_in_cursor_order_and_matches_the_protocol(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)  # 3 items, a BOM revision, a work order for node-a's workstation
    sim.call("PUT", "/central/v1/workstations", {"workstation": "WS-B", "node": "node-b"})
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-B", "item": "FG-1", "quantity": "1", "operations": [
        {"operation": 10, "description": "Pack", "workstation": "WS-B"}]})
    for i in range(7):
        sim.call("PUT", "/central/v1/bins", {"bin": f"A-0{i}", "zone": "A", "capacity": "100"})
    sim.call("PUT", "/central/v1/users", {"user": "jan", "name": "Jan", "roles": ["operator"], "language": "nl"})
    sim.call("PUT", "/central/v1/customers", {"customer": "C-100", "name": "Fietsen BV"})
    sim.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-1", "customer": "C-100", "lines": [
        {"line": 1, "item": "FG-1", "quantity": "4", "due": "2026-12-10"}]})
    sim.call("PUT", "/central/v1/purchase-orders", {"purchase_order": "PO-1", "supplier": "ACME", "lines": [
        {"line": 1, "item": "C-1", "quantity": "50", "expected_lots": [{"supplier_lot": "S-77", "quantity": "50"}]}]})
    sim.call("PUT", "/central/v1/inspection-plans", {"plan": "IP-1", "description": "Bore", "characteristics": [
        {"characteristic": "bore", "kind": "numeric", "nominal": "10", "lsl": "9.9", "usl": "10.1", "unit": "mm"}]})
    sim.call("POST", "/central/v1/work-orders/WO-1/cancel")

    seen, after, pages = [], 0, 0
    while True:
        feed = node_a.changes(after, limit=5)
        pages += 1
        seen.extend(feed.changes)
        assert feed.cursor >= after
        after = feed.cursor
        if not feed.more:
            break
    assert pages == 4
    cursors = [c.cursor for c in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    kinds = [c.kind for c in seen]
    assert kinds.count("item") == 3 and kinds.count("bin") == 7
    for change in seen:
        CHANGE_PAYLOADS[change.kind].model_validate(change.payload)
    assert "WO-B" not in {c.key for c in seen}  # node-b's work order goes to node-b only
    wo = [c for c in seen if c.kind == "work_order"]
    assert [(c.key, c.payload["status"]) for c in wo] == [("WO-1", "released"), ("WO-1", "cancelled")]
    assert wo[0].payload["bom"][1] == {"line": 2, "item": "C-2", "item_revision": "A", "quantity_per": "2"}
    assert {c.source for c in seen} == {"ERP", "PLM", "CRM", "SRM", "QMS"}
    # nothing new: the cursor stays where it is
    empty = node_a.changes(after)
    assert (empty.changes, empty.cursor, empty.more) == ([], after, False)
    node_b = Node(sim, "node-b", "token-node-b")
    assert "WO-B" in {c.key for c in node_b.changes(0, 100).changes}
    assert node_a.client.get("/sync/v1/nodes/node-a/changes", params={"limit": 0}).status_code == 422


# --- the central systems' work: MRP, APS, PLM ------------------------------------------------------


def test_mrp_run_turns_a_sales_order_into_work_and_purchase_orders(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    sim.call("POST", "/central/v1/work-orders/WO-1/cancel")
    sim.call("PUT", "/central/v1/customers", {"customer": "C-100", "name": "Fietsen BV"})
    sim.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-7", "customer": "C-100", "lines": [
        {"line": 1, "item": "FG-1", "quantity": "30", "due": "2026-12-15"}]})
    # the edge reported 12 housings in stock (and 5 on hold, which do not count)
    node_a.push(node_a.events(received("L-H1", "C-1", 12), received("L-H2", "C-1", 5),
                              ev.LotStatusChanged(lot="L-H2", status="hold", previous="available", reason="check",
                                                  ncr=None)))
    result = sim.call("POST", "/central/v1/mrp/run")
    assert result["work_orders"] == ["WO-MRP-000001"] and result["purchase_orders"] == ["PO-MRP-000001"]
    wo = sim.call("GET", "/central/v1/work-orders/WO-MRP-000001")
    assert (wo["item"], wo["quantity"], wo["bom_revision"], wo["due"], wo["customer_order"], wo["source"]) == \
        ("FG-1", "30", "A", "2026-12-15", "SO-7", "MRP")
    assert [(o["operation"], o["workstation"]) for o in wo["operations"]] == [(10, "WS-10")]
    assert [(b["item"], b["quantity_per"]) for b in wo["bom"]] == [("C-1", "1"), ("C-2", "2")]
    po = sim.call("GET", "/central/v1/purchase-orders")
    assert [(ln["item"], ln["quantity"], ln["due"]) for ln in po[0]["lines"]] == \
        [("C-1", "18", "2026-12-14"), ("C-2", "60", "2026-12-14")]
    assert po[0]["supplier"] == "ACME" and po[0]["source"] == "MRP"
    # the orders went out on the feed
    kinds = {(c.kind, c.key, c.source) for c in node_a.changes(0, 100).changes}
    assert ("work_order", "WO-MRP-000001", "MRP") in kinds and ("purchase_order", "PO-MRP-000001", "MRP") in kinds
    # planned supply now covers the demand: a second run creates nothing
    again = sim.call("POST", "/central/v1/mrp/run")
    assert again["work_orders"] == [] and again["purchase_orders"] == []
    assert again["netting"]["FG-1"] == {"gross": "30", "on_hand": "0", "scheduled": "30", "net": "0"}


def test_aps_sequences_by_due_date_and_groups_families(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    sim.call("POST", "/central/v1/work-orders/WO-1/cancel")
    for item, family in (("P-RED", "red"), ("P-BLUE", "blue")):
        sim.call("PUT", "/central/v1/items", {"item": item, "description": item, "family": family})
        sim.call("PUT", "/central/v1/routings", {"item": item, "operations": [
            {"operation": 10, "description": "Paint", "workstation": "WS-10", "standard_minutes": "1"}]})
    for wo, item, due in (("WO-R1", "P-RED", "2026-12-01"), ("WO-B1", "P-BLUE", "2026-12-03"),
                          ("WO-R2", "P-RED", "2026-12-05"), ("WO-B2", "P-BLUE", "2026-12-04")):
        sim.call("POST", "/central/v1/work-orders", {"work_order": wo, "item": item, "quantity": "60", "due": due})
    plan = sim.call("POST", "/central/v1/aps/run", {"start": "2026-12-01T06:00:00+00:00", "changeover_minutes": 45})
    sequence = plan["dispatch_lists"]["WS-10"]["sequence"]
    assert [s["work_order"] for s in sequence] == ["WO-R1", "WO-R2", "WO-B1", "WO-B2"]
    assert not any(s["late"] for s in sequence)
    assert sequence[2]["start"] == "2026-12-01T08:45:00+00:00"  # 2 h red, 45 min changeover
    dispatch = [c for c in node_a.changes(0, 100).changes if c.kind == "dispatch_list"]
    assert len(dispatch) == 1 and dispatch[0].source == "APS"
    assert dispatch[0].payload == {"workstation": "WS-10", "sequence": [
        {"work_order": w, "operation": 10} for w in ("WO-R1", "WO-R2", "WO-B1", "WO-B2")]}


def test_plm_revision_applies_next_order_or_immediately(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-2", "item": "FG-1", "quantity": "5"})
    node_a.push(node_a.events(received("L-1", "C-1", 10), moved("L-1", "C-1", 2, "issue", "A-01", None, "WO-1", 1)))
    sim.call("POST", "/central/v1/boms", {"item": "FG-1", "bom_revision": "B", "lines": [
        {"line": 1, "item": "C-1", "quantity_per": "1"}]})  # next order: open orders keep A
    assert sim.call("GET", "/central/v1/work-orders/WO-2")["bom_revision"] == "A"
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-3", "item": "FG-1", "quantity": "5"})
    assert sim.call("GET", "/central/v1/work-orders/WO-3")["bom_revision"] == "B"
    sim.call("POST", "/central/v1/boms", {"item": "FG-1", "bom_revision": "C", "effective": "immediately",
                                          "lines": [{"line": 1, "item": "C-2", "quantity_per": "3"}]})
    # open orders without consumption build C now; WO-1 already consumed material of A and keeps it
    assert [(w, sim.call("GET", f"/central/v1/work-orders/{w}")["bom_revision"]) for w in ("WO-1", "WO-2", "WO-3")] \
        == [("WO-1", "A"), ("WO-2", "C"), ("WO-3", "C")]
    assert sim.call("GET", "/central/v1/work-orders/WO-2")["bom"] == [
        {"work_order": "WO-2", "line": 1, "item": "C-2", "item_revision": "A", "quantity_per": "3"}]
    revisions = [c for c in node_a.changes(0, 100).changes if c.kind == "bom_revision"]
    assert [(c.payload["bom_revision"], c.payload["effective"], c.source) for c in revisions] == \
        [("A", "next_order", "PLM"), ("B", "next_order", "PLM"), ("C", "immediately", "PLM")]
    same = sim.admin.post("/central/v1/boms", json={"item": "FG-1", "bom_revision": "C", "lines": [
        {"line": 1, "item": "C-2", "quantity_per": "3"}]})
    assert same.status_code == 409 and same.json()["code"] == "REVISION_EXISTS"
    unknown = sim.admin.post("/central/v1/boms", json={"item": "FG-1", "bom_revision": "D", "lines": [
        {"line": 1, "item": "NOPE", "quantity_per": "3"}]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "lines.0.item"


# --- effects: progress, stock, consumption, cost ----------------------------------------------------


def test_progress_stock_consumption_and_cost_from_edge_events(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    sim.call("PUT", "/central/v1/purchase-orders", {"purchase_order": "PO-1", "supplier": "ACME", "lines": [
        {"line": 1, "item": "C-1", "quantity": "50", "expected_lots": [{"supplier_lot": "S-1", "quantity": "20"},
                                                                       {"supplier_lot": "S-2", "quantity": "30"}]}]})
    t = T0
    node_a.push(node_a.events(
        received("L-C1", "C-1", 20, "A-01", supplier_lot="S-1"),
        received("L-C2", "C-2", 50, "A-02"),
        moved("L-C1", "C-1", 20, "putaway", "A-01", "B-01"),
        ev.OperationStarted(work_order="WO-1", operation=10, at=t),
        ev.LabourClockedOn(operator="op1", work_order="WO-1", operation=10, at=t),
        ev.MachineStateChanged(equipment="M-10", state="running", reason=None, since=t, previous="idle",
                               previous_since=t - timedelta(hours=1)),
        moved("L-C1", "C-1", 10, "issue", "B-01", None, "WO-1", 1),
        moved("L-C2", "C-2", 21, "issue", "A-02", None, "WO-1", 2),
        moved("L-C2", "C-2", 1, "return", None, "A-02", "WO-1", 2),
        produced("WO-1", good=9, scrap=1),
        ev.MachineStateChanged(equipment="M-10", state="down", reason="jam", since=t + timedelta(minutes=45),
                               previous="running", previous_since=t),
        ev.LabourClockedOff(operator="op1", work_order="WO-1", operation=10, since=t,
                            at=t + timedelta(minutes=30), minutes=D(30)),
        ev.OperationCompleted(work_order="WO-1", operation=10, at=t + timedelta(minutes=50)),
        ev.WorkOrderCompleted(work_order="WO-1", good=D(9), scrap=D(1), at=t + timedelta(minutes=50)),
        ev.InspectionRecorded(inspection="I-1", plan="IP-1", lot=None, work_order="WO-1", operation=10, results=(
            ev.MeasuredCharacteristic(characteristic="bore", value=D("10.2"), passed=False),), passed=False, at=t),
        ev.NonconformanceRaised(ncr="NCR-1", lot="L-C1", work_order="WO-1", description="bore oversize",
                                raised_by="q1", at=t),
        ev.NonconformanceDispositioned(ncr="NCR-1", disposition="scrap", comment="", dispositioned_by="q1", at=t),
    ))
    wo = sim.call("GET", "/central/v1/work-orders/WO-1")
    op = wo["operations"][0]
    assert (wo["status"], wo["good"], wo["scrap"], wo["node"]) == ("completed", "9", "1", "node-a")
    assert (op["status"], op["good"], op["scrap"]) == ("completed", "9", "1")
    assert op["actual_start"] == T0.isoformat() and op["actual_end"] == (T0 + timedelta(minutes=50)).isoformat()
    # 30 min labour at 60/h, 45 min running at 120/h
    assert wo["cost"] == {"labour_minutes": "30", "machine_minutes": "45.0000", "labour": "30.0000",
                          "machine": "90.0000", "total": "120.0000"}
    assert {(c["lot"], c["line"], c["quantity"]) for c in wo["consumption"]} == {("L-C1", 1, "10"),
                                                                                  ("L-C2", 2, "20")}
    stock = {(s["lot"], s["bin"]): s["quantity"] for s in sim.call("GET", "/central/v1/stock", node="node-a")}
    assert stock == {("L-C1", "B-01"): "10", ("L-C2", "A-02"): "30"}
    states = sim.call("GET", "/central/v1/machine-states", equipment="M-10")
    assert [(s["state"], s["reason"]) for s in states] == [("running", None), ("down", "jam")]
    quality = sim.call("GET", "/central/v1/quality-results", node="node-a")
    assert quality[0]["passed"] is False and quality[0]["results"][0]["value"] == "10.2"
    ncr = sim.call("GET", "/central/v1/nonconformances")
    assert (ncr[0]["description"], ncr[0]["disposition"]) == ("bore oversize", "scrap")
    assert sim.call("GET", "/central/v1/lots", node="node-a")[0]["supplier_lot"] == "S-1"
    # SRM: the goods receipt with supplier lot S-1 is booked against the purchase order line that expected it
    line = sim.call("GET", "/central/v1/purchase-orders")[0]["lines"][0]
    assert line["received"] == "20"
    assert [(x["supplier_lot"], x["received_lot"], x["received_node"]) for x in line["expected_lots"]] == \
        [("S-1", "L-C1", "node-a"), ("S-2", None, None)]


# --- faults --------------------------------------------------------------------------------------


def test_fault_switches_down_slow_500_and_dropped_connection(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    batch = node_a.events(produced("WO-1"), produced("WO-1"))
    body = {"node": "node-a", "after": 0, "through": 2, "events": batch}
    sim.call("POST", "/sim/v1/faults", {"down": True})
    down = node_a.push_raw(body)
    assert down.status_code == 503 and down.json()["code"] == "SERVICE_DOWN"
    assert sim.call("GET", "/central/v1/nodes") == []  # admin routes still answer
    sim.call("POST", "/sim/v1/faults", {"down": False, "fail_next": 2})
    assert [node_a.push_raw(body).status_code for _ in range(3)] == [500, 500, 200]
    sim.call("POST", "/sim/v1/faults", {"drop_next": 1})
    more = node_a.events(produced("WO-1"))
    with pytest.raises(httpx.TransportError):
        node_a.push(more, after=2)
    assert node_a.cursor() == 2  # nothing of the dropped batch was stored
    assert node_a.push(more, after=2).stored == 1
    sim.call("POST", "/sim/v1/faults", {"delay_ms": 300})
    started = time.monotonic()
    assert node_a.cursor() == 3
    assert time.monotonic() - started >= 0.3
    assert sim.call("GET", "/sim/v1/faults")["delay_ms"] == 300
    bad = sim.admin.post("/sim/v1/faults", json={"delay_ms": -1})
    assert bad.status_code == 422 and bad.json()["field"] == "delay_ms"


def test_in_process_crash_after_store_loses_the_answer_once(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    batch = node_a.events(produced("WO-1"), produced("WO-1"), produced("WO-1"))
    sim.set_faults(crash_after_store=True)
    with pytest.raises(httpx.TransportError):
        node_a.push(batch)
    assert sim.set_faults()["crash_after_store"] is False  # it turned itself off
    assert node_a.cursor() == 3  # stored although never answered
    again = node_a.push(batch, after=0)
    assert (again.stored, again.duplicates) == (0, 3)
    assert sim.call("GET", "/central/v1/work-orders/WO-1")["operations"][0]["good"] == "3"


def test_the_faulty_link_cuts_a_batch_midway_and_refuses_while_down(sim: RunningErpSim, node_a: Node) -> None:
    set_up_plant(sim)
    with running_link("127.0.0.1", sim.port) as link:
        client = httpx.Client(base_url=link.url, timeout=10, headers={"Authorization": "Bearer token-node-a"})
        events = node_a.events(*[produced("WO-1") for _ in range(2000)])
        data = json.dumps({"node": "node-a", "after": 0, "through": node_a.seq, "events": events}).encode()
        assert len(data) > 200_000
        link.cut_after(upstream=100_000)
        with pytest.raises(httpx.TransportError):
            client.post("/sync/v1/nodes/node-a/events", content=data)
        assert link.cuts == 1
        assert node_a.cursor() == 0  # half a batch is no batch
        # the answer is lost on the way back: the batch is stored, the node does not know
        link.cut_after(downstream=20)
        with pytest.raises(httpx.TransportError):
            client.post("/sync/v1/nodes/node-a/events", content=data)
        assert node_a.cursor() == 2000
        resent = client.post("/sync/v1/nodes/node-a/events", content=data)
        assert resent.status_code == 200 and resent.json()["duplicates"] == 2000
        link.down()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{link.url}/health", timeout=5)
        link.down(refuse=False)
        link.up()
        assert httpx.get(f"{link.url}/health", timeout=5).status_code == 200
        link.delay_s = 0.2
        started = time.monotonic()
        assert httpx.get(f"{link.url}/health", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.2
        client.close()
    assert sim.call("GET", "/central/v1/work-orders/WO-1")["operations"][0]["good"] == "2000"


def _start_sim_process(db: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "takt.cli", "sim", "erp", "--database-url", f"sqlite:///{db}", "--port", str(port),
         "--node-token", "node-a=token-node-a", "--admin-token", ADMIN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"ERP simulator at http://127.0.0.1:{port}" in line, line + (proc.stderr.read() if proc.stderr else "")
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError("the simulator process did not come up")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_crash_after_store_before_the_answer_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    db, port = tmp_path / "erp.db", free_port()
    proc = _start_sim_process(db, port)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    node = {"Authorization": "Bearer token-node-a"}
    base = f"http://127.0.0.1:{port}"
    try:
        for item in ({"item": "FG-1", "description": "Gearbox"},):
            assert httpx.put(f"{base}/central/v1/items", json=item, headers=admin).status_code == 200
        release = {"work_order": "WO-1", "item": "FG-1", "quantity": "10",
                   "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-10"}]}
        assert httpx.post(f"{base}/central/v1/work-orders", json=release, headers=admin).status_code == 200
        events = [sync_event(i, produced("WO-1")) for i in range(1, 501)]
        body = {"node": "node-a", "after": 0, "through": 500, "events": events}
        assert httpx.post(f"{base}/sim/v1/faults", json={"crash_after_store": True}, headers=admin).is_success
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/sync/v1/nodes/node-a/events", json=body, headers=node, timeout=30)
        assert proc.wait(20) == 70
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    proc = _start_sim_process(db, port)
    try:
        assert httpx.get(f"{base}/sync/v1/nodes/node-a/cursor", headers=node).json()["acknowledged"] == 500
        again = httpx.post(f"{base}/sync/v1/nodes/node-a/events", json=body, headers=node, timeout=30).json()
        assert (again["stored"], again["duplicates"], again["acknowledged"]) == (0, 500, 500)
        order = httpx.get(f"{base}/central/v1/work-orders/WO-1", headers=admin).json()
        assert order["operations"][0]["good"] == "500"
        bad = subprocess.run([sys.executable, "-m", "takt.cli", "sim", "erp", "--node-token", "node-a",
                              "--admin-token", ADMIN], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "is not NODE=TOKEN" in bad.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- several nodes on PostgreSQL ---------------------------------------------------------------------


def test_two_nodes_push_at_once_to_a_simulator_on_postgresql(postgres_url: str) -> None:
    with running_erp_sim(postgres_url, TOKENS, ADMIN) as sim:
        set_up_plant(sim)
        nodes = [Node(sim, "node-a", "token-node-a"), Node(sim, "node-b", "token-node-b")]
        errors: list[BaseException] = []

        def push_all(node: Node) -> None:
            try:
                node.push(node.events(*[received(f"{node.node}-L{i}", "C-1", 100) for i in range(60)]))
                for batch in range(20):
                    node.push(node.events(*[e for i in range(100) for e in (
                        produced("WO-1"), moved(f"{node.node}-L{(batch + i) % 60}", "C-1", 1, "issue", "A-01", None,
                                                "WO-1", 1))]))
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=push_all, args=(n,)) for n in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        for node in nodes:
            assert node.cursor() == 60 + 20 * 200
            stock = sim.call("GET", "/central/v1/stock", node=node.node)
            assert len(stock) == 60 and sum(D(s["quantity"]) for s in stock) == 60 * 100 - 2000
        order = sim.call("GET", "/central/v1/work-orders/WO-1")
        assert order["operations"][0]["good"] == str(2 * 20 * 100)
        assert sum(D(c["quantity"]) for c in order["consumption"]) == 2 * 2000
        assert {n["node"]: n["events"] for n in sim.call("GET", "/central/v1/nodes")} == \
            {"node-a": 4060, "node-b": 4060}
        for node in nodes:
            node.client.close()


# --- the protocol document ----------------------------------------------------------------------------


def test_the_committed_openapi_document_is_current_and_valid() -> None:
    assert DOCUMENT.read_text() == render(), "run: python -m simulators.erp.openapi"
    doc = json.loads(DOCUMENT.read_text())
    validate(doc)
    assert set(doc["paths"]) == {"/sync/v1/nodes/{node}/events", "/sync/v1/nodes/{node}/cursor",
                                 "/sync/v1/nodes/{node}/changes"}
    push = doc["paths"]["/sync/v1/nodes/{node}/events"]["post"]
    assert push["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/EventBatch"
    assert {"409", "413"} <= set(push["responses"])
    assert {"EventBatch", "SyncEvent", "BatchAck", "ChangeFeed", "WorkOrderChange"} <= set(doc["components"]["schemas"])



async def test_the_faulty_link_from_asyncio_refuses_then_forwards_again(sim: RunningErpSim) -> None:
    link = FaultyLink("127.0.0.1", sim.port)
    await link.start()
    try:
        async with httpx.AsyncClient(base_url=link.url, timeout=5,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert (await client.get("/health")).status_code == 200
            await link.go_down()
            with pytest.raises(httpx.ConnectError):
                await client.get("/health")
            await link.go_up()
            assert (await client.get("/health")).status_code == 200
            link.cut_after(downstream=5)
            with pytest.raises(httpx.TransportError):
                await client.get("/health")
            assert link.connections >= 2 and link.cuts == 1
    finally:
        await link.stop()


def test_a_master_data_load_publishes_many_changes_in_one_go(sim: RunningErpSim, node_a: Node) -> None:
    loaded = sim.call("PUT", "/central/v1/bins/load", [{"bin": f"R-{i:05d}", "zone": "R"} for i in range(3000)])
    assert loaded == {"first": 1, "last": 3000, "count": 3000}
    items = sim.call("PUT", "/central/v1/items/load", [{"item": f"I-{i}", "description": "x"} for i in range(10)])
    assert (items["first"], items["last"]) == (3001, 3010)
    feed = node_a.changes(0, limit=5000)
    assert len(feed.changes) == 3010 and not feed.more and feed.cursor == 3010
    assert feed.changes[2999].payload == {"bin": "R-02999", "zone": "R", "capacity": None, "allowed_items": [],
                                          "max_per_item": None, "lot_policy": "mixed"}
    twice = sim.admin.put("/central/v1/bins/load", json=[{"bin": "X", "zone": "R"}, {"bin": "X", "zone": "R"}])
    assert twice.status_code == 422 and twice.json()["code"] == "DUPLICATE_BIN"


def test_a_shipped_pallet_is_booked_per_sales_order_line_and_an_unknown_order_is_rejected(
        sim: RunningErpSim, node_a: Node) -> None:
    sim.call("PUT", "/central/v1/items", {"item": "FG-1", "description": "Gearbox", "family": "gearbox"})
    sim.call("PUT", "/central/v1/customers", {"customer": "C-7", "name": "Gearworks"})
    sim.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-7", "customer": "C-7", "lines": [
        {"line": 1, "item": "FG-1", "quantity": "10"}, {"line": 2, "item": "FG-1", "quantity": "5"}]})
    code = "312345670000000018"

    def shipped(sales_order: str, sscc: str = code) -> ev.PalletShipped:
        return ev.PalletShipped(sscc=sscc, sales_order=sales_order, customer="C-7", bin="SHIP", at=T0, lines=(
            ev.ShippedLine(lot="G-1", item="FG-1", quantity=D(10), line=1),
            ev.ShippedLine(lot="G-2", item="FG-1", quantity=D(2), line=2)))

    ack = node_a.push(node_a.events(received("G-1", "FG-1", 10, "SHIP"), received("G-2", "FG-1", 2, "SHIP"),
                                    shipped("SO-7"), shipped("SO-404", "312345670000000025")))
    assert (ack.stored, [(r.seq, r.code, r.field) for r in ack.rejected]) == (
        3, [(4, "UNKNOWN_SALES_ORDER", "payload.sales_order")])
    booked = sim.call("GET", "/central/v1/sales-orders/SO-7/shipments")
    assert [(ln["line"], ln["shipped"]) for ln in booked["lines"]] == [(1, "10"), (2, "2")]
    assert [(p["sscc"], [x["lot"] for x in p["lots"]]) for p in booked["pallets"]] == [(code, ["G-1", "G-2"])]
    # A redelivered batch books nothing twice.
    again = node_a.push([sync_event(3, shipped("SO-7"))], after=2, through=3, redelivery=True)
    assert again.duplicates == 1
    assert [ln["shipped"] for ln in sim.call("GET", "/central/v1/sales-orders/SO-7/shipments")["lines"]] == ["10", "2"]
    # A payload that breaks the protocol's model is refused naming the field.
    bad = sync_event(node_a.seq + 1, shipped("SO-7", "312345670000000032"))
    bad["payload"]["sscc"] = "not-an-sscc"
    node_a.seq += 1
    ack = node_a.push([bad])
    assert [(r.code, r.field) for r in ack.rejected] == [("INVALID_EVENT", "payload.sscc")]
