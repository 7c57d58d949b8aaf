"""Outbound on the handheld page in Chromium against the demo site: a cluster wave of two customer orders walked
stop by stop (a wrong bin, a wrong lot and a wrong tote refused at the scan, each order in its own tote, a short
pick with its reason), and a consumption at the line raising a replenishment task that the handheld closes."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from edge.domain import commands as c
from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.e2e.test_handheld_page import open_handheld
from tests.integration.conftest import RunningNode

ERP: dict[str, Any] = {"actor": "erp", "actor_roles": frozenset({"service"}), "origin": "erp"}


def orders(node: RunningNode) -> None:
    """SO-A: 100 bolts and 10 seal kits; SO-B: 5 seal kits. A second seal-kit lot expires later (FEFO: SK-3301)."""
    handle = node.service.handle
    for customer in ("C-1", "C-2"):
        handle(c.DefineCustomer(idempotency_key=f"cust-{customer}", customer=customer, name=customer, **ERP))
    handle(c.DefineSalesOrder(idempotency_key="so-a", sales_order="SO-A", customer="C-1", **ERP, lines=(
        c.SalesOrderLineSpec(line=1, item="SEAL-KIT-3", quantity=Decimal(10)),
        c.SalesOrderLineSpec(line=2, item="BOLT-M8X25", quantity=Decimal(100)))))
    handle(c.DefineSalesOrder(idempotency_key="so-b", sales_order="SO-B", customer="C-2", **ERP, lines=(
        c.SalesOrderLineSpec(line=1, item="SEAL-KIT-3", quantity=Decimal(5)),)))
    handle(c.ReceiveLot(idempotency_key="sk-3302", lot="SK-3302", item="SEAL-KIT-3", item_revision=None,
                        quantity=Decimal(50), bin="A-02-4", expiry=date(2030, 6, 30), **ERP))


def test_a_cluster_wave_is_walked_on_the_handheld_and_a_wrong_lot_is_refused(browser: Any, demo: RunningNode) -> None:
    orders(demo)
    r = demo.post("warehouse", "/waves", {"to_bin": "FG-01", "lines": [
        {"sales_order": "SO-A", "line": 1}, {"sales_order": "SO-A", "line": 2}, {"sales_order": "SO-B", "line": 1}]})
    assert r.status_code == 201, r.text
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=wave]")
    page.click("#wave-list button[data-wave=W00001]")
    feedback = page.locator("#feedback")
    # the walk: A-01-2 (walk 20) bolts for SO-A, then A-02-4 (walk 30) seal kits for SO-A and SO-B
    expect(page.locator("#wave-picks li")).to_have_count(3)
    expect(page.locator("#step")).to_contain_text("A-01-2")
    wedge.scan("BIN:A-02-4")
    expect(feedback.locator(".code")).to_have_text("WRONG_BIN")
    wedge.scan("BIN:A-01-2")
    wedge.scan("LOT:BLT-0907")
    wedge.scan("TOTE:T-1")
    expect(page.locator("#wave-confirm")).to_be_visible()
    page.click("#wave-go")
    expect(feedback).to_contain_text("gepickt in bak T-1")
    expect(page.locator("#step")).to_contain_text("A-02-4")

    wedge.scan("BIN:A-02-4")
    wedge.scan("LOT:SK-3302")  # not the lot the wave planned, and SO-A allows no substitution
    expect(feedback.locator(".code")).to_have_text("WRONG_LOT")
    expect(feedback).to_contain_text("SK-3301")
    screenshot(page, "handheld-wave-wrong-lot")
    wedge.scan("LOT:SK-3301")
    wedge.scan("TOTE:T-2")  # SO-A's tote is T-1
    expect(feedback.locator(".code")).to_have_text("WRONG_TOTE")
    wedge.scan("TOTE:T-1")
    page.click("#wave-go")
    expect(feedback).to_contain_text("gepickt in bak T-1")

    wedge.scan("BIN:A-02-4")
    wedge.scan("LOT:SK-3301")
    wedge.scan("TOTE:T-1")  # SO-B needs a tote of its own
    expect(feedback.locator(".code")).to_have_text("TOTE_IN_USE")
    wedge.scan("TOTE:T-2")
    page.fill("#wave-qty", "4")
    page.fill("#wave-reason", "one kit torn")
    page.click("#wave-go")
    expect(page.locator("#step")).to_contain_text("W00001")
    expect(page.locator("#wave-totes")).to_contain_text("SO-B → T-2")
    screenshot(page, "handheld-wave-done")
    wave = demo.client("warehouse").get("/api/v1/waves/W00001").json()
    assert wave["status"] == "picked"
    assert [(p["picked_lot"], p["picked"], p["tote"], p["status"], p["picked_by"]) for p in wave["picks"]] == [
        ("BLT-0907", "100", "T-1", "picked", "wim"), ("SK-3301", "10", "T-1", "picked", "wim"),
        ("SK-3301", "4", "T-2", "short", "wim")]
    context.close()


def test_a_consumption_raises_a_replenishment_task_done_on_the_handheld(browser: Any, demo: RunningNode) -> None:
    put = demo.post("supervisor", "/line-side-bins/LS-20", {"item": "HOUSING-20", "minimum": "15", "maximum": "40",
                                                            "source_zone": "storage"}, method="PUT")
    assert put.status_code == 201, put.text
    issued = demo.post("operator", "/work-orders/WO-1001/issues", {"lot": "H-2232", "bin": "LS-20", "quantity": "6"})
    assert [ev["type"] for ev in issued.json()["events"]] == ["StockMoved", "ReplenishmentRaised"], issued.text
    # the supervisor's line view lists the bin below its minimum and what is coming
    line = browser.new_context(viewport=TERMINAL)
    view = line.new_page()
    view.set_default_timeout(15_000)
    view.goto(f"{demo.url}/pages/line")
    Wedge(view).scan("BADGE:joost")
    enter_pin(view, "1357")
    expect(view.locator("#below-min li[data-below-min='LS-20@HOUSING-20']")).to_contain_text("14 van min 15 · 26")
    screenshot(view, "line-below-min")
    line.close()
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=replenish]")
    task = page.locator("#task-list button").first
    expect(task).to_contain_text("LS-20")
    wedge.scan("BIN:LS-20")  # its kanban card: a min/max bin with a task open already gets no second one
    expect(page.locator("#feedback .code")).to_have_text("REPLENISHMENT_OPEN")
    expect(task).to_contain_text("26 HOUSING-20")  # 14 left, to the maximum of 40
    task.click()
    expect(page.locator("#step")).to_contain_text("A-01-1")
    wedge.scan("BIN:A-01-1")
    wedge.scan("LOT:H-2231")
    page.click("#repl-go")
    expect(page.locator("#feedback")).to_contain_text("H-2231")
    expect(page.locator("#task-list")).to_contain_text("Geen aanvulopdrachten")
    screenshot(page, "handheld-replenished")
    bins = demo.client("supervisor").get("/api/v1/line-side-bins").json()["bins"]
    assert [(b["bin"], b["level"], b["below_min"]) for b in bins] == [("LS-20", "40", False)]
    context.close()
