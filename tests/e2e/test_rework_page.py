"""Rework and re-inspection on the pages (issue 21): a serialised pump fails its pressure test on the work
instructions page, which raises an NCR holding the unit; quality, logged on at the WS-20 terminal, dispositions it
as rework with a rework operation and a re-inspection plan (the unit shown as held); the rework operation is worked
at the terminal; the re-inspection (RWK-<ncr>, shown on its plan) passes at the terminal and the unit is back in
progress (read over the API)."""
from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.e2e.test_instructions_page import TOKENS, WAIT, _send, seed
from tests.integration.conftest import RunningNode

NCR = "NCR-WO-S-20-WO-S-0001-1"


def dispatch(node: RunningNode, *operations: int) -> None:
    """WS-20's dispatch list (the APS sequence): WO-S's operations at the terminal."""
    answer = httpx.put(f"{node.url}/api/v1/workstations/WS-20/dispatch-list", timeout=30, json={
        "sequence": [{"work_order": "WO-S", "operation": n} for n in operations]}, headers={
        "Authorization": f"Bearer {TOKENS['service']}", "Idempotency-Key": secrets.token_hex(8)})
    assert answer.status_code < 300, answer.text


@pytest.mark.slow
def test_a_failing_step_is_reworked_and_reinspected_from_the_pages(browser: Any, demo: RunningNode) -> None:
    seed(demo)
    dispatch(demo, 20, 30)
    _send(demo, "quality", "/inspection-plans", {
        "plan": "RI-PUMP", "description": "Re-inspection after rework", "item": "PUMP-S",
        "characteristics": [{"characteristic": "LEAK", "kind": "attribute"}]})
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/instructions?work_order=WO-S&operation=10")
    Wedge(page).scan("BADGE:anna")
    enter_pin(page, "1234")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#wi-start-unit")
    expect(page.locator("#wi-serial")).to_have_text("WO-S-0001")
    expect(page.locator("#wi-steps li[data-step='1']")).to_have_class("step current")
    Wedge(page).scan("MOT-001")
    expect(page.locator("#wi-steps li[data-step='1']")).to_have_class("step done")
    page.locator("#wi-steps li[data-step='2'] button[data-act=done]").click()
    expect(page.locator("#feedback .msg")).to_contain_text("Eenheid WO-S-0001 is klaar met deze bewerking")
    page.select_option("#wi-operation", "20")
    page.fill("#wi-steps li[data-step='1'] input", "11.2")
    page.locator("#wi-steps li[data-step='1'] button[data-act=measure]").click()
    expect(page.locator("#feedback .msg")).to_contain_text(NCR)
    context.close()

    # quality at the WS-20 terminal: the NCR's rework, with the unit it holds
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/terminal/WS-20")
    page.wait_for_selector("body[data-ready=true]")
    wedge = Wedge(page)
    wedge.scan("BADGE:priya")
    enter_pin(page, "2468")
    expect(page.locator("#who")).to_have_text("Priya Raman")
    page.locator("#dispatch button[data-wo='WO-S'][data-op='20']").click()
    page.click(".tabs button[data-tab=ncrs]")
    page.click(f"button.dispose[data-ncr='{NCR}']")
    page.click("#choose button[data-v=rework]")
    dialog = page.locator("#rework")
    expect(dialog.locator("#rw-subjects input[value='unit:WO-S-0001']")).to_be_checked()
    dialog.locator(".rw-op .rw-desc").fill("Replace the seal")
    expect(dialog.locator(".rw-op .rw-ws")).to_have_value("WS-20")
    expect(dialog.locator("#rw-plans option[value='RI-PUMP']")).to_have_count(1)  # GET /inspection-plans
    expect(dialog.locator("#rw-stations option[value='WS-20']")).to_have_count(1)  # the order's routing
    dialog.locator("#rw-plan").fill("RI-PUMP")
    screenshot(page, "rework-dialog")
    dialog.locator("button[data-v=send]").click()
    enter_pin(page, "2468")
    expect(page.locator("#feedback")).to_have_attribute("data-ok", "true")
    expect(page.locator("#feedback")).to_contain_text(f"{NCR} · Rework")
    client = demo.client("supervisor")
    reworks = client.get("/api/v1/reworks").json()["reworks"]
    assert reworks, client.get("/api/v1/nonconformances").json()
    rework = reworks[0]
    assert (rework["status"], rework["plan"]) == ("open", "RI-PUMP"), rework
    unit = client.get("/api/v1/work-orders/WO-S/units").json()["units"][0]
    assert (unit["status"], unit["ncr"]) == ("hold", NCR)

    # the operator works the rework operation (40) at the terminal, once the APS has put it on the dispatch list
    assert (rework["work_order"], rework["operations"]) == ("WO-S", [40]), rework
    dispatch(demo, 40, 20, 30)
    wedge.scan("BADGE:anna")
    enter_pin(page, "1234")
    expect(page.locator("#who")).not_to_have_text("Priya Raman")
    page.locator("#dispatch button[data-wo='WO-S'][data-op='40']").click()
    expect(page.locator("#current-order")).to_have_text("WO-S / 40")
    page.click("#btn-start")
    expect(page.locator("#btn-complete")).to_be_enabled()
    page.click("#btn-complete")
    expect(page.locator("#btn-complete")).to_be_disabled()

    # the re-inspection: its task shows on the plan; passing it releases the unit
    page.click(".tabs button[data-tab=inspection]")
    plan = page.locator(".plan[data-plan='RI-PUMP']")
    expect(plan.locator(f".rework-task[data-task='RWK-{NCR}']")).to_be_visible()
    plan.locator("button[data-char=LEAK][data-pass='1']").click()
    plan.locator("button.record").click()
    expect(page.locator("#feedback")).to_have_attribute("data-ok", "true")
    screenshot(page, "rework-reinspected")
    rework = client.get("/api/v1/reworks").json()["reworks"][0]
    assert rework["status"] == "passed", rework
    unit = client.get("/api/v1/work-orders/WO-S/units").json()["units"][0]
    assert (unit["status"], unit["ncr"]) == ("in_progress", None), unit
    context.close()
