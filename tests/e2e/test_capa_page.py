"""The quality role's CAPA page in a real browser under a strict Content-Security-Policy: the quality engineer logs on
with badge and PIN, opens a CAPA for an NCR, records its root cause (5-why and fishbone), plans an action already past
its due date, and the supervisor's line view shows that overdue action; an operator sees no CAPA work, in Dutch."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000  # ms: the machine is shared
CSP = "script-src 'self'; object-src 'none'; base-uri 'none'"  # no inline script, no eval
QUALITY = {"Authorization": "Bearer demo-quality-token-0000000"}  # priya, config/demo.yaml


@pytest.mark.slow
def test_capa_page_and_its_overdue_action_on_the_line_view(browser: Any, demo: RunningNode) -> None:
    ncr = httpx.post(f"{demo.url}/api/v1/nonconformances", timeout=30,
                     json={"ncr": "NCR-77", "lot": "H-2232", "description": "burrs on the bore"},
                     headers={**QUALITY, "Idempotency-Key": secrets.token_hex(8)})
    assert ncr.status_code == 201, ncr.text

    context = browser.new_context(viewport=TERMINAL)
    refused: list[str] = []

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    context.route(f"{demo.url}/pages**", with_policy)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{demo.url}/pages/capa")
    Wedge(page).scan("BADGE:priya")
    enter_pin(page, "2468")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#capas .none")).to_have_text("No CAPAs yet")

    page.fill("#capa-id", "CAPA-7")
    page.fill("#capa-problem", "burrs on bores from WS-20")
    page.fill("#capa-ncrs", "NCR-77")
    page.fill("#capa-containment", "100% bore check at WS-20")
    page.click("#capa-open-form button[type=submit]")
    card = page.locator("section[data-capa='CAPA-7']")
    expect(card).to_contain_text("burrs on bores from WS-20")
    expect(card).to_contain_text("NCR-77")

    card.locator("form.root-cause input[name=root_cause]").fill("worn reamer")
    card.locator("form.root-cause select[name=fishbone]").select_option("machine")
    card.locator("form.root-cause textarea[name=whys]").fill("burrs\nreamer worn\nno tool life limit")
    card.locator("form.root-cause button").click()
    expect(card.locator(".tag.fishbone")).to_have_text("machine")
    expect(card.locator("ol li")).to_have_count(3)

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    form = card.locator("form.add-action")
    form.locator("select[name=kind]").select_option("corrective")
    form.locator("input[name=description]").fill("tool life limit for the reamer")
    form.locator("input[name=owner]").fill("kees")
    form.locator("input[name=due]").fill(yesterday)
    form.locator("button").click()
    action = card.locator("tr[data-action='1']")
    expect(action).to_contain_text("tool life limit for the reamer")
    expect(action.locator(".tag.fail")).to_have_text("overdue")
    screenshot(page, "capa-page")

    # the supervisor's line view shows the overdue action (joost reads Dutch)
    page.goto(f"{demo.url}/pages/line")
    Wedge(page).scan("BADGE:joost")  # the line view is the floor's: its supervisor logs on
    enter_pin(page, "1357")
    page.wait_for_selector("body[data-ready=true]")
    overdue = page.locator("#capa-overdue li[data-capa-action='CAPA-7/1']")
    expect(overdue).to_contain_text("CAPA-7 actie 1: tool life limit for the reamer (kees, uiterlijk " + yesterday + ")")
    screenshot(page, "line-capa-overdue")

    # a Dutch operator: no CAPA work on the page, in Dutch
    page.goto(f"{demo.url}/pages/capa")
    page.wait_for_selector("body[data-ready=true]")
    if page.locator("#logoff").is_visible():  # the station's session (the browser keeps it across pages)
        page.click("#logoff")
    Wedge(page).scan("BADGE:anna")
    enter_pin(page, "1234")
    expect(page.locator("#capa-forbidden")).to_have_text("Alleen kwaliteit werkt CAPA's af")
    expect(page.locator("#capa-new")).to_be_hidden()
    assert refused == []
    context.close()
