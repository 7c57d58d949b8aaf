"""Takt against a live Tryton (trytond 8.2 started by the test run): a production released in Tryton is pulled as a
work order, worked at the edge (consumption by lot, output by lot, a bin move, inspections, operation times) and
pushed back until Tryton shows the production done with the right lots, quantities, work cycles and inspections,
and Tryton's stock by location equals the edge's stock by bin; exactly once through a Tryton outage and a retry
after a timeout."""
from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain import events as e
from edge.service import Service
from edge.store.codec import event_data
from edge.store.sync import PUSH, SyncLedger
from erp_sync import protocol
from erp_sync.config import ErpSection, SyncSection
from erp_sync.daemon import SyncDaemon
from erp_sync.pull import Puller, PullReport
from erp_sync.push import Pusher, PushReport
from erp_sync.tryton import TrytonCentral
from erp_sync.tryton.rpc import TrytonRPC, TrytonUnreachable
from simulators.tryton import (
    Plant,
    TrytonServer,
    TrytonSession,
    add_lot,
    place_purchase,
    place_sale,
    put_stock,
    release_production,
    set_up_plant,
)
from tests.integration.conftest import RunningNode, start_node

pytestmark = pytest.mark.slow

NODE = "node-t"
OP = frozenset({"operator"})
_n = itertools.count(1)


class Tryton:
    def __init__(self, server: TrytonServer, session: TrytonSession, plant: Plant) -> None:
        self.server, self.s, self.plant = server, session, plant

    def central(self, *, timeout_s: float = 30, retries: int = 4, retry_delay_s: float = 0.5,
                overlap_s: float = 5) -> TrytonCentral:
        rpc = TrytonRPC(self.server.url, self.server.database, "admin", self.server.password, timeout_s=timeout_s)
        return TrytonCentral(rpc, NODE, self.store, overlap_s=overlap_s, retries=retries,
                             retry_delay_s=retry_delay_s)

    store: Any = None


@pytest.fixture(scope="session")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tryton]:
    server = TrytonServer(tmp_path_factory.mktemp("tryton"))
    server.create()
    server.start()
    try:
        session = server.session()
        yield Tryton(server, session, set_up_plant(session))
    finally:
        server.stop()


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", NODE)
    yield running
    running.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _pull(service: Service, central: TrytonCentral) -> PullReport:
    try:
        return await Puller(service, central).pull()
    finally:
        await central.close()


async def _push(service: Service, central: TrytonCentral) -> PushReport:
    try:
        return await Pusher(service.store, NODE, central).push()
    finally:
        await central.close()


def do(service: Service, command_type: type[c.Command], **fields: Any) -> None:
    service.handle(command_type(idempotency_key=f"t:{next(_n)}", actor="op-1", actor_roles=OP, **fields))


def opening_stock(t: Tryton, service: Service, tag: str) -> tuple[str, str]:
    """A housing lot (10 in A1) and a seal lot (30 in A1), in Tryton and, as go-live stock, at the edge."""
    housing, seal = f"H-{tag}", f"S-{tag}"
    add_lot(t.s, t.plant, housing, "HOUSING")
    add_lot(t.s, t.plant, seal, "SEAL")
    put_stock(t.s, t.plant, housing, "HOUSING", "A1", D(10))
    put_stock(t.s, t.plant, seal, "SEAL", "A1", D(30))
    for lot, item, qty in ((housing, "HOUSING", D(10)), (seal, "SEAL", D(30))):
        service.handle(c.ReceiveLot(idempotency_key=f"opening:{lot}", actor="seed", actor_roles=frozenset({"admin"}),
                                    origin="erp", lot=lot, item=item, item_revision="1", quantity=qty, bin="A1"))
    return housing, seal


def tryton_stock(t: Tryton, lot: str, bin_code: str) -> D:
    rows = t.s.search_read("stock.lot", [("number", "=", lot)], ["quantity"],
                           context={"locations": [t.plant.bins[bin_code]]})
    return D(str(rows[0]["quantity"])).normalize() if rows else D(0)


def work_at_the_edge(service: Service, wo: str, housing: str, seal: str, product_lot: str, *,
                     failed_on_order: bool = False, disposition: bool = True) -> datetime:
    """Assemble (7 min, with a 2 min pause), consume 4 housings and 8 seals by lot, test (3 min), 4 pumps into B1
    as one lot, a passed inspection of the order and a failed one (of the order, or of the output lot) whose
    nonconformance quality dispositions use-as-is before the test ends (unless ``disposition`` is False), 5 seals
    moved A1 -> A2 and one of them scrapped there. Returns when it started."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    do(service, c.StartOperation, work_order=wo, operation=10, occurred_at=t0)
    do(service, c.IssueToWorkOrder, work_order=wo, lot=housing, bin="A1", quantity=D(4))
    do(service, c.IssueToWorkOrder, work_order=wo, lot=seal, bin="A1", quantity=D(6))
    do(service, c.PauseOperation, work_order=wo, operation=10, reason="material", occurred_at=t0 + timedelta(minutes=3))
    do(service, c.ResumeOperation, work_order=wo, operation=10, occurred_at=t0 + timedelta(minutes=5))
    do(service, c.CompleteOperation, work_order=wo, operation=10, occurred_at=t0 + timedelta(minutes=9))
    do(service, c.StartOperation, work_order=wo, operation=20, occurred_at=t0 + timedelta(minutes=10))
    do(service, c.IssueToWorkOrder, work_order=wo, lot=seal, bin="A1", quantity=D(2))  # after a booked cycle
    do(service, c.ReportProduction, work_order=wo, operation=20, good=D(4))
    do(service, c.ReceiveLot, lot=product_lot, item="PUMP", item_revision="1", quantity=D(4), bin="B1")
    do(service, c.RecordInspection, inspection=f"I-{product_lot}-1", plan="PUMP-FINAL", work_order=wo,
       measurements=(c.Measurement(characteristic="leak", passed=True),
                     c.Measurement(characteristic="pressure", value=D("10.2"))))
    failed_on: dict[str, str] = {"work_order": wo} if failed_on_order else {"lot": product_lot}
    do(service, c.RecordInspection, inspection=f"I-{product_lot}-2", plan="PUMP-FINAL", **failed_on,
       measurements=(c.Measurement(characteristic="leak", passed=False),
                     c.Measurement(characteristic="pressure", value=D("8.1"))))
    do(service, c.MoveStock, lot=seal, from_bin="A1", to_bin="A2", quantity=D(5))
    do(service, c.ScrapStock, lot=seal, bin="A2", quantity=D(1), reason="torn")
    if disposition:
        disposition_failed_inspection(service, product_lot)
    do(service, c.CompleteOperation, work_order=wo, operation=20, occurred_at=t0 + timedelta(minutes=13))
    return t0


def disposition_failed_inspection(service: Service, product_lot: str) -> None:
    service.handle(c.DispositionNonconformance(idempotency_key=f"t:{next(_n)}", actor="qa-1",
                                               actor_roles=frozenset({"quality"}), ncr=f"NCR-I-{product_lot}-2",
                                               disposition="use_as_is", comment="leak within the customer's spec",
                                               signature=c.SignatureSpec(signature=f"SIG-{next(_n):016X}",
                                                                         signer_name="QA One", meaning="approved")))


def check_in_tryton(t: Tryton, service: Service, production: int, housing: str, seal: str, product_lot: str
                    ) -> None:
    s = t.s
    prod = s.model("production", "read", [production], ["state", "inputs", "outputs", "works",
                                                         "quality_inspections"])[0]
    assert prod["state"] == "done"
    inputs = s.model("stock.move", "read", prod["inputs"], ["lot.number", "quantity", "from_location", "state"])
    got = sorted((m["lot."]["number"], D(str(m["quantity"])), m["from_location"], m["state"]) for m in inputs)
    a1 = t.plant.bins["A1"]
    assert [(lot, sum(q for x, q, _, _ in got if x == lot)) for lot in (housing, seal)] == [(housing, D(4)), (seal, D(8))]
    assert {(x, loc, st) for x, _, loc, st in got} == {(housing, a1, "done"), (seal, a1, "done")}
    outputs = s.model("stock.move", "read", prod["outputs"], ["lot.number", "quantity", "to_location", "state"])
    assert [(m["lot."]["number"], m["quantity"], m["to_location"], m["state"]) for m in outputs] == [
        (product_lot, 4.0, t.plant.bins["B1"], "done")]
    works = s.model("production.work", "read", prod["works"], ["sequence", "state", "cycles"])
    minutes = {}
    for w in works:
        assert w["state"] == "done"
        cycles = s.model("production.work.cycle", "read", w["cycles"], ["duration", "state", "cost"])
        assert all(cy["state"] == "done" for cy in cycles)
        minutes[w["sequence"]] = sum((cy["duration"] for cy in cycles), timedelta()) / timedelta(minutes=1)
        assert sum(D(str(cy["cost"])) for cy in cycles) > 0  # Tryton costed them at the work centre's rate
    assert minutes == {10: 7.0, 20: 3.0}  # assemble 9 min less the 2 min pause; test 3 min
    inspections = s.search_read("quality.inspection", [("origin", "=", f"production,{production}")],
                                ["state", "points", "alerts"], order=[["id", "ASC"]])
    passed = ("passed", {"leak": True, "pressure": 10.2})
    failed = ("failed", {"leak": False, "pressure": 8.1})
    # each once, the failed one of the output lot too (Tryton's inspections are of the production that made it)
    assert [(i["state"], i["points"]) for i in inspections] == [passed, failed]
    alerts = s.model("quality.alert", "read", inspections[1]["alerts"], ["state", "description"])
    assert [(a["state"], a["description"]) for a in alerts] == [
        ("resolved", f"Takt NCR-I-{product_lot}-2: use_as_is, leak within the customer's spec (by qa-1)")]
    scrap = s.search_read("stock.move", [("lot.number", "=", seal), ("to_location", "=", t.plant.lost_found)],
                          ["quantity", "from_location", "state"])
    assert [(m["quantity"], m["from_location"], m["state"]) for m in scrap] == [(1.0, t.plant.bins["A2"], "done")]
    # stock by location in Tryton equals the edge's stock by bin
    state = service.state
    for lot in (housing, seal, product_lot):
        for bin_code in ("A1", "A2", "B1"):
            assert tryton_stock(t, lot, bin_code) == state.stock_of(lot, bin_code), (lot, bin_code)


def test_a_production_released_in_tryton_is_worked_at_the_edge_and_done_in_tryton(
        tryton: Tryton, edge: RunningNode) -> None:
    round_trip(tryton, edge)


def round_trip(t: Tryton, edge: RunningNode) -> None:
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(4))
    planned = t.s.model("production", "read", [production], ["inputs", "outputs"])[0]
    assert (len(planned["inputs"]), len(planned["outputs"])) == (2, 1)  # from the BOM, without lots: they give way
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0, SyncLedger(edge.store).exceptions()
    order = edge.service.state.work_orders[wo]
    assert order.item == "PUMP" and order.quantity == 4
    ops = edge.service.state.operations_of(wo)
    assert [(o.operation, o.workstation) for o in ops] == [(10, "ASSY"), (20, "TEST")]
    assert [(b.item, b.quantity_per) for b in edge.service.state.bom_of(wo)] == [("HOUSING", D(1)), ("SEAL", D(2))]
    assert {"A1", "A2", "B1"} <= set(edge.service.state.bins)
    assert "PUMP-FINAL" in edge.service.state.inspection_plans
    again = run(_pull(edge.service, t.central()))
    assert again.applied == 0 and again.refused == 0  # the overlap re-read records nothing new

    housing, seal = opening_stock(t, edge.service, wo)
    product_lot = f"P-{wo}"
    work_at_the_edge(edge.service, wo, housing, seal, product_lot, failed_on_order=True, disposition=False)
    pushed = run(_push(edge.service, t.central()))
    # Tryton will not finish a production while a failed inspection's alert is open: a sync exception says so,
    # and what settles it
    ledger = SyncLedger(edge.store)
    [exc] = ledger.exceptions(open_only=True)
    assert pushed.refused == 1 and exc.subject == f"work_order:{wo}" and exc.code == "INSPECTION_FAILED"
    assert f"nonconformance NCR-I-{product_lot}-2" in exc.message and "Disposition" in exc.message
    assert t.s.model("production", "read", [production], ["state"])[0]["state"] == "running"
    alerts = t.s.search_read("quality.alert", [("origin.origin", "=", f"production,{production}",
                                                "quality.inspection")], ["state"])
    assert [a["state"] for a in alerts] == ["open"]
    # quality dispositions the nonconformance at the edge: that settles Tryton's alert; the supervisor retries
    disposition_failed_inspection(edge.service, product_lot)
    assert run(_push(edge.service, t.central())).refused == 0
    ledger.request_retry(exc.id, "sup-1")
    retried = run(_push(edge.service, t.central()))
    assert retried.refused == 0 and not ledger.exceptions(open_only=True)
    check_in_tryton(t, edge.service, production, housing, seal, product_lot)
    assert SyncLedger(edge.store).status()["lag_events"] == 0

    # the whole journal sent again (a lost acknowledgement): nothing is booked twice
    SyncLedger(edge.store).set_gap_cursor(0)
    again_pushed = run(_push(edge.service, t.central()))
    assert again_pushed.refused == 0 and again_pushed.duplicates >= 8  # every booking was found, none made again
    check_in_tryton(t, edge.service, production, housing, seal, product_lot)
    assert SyncLedger(edge.store).cursor(PUSH) == edge.store.last_seq()


def test_tryton_refusals_become_sync_exceptions_and_a_retry_clears_them(tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(4))
    run(_pull(edge.service, t.central()))
    housing, seal = opening_stock(t, edge.service, wo)
    # a lot the edge knows that Tryton does not: the consumption is refused with Tryton's side of the story
    stray = f"X-{wo}"
    edge.service.handle(c.ReceiveLot(idempotency_key=f"opening:{stray}", actor="seed",
                                     actor_roles=frozenset({"admin"}), origin="erp", lot=stray, item="HOUSING",
                                     item_revision="1", quantity=D(5), bin="A1"))
    do(edge.service, c.StartOperation, work_order=wo, operation=10)
    do(edge.service, c.IssueToWorkOrder, work_order=wo, lot=stray, bin="A1", quantity=D(2))
    do(edge.service, c.IssueToWorkOrder, work_order=wo, lot=stray, bin="A1", quantity=D(1))
    do(edge.service, c.IssueToWorkOrder, work_order=wo, lot=seal, bin="A1", quantity=D(4))
    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 1 and pushed.parked == 1  # the second issue of the stray lot waits behind the first
    ledger = SyncLedger(edge.store)
    [exc] = ledger.exceptions(open_only=True)
    assert exc.code == "UNKNOWN_LOT" and stray in exc.message
    seal_moves = t.s.search_read("stock.move", [("production_input", "=", production), ("lot.number", "=", seal)],
                                 ["quantity", "state"])
    assert [(m["quantity"], m["state"]) for m in seal_moves] == [(4.0, "done")]  # other subjects went on
    # the lot is entered in Tryton; the supervisor retries
    add_lot(t.s, t.plant, stray, "HOUSING")
    put_stock(t.s, t.plant, stray, "HOUSING", "A1", D(5))
    ledger.request_retry(exc.id, "sup-1")
    again = run(_push(edge.service, t.central()))
    assert again.refused == 0
    assert not ledger.exceptions(open_only=True)
    stray_moves = t.s.search_read("stock.move", [("production_input", "=", production), ("lot.number", "=", stray)],
                                  ["quantity", "state"])
    assert sum(m["quantity"] for m in stray_moves) == 3.0 and {m["state"] for m in stray_moves} == {"done"}
    assert tryton_stock(t, stray, "A1") == edge.service.state.stock_of(stray, "A1") == 2
    # one too many was issued: it goes back to the bin, in Tryton as at the edge
    do(edge.service, c.ReturnFromWorkOrder, work_order=wo, lot=stray, bin="A2", quantity=D(1))
    assert run(_push(edge.service, t.central())).refused == 0
    SyncLedger(edge.store).set_gap_cursor(0)  # and sent again, it is not booked twice
    assert run(_push(edge.service, t.central())).refused == 0
    for bin_code in ("A1", "A2"):
        assert tryton_stock(t, stray, bin_code) == edge.service.state.stock_of(stray, bin_code)
    assert edge.service.state.stock_of(stray, "A2") == 1


def test_tryton_stopped_during_the_run_gets_everything_once_when_it_is_back(tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(4))
    run(_pull(edge.service, t.central()))
    housing, seal = opening_stock(t, edge.service, wo)
    password = t.server.folder / "admin.password"
    section = SyncSection(erp=ErpSection(kind="tryton", url=t.server.url, database=t.server.database, user="admin",
                                         password_file=password, overlap_s=5, retries=1),
                          push_interval_s=0.2, pull_interval_s=0.5, backoff_max_s=0.5, timeout_s=5)

    async def scenario() -> None:
        daemon = SyncDaemon(edge.service, section, NODE)
        t.server.stop()  # Tryton goes down before the floor starts
        daemon.start()
        await asyncio.to_thread(work_at_the_edge, edge.service, wo, housing, seal, f"P-{wo}")
        await asyncio.sleep(2.0)
        assert daemon.health.failures >= 1 and not daemon.health.connected
        assert SyncLedger(edge.store).status()["lag_events"] > 0
        await asyncio.to_thread(t.server.start)
        deadline = asyncio.get_running_loop().time() + 120
        while SyncLedger(edge.store).status()["lag_events"] and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.3)
        await daemon.stop()

    run(scenario())
    t.s.login()
    assert not SyncLedger(edge.store).exceptions(open_only=True)
    check_in_tryton(t, edge.service, production, housing, seal, f"P-{wo}")


class LosingAnswers(TrytonRPC):
    """Sends every call to the real Tryton, which commits it, but loses the answer to the first call of each
    writing method, as a client timeout after the server committed would."""

    WRITES = frozenset({"create", "write", "delete", "do", "run", "wait", "assign_try", "process", "fail", "pass_"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost: list[str] = []

    async def _post(self, body: bytes) -> Any:
        method = json.loads(body)["method"]
        result = await super()._post(body)
        if method.rsplit(".", 1)[-1] in self.WRITES and method not in self.lost:
            self.lost.append(method)
            raise TrytonUnreachable(f"ReadTimeout: the answer to {method} was lost")
        return result


def test_a_retry_after_a_timeout_creates_no_second_document(tryton: Tryton, edge: RunningNode) -> None:
    """Every kind of write Tryton committed but whose answer was lost is tried again, and finds what it made."""
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(4))
    run(_pull(edge.service, t.central()))
    housing, seal = opening_stock(t, edge.service, wo)
    work_at_the_edge(edge.service, wo, housing, seal, f"P-{wo}")
    rpc = LosingAnswers(t.server.url, t.server.database, "admin", t.server.password)
    central = TrytonCentral(rpc, NODE, edge.store, retries=6, retry_delay_s=0.05)
    report = run(_push(edge.service, central))
    assert report.refused == 0, SyncLedger(edge.store).exceptions()
    assert {"model.production.write", "model.stock.shipment.internal.create", "model.quality.inspection.create",
            "model.production.work.cycle.do", "model.stock.move.do", "model.production.run"} <= set(rpc.lost)
    check_in_tryton(t, edge.service, production, housing, seal, f"P-{wo}")
    shipments = t.s.search_read("stock.shipment.internal", [("moves.lot.number", "=", seal)], ["reference", "state"])
    assert len(shipments) == 1 and shipments[0]["state"] == "done"
    assert SyncLedger(edge.store).cursor(PUSH) == edge.store.last_seq()


def test_a_production_cancelled_or_changed_in_tryton_is_flagged_at_the_edge_and_nothing_recorded_is_lost(
        tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    running_one, wo_running = release_production(t.s, t.plant, D(4))
    _, wo_waiting = release_production(t.s, t.plant, D(4))
    run(_pull(edge.service, t.central()))
    housing, seal = opening_stock(t, edge.service, wo_running)
    do(edge.service, c.StartOperation, work_order=wo_running, operation=10)
    do(edge.service, c.IssueToWorkOrder, work_order=wo_running, lot=housing, bin="A1", quantity=D(2))
    assert run(_push(edge.service, t.central())).refused == 0
    assert t.s.model("production", "read", [running_one], ["state"])[0]["state"] == "running"

    # in Tryton: the running production is cancelled, the waiting one gets a new quantity
    t.s.model("production", "cancel", [running_one])
    waiting_id = t.s.search_read("production", [("number", "=", wo_waiting)], ["id"])[0]["id"]
    t.s.model("production", "draft", [waiting_id])  # Tryton changes quantities of drafts only
    t.s.model("production", "write", [waiting_id], {"quantity": 6.0})
    t.s.model("production", "wait", [waiting_id])
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    conflicts = edge.client("supervisor").get("/api/v1/work-order-conflicts").json()["conflicts"]
    assert [(x["work_order"], x["change"], x["status"]) for x in conflicts] == [(wo_running, "cancelled", "open")]
    state = edge.service.state
    assert state.work_orders[wo_running].status != "cancelled"  # a supervisor decides; the 2 issued stay issued
    assert state.stock_of(housing, "A1") == 8
    assert state.work_orders[wo_waiting].quantity == 6  # not started here: the change simply applies

    # what the floor records on the cancelled production is refused by Tryton and waits for a supervisor
    do(edge.service, c.IssueToWorkOrder, work_order=wo_running, lot=seal, bin="A1", quantity=D(2))
    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 1
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.code == "WRONG_STATE" and "cancelled" in exc.message


def test_many_bin_moves_are_booked_together_and_a_bad_one_is_singled_out(tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    run(_pull(edge.service, t.central()))
    tag = f"M{next(_n)}"
    lots = [f"{tag}-{i:02d}" for i in range(20)]
    for lot in lots:
        if lot != lots[7]:  # Tryton never heard of this one
            add_lot(t.s, t.plant, lot, "SEAL")
            put_stock(t.s, t.plant, lot, "SEAL", "A1", D(3))
        edge.service.handle(c.ReceiveLot(idempotency_key=f"opening:{lot}", actor="seed",
                                         actor_roles=frozenset({"admin"}), origin="erp", lot=lot, item="SEAL",
                                         item_revision="1", quantity=D(3), bin="A1"))
    for lot in lots:
        do(edge.service, c.MoveStock, lot=lot, from_bin="A1", to_bin="A2", quantity=D(2))
    do(edge.service, c.MoveStock, lot=lots[0], from_bin="A2", to_bin="B1", quantity=D(1))  # a chain: after the bulk
    rpc = LosingAnswers(t.server.url, t.server.database, "admin", t.server.password)
    rpc.WRITES = frozenset()  # count calls only
    calls: list[str] = []
    original = rpc._post

    async def counting(body: bytes) -> Any:
        calls.append(json.loads(body)["method"])
        return await original(body)

    rpc._post = counting  # type: ignore[method-assign]
    report = run(_push(edge.service, TrytonCentral(rpc, NODE, edge.store)))
    assert report.refused == 1 and report.stored == 20
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.code == "UNKNOWN_LOT" and lots[7] in exc.message
    creates = [m for m in calls if m == "model.stock.shipment.internal.create"]
    assert len(creates) == 2  # the 19 moves Tryton can take together, then the chained one: not one per move
    for lot in lots:
        if lot == lots[7]:
            continue
        for bin_code in ("A1", "A2", "B1"):
            assert tryton_stock(t, lot, bin_code) == edge.service.state.stock_of(lot, bin_code), (lot, bin_code)


def test_a_purchase_in_tryton_is_expected_at_the_edge_and_the_receipt_books_it(
        tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    purchase, number = place_purchase(t.s, t.plant, "HOUSING", D(12))
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    orders = edge.client("supervisor").get("/api/v1/purchase-orders").json()["purchase_orders"]
    [order] = [o for o in orders if o["purchase_order"] == number]
    assert order["supplier"] and order["status"] == "open" and [(ln["item"], D(str(ln["quantity"]))) for ln in order["lines"]] == [
        ("HOUSING", D(12))]
    lot = f"R-{number}"
    do(edge.service, c.ReceiveLot, lot=lot, item="HOUSING", item_revision="1", quantity=D(12), bin="B1",
       supplier_lot="CAST-7781")
    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    shipments = t.s.search_read("stock.shipment.in", [("reference", "like", "takt:%"), ("moves.lot.number", "=", lot)],
                                ["state", "incoming_moves", "inventory_moves"])
    assert len(shipments) == 1 and shipments[0]["state"] == "done"
    incoming = t.s.model("stock.move", "read", shipments[0]["incoming_moves"], ["origin", "quantity", "state"])
    assert [(m["origin"].split(",")[0], m["quantity"], m["state"]) for m in incoming] == [
        ("purchase.line", 12.0, "done")]
    assert tryton_stock(t, lot, "B1") == edge.service.state.stock_of(lot, "B1") == 12
    SyncLedger(edge.store).set_gap_cursor(0)
    again = run(_push(edge.service, t.central()))
    assert again.refused == 0
    assert len(t.s.search_read("stock.shipment.in", [("moves.lot.number", "=", lot)], ["id"])) == 1
    # a receipt of something nobody ordered waits as a sync exception
    do(edge.service, c.ReceiveLot, lot=f"U-{number}", item="SEAL", item_revision="1", quantity=D(3), bin="B1",
       supplier_lot="X-1")
    assert run(_push(edge.service, t.central())).refused == 1
    assert [x.code for x in SyncLedger(edge.store).exceptions(open_only=True)] == ["NO_PURCHASE"]


@pytest.mark.parametrize("page", [1, 2])
def test_the_pull_pages_through_records_sharing_a_stamp_and_a_restart_rereads_harmlessly(
        tryton: Tryton, edge: RunningNode, page: int) -> None:
    t = tryton
    t.store = edge.store
    _, wo = release_production(t.s, t.plant, D(3))
    # bins A1, A2 and B1 were created in one call: one stamp; pages of 1 or 2 split it
    central = t.central()
    report = run(Puller(edge.service, central, page=page).pull())
    run(central.close())
    assert report.refused == 0 and report.pages > 3, SyncLedger(edge.store).exceptions(open_only=True)
    state = edge.service.state
    assert {"A1", "A2", "B1"} <= set(state.bins) and {"HOUSING", "SEAL", "PUMP"} <= set(state.items)
    assert wo in state.work_orders
    products = {r["code"] for r in t.s.search_read("product.product", [("type", "=", "goods")], ["code"])}
    released = {r["number"] for r in t.s.search_read("production", [("state", "in", ["waiting", "assigned",
                                                                                     "running"])], ["number"])}
    assert products <= set(state.items) and released <= set(state.work_orders)  # every page, no row lost
    cursor = SyncLedger(edge.store).cursor("pull")
    # a restarted node (the adapter's memory is gone) reads the overlap again: replays, nothing new, no step back
    again = run(_pull(edge.service, t.central(overlap_s=3600)))
    assert again.applied == 0 and again.refused == 0 and again.replayed >= 7  # items, bins, plan, order ...
    assert SyncLedger(edge.store).cursor("pull") >= cursor


def test_a_sale_confirmed_in_tryton_arrives_with_its_customer(tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    _, number = place_sale(t.s, t.plant, D(5))
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    state = edge.service.state
    order = state.sales_orders[number]
    assert order.status == "open" and state.customers[order.customer].name == "Pumps & Co"
    assert [(ln.item, ln.quantity) for k, ln in state.sales_order_lines.items() if k[0] == number] == [("PUMP", D(5))]


def test_lots_with_expiry_in_tryton_are_known_at_the_edge_and_an_expired_one_is_refused(
        tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(2))
    run(_pull(edge.service, t.central()))
    tag = f"E{next(_n)}"
    today = date.today()
    fresh, shortened, bare = f"{tag}-FRESH", f"{tag}-SHORT", f"{tag}-BARE"
    add_lot(t.s, t.plant, fresh, "SEAL", expiry=today + timedelta(days=60))
    add_lot(t.s, t.plant, shortened, "SEAL", expiry=today + timedelta(days=30))
    add_lot(t.s, t.plant, bare, "HOUSING")
    best_before = f"{tag}-BB"  # usable until its shelf life ends, before its expiration date
    t.s.create("stock.lot", {"number": best_before, "product": t.plant.products["SEAL"],
                             "expiration_date": today + timedelta(days=90),
                             "shelf_life_expiration_date": today + timedelta(days=20)})
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    state = edge.service.state
    assert state.lots[best_before].expiry == today + timedelta(days=20)  # the earlier of the two dates
    assert [(state.lots[x].item, state.lots[x].expiry, state.lots[x].quantity) for x in (fresh, shortened, bare)] == [
        ("SEAL", today + timedelta(days=60), D(0)), ("SEAL", today + timedelta(days=30), D(0)), ("HOUSING", None, D(0))]
    assert not state.stock_of(fresh, "A1")  # known, not here yet
    # they arrive: the receipts name no expiry and take Tryton's
    for lot, item in ((fresh, "SEAL"), (shortened, "SEAL"), (bare, "HOUSING")):
        edge.service.handle(c.ReceiveLot(idempotency_key=f"opening:{lot}", actor="seed",
                                         actor_roles=frozenset({"admin"}), origin="erp", lot=lot, item=item,
                                         item_revision=None, quantity=D(10), bin="A1"))
    assert state.lots[shortened].expiry == today + timedelta(days=30) and state.stock_of(shortened, "A1") == 10
    assert run(_pull(edge.service, t.central())).applied == 0  # nothing changed in Tryton: nothing new here

    # Tryton's quality department shortens a lot's life: it expired yesterday
    t.s.model("stock.lot", "write", [t.plant.lots[shortened]], {"expiration_date": today - timedelta(days=1)})
    pulled = run(_pull(edge.service, t.central()))
    assert pulled.refused == 0 and pulled.applied == 1
    assert state.lots[shortened].expiry == today - timedelta(days=1) and state.stock_of(shortened, "A1") == 10
    [changed] = [j for j in edge.store.journal() if j.type == "LotExpiryChanged"]
    assert (changed.subject, changed.origin, json.loads(changed.payload)["quantity"]) == (
        f"lot:{shortened}", "erp", "10")  # recorded as a fact of its own, with the stock it hit
    do(edge.service, c.StartOperation, work_order=wo, operation=10)
    with pytest.raises(DomainError) as refused:
        do(edge.service, c.IssueToWorkOrder, work_order=wo, lot=shortened, bin="A1", quantity=D(2))
    assert refused.value.code == "LOT_EXPIRED"
    assert refused.value.message == (f"lot {shortened} expired on {(today - timedelta(days=1)).isoformat()}; "
                                     f"FEFO pick is {fresh} in bin A1")
    do(edge.service, c.IssueToWorkOrder, work_order=wo, lot=fresh, bin="A1", quantity=D(2))  # the fresh one goes
    assert state.stock_of(fresh, "A1") == 8 and state.stock_of(shortened, "A1") == 10


def test_output_and_receipts_go_to_the_order_the_edge_recorded_them_against(tryton: Tryton, edge: RunningNode) -> None:
    """ReceiveProducedLot names its work order and ReceiveAgainstPurchaseOrder its purchase order: Tryton books
    them there, not where the adapter's inference (the latest started order, the oldest waiting purchase) says."""
    t = tryton
    t.store = edge.store
    first, wo_first = release_production(t.s, t.plant, D(2))
    second, wo_second = release_production(t.s, t.plant, D(2))
    older, po_older = place_purchase(t.s, t.plant, "HOUSING", D(5))
    newer, po_newer = place_purchase(t.s, t.plant, "HOUSING", D(7))
    assert run(_pull(edge.service, t.central())).refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    do(edge.service, c.StartOperation, work_order=wo_first, operation=10)
    do(edge.service, c.CompleteOperation, work_order=wo_first, operation=10)
    do(edge.service, c.StartOperation, work_order=wo_first, operation=20)
    do(edge.service, c.ReportProduction, work_order=wo_first, operation=20, good=D(2))
    do(edge.service, c.StartOperation, work_order=wo_second, operation=10)  # now the latest started of PUMP
    made = f"P-{wo_first}"
    do(edge.service, c.ReceiveProducedLot, work_order=wo_first, lot=made, quantity=D(2), bin="B1")
    bought = f"R-{po_newer}"
    do(edge.service, c.ReceiveAgainstPurchaseOrder, purchase_order=po_newer, line=None, item="HOUSING", lot=bought,
       quantity=D(7), bin="B1")
    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    outputs = {p: t.s.search_read("stock.move", [("production_output", "=", p), ("state", "!=", "cancelled")],
                                  ["lot.number", "quantity", "state"]) for p in (first, second)}
    assert [(m["lot."]["number"], m["quantity"], m["state"]) for m in outputs[first]] == [(made, 2.0, "done")]
    assert outputs[second] == []
    moves = {p: t.s.search_read("stock.move", [("origin.purchase", "=", p, "purchase.line")],
                                ["lot", "quantity", "state"]) for p in (older, newer)}
    assert [(m["quantity"], m["state"]) for m in moves[newer]] == [(7.0, "done")]
    assert [(m["lot"], m["state"]) for m in moves[older]] == [(None, "draft")]  # still awaited
    assert tryton_stock(t, bought, "B1") == edge.service.state.stock_of(bought, "B1") == 7
    assert tryton_stock(t, made, "B1") == edge.service.state.stock_of(made, "B1") == 2


def test_a_production_tryton_wants_inspected_waits_for_an_inspection_recorded_at_the_edge(
        tryton: Tryton, edge: RunningNode) -> None:
    """PUMP-FINAL is a control of production:do: a production done at the edge without an inspection is not done
    in Tryton (its inspection wizard) and waits as a sync exception until one is recorded here."""
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(1))
    assert run(_pull(edge.service, t.central())).refused == 0
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for op, start in ((10, 0), (20, 3)):
        do(edge.service, c.StartOperation, work_order=wo, operation=op, occurred_at=t0 + timedelta(minutes=start))
        do(edge.service, c.CompleteOperation, work_order=wo, operation=op,
           occurred_at=t0 + timedelta(minutes=start + 2))
    assert edge.service.state.work_orders[wo].status == "completed"
    pushed = run(_push(edge.service, t.central()))
    ledger = SyncLedger(edge.store)
    [exc] = ledger.exceptions(open_only=True)
    assert pushed.refused == 1 and exc.code == "INSPECTION_REQUIRED" and "PUMP-FINAL" in exc.message
    assert t.s.model("production", "read", [production], ["state"])[0]["state"] == "running"
    # quality inspects the finished order at the edge; the supervisor retries
    do(edge.service, c.RecordInspection, inspection=f"I-{wo}", plan="PUMP-FINAL", work_order=wo,
       measurements=(c.Measurement(characteristic="leak", passed=True),
                     c.Measurement(characteristic="pressure", value=D("10.0"))))
    assert run(_push(edge.service, t.central())).refused == 0
    ledger.request_retry(exc.id, "sup-1")
    assert run(_push(edge.service, t.central())).refused == 0 and not ledger.exceptions(open_only=True)
    row = t.s.model("production", "read", [production], ["state", "quality_inspections"])[0]
    assert row["state"] == "done"
    assert [i["state"] for i in t.s.model("quality.inspection", "read", row["quality_inspections"], ["state"])] == [
        "passed"]


def test_many_inspections_are_booked_together_and_a_bad_one_is_singled_out(tryton: Tryton, edge: RunningNode) -> None:
    t = tryton
    t.store = edge.store
    production, wo = release_production(t.s, t.plant, D(2))
    run(_pull(edge.service, t.central()))
    tag = f"Q{next(_n)}"
    edge_only = f"EDGE-{tag}"  # a plan the edge has that Tryton has no control for
    edge.service.handle(c.DefineInspectionPlan(
        idempotency_key=f"plan:{edge_only}", actor="seed", actor_roles=frozenset({"admin"}), origin="erp",
        plan=edge_only, description="visual", characteristics=(c.CharacteristicSpec(characteristic="leak",
                                                                                      kind="attribute"),)))
    verdicts = {}
    for i in range(12):
        tight = i % 3 != 0  # every third leaks: failed, and a nonconformance between the inspections
        plan = edge_only if i == 5 else "PUMP-FINAL"
        measurements = (c.Measurement(characteristic="leak", passed=tight),) + (
            (c.Measurement(characteristic="pressure", value=D("10.0")),) if plan == "PUMP-FINAL" else ())
        do(edge.service, c.RecordInspection, inspection=f"I-{tag}-{i}", plan=plan, work_order=wo,
           measurements=measurements)
        if plan == "PUMP-FINAL":
            verdicts[i] = "passed" if tight else "failed"
    rpc = LosingAnswers(t.server.url, t.server.database, "admin", t.server.password)
    rpc.WRITES = frozenset()  # count calls only
    calls: list[str] = []
    original = rpc._post

    async def counting(body: bytes) -> Any:
        calls.append(json.loads(body)["method"])
        return await original(body)

    rpc._post = counting  # type: ignore[method-assign]
    report = run(_push(edge.service, TrytonCentral(rpc, NODE, edge.store)))
    assert report.refused == 1
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.code == "UNKNOWN_INSPECTION_PLAN" and edge_only in exc.message
    assert calls.count("model.quality.inspection.create") == 1  # the 11 Tryton can take, in one call
    assert calls.count("model.quality.inspection.process") == 1
    booked = t.s.search_read("quality.inspection", [("origin", "=", f"production,{production}")],
                             ["state", "reference"], order=[["id", "ASC"]])
    assert [b["state"] for b in booked] == list(verdicts.values())
    SyncLedger(edge.store).set_gap_cursor(0)  # sent again: found, not booked twice (the parked one stays parked)
    again = run(_push(edge.service, t.central()))
    assert (again.refused, again.duplicates) == (0, 11)
    assert len(t.s.search_read("quality.inspection", [("origin", "=", f"production,{production}")], ["id"])) == 11


def edge_stock(service: Service, lot: str, item: str, bin_code: str, quantity: D) -> None:
    service.handle(c.ReceiveLot(idempotency_key=f"opening:{lot}", actor="seed", actor_roles=frozenset({"admin"}),
                                origin="erp", lot=lot, item=item, item_revision="1", quantity=quantity, bin=bin_code))


def ship_pallet(service: Service, lines: dict[str, D], sales_order: str) -> str:
    """Pack a pallet in B1 (the first lot, then the others added), ship it against ``sales_order``: its SSCC."""
    first, *others = lines
    service.handle(c.PackPallet(idempotency_key=f"t:{next(_n)}", actor="wh-1", actor_roles=frozenset({"warehouse"}),
                                bin="B1", lines=(c.PalletLineSpec(lot=first, quantity=lines[first]),),
                                company_prefix="8712345"))
    [sscc] = [code for code, pallet in service.state.pallets.items() if pallet.status != "shipped"]
    for lot in others:  # one too many added, then taken off again
        do(service, c.AddToPallet, sscc=sscc, lot=lot, quantity=lines[lot] + 1)
        do(service, c.RemoveFromPallet, sscc=sscc, lot=lot, quantity=D(1))
    do(service, c.ShipPallet, sscc=sscc, sales_order=sales_order)
    return sscc


def customer_shipments(t: Tryton, lots: list[str]) -> list[dict[str, Any]]:
    found = t.s.search_read("stock.shipment.out", [("reference", "like", "takt:%"), ("moves.lot.number", "in", lots)],
                            ["reference", "state", "customer", "outgoing_moves", "inventory_moves"],
                            order=[["id", "ASC"]])
    for shipment in found:
        for kind in ("outgoing_moves", "inventory_moves"):
            shipment[kind] = sorted(
                (m["lot."]["number"], D(str(m["quantity"])), m["from_location"], m["to_location"], str(m["origin"]),
                 m["state"]) for m in t.s.model("stock.move", "read", shipment[kind], [
                    "lot.number", "quantity", "from_location", "to_location", "origin", "state"]))
    return found


def test_a_pallet_shipped_against_a_sale_pulled_from_tryton_is_a_done_customer_shipment(
        tryton: Tryton, edge: RunningNode) -> None:
    shipping_round_trip(tryton, edge)


def shipping_round_trip(t: Tryton, edge: RunningNode) -> None:
    t.store = edge.store
    sale, number = place_sale(t.s, t.plant, D(5))
    assert run(_pull(edge.service, t.central())).refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    [sale_line] = t.s.model("sale.sale", "read", [sale], ["lines"])[0]["lines"]
    tag = f"SH{next(_n)}"
    first, second = f"{tag}-1", f"{tag}-2"
    for lot, quantity in ((first, D(4)), (second, D(3))):
        add_lot(t.s, t.plant, lot, "PUMP")
        put_stock(t.s, t.plant, lot, "PUMP", "B1", quantity)
        edge_stock(edge.service, lot, "PUMP", "B1", quantity)
    # Tryton reserves stock for the sale's shipment (its assign): a reservation the pallet's lots replace
    [made] = t.s.search_read("stock.shipment.out", [("moves.origin", "=", f"sale.line,{sale_line}")], ["id"])
    t.s.model("stock.shipment.out", "assign_try", [made["id"]])
    assert t.s.model("stock.shipment.out", "read", [made["id"]], ["state"])[0]["state"] == "assigned"
    # a first pallet of 3 of the 5 ordered: 2 of the first lot, 1 of the second
    ship_pallet(edge.service, {first: D(2), second: D(1)}, number)
    rpc = LosingAnswers(t.server.url, t.server.database, "admin", t.server.password)
    rpc.WRITES = LosingAnswers.WRITES | {"pick", "pack"}  # every answer lost once: nothing is made twice
    pushed = run(_push(edge.service, TrytonCentral(rpc, NODE, edge.store, retries=8, retry_delay_s=0.05)))
    assert pushed.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    assert {f"model.stock.shipment.out.{m}" for m in ("write", "assign_try", "pick", "pack", "do")} <= set(rpc.lost)
    wh = t.s.model("stock.location", "read", [t.plant.warehouse], ["output_location"])[0]["output_location"]
    party = t.s.model("sale.sale", "read", [sale], ["party"])[0]["party"]
    customer = t.s.model("party.party", "read", [party], ["customer_location"])[0]["customer_location"]
    b1 = t.plant.bins["B1"]
    [shipment] = customer_shipments(t, [first, second])
    origin = f"sale.line,{sale_line}"
    assert shipment["state"] == "done" and shipment["customer"] == party
    assert [m[:2] + m[2:4] + m[5:] for m in shipment["inventory_moves"]] == [
        (first, D(2), b1, wh, "done"), (second, D(1), b1, wh, "done")]
    assert shipment["outgoing_moves"] == [(first, D(2), wh, customer, origin, "done"),
                                          (second, D(1), wh, customer, origin, "done")]
    # Tryton's sale knows what left and ships the rest later (its own backorder)
    moves = t.s.search_read("stock.move", [("origin", "=", origin)], ["quantity", "state", "shipment"])
    assert sorted((m["quantity"], m["state"]) for m in moves) == [(1.0, "done"), (2.0, "done"), (2.0, "draft")]
    state = edge.service.state
    for lot in (first, second):
        assert tryton_stock(t, lot, "B1") == state.stock_of(lot, "B1"), lot
    assert (state.stock_of(first, "B1"), state.stock_of(second, "B1")) == (D(2), D(2))

    # sent again (a lost acknowledgement): found, nothing shipped twice
    SyncLedger(edge.store).set_gap_cursor(0)
    assert run(_push(edge.service, t.central())).refused == 0
    assert len(customer_shipments(t, [first, second])) == 1
    assert tryton_stock(t, first, "B1") == 2 and tryton_stock(t, second, "B1") == 2

    # the rest on a second pallet: it goes out on the shipment the sale made for it, and the sale is sent
    ship_pallet(edge.service, {second: D(2)}, number)
    assert run(_push(edge.service, t.central())).refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    shipments = customer_shipments(t, [first, second])
    assert [s["state"] for s in shipments] == ["done", "done"]
    assert shipments[1]["outgoing_moves"] == [(second, D(2), wh, customer, origin, "done")]
    assert t.s.model("sale.sale", "read", [sale], ["shipment_state"])[0]["shipment_state"] == "sent"
    # both were the sale's own shipments (the one it made when confirmed, the one for the rest): none is left over
    of_sale = t.s.search_read("stock.shipment.out", [("moves.origin", "=", origin)], ["state"])
    assert sorted(s["state"] for s in of_sale) == ["done", "done"]
    assert tryton_stock(t, second, "B1") == state.stock_of(second, "B1") == 0

    # a sale Tryton ships by hand (it made no shipment): a customer shipment of its own, for the sale's line
    manual, by_hand = place_sale(t.s, t.plant, D(2), shipment_method="manual")
    assert run(_pull(edge.service, t.central())).refused == 0
    ship_pallet(edge.service, {first: D(2)}, by_hand)
    assert run(_push(edge.service, t.central())).refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    [manual_line] = t.s.model("sale.sale", "read", [manual], ["lines"])[0]["lines"]
    [own] = [s for s in customer_shipments(t, [first]) if s["outgoing_moves"][0][4] == f"sale.line,{manual_line}"]
    assert own["state"] == "done" and own["outgoing_moves"] == [
        (first, D(2), wh, customer, f"sale.line,{manual_line}", "done")]
    assert t.s.model("sale.sale", "read", [manual], ["shipment_state"])[0]["shipment_state"] == "sent"
    assert tryton_stock(t, first, "B1") == state.stock_of(first, "B1") == 0

    # a sale whose shipment Tryton picked already is not delivered twice: a sync exception says why
    busy, picked = place_sale(t.s, t.plant, D(1))
    assert run(_pull(edge.service, t.central())).refused == 0
    [busy_line] = t.s.model("sale.sale", "read", [busy], ["lines"])[0]["lines"]
    [theirs] = t.s.search_read("stock.shipment.out", [("moves.origin", "=", f"sale.line,{busy_line}")], ["id"])
    third, theirs_lot = f"{tag}-3", f"{tag}-4"  # the one the edge packs; the one Tryton picked
    for lot in (third, theirs_lot):
        add_lot(t.s, t.plant, lot, "PUMP")
        put_stock(t.s, t.plant, lot, "PUMP", "A2" if lot == theirs_lot else "B1", D(1))
    edge_stock(edge.service, third, "PUMP", "B1", D(1))
    inventory = t.s.model("stock.shipment.out", "read", [theirs["id"]], ["inventory_moves"])[0]["inventory_moves"]
    t.s.model("stock.move", "write", inventory, {"lot": t.plant.lots[theirs_lot], "from_location": t.plant.bins["A2"]})
    t.s.model("stock.shipment.out", "assign_try", [theirs["id"]])
    t.s.model("stock.shipment.out", "pick", [theirs["id"]])
    ship_pallet(edge.service, {third: D(1)}, picked)
    assert run(_push(edge.service, t.central())).refused == 1
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.code == "SALE_SHIPMENT_BUSY" and picked in exc.message and exc.subject.startswith("pallet:")
    assert t.s.model("stock.shipment.out", "read", [theirs["id"]], ["state"])[0]["state"] == "picked"
    assert tryton_stock(t, third, "B1") == 1  # nothing left twice
    SyncLedger(edge.store).set_aside(exc.id, "sup-1", "picked in Tryton: delivered from there")

    # a lot Tryton never heard of: a sync exception with Tryton's side of the story
    _, other = place_sale(t.s, t.plant, D(1))
    assert run(_pull(edge.service, t.central())).refused == 0
    stray = f"{tag}-X"
    edge_stock(edge.service, stray, "PUMP", "B1", D(1))
    ship_pallet(edge.service, {stray: D(1)}, other)
    assert run(_push(edge.service, t.central())).refused == 1
    [exc] = SyncLedger(edge.store).exceptions(open_only=True)
    assert exc.code == "UNKNOWN_LOT" and stray in exc.message and exc.subject.startswith("pallet:")


def test_events_without_a_tryton_counterpart_are_acknowledged_not_refused(tryton: Tryton, edge: RunningNode) -> None:
    """One of each event the edge records that Tryton has no document for, pushed to the live Tryton: none is
    refused, none breaks the batch. (Built here from the edge's event types rather than worked up command by
    command: what the adapter sees is the journal payload, which is the same encoding.)"""
    t = tryton
    t.store = edge.store
    now = datetime.now(UTC)
    tag = f"N{next(_n)}"
    lot, wo = f"{tag}-LOT", f"{tag}-WO"
    sscc = "087123459999999999"
    recorded = [
        e.InspectionTaskOpened(task=f"{tag}-T1", kind="incoming", plan="PUMP-FINAL", sample_size=3, lot=lot,
                               work_order=None, supplier="Castings Ltd", supplier_lot="CAST-1", purchase_order=None,
                               at=now),
        e.SupplierLotVerdict(task=f"{tag}-T1", plan="PUMP-FINAL", lot=lot, item="HOUSING", supplier="Castings Ltd",
                             supplier_lot="CAST-1", purchase_order=None, po_line=None, quantity=D(10),
                             verdict="rejected", samples=3, failed=1, ncr=f"NCR-{tag}", at=now),
        e.FinalInspectionVerdict(task=f"{tag}-T2", plan="PUMP-FINAL", work_order=wo, verdict="passed", samples=2,
                                 failed=0, ncr=None, at=now),
        e.InspectionOverdueFlagged(plan="PUMP-FINAL", work_order=wo, operation=10, workstation="ASSY", reason="count",
                                   parts_since=D(12), overdue_parts=D(2), at=now),
        e.ShiftOeeClosed(workstation="ASSY", shift="early", day=now.date(), start=now - timedelta(hours=8), end=now,
                         planned_minutes=D(450), run_minutes=D(400), good=D(380), scrap=D(4),
                         availability=D("0.889"), performance=D("0.95"), quality=D("0.99"), oee=D("0.836")),
        e.PalletPacked(sscc=sscc, bin="B1", lines=(e.PalletContent(lot=lot, item="HOUSING", quantity=D(2)),),
                       packed_by="wh-1", at=now),
        e.PalletLotAdded(sscc=sscc, lot=f"{lot}-2", item="HOUSING", quantity=D(1), at=now),
        e.PalletLotRemoved(sscc=sscc, lot=f"{lot}-2", item="HOUSING", quantity=D(1), at=now),
        e.UnassignedProductionRecorded(equipment="PRESS-1", workstation="ASSY", good=D(5), scrap=D(1),
                                       scrap_reason="flash", note=None, at=now),
        e.UnassignedProductionAssigned(equipment="PRESS-1", work_order=wo, operation=10, good=D(3), scrap=D(0),
                                       assigned_by="sup-1", at=now),
        e.UnassignedProductionWrittenOff(equipment="PRESS-1", good=D(2), scrap=D(1), reason="trial parts",
                                         written_off_by="sup-1", at=now),
        e.ClockJumped(jump_s=D("-3600"), wall_before=now + timedelta(hours=1), at=now),
    ]
    assert {type(x).__name__ for x in recorded} | {"PalletShipped"} >= {
        "SupplierLotVerdict", "ShiftOeeClosed", "PalletPacked", "PalletLotAdded", "PalletLotRemoved",
        "UnassignedProductionRecorded", "UnassignedProductionAssigned", "UnassignedProductionWrittenOff",
        "ClockJumped", "InspectionTaskOpened", "FinalInspectionVerdict", "InspectionOverdueFlagged"}
    base = 10_000_000
    events = [protocol.SyncEvent(seq=base + i, event_id=f"{tag}-{i}", message=protocol.isa95_message(type(x).__name__),
                          type=type(x).__name__, subject=x.subject, occurred_at=now, recorded_at=now, actor="op-1",
                          payload=event_data(x)) for i, x in enumerate(recorded, start=1)]
    batch = protocol.EventBatch(node=NODE, after=base, through=base + len(events), redelivery=False,
                                  events=events)

    async def push() -> protocol.BatchAck:
        central = t.central()
        try:
            return await central.push(batch.model_dump_json().encode())
        finally:
            await central.close()

    ack = run(push())
    assert ack.rejected == [] and ack.held == [] and (ack.stored, ack.without_booking) == (0, len(recorded))
    assert ack.acknowledged == base + len(events)


def test_a_kitting_pick_and_a_short_count_keep_tryton_stock_equal_to_the_edge(tryton: Tryton, edge: RunningNode) -> None:
    """A pick for a work order's kit is a move between two bins (an internal shipment); a count that found less is
    booked as a loss (an inventory against lost-and-found), once, also when sent again; a count that found more is
    a sync exception that says how to book it in Tryton."""
    t = tryton
    t.store = edge.store
    _, wo = release_production(t.s, t.plant, D(4))
    run(_pull(edge.service, t.central()))
    housing, seal = opening_stock(t, edge.service, f"K{next(_n)}")
    do(edge.service, c.PickForKitting, work_order=wo, lot=seal, from_bin="A1", to_bin="B1", quantity=D(8),
       asked=D(8))
    supervisor: dict[str, Any] = {"actor": "sup-1", "actor_roles": frozenset({"supervisor", "warehouse"})}
    edge.service.handle(c.AdjustStock(idempotency_key=f"t:{next(_n)}", lot=seal, bin="A1", counted=D(20),
                                      reason="cycle count", **supervisor))  # 22 expected: 2 short
    edge.service.handle(c.AdjustStock(idempotency_key=f"t:{next(_n)}", lot=housing, bin="A1", counted=D(13),
                                      reason="cycle count", **supervisor))  # 10 expected: 3 found
    report = run(_push(edge.service, t.central()))
    [found] = SyncLedger(edge.store).exceptions(open_only=True)
    assert report.refused == 1 and found.code == "NOT_SUPPORTED" and "inventory" in found.message
    assert found.subject == f"lot:{housing}"
    for bin_code in ("A1", "B1"):
        assert tryton_stock(t, seal, bin_code) == edge.service.state.stock_of(seal, bin_code), bin_code
    assert (tryton_stock(t, seal, "A1"), tryton_stock(t, seal, "B1")) == (D(20), D(8))
    SyncLedger(edge.store).set_gap_cursor(0)  # everything again: nothing is booked twice
    run(_push(edge.service, t.central()))
    assert (tryton_stock(t, seal, "A1"), tryton_stock(t, seal, "B1"), tryton_stock(t, housing, "A1")) == (D(20), D(8), D(10))


def test_maintenance_is_acknowledged_without_a_booking_and_its_spare_parts_leave_their_bin(
        tryton: Tryton, edge: RunningNode) -> None:
    """Tryton has no maintenance module: a request, its work and its completion are acknowledged without a booking;
    the seal kit the technician issued from A1 leaves the bin in Tryton as it did at the edge."""
    t = tryton
    t.store = edge.store
    run(_pull(edge.service, t.central()))  # the items and bins
    _, seal = opening_stock(t, edge.service, f"M{next(_n)}")
    admin: dict[str, Any] = {"actor": "admin", "actor_roles": frozenset({"admin"})}
    tech: dict[str, Any] = {"actor": "tech-1", "actor_roles": frozenset({"maintenance"})}
    edge.service.handle(c.DefineEquipment(idempotency_key=f"t:{next(_n)}", equipment="PRESS-M", workstation="ASSY",
                                          **admin))
    recorded = edge.service.handle(c.RaiseMaintenanceRequest(idempotency_key=f"t:{next(_n)}", equipment="PRESS-M",
                                                             reason="leak", actor="op-1", actor_roles=OP))
    request = recorded.events[0]["subject"].removeprefix("maintenance:")
    for command, fields in ((c.AcceptMaintenanceRequest, {}), (c.StartMaintenanceWork, {}),
                            (c.IssueMaintenanceParts, {"lot": seal, "bin": "A1", "quantity": D(2)}),
                            (c.CloseMaintenanceRequest, {"released": True})):
        edge.service.handle(command(idempotency_key=f"t:{next(_n)}", request=request, **fields, **tech))
    report = run(_push(edge.service, t.central()))
    assert report.refused == 0 and not SyncLedger(edge.store).exceptions(open_only=True)
    assert tryton_stock(t, seal, "A1") == edge.service.state.stock_of(seal, "A1") == D(28)
    SyncLedger(edge.store).set_gap_cursor(0)  # everything again: the spare part is not booked twice
    run(_push(edge.service, t.central()))
    assert tryton_stock(t, seal, "A1") == D(28)


def test_units_serialised_at_the_edge_are_lots_of_their_product_in_tryton(tryton: Tryton, edge: RunningNode) -> None:
    """Issue 21: a serialised item's units get a serial each at the first operation; each reaches Tryton as a
    ``stock.lot`` of the product (PUMP is lot-tracked there), once, however often the push is delivered."""
    t = tryton
    t.store = edge.store
    _, wo = release_production(t.s, t.plant, D(2))
    assert run(_pull(edge.service, t.central())).refused == 0
    pump = edge.service.state.items["PUMP"]
    edge.service.handle(c.DefineItem(idempotency_key=f"t:{next(_n)}", actor="admin", actor_roles=frozenset({"admin"}),
                                     item="PUMP", description=pump.description, unit=pump.unit,
                                     revision=pump.revision, lot_controlled=pump.lot_controlled, serialised=True))
    first = edge.service.state.operations_of(wo)[0].operation
    for _ in range(2):
        do(edge.service, c.SerialiseUnit, work_order=wo, operation=first, pattern="SN-{work_order}-{n:02d}")
    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    serials = [f"SN-{wo}-01", f"SN-{wo}-02"]
    lots = t.s.search_read("stock.lot", [("number", "in", serials)], ["number", "product"], order=[["number", "ASC"]])
    assert [(x["number"], x["product"]) for x in lots] == [(s, t.plant.products["PUMP"]) for s in serials]
    assert run(_push(edge.service, t.central())).refused == 0  # nothing left: nothing twice
    assert len(t.s.search_read("stock.lot", [("number", "in", serials)], ["id"])) == 2
