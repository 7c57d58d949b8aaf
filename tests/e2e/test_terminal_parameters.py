"""The terminal shows an operation's production parameters (the setpoints a sender's B2MML schedule gave it) beside
its description: a nested V0401 schedule posted to POST /api/v1/b2mml, its pressure-test step first on WS-30's
dispatch list."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.test_terminal_page import log_on, open_terminal
from tests.integration.conftest import RunningNode

SCHEDULE = Path(__file__).resolve().parents[1] / "data" / "b2mml" / "schedule-v0401-nested.xml"


def test_the_terminal_shows_the_operations_parameters(browser: Any, demo: RunningNode) -> None:
    # the demo site has no b2mml locations table: name the staging places by the bin and workstation themselves
    document = SCHEDULE.read_text().replace("LINE1-SUPERMARKET", "A-01-1").replace("CELL-10", "WS-10")
    posted = demo.client("service").post("/api/v1/b2mml", content=document.encode(),
                                         headers={"Idempotency-Key": "schedule-1", "Content-Type": "application/xml"})
    assert posted.status_code == 201, posted.text
    dispatched = demo.post("supervisor", "/workstations/WS-30/dispatch-list",
                           {"sequence": [{"work_order": "WO-3001", "operation": 30}]}, method="PUT")
    assert dispatched.status_code == 201, dispatched.text
    context, page, wedge = open_terminal(browser, demo, "WS-30")
    log_on(page, wedge, "BADGE:anna", "1234")
    expect(page.locator("#current-order")).to_have_text("WO-3001 / 30")
    expect(page.locator("#parameters")).to_contain_text("TestPressure")
    expect(page.locator("#parameters")).to_contain_text("10")
    expect(page.locator("#parameters")).to_contain_text("P100-STD")
    context.close()
