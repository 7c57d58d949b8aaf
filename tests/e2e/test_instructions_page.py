"""The work instructions page in Chromium (issue 21): an operator starts a serialised pump, scans its motor (a wrong
serial fails the step and blocks the next one), passes operation 10, fails the pressure test at operation 20 (the
nonconformance it raises holds the unit, in the page), goes on after quality's disposition, and completes operation
30, which has no instruction. The operator reads the steps in her language (Dutch)."""
from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000  # ms: the machine is shared
TOKENS = {"service": "demo-service-token-0000000", "quality": "demo-quality-token-0000000",
          "operator": "demo-operator-token-000000", "warehouse": "demo-warehouse-token-00000"}


def _send(node: RunningNode, role: str, path: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{node.url}/api/v1{path}", json=body, timeout=30, headers={
        "Authorization": f"Bearer {TOKENS[role]}", "Idempotency-Key": secrets.token_hex(8)})
    assert answer.status_code == 201, answer.text
    return answer.json()


def seed(node: RunningNode) -> None:
    _send(node, "service", "/items", {"item": "PUMP-S", "description": "Serialised pump", "unit": "pcs",
                                      "revision": "B", "serialised": True})
    _send(node, "service", "/items", {"item": "MOTOR-S", "description": "Motor", "unit": "pcs", "revision": "A"})
    _send(node, "service", "/bins", {"bin": "LINE-S", "zone": "line"})
    _send(node, "service", "/work-orders", {
        "work_order": "WO-S", "item": "PUMP-S", "item_revision": "B", "bom_revision": "1", "quantity": "5",
        "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-20"},
                       {"operation": 20, "description": "Test", "workstation": "WS-20"},
                       {"operation": 30, "description": "Pack", "workstation": "WS-20"}],
        "bom": [{"line": 1, "item": "MOTOR-S", "item_revision": "A", "quantity_per": "1"}]})
    _send(node, "warehouse", "/lots", {"lot": "MS-LOT", "item": "MOTOR-S", "quantity": "5", "bin": "LINE-S"})
    _send(node, "operator", "/work-orders/WO-S/issues", {"lot": "MS-LOT", "bin": "LINE-S", "quantity": "1",
                                                         "serial": "MOT-001"})
    _send(node, "quality", "/work-instructions", {
        "item": "PUMP-S", "operation": 10, "revision": "4", "item_revision": "B", "title": "Assemble the pump",
        "steps": [{"step": 1, "kind": "scan", "component": "MOTOR-S",
                   "texts": ["en=Scan the motor's serial", "nl=Scan het serienummer van de motor"]},
                  {"step": 2, "kind": "check", "texts": ["en=Impeller turns freely", "nl=Waaier draait vrij"]}]})
    _send(node, "quality", "/work-instructions", {
        "item": "PUMP-S", "operation": 20, "revision": "1", "item_revision": "B", "title": "Pressure test",
        "steps": [{"step": 1, "kind": "measure", "texts": ["en=Pressure at 10 bar", "nl=Druk bij 10 bar"],
                   "lsl": "9.5", "usl": "10.5", "unit": "bar", "on_fail": "ncr"},
                  {"step": 2, "kind": "check", "texts": ["en=No leak", "nl=Geen lek"]}]})


@pytest.mark.slow
def test_a_serialised_pump_through_three_operations_with_a_failing_step(browser: Any, demo: RunningNode) -> None:
    seed(demo)
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/instructions?work_order=WO-S&operation=10")
    Wedge(page).scan("BADGE:anna")
    enter_pin(page, "1234")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#wi-start-unit")
    expect(page.locator("#wi-serial")).to_have_text("WO-S-0001")
    expect(page.locator("#wi-units tr[data-serial='WO-S-0001']")).to_be_visible()
    first = page.locator("#wi-steps li[data-step='1']")
    expect(first).to_have_class("step current")
    expect(first.locator(".text")).to_contain_text("Scan het serienummer van de motor")  # anna reads Dutch

    Wedge(page).scan("MOT-999")  # not issued to the order: the step fails and blocks the next one
    expect(page.locator("#feedback .code")).to_have_text("STEP_FAILED")
    expect(first).to_have_class("step blocked")
    Wedge(page).scan("MOT-001")
    expect(first).to_have_class("step done")
    page.locator("#wi-steps li[data-step='2'] button[data-act=done]").click()
    expect(page.locator("#feedback .msg")).to_contain_text("Eenheid WO-S-0001 is klaar met deze bewerking")

    page.select_option("#wi-operation", "20")
    expect(page.locator("#wi-title")).to_have_text("Pressure test")
    page.fill("#wi-steps li[data-step='1'] input", "11.2")
    page.locator("#wi-steps li[data-step='1'] button[data-act=measure]").click()
    expect(page.locator("#feedback .code")).to_have_text("NCR")
    expect(page.locator("#feedback .msg")).to_contain_text("NCR-WO-S-20-WO-S-0001-1")
    expect(page.locator("#wi-units tr[data-serial='WO-S-0001'] .status")).to_have_text("geblokkeerd door afwijking")
    screenshot(page, "instructions-ncr")

    # quality dispositions the nonconformance (rework is the other half of issue 21); the unit goes on
    _send(demo, "quality", "/nonconformances/NCR-WO-S-20-WO-S-0001-1/disposition", {"disposition": "rework"})
    page.select_option("#wi-operation", "10")
    page.select_option("#wi-operation", "20")
    page.locator("#wi-steps li[data-step='2'] button[data-act=done]").click()
    expect(page.locator("#feedback .msg")).to_contain_text("Eenheid WO-S-0001 is klaar met deze bewerking")

    page.select_option("#wi-operation", "30")
    expect(page.locator("#wi-none")).to_be_visible()
    page.click("#wi-complete")
    expect(page.locator("#wi-units tr[data-serial='WO-S-0001'] .status")).to_have_text("gereed")

    # a pre-printed label scanned at the first operation starts the next unit with its serial
    page.select_option("#wi-operation", "10")
    Wedge(page).scan("LBL-4711")
    expect(page.locator("#wi-serial")).to_have_text("LBL-4711")
    expect(page.locator("#wi-steps li[data-step='1']")).to_have_class("step current")
    context.close()
