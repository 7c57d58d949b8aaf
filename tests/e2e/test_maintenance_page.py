"""The maintenance loop in a real browser: the terminal shows a due plan and refuses a start naming it; an operator
calls maintenance from the terminal with a note; the
technician (Dutch) logs on at the maintenance page on a handheld, accepts the request, starts work (the machine goes
to maintenance), issues a spare part from a bin and closes it, saying the machine is released for production."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from edge.store.schema import ENTITY_TABLES
from tests.e2e.conftest import HANDHELD, TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000  # ms: generous, the machine is shared


def machine_state(node: RunningNode, equipment: str) -> str | None:
    t = ENTITY_TABLES["machine_states"].table
    with node.store.engine.connect() as conn:
        return conn.execute(select(t.c.state).where(t.c.equipment == equipment)).scalar()


def test_the_operator_calls_maintenance_and_the_technician_works_and_releases_the_machine(
        browser: Any, demo: RunningNode) -> None:
    plan = demo.post("supervisor", "/maintenance-plans", {"plan": "PM-E2E", "equipment": "PRESS-10", "kind": "calendar",
                                                          "interval": "0.000001", "description": "Check the guards",
                                                          "blocks_start": True})
    assert plan.status_code == 201, plan.text
    terminal = browser.new_context(viewport=TERMINAL).new_page()
    terminal.set_default_timeout(WAIT)
    terminal.goto(f"{demo.url}/pages/terminal/WS-10")
    Wedge(terminal).scan("BADGE:anna")
    enter_pin(terminal, "1234")
    expect(terminal.locator("#btn-maintenance")).to_be_enabled()
    expect(terminal.locator("#btn-maintenance")).to_have_text("Onderhoud roepen")
    # the plan is due on the terminal, and a start is refused naming it
    expect(terminal.locator("#maintenance-info")).to_contain_text("PM-E2E")
    expect(terminal.locator("#maintenance-info")).to_contain_text("blokkeert het starten")
    expect(terminal.locator("#btn-start")).to_be_enabled()
    terminal.click("#btn-start")
    expect(terminal.locator("#feedback")).to_contain_text("maintenance plan PM-E2E")
    terminal.click("#btn-maintenance")
    terminal.fill("#mr-note", "olie onder de pers")
    terminal.click("#maintenance-call button[data-v=send]")
    expect(terminal.locator("#feedback")).to_contain_text("Onderhoud geroepen voor PRESS-10")
    terminal.context.close()

    page = browser.new_context(viewport=HANDHELD).new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/maintenance")
    Wedge(page).scan("BADGE:tom")
    enter_pin(page, "9753")
    request = page.locator("#requests li.request").first
    expect(request).to_contain_text("PRESS-10")
    expect(request).to_contain_text("olie onder de pers")
    code = request.get_attribute("data-request")
    request.locator("button[data-step=accept]").click()
    expect(page.locator(f"#requests li[data-request='{code}']")).to_have_attribute("data-status", "accepted")
    page.locator(f"#requests li[data-request='{code}'] button[data-step=start]").click()
    expect(page.locator(f"#requests li[data-request='{code}']")).to_have_attribute("data-status", "in_work")
    assert machine_state(demo, "PRESS-10") == "maintenance"
    page.locator(f"#requests li[data-request='{code}'] button[data-step=parts]").click()
    page.fill("#part-lot", "SK-3301")
    page.fill("#part-bin", "A-02-4")
    page.fill("#part-qty", "1")
    page.click("#part-form button[data-v=ok]")
    expect(page.locator("#feedback")).to_contain_text("1 van partij SK-3301 uitgegeven")
    expect(page.locator(f"#requests li[data-request='{code}']")).to_contain_text("SEAL-KIT-3")
    screenshot(page, "maintenance-technician")
    page.locator(f"#requests li[data-request='{code}'] button[data-step=close]").click()
    expect(page.locator("#choose h1")).to_have_text("Is de machine vrijgegeven voor productie?")
    page.click("#choose button[data-v=yes]")
    expect(page.locator("#requests")).to_contain_text("Geen open onderhoudsverzoeken")
    assert machine_state(demo, "PRESS-10") == "idle"
    closed = demo.client("operator").get(f"/api/v1/maintenance-requests/{code}").json()
    assert (closed["status"], closed["released"], closed["technician"]) == ("closed", True, "tom")
    assert [Decimal(p["quantity"]) for p in closed["parts"]] == [Decimal(1)]


def test_the_handhelds_menu_links_the_technician_to_the_maintenance_page(browser: Any, demo: RunningNode) -> None:
    page = browser.new_context(viewport=HANDHELD).new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/handheld")
    page.wait_for_selector("body[data-ready=true]")
    Wedge(page).scan("BADGE:wim")  # a warehouse man: no link
    expect(page.locator("#logon")).to_be_hidden()
    expect(page.locator(".menu button")).to_have_count(10)
    expect(page.locator("#to-maintenance")).to_have_count(0)
    page.click("#logoff")
    Wedge(page).scan("BADGE:tom")  # the technician (Dutch)
    enter_pin(page, "9753")
    link = page.locator(".menu #to-maintenance")
    expect(link).to_have_text("🔧Onderhoudsverzoeken")
    link.click()
    page.wait_for_url(f"{demo.url}/pages/maintenance")
    page.context.close()
