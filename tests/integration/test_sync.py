"""The sync daemon against the central simulator over HTTP: pull what the ERP decided, push what the floor did,
exactly once and in order through outages, dropped connections, a central crash between store and answer, a
killed daemon, business rejections handled by a supervisor, conflicts, and two nodes on one PostgreSQL."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.sync import PUSH, SyncLedger
from erp_sync.client import CentralClient, CentralUnavailable
from erp_sync.config import SyncSection
from erp_sync.daemon import SyncDaemon
from erp_sync.pull import Puller
from erp_sync.push import Pusher
from simulators.erp import RunningErpSim, running_erp_sim
from simulators.faulty_link import running_link
from tests.integration.conftest import RunningNode, start_node

TOKENS = {"token-node-a-0000000": "node-a", "token-node-b-0000000": "node-b"}
TOKEN_OF = {node: token for token, node in TOKENS.items()}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", TOKENS) as running:
        plan(running)
        yield running


def plan(sim: RunningErpSim) -> None:
    """The central master data: a pump made of a housing on workstation ASSY, and its routing and BOM."""
    sim.call("PUT", "/central/v1/items", {"item": "HOUSING", "description": "Pump housing", "source": "buy"})
    sim.call("PUT", "/central/v1/items", {"item": "PUMP", "description": "Pump", "family": "pumps"})
    sim.call("PUT", "/central/v1/workstations", {"workstation": "ASSY", "labour_rate": "60", "machine_rate": "30"})
    sim.call("PUT", "/central/v1/routings", {"item": "PUMP", "operations": [
        {"operation": 10, "description": "Assemble", "workstation": "ASSY", "standard_minutes": "2",
         "instruction_url": "https://plm.example/wi/PUMP/10"}]})
    sim.call("POST", "/central/v1/boms", {"item": "PUMP", "bom_revision": "A", "lines": [
        {"line": 1, "item": "HOUSING", "quantity_per": "1"}]})


def release(sim: RunningErpSim, work_order: str, quantity: int = 100) -> None:
    sim.call("POST", "/central/v1/work-orders", {"work_order": work_order, "item": "PUMP", "quantity": str(quantity)})


def section(sim_url: str, node: str, **extra: Any) -> SyncSection:
    return SyncSection(central_url=sim_url, token=TOKEN_OF[node], push_interval_s=0.2, pull_interval_s=0.5,
                       backoff_max_s=0.5, timeout_s=5, **extra)


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", "node-a")
    yield running
    running.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _pull(service: Service, url: str, node: str) -> Any:
    async with CentralClient(url, TOKEN_OF[node], node) as client:
        return await Puller(service, client).pull()


async def _push(store: Store, url: str, node: str, **kw: Any) -> Any:
    async with CentralClient(url, TOKEN_OF[node], node, timeout_s=5) as client:
        return await Pusher(store, node, client, **kw).push()


def received(sim: RunningErpSim, node: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = sim.call("GET", f"/central/v1/nodes/{node}/events", after=after, limit=5000)
        rows = page["events"] if isinstance(page, dict) else page
        if not rows:
            return out
        out += rows
        after = rows[-1]["seq"]


def edge_seqs(store: Store) -> list[int]:
    return [e.seq for e in store.journal() if e.origin == "edge"]


def machine_events(service: Service, n: int, equipment: str = "M-1", start: int = 0) -> None:
    """``n`` machine state changes recorded at the edge (alternating running/idle), as a PLC would cause them."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    futures = [service.submit(c.SetMachineState(
        idempotency_key=f"plc:{equipment}:{i}", actor="plc", actor_roles=frozenset({"service"}), equipment=equipment,
        state="running" if i % 2 == 0 else "idle", since=t0 + timedelta(milliseconds=i)))
        for i in range(start, start + n)]
    for f in futures:
        f.result(60)


def define_machine(service: Service, equipment: str = "M-1") -> None:
    service.handle(c.DefineEquipment(idempotency_key=f"eq:{equipment}", actor="seed", actor_roles=frozenset({"admin"}),
                                     origin="erp", equipment=equipment, workstation="ASSY"))


# --- pull then push: the round trip ------------------------------------------------------------------


def test_released_centrally_worked_at_the_edge_and_reported_back(sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-1", 10)
    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 0 and report.applied >= 4  # items, BOM, work order (and what else the ERP sent)
    wo = edge.client("operator").get("/api/v1/work-orders/WO-1").json()
    assert wo["bom_revision"] == "A" and [b["item"] for b in wo["bom"]] == ["HOUSING"]
    assert wo["operations"][0]["instruction_url"] == "https://plm.example/wi/PUMP/10"  # PLM's work instruction
    again = run(_pull(edge.service, sim.url, "node-a"))
    assert again.applied == 0  # the cursor moved on: nothing applied twice

    op = "/work-orders/WO-1/operations/10"
    assert edge.post("operator", f"{op}/start", {}).status_code == 201
    assert edge.post("operator", f"{op}/production", {"good": "7", "scrap": "1", "scrap_reason": "burr"}).status_code == 201
    pushed = run(_push(edge.store, sim.url, "node-a"))
    assert pushed.refused == 0
    assert pushed.sent == len(edge_seqs(edge.store))  # only edge-origin events travel; ERP ones never go back
    central = sim.call("GET", "/central/v1/work-orders/WO-1")["operations"][0]  # progress per operation
    assert D(str(central["good"])) == 7 and D(str(central["scrap"])) == 1
    status = SyncLedger(edge.store).status()
    assert status["lag_events"] == 0 and status["acknowledged"] == edge.store.last_seq()
    # the central side learns who booked it, not only for whom: the logged-on user travels with each event
    reported = sim.call("GET", "/central/v1/nodes/node-a/events?type=ProductionReported")
    assert reported and {(e["actor"], e["recorded_by"], e["on_behalf_of"]) for e in reported} == {
        ("operator1", "operator1", None)}


# --- outage, dropped connections, a crash between store and answer -----------------------------------


def test_thousands_of_events_recorded_while_the_erp_is_down_arrive_once_and_in_order(
        sim: RunningErpSim, edge: RunningNode) -> None:
    define_machine(edge.service)

    async def scenario(link: Any) -> None:
        daemon = SyncDaemon(edge.service, section(link.url, "node-a", batch_events=500), "node-a")
        daemon.start()
        await asyncio.to_thread(machine_events, edge.service, 3000)
        await asyncio.sleep(1.0)
        assert daemon.health.failures >= 1 and not daemon.health.connected
        assert not received(sim, "node-a")  # nothing arrived, so nothing was acknowledged: nothing is lost
        assert SyncLedger(edge.store).cursor(PUSH) <= 1  # at most the ERP-origin machine definition, never sent
        link.up()  # the network is back
        deadline = time.monotonic() + 60
        while SyncLedger(edge.store).status()["lag_events"] and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await daemon.stop()

    with running_link("127.0.0.1", sim.port) as link:
        link.down()  # the network to the central systems is down
        run(scenario(link))
    got = received(sim, "node-a")
    seqs = [r["seq"] for r in got]
    assert seqs == edge_seqs(edge.store)  # every edge event, once, in order
    assert len(seqs) == 3000


def test_a_connection_dropped_mid_batch_and_500s_deliver_exactly_once(sim: RunningErpSim, edge: RunningNode) -> None:
    define_machine(edge.service)
    machine_events(edge.service, 1200)
    sim.set_faults(drop_next=1)
    with pytest.raises(CentralUnavailable):
        run(_push(edge.store, sim.url, "node-a", batch_events=400))
    sim.set_faults(fail_next=2)
    for _ in range(2):
        with pytest.raises(CentralUnavailable):
            run(_push(edge.store, sim.url, "node-a", batch_events=400))
    report = run(_push(edge.store, sim.url, "node-a", batch_events=400))
    assert report.refused == 0
    assert [r["seq"] for r in received(sim, "node-a")] == edge_seqs(edge.store)


def test_the_central_side_crashing_after_it_stored_a_batch_costs_a_duplicate_not_a_double(
        tmp_path: Path, edge: RunningNode) -> None:
    from tests.integration.conftest import free_port

    db = f"sqlite:///{tmp_path}/central-crash.sqlite"
    port = free_port()
    tokens = [a for token, node in TOKENS.items() for a in ("--node-token", f"{node}={token}")]
    cmd = [sys.executable, "-m", "takt.cli", "sim", "erp", "--database-url", db, "--port", str(port),
           "--admin-token", "erp-admin-token-x", *tokens]

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.kill()
        raise RuntimeError(f"takt sim erp did not start: {proc.stderr.read().decode() if proc.stderr else ''}")

    define_machine(edge.service)
    machine_events(edge.service, 300)
    proc = start()
    try:
        admin = {"Authorization": "Bearer erp-admin-token-x"}
        httpx.post(f"http://127.0.0.1:{port}/sim/v1/faults", json={"crash_after_store": True}, headers=admin,
                   timeout=5).raise_for_status()
        with pytest.raises(CentralUnavailable):
            run(_push(edge.store, f"http://127.0.0.1:{port}", "node-a"))
        assert proc.wait(10) != 0  # it died after storing, before answering
        assert SyncLedger(edge.store).cursor(PUSH) == 0  # so the node does not know it arrived
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = start()
    try:
        report = run(_push(edge.store, f"http://127.0.0.1:{port}", "node-a"))
        assert report.duplicates == 300 and report.stored == 0
        rows = httpx.get(f"http://127.0.0.1:{port}/central/v1/nodes/node-a/events", params={"limit": 5000},
                         headers={"Authorization": "Bearer erp-admin-token-x"}, timeout=10).json()
        rows = rows["events"] if isinstance(rows, dict) else rows
        assert [r["seq"] for r in rows] == edge_seqs(edge.store)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def _site(tmp_path: Path, central_url: str, node: str = "node-a") -> Path:
    folder = tmp_path / "site"
    folder.mkdir(exist_ok=True)
    demo = (Path(__file__).parents[2] / "config" / "demo.yaml").read_text()
    site = demo.replace("id: demo-eindhoven-assembly-1", f"id: {node}", 1)
    site += textwrap.dedent(f"""
        sync:
          central_url: {central_url}
          token: {TOKEN_OF[node]}
          batch_events: 200
        """)
    path = folder / "site.yaml"
    path.write_text(site)
    return path


def test_killing_the_headless_daemon_mid_backlog_loses_and_doubles_nothing(
        tmp_path: Path, sim: RunningErpSim) -> None:
    site = _site(tmp_path, sim.url)
    data = tmp_path / "data"
    from takt.config import load_config
    from takt.runtime import Node

    cfg = load_config(site)
    with Node(cfg, data_dir=data) as node:  # seeds the demo site; then the floor records a backlog
        define_machine(node.service)
        machine_events(node.service, 6000)
        node_id = node.node_id
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "sync", "push", "--config", str(site), "--data-dir",
                             str(data)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store(sqlite_url(data))
    try:
        deadline = time.monotonic() + 60
        while SyncLedger(store).cursor(PUSH) == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        acknowledged = SyncLedger(store).cursor(PUSH)
        assert 0 < acknowledged < store.last_seq(), "the kill should land mid-backlog"
        done = subprocess.run([sys.executable, "-m", "takt.cli", "sync", "push", "--config", str(site), "--data-dir",
                               str(data)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert [r["seq"] for r in received(sim, node_id)] == edge_seqs(store)
    finally:
        store.close()


# --- business rejections: a sync exception a supervisor handles --------------------------------------


def test_a_refused_event_waits_with_its_subject_while_others_flow_until_a_supervisor_retries(
        sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-7", 10)
    run(_pull(edge.service, sim.url, "node-a"))
    define_machine(edge.service)
    sim.set_faults(reject=[{"subject": "work_order:WO-7", "code": "PERIOD_CLOSED",
                            "message": "period 2026-11 is closed for WO-7"}])
    op = "/work-orders/WO-7/operations/10"
    edge.post("operator", f"{op}/start", {})
    edge.post("operator", f"{op}/production", {"good": "2"})
    machine_events(edge.service, 5)
    first = run(_push(edge.store, sim.url, "node-a"))
    assert first.refused == 1 and first.exceptions_created
    # more of the refused subject is recorded: it waits; other subjects keep flowing
    edge.post("operator", f"{op}/production", {"good": "3"})
    machine_events(edge.service, 5, start=5)
    second = run(_push(edge.store, sim.url, "node-a"))
    assert second.refused == 0 and second.parked == 1
    central_subjects = [r["subject"] for r in received(sim, "node-a")]
    assert "work_order:WO-7" not in central_subjects and central_subjects.count("equipment:M-1") == 10

    listed = edge.client("operator").get("/api/v1/sync/exceptions").json()["exceptions"]
    assert len(listed) == 1
    exc = listed[0]
    assert exc["code"] == "PERIOD_CLOSED" and exc["subject"] == "work_order:WO-7" and exc["parked"] == 3
    # an operator may look but not decide
    assert edge.client("operator").post(f"/api/v1/sync/exceptions/{exc['id']}/retry", json={}).status_code == 403
    # a note with control characters is refused by name and changes nothing (a line break is a note's own)
    garbled = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/retry",
                                             json={"note": "period\x00reopened"})
    assert garbled.status_code == 422 and "note" in garbled.text, garbled.text
    set_aside = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/set-aside",
                                               json={"reason": "not\x1bneeded"})
    assert set_aside.status_code == 422 and "reason" in set_aside.text, set_aside.text
    assert edge.client("supervisor").get("/api/v1/sync/exceptions").json()["exceptions"][0]["status"] == "open"
    # the ERP reopens the period; the supervisor retries
    sim.set_faults(reject=[])
    answer = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/retry",
                                            json={"note": "period reopened"})
    assert answer.status_code == 200 and answer.json()["status"] == "retry"
    third = run(_push(edge.store, sim.url, "node-a"))
    assert third.refused == 0
    got = [r for r in received(sim, "node-a") if r["subject"] == "work_order:WO-7"]
    assert [r["seq"] for r in got] == sorted(r["seq"] for r in got)  # the subject's order kept
    assert len(got) == 3
    central = sim.call("GET", "/central/v1/work-orders/WO-7")["operations"][0]
    assert D(str(central["good"])) == 5
    closed = edge.client("supervisor").get("/api/v1/sync/exceptions").json()["exceptions"][0]
    assert closed["status"] == "resolved" and closed["handled_by"] == "supervisor1" and closed["parked"] == 0
    again = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/retry", json={})
    assert again.status_code == 409 and again.json()["code"] == "SYNC_EXCEPTION_CLOSED"


def test_an_event_set_aside_is_skipped_and_those_behind_it_go_on(sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-8", 10)
    run(_pull(edge.service, sim.url, "node-a"))
    sim.set_faults(reject=[{"type": "OperationStarted", "code": "NOT_ALLOWED", "message": "starts are not booked"}])
    op = "/work-orders/WO-8/operations/10"
    edge.post("operator", f"{op}/start", {})
    edge.post("operator", f"{op}/production", {"good": "4"})
    run(_push(edge.store, sim.url, "node-a"))
    exc = edge.client("supervisor").get("/api/v1/sync/exceptions?open_only=true").json()["exceptions"][0]
    assert exc["code"] == "NOT_ALLOWED"
    bad = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/set-aside", json={})
    assert bad.status_code == 422  # a reason is required
    ok = edge.client("supervisor").post(f"/api/v1/sync/exceptions/{exc['id']}/set-aside",
                                        json={"reason": "booked by hand in the ERP"})
    assert ok.status_code == 200
    run(_push(edge.store, sim.url, "node-a"))
    types = [r["type"] for r in received(sim, "node-a") if r["subject"] == "work_order:WO-8"]
    assert types == ["ProductionReported"]
    final = edge.client("supervisor").get("/api/v1/sync/exceptions").json()["exceptions"][0]
    assert final["status"] == "set_aside" and final["note"] == "booked by hand in the ERP"


# --- what the central systems decide: conflicts and BOM revisions ------------------------------------


def test_an_order_cancelled_centrally_while_it_runs_is_flagged_not_overwritten(
        sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-3", 10)
    release(sim, "WO-4", 10)
    run(_pull(edge.service, sim.url, "node-a"))
    edge.post("operator", "/work-orders/WO-3/operations/10/start", {})
    edge.post("operator", "/work-orders/WO-3/operations/10/production", {"good": "2"})
    sim.call("POST", "/central/v1/work-orders/WO-3/cancel")
    sim.call("POST", "/central/v1/work-orders/WO-4/cancel")
    run(_pull(edge.service, sim.url, "node-a"))
    orders = {w["work_order"]: w for w in edge.client("operator").get("/api/v1/work-orders").json()["work_orders"]}
    assert orders["WO-4"]["status"] == "cancelled"  # nothing was done on it here
    assert orders["WO-3"]["status"] == "in_progress" and orders["WO-3"]["good"] == "2"  # kept as the floor has it
    conflicts = edge.client("supervisor").get("/api/v1/work-order-conflicts").json()["conflicts"]
    assert [(x["work_order"], x["change"], x["status"]) for x in conflicts] == [("WO-3", "cancelled", "open")]
    assert edge.post("operator", "/work-orders/WO-3/conflict", {"resolution": "accept"}).status_code == 403
    assert edge.post("supervisor", "/work-orders/WO-3/conflict", {"resolution": "accept"}).status_code == 201
    wo3 = edge.client("operator").get("/api/v1/work-orders/WO-3").json()
    assert wo3["status"] == "cancelled"
    refused = edge.post("operator", "/work-orders/WO-3/operations/10/production", {"good": "1"})
    assert refused.status_code == 409 and refused.json()["code"] == "WORK_ORDER_CANCELLED"
    from edge.store.verify import verify

    assert verify(edge.store).ok  # the journal alone rebuilds what the ERP sent and the floor decided


def test_a_bom_revision_published_immediately_applies_to_open_orders(sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/items", {"item": "HOUSING", "description": "Pump housing", "source": "buy",
                                          "revision": "B"})
    release(sim, "WO-5", 10)
    run(_pull(edge.service, sim.url, "node-a"))
    sim.call("POST", "/central/v1/boms", {"item": "PUMP", "bom_revision": "B", "effective": "immediately", "lines": [
        {"line": 1, "item": "HOUSING", "item_revision": "B", "quantity_per": "1"}]})
    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 0
    wo = edge.client("operator").get("/api/v1/work-orders/WO-5").json()
    assert wo["bom_revision"] == "B" and wo["bom"][0]["item_revision"] == "B"


# --- two nodes, one central database on PostgreSQL ---------------------------------------------------


def test_two_nodes_sync_to_one_simulator_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with running_erp_sim(postgres_url, TOKENS) as central:
        plan(central)
        nodes = [start_node(f"sqlite:///{tmp_path}/{n}.sqlite", n) for n in ("node-a", "node-b")]
        try:
            for n in nodes:
                define_machine(n.service, f"M-{n.node_id}")
                machine_events(n.service, 1500, f"M-{n.node_id}")

            async def both() -> list[Any]:
                return list(await asyncio.gather(*(_push(n.store, central.url, n.node_id, batch_events=300)
                                                   for n in nodes)))

            reports = run(both())
            assert all(r.refused == 0 for r in reports)
            for n in nodes:
                assert [r["seq"] for r in received(central, n.node_id)] == edge_seqs(n.store)
        finally:
            for n in nodes:
                n.stop()


def test_pages_of_only_erp_origin_events_keep_the_central_cursor_in_step(sim: RunningErpSim, edge: RunningNode) -> None:
    """ERP-origin events are never sent, but a batch that holds only those still tells the central side how far
    the node got; otherwise its next batch would look like a gap."""
    release(sim, "WO-9", 10)
    run(_pull(edge.service, sim.url, "node-a"))  # several ERP-origin events first
    define_machine(edge.service)
    machine_events(edge.service, 5)
    report = run(_push(edge.store, sim.url, "node-a", batch_events=1))  # one journal row a batch
    assert report.gaps == 0 and report.sent == 5
    assert [r["seq"] for r in received(sim, "node-a")] == edge_seqs(edge.store)
    cursor = httpx.get(f"{sim.url}/sync/v1/nodes/node-a/cursor",
                       headers={"Authorization": f"Bearer {TOKEN_OF['node-a']}"}).json()
    assert cursor["acknowledged"] == edge.store.last_seq()


def test_what_crm_mrp_aps_srm_and_the_erp_decide_reaches_the_floor(sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/users", {"user": "jan", "name": "Jan de Vries", "roles": ["operator"],
                                          "language": "nl"})
    sim.call("PUT", "/central/v1/users", {"user": "operator1", "name": "Renamed centrally", "roles": ["operator"],
                                          "language": "en"})
    sim.call("PUT", "/central/v1/items", {"item": "HOUSING", "description": "Pump housing", "source": "buy",
                                          "supplier": "ACME"})
    sim.call("PUT", "/central/v1/customers", {"customer": "C-100", "name": "Waterworks BV"})
    sim.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-1", "customer": "C-100", "lines": [
        {"line": 1, "item": "PUMP", "quantity": "40", "due": "2026-12-15"}]})
    planned = sim.call("POST", "/central/v1/mrp/run")
    assert planned["work_orders"] and planned["purchase_orders"]
    sim.call("POST", "/central/v1/aps/run", {"start": "2026-12-01T06:00:00+00:00"})

    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 0, SyncLedger(edge.store).exceptions()
    reader = edge.client("operator")
    [wo] = planned["work_orders"]
    order = reader.get(f"/api/v1/work-orders/{wo}").json()
    assert (order["quantity"], order["customer_order"], order["bom_revision"]) == ("40", "SO-1", "A")
    dispatch = reader.get("/api/v1/workstations/ASSY/dispatch-list").json()
    assert [d["work_order"] for d in dispatch["sequence"]] == [wo]
    [po] = reader.get("/api/v1/purchase-orders").json()["purchase_orders"]
    assert po["supplier"] == "ACME" and po["lines"][0]["item"] == "HOUSING"
    state = edge.service.state
    assert state.sales_orders["SO-1"].customer == "C-100" and state.customers["C-100"].name == "Waterworks BV"
    from edge.store.users import all_users

    users = {u.user: u for u in all_users(edge.store)}
    assert (users["jan"].name, users["jan"].language, users["jan"].roles) == ("Jan de Vries", "nl",
                                                                             frozenset({"operator"}))
    assert users["operator1"].name == "Renamed centrally"
    # the central rename kept the user's token: they still sign in
    assert reader.get("/api/v1/me").json()["name"] == "Renamed centrally"


def test_a_lot_the_erp_publishes_with_its_expiry_is_known_here_and_a_later_expiry_follows(
        sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/bins/load", [{"bin": "RECV", "zone": "DOCK"}])
    sim.call("PUT", "/central/v1/lots", {"lot": "H-900", "item": "HOUSING", "expiry": "2030-01-31"})
    refused = sim.admin.put("/central/v1/lots", json={"lot": "X-1", "item": "NOPE"})
    assert refused.status_code == 422 and "UNKNOWN_ITEM" in refused.text
    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 0, SyncLedger(edge.store).exceptions()
    lot = edge.service.state.lots["H-900"]
    assert (lot.item, lot.expiry, lot.quantity) == ("HOUSING", datetime(2030, 1, 31).date(), D(0))
    edge.service.handle(c.ReceiveLot(idempotency_key="r:H-900", actor="wh-1", actor_roles=frozenset({"warehouse"}),
                                     lot="H-900", item="HOUSING", item_revision=None, quantity=D(6), bin="RECV"))
    sim.call("PUT", "/central/v1/lots", {"lot": "H-900", "item": "HOUSING", "expiry": "2029-06-30"})
    assert run(_pull(edge.service, sim.url, "node-a")).applied == 1
    lot = edge.service.state.lots["H-900"]
    assert (lot.expiry, lot.quantity) == (datetime(2029, 6, 30).date(), D(6))


def test_sync_status_on_the_command_line(tmp_path: Path, sim: RunningErpSim) -> None:
    site = _site(tmp_path, sim.url)
    data = tmp_path / "data"
    from takt.config import load_config
    from takt.runtime import Node

    with Node(load_config(site), data_dir=data) as node:
        define_machine(node.service)
        machine_events(node.service, 10)
    before = subprocess.run([sys.executable, "-m", "takt.cli", "sync", "status", "--config", str(site), "--data-dir",
                             str(data)], capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert before.returncode == 0, before.stderr
    assert "10 events" in before.stdout
    pushed = subprocess.run([sys.executable, "-m", "takt.cli", "sync", "push", "--config", str(site), "--data-dir",
                             str(data)], capture_output=True, text=True, timeout=60)
    assert pushed.returncode == 0 and "pushed 10 events" in pushed.stdout, pushed.stdout + pushed.stderr
    after = subprocess.run([sys.executable, "-m", "takt.cli", "sync", "status", "--config", str(site), "--data-dir",
                            str(data)], capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert "0 events" in after.stdout and "never" not in after.stdout.split("last acknowledgement")[1].splitlines()[0]
    no_sync = tmp_path / "plain.yaml"
    no_sync.write_text((Path(__file__).parents[2] / "config" / "demo.yaml").read_text())
    refused = subprocess.run([sys.executable, "-m", "takt.cli", "sync", "status", "--config", str(no_sync)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "no sync section" in refused.stderr


def test_a_central_side_that_lost_the_nodes_events_gets_them_again_and_parked_ones_stay_parked(
        tmp_path: Path, edge: RunningNode) -> None:
    define_machine(edge.service)
    with running_erp_sim(f"sqlite:///{tmp_path}/before.sqlite", TOKENS) as first:
        plan(first)
        release(first, "WO-2", 10)
        run(_pull(edge.service, first.url, "node-a"))
        first.set_faults(reject=[{"subject": "work_order:WO-2", "code": "PERIOD_CLOSED", "message": "closed"}])
        edge.post("operator", "/work-orders/WO-2/operations/10/start", {})
        machine_events(edge.service, 20)
        assert run(_push(edge.store, first.url, "node-a")).refused == 1
    # the central database is restored from an old backup: it holds nothing of this node
    with running_erp_sim(f"sqlite:///{tmp_path}/restored.sqlite", TOKENS) as restored:
        plan(restored)
        edge.post("operator", "/work-orders/WO-2/operations/10/production", {"good": "1"})
        machine_events(edge.service, 5, start=20)
        report = run(_push(edge.store, restored.url, "node-a"))
        assert report.gaps == 1  # told by the central side, the node went back and sent everything again
        sent = [r["seq"] for r in received(restored, "node-a")]
        parked = {e.seq for e in edge.store.journal() if e.subject == "work_order:WO-2" and e.origin == "edge"}
        assert sent == [s for s in edge_seqs(edge.store) if s not in parked]
        [exception] = SyncLedger(edge.store).exceptions(open_only=True)
        assert exception.parked == len(parked) == 2  # each parked once, the new one behind them


def test_the_sync_bookkeeping_works_on_a_postgresql_store(sim: RunningErpSim, postgres_url: str) -> None:
    """A node whose store is PostgreSQL: cursors, a refused event parked with its subject, a retry."""
    node = start_node(postgres_url, "node-a")
    try:
        release(sim, "WO-P", 10)
        run(_pull(node.service, sim.url, "node-a"))
        sim.set_faults(reject=[{"subject": "work_order:WO-P", "code": "PERIOD_CLOSED", "message": "closed"}])
        node.post("operator", "/work-orders/WO-P/operations/10/start", {})
        node.post("operator", "/work-orders/WO-P/operations/10/production", {"good": "2"})
        assert run(_push(node.store, sim.url, "node-a")).refused == 1
        [exc] = SyncLedger(node.store).exceptions(open_only=True)
        assert exc.parked == 2
        sim.set_faults(reject=[])
        SyncLedger(node.store).request_retry(exc.id, "supervisor1", "reopened")
        assert run(_push(node.store, sim.url, "node-a")).refused == 0
        assert SyncLedger(node.store).status()["lag_events"] == 0
        assert [r["seq"] for r in received(sim, "node-a")] == edge_seqs(node.store)
    finally:
        node.stop()


def test_the_sync_speaks_https_to_a_central_side_signed_by_the_plants_own_ca(tmp_path: Path, edge: RunningNode) -> None:
    import threading

    import uvicorn

    from simulators.erp.app import ErpSimConfig, ErpSimulator
    from tests.integration.certs import make_ca, make_server_cert
    from tests.integration.conftest import free_port

    ca, ca_cert, ca_key = make_ca(tmp_path, "plant-ca")
    other_ca = make_ca(tmp_path, "other-ca")[0]
    cert, key = make_server_cert(tmp_path, ca_cert, ca_key, "erp")
    central = ErpSimulator(ErpSimConfig(database_url=f"sqlite:///{tmp_path}/tls.sqlite", node_tokens=TOKENS,
                                        admin_token="erp-admin-token"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(central.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ssl_certfile=str(cert), ssl_keyfile=str(key)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the HTTPS simulator did not start"
        time.sleep(0.02)
    try:
        define_machine(edge.service)
        machine_events(edge.service, 10)
        url = f"https://127.0.0.1:{port}"

        async def push(ca_file: Path | None) -> Any:
            async with CentralClient(url, TOKEN_OF["node-a"], "node-a", ca_file=ca_file) as client:
                return await Pusher(edge.store, "node-a", client).push()

        with pytest.raises(CentralUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            run(push(other_ca))  # a certificate from another CA is refused: nothing sent, nothing acknowledged
        assert SyncLedger(edge.store).cursor(PUSH) == 0
        report = run(push(ca))
        assert report.sent == 10 and SyncLedger(edge.store).status()["lag_events"] == 0
    finally:
        server.should_exit = True
        thread.join(10)
        central.close()


def test_a_long_parked_subject_goes_out_in_batches_after_the_retry(sim: RunningErpSim, edge: RunningNode) -> None:
    define_machine(edge.service)
    sim.set_faults(reject=[{"subject": "equipment:M-1", "code": "NOT_NOW", "message": "maintenance window"}])
    machine_events(edge.service, 25)
    run(_push(edge.store, sim.url, "node-a", batch_events=10))
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.parked == 25
    sim.set_faults(reject=[])
    SyncLedger(edge.store).request_retry(exc.id, "supervisor1")
    rounds = 0
    while SyncLedger(edge.store).exceptions(open_only=True):
        run(_push(edge.store, sim.url, "node-a", batch_events=10))
        rounds += 1
        assert rounds <= 3, "the parked events should drain in three rounds of ten"
    assert rounds == 3
    assert [r["seq"] for r in received(sim, "node-a")] == edge_seqs(edge.store)
    assert SyncLedger(edge.store).get(exc.id).status == "resolved"


def test_a_central_change_the_node_refuses_is_a_pull_exception_that_does_not_stop_the_feed(
        sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/users", {"user": "kees", "name": "Kees", "roles": ["forklift"]})
    sim.call("PUT", "/central/v1/users", {"user": "jan", "name": "Jan", "roles": ["operator"]})
    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 1  # the role is not one of Takt's; the changes after it are applied
    from edge.store.users import all_users

    assert "jan" in {u.user for u in all_users(edge.store)}
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert (exc.direction, exc.subject, exc.code) == ("pull", "user:kees", "INVALID_USER")
    assert "forklift" in exc.message
    SyncLedger(edge.store).request_retry(exc.id, "supervisor1")
    again = run(_pull(edge.service, sim.url, "node-a"))  # the same change applied again: still refused
    assert again.applied == 0
    still = SyncLedger(edge.store).get(exc.id)
    assert (still.status, still.attempts) == ("open", 2)
    SyncLedger(edge.store).set_aside(exc.id, "supervisor1", "kees drives forklifts, no Takt role")
    assert SyncLedger(edge.store).get(exc.id).status == "set_aside"


def test_a_central_system_cannot_change_a_directory_users_roles(sim: RunningErpSim, edge: RunningNode) -> None:
    """The plant's directory owns its people: a central system that could grant 'admin' to a directory account
    would be a way around the directory's groups. The change is a pull exception; the person stays as they were."""
    from edge.store.directory import DirectoryEntry, remember
    from edge.store.users import all_users

    remember(edge.store, DirectoryEntry(user="anna", dn="uid=anna,ou=people,dc=plant", name="Anna de Vries",
                                        roles=frozenset({"operator"}), groups=("cn=line1,ou=groups,dc=plant",)))
    sim.call("PUT", "/central/v1/users", {"user": "anna", "name": "Anna", "roles": ["admin"]})
    report = run(_pull(edge.service, sim.url, "node-a"))
    assert report.refused == 1
    [anna] = [u for u in all_users(edge.store) if u.user == "anna"]
    assert (anna.name, sorted(anna.roles)) == ("Anna de Vries", ["operator"])
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert (exc.subject, exc.code, exc.field) == ("user:anna", "DIRECTORY_USER", "user")
    assert "directory" in exc.message


def test_a_node_whose_journal_was_rewritten_is_refused_by_the_central_side(
        sim: RunningErpSim, edge: RunningNode) -> None:
    """Each batch carries the journal's chain head; the central side keeps the last one per node. A journal rewritten
    with fresh hashes (so that the node's own chain check passes) no longer continues from it: CHAIN_BROKEN."""
    from sqlalchemy import text

    from edge.store.chain import CHAIN_COLUMNS, GENESIS, row_hash
    from erp_sync.client import CentralRefused

    define_machine(edge.service)
    machine_events(edge.service, 5)
    first = run(_push(edge.store, sim.url, "node-a"))
    assert first.sent == 5
    with edge.store.engine.begin() as conn:  # rewrite one event, then every hash from there on
        conn.execute(text("UPDATE journal SET actor = 'mallory' WHERE seq = 3"))
        prev = GENESIS
        for row in conn.execute(text(f"SELECT {', '.join(CHAIN_COLUMNS)} FROM journal ORDER BY seq")).all():
            prev = row_hash(prev, row)
            conn.execute(text("UPDATE journal SET chain_hash = :h WHERE seq = :s"), {"h": prev, "s": row.seq})
    machine_events(edge.service, 3, start=5)
    with pytest.raises(CentralRefused) as refused:
        run(_push(edge.store, sim.url, "node-a"))
    assert refused.value.code == "CHAIN_BROKEN"
    assert "journal was rewritten" in refused.value.message
    assert len(received(sim, "node-a")) == 5  # nothing of the rewritten node's later batch was taken
