"""The supervisor's line view in a real browser: the central systems' panel shows what the ERP refused (a sync
exception, set aside here with a reason) and what it changed under a running order (a conflict, decided here)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from edge.domain import commands as c
from edge.store.sync import SyncLedger
from erp_sync.client import CentralClient
from erp_sync.push import Pusher
from simulators.erp import running_erp_sim
from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000  # ms: generous, the machine is shared
NODE = "demo-eindhoven-assembly-1"
TOKEN = "line-view-node-token-0000"


def open_line(browser: Any, node: RunningNode) -> tuple[Any, Any]:
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{node.url}/pages/line")
    return context, page


async def push(node: RunningNode, url: str) -> None:
    async with CentralClient(url, TOKEN, NODE) as client:
        await Pusher(node.store, NODE, client).push()


def test_the_line_view_shows_sync_exceptions_and_erp_conflicts_for_the_supervisor_to_decide(
        browser: Any, demo: RunningNode, tmp_path: Path) -> None:
    # The floor works on WO-1002, which the central ERP never heard of: it refuses the events (UNKNOWN_ORDER).
    assert demo.post("operator", "/work-orders/WO-1002/operations/10/start", {}).status_code == 201
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {TOKEN: NODE}) as sim:
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds an event loop in this thread
            pool.submit(asyncio.run, push(demo, sim.url)).result(60)
    [refused] = SyncLedger(demo.store).exceptions(open_only=True)
    assert refused.code == "UNKNOWN_ORDER"
    # WO-1001 runs here when the ERP cancels it: flagged, not applied.
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/start", {}).status_code == 201
    demo.service.handle(c.CancelWorkOrder(idempotency_key="erp:cancel:WO-1001", actor="erp-sync",
                                          actor_roles=frozenset({"service"}), origin="erp", work_order="WO-1001",
                                          reason="customer order withdrawn"))

    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:joost")  # the supervisor (Dutch)
    enter_pin(page, "1357")  # a supervisor always needs the PIN
    expect(page.locator("#central")).to_be_visible()
    expect(page.locator("#sync-state")).to_have_text("Geen ERP-synchronisatie ingesteld")
    exception = page.locator(f"#sync-exceptions li[data-exception='{refused.id}']")
    expect(exception).to_contain_text("UNKNOWN_ORDER")
    expect(exception).to_contain_text("work_order:WO-1002")
    conflict = page.locator("#erp-conflicts li[data-conflict='WO-1001']")
    expect(conflict).to_contain_text("customer order withdrawn")
    screenshot(page, "line-central-systems")

    conflict.locator("button[data-keep]").click()  # the order is half built: keep it
    expect(page.locator("#erp-conflicts li[data-conflict='WO-1001']")).to_have_count(0)
    wo = demo.client("supervisor").get("/api/v1/work-orders/WO-1001").json()
    assert wo["status"] == "in_progress"
    conflicts = demo.client("supervisor").get("/api/v1/work-order-conflicts").json()["conflicts"]
    assert [(x["status"], x["resolved_by"]) for x in conflicts] == [("kept", "joost")]

    exception.locator("button[data-aside]").click()
    page.click("#choose button[data-v=sa_manual]")  # "Met de hand geboekt in het ERP"
    expect(page.locator(f"#sync-exceptions li[data-exception='{refused.id}']")).to_have_count(0)
    [handled] = SyncLedger(demo.store).exceptions()
    assert (handled.resolution, handled.handled_by, handled.note) == ("set_aside", "joost", "Booked by hand in the ERP")
    context.close()


def test_an_operator_sees_the_central_panel_but_cannot_decide(browser: Any, demo: RunningNode) -> None:
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/start", {}).status_code == 201
    demo.service.handle(c.ChangeWorkOrder(
        idempotency_key="erp:change:WO-1001", actor="erp-sync", actor_roles=frozenset({"service"}), origin="erp",
        work_order="WO-1001", item_revision="B", bom_revision="7", quantity=demo.service.state.work_orders[
            "WO-1001"].quantity + 5, operations=tuple(
            c.OperationSpec(operation=o.operation, description=o.description, workstation=o.workstation,
                            standard_minutes=o.standard_minutes) for o in demo.service.state.operations_of("WO-1001"))))
    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:anna")
    page.wait_for_selector("#pinpad")
    for digit in "1234":
        page.click(f"#pinpad button[data-k='{digit}']")
    page.click("#pinpad button[data-k=OK]")
    row = page.locator("#erp-conflicts li[data-conflict='WO-1001']")
    expect(row).to_contain_text("changed")
    expect(row.locator("button")).to_have_count(0)
    context.close()


def test_the_line_view_charts_oee_by_shift_with_the_largest_loss(browser: Any, demo: RunningNode) -> None:
    import datetime as dt

    # PRESS-10 (WS-10) ran for the last ten hours but for a 90-minute jam; 40 pumps were pre-assembled (6 min each).
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    api = demo.client("service")
    for state, reason, hours in (("running", None, 10.0), ("down", "jam", 4.0), ("running", None, 2.5)):
        since = (now - dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
        r = api.put("/api/v1/equipment/PRESS-10/state", json={"state": state, "reason": reason, "since": since},
                    headers={"Idempotency-Key": f"press-{hours}"})
        assert r.status_code == 201, r.text
    started = (now - dt.timedelta(hours=9)).isoformat().replace("+00:00", "Z")
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/start", {"occurred_at": started}).status_code == 201
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/production", {"good": "20"}).status_code == 201

    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:joost")
    enter_pin(page, "1357")  # a supervisor always needs the PIN
    chart = page.locator(".oee[data-oee='WS-10']")
    expect(chart.locator("svg g[data-shift]").first).to_be_visible()
    expect(chart).to_contain_text("OEE")
    expect(chart).to_contain_text("grootste verlies: storing (jam) 90 min")
    screenshot(page, "line-oee-by-shift")
    # The same figures as the API gives for WS-10's shifts over the last two days.
    frm = (now - dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
    body = demo.client("supervisor").get("/api/v1/oee", params={"workstation": "WS-10", "from": frm}).json()
    shifts = body["workstations"][0]["shifts"]
    assert sum(float(s["good"]) for s in shifts) == 20
    assert sum(x["minutes"] for s in shifts for x in s["losses"] if x["reason"] == "jam") == 90
    context.close()


def test_a_supervisor_approves_a_count_from_the_line_view(browser: Any, demo: RunningNode) -> None:
    from decimal import Decimal

    demo.service.handle(c.AdjustStock(idempotency_key="count-1", actor="wim", actor_roles=frozenset({"warehouse"}),
                                      lot="L118", bin="A-02-3", counted=Decimal(30), reason="cycle count",
                                      approval_pct=Decimal(5)))
    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:joost")
    enter_pin(page, "1357")  # a supervisor always needs the PIN
    row = page.locator("#pending-counts li[data-count='L118@A-02-3']")
    expect(row).to_contain_text("geteld 30, verwacht 40 (door wim)")
    row.locator("button[data-approve]").click()
    expect(page.locator("#pending-counts li[data-count]")).to_have_count(0)
    expect(page.locator("#feedback")).to_be_visible()  # the answer to the decision shows on the page
    expect(page.locator("#feedback")).to_contain_text("Gedaan")
    stock = demo.client("supervisor").get("/api/v1/lots/L118").json()["stock"]
    assert {"bin": "A-02-3", "quantity": "30"} in stock
    context.close()


def test_a_supervisor_books_machine_parts_without_an_order_from_the_line_view(browser: Any, demo: RunningNode) -> None:
    from decimal import Decimal

    plc: dict[str, Any] = {"actor": "plc:PLC-10", "actor_roles": frozenset({"service"})}
    # PRESS-10 counted 6 good and 1 scrap before anyone started WO-1001 on WS-10 (recorded by the signal mapping,
    # tested over the wire in test_signal_mapping; here the service records them directly).
    demo.service.handle(c.RecordUnassignedProduction(idempotency_key="plc:1", equipment="PRESS-10", good=Decimal(6),
                                                     scrap=Decimal(1), **plc))
    demo.service.handle(c.RecordUnassignedProduction(idempotency_key="plc:2", equipment="TESTRIG-30",
                                                     good=Decimal(2), **plc))
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/start", {}).status_code == 201
    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:joost")
    enter_pin(page, "1357")  # a supervisor always needs the PIN
    press = page.locator("#unassigned li[data-unassigned='PRESS-10']")
    expect(press).to_contain_text("PRESS-10 (WS-10): 6 goed, 1 afkeur")
    press.locator("button[data-assign]").click()  # to WO-1001 / 10, running on WS-10 now
    expect(page.locator("#feedback")).to_contain_text("Gedaan")
    expect(press).to_have_count(0)
    rig = page.locator("#unassigned li[data-unassigned='TESTRIG-30']")
    expect(rig.locator("button[data-assign]")).to_have_count(0)  # nothing runs on WS-30: only a write-off
    rig.locator("button[data-write-off]").click()
    page.locator("#choose button").filter(has_text="Proefrun").click()
    expect(rig).to_have_count(0)
    order = demo.client("supervisor").get("/api/v1/work-orders/WO-1001").json()
    assert (order["operations"][0]["good"], order["operations"][0]["scrap"]) == ("6", "1")
    events = demo.client("admin").get("/api/v1/journal", params={"limit": 1000}).json()["events"]
    written_off = [e for e in events if e["type"] == "UnassignedProductionWrittenOff"]
    assert [(e["actor"], e["payload"]["reason"]) for e in written_off] == [("joost", "Test run")]
    context.close()
