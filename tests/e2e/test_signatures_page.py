"""The quality role's page of electronic signatures by day, in a real browser under a strict Content-Security-Policy
(scripts from the node only, no inline script): the quality user logs on with badge and PIN and sees who signed what,
meaning what, and which signature superseded which; the page speaks the user's language; an operator sees none."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from edge.store import schema
from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000  # ms: the machine is shared
CSP = "script-src 'self'; object-src 'none'; base-uri 'none'"  # no inline script, no eval
QUALITY = {"Authorization": "Bearer demo-quality-token-0000000"}  # priya, config/demo.yaml
PIN = {"X-Takt-Pin": "2468"}


def _send(node: RunningNode, path: str, body: dict[str, Any], **headers: str) -> Any:
    answer = httpx.post(f"{node.url}/api/v1{path}", json=body, timeout=30,
                        headers={**QUALITY, "Idempotency-Key": secrets.token_hex(8), **headers})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.slow
def test_the_quality_page_lists_the_days_signatures(browser: Any, demo: RunningNode) -> None:
    plan = {"plan": "IP-SEAL", "description": "Seal check", "characteristics": [{"characteristic": "leak",
                                                                                 "kind": "attribute"}]}
    defined = _send(demo, "/inspection-plans", plan)
    first = _send(demo, "/signatures", {"events": [{"seq": defined["events"][0]["seq"]}], "meaning": "approved"},
                  **PIN)
    with demo.store.engine.connect() as conn:
        rs = schema.record_signatures
        sig = conn.execute(select(rs.c.signature).where(rs.c.seq == first["events"][0]["seq"])).scalar_one()
    _send(demo, "/inspection-plans", {**plan, "description": "Seal check v2"}, **PIN, **{"X-Takt-Supersedes": sig})

    context = browser.new_context(viewport=TERMINAL)
    refused: list[str] = []

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    context.route(f"{demo.url}/pages**", with_policy)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{demo.url}/pages/signatures")
    Wedge(page).scan("BADGE:priya")
    enter_pin(page, "2468")  # quality always needs the PIN
    page.wait_for_selector("body[data-ready=true]")
    rows = page.locator("#signatures tbody tr[data-signature]")
    expect(rows).to_have_count(2)
    approved = page.locator(f"#signatures tr[data-signature='{sig}']")
    expect(approved).to_contain_text("Priya Raman")
    expect(approved.locator(".meaning")).to_have_text("approved")
    expect(approved).to_contain_text(f"{defined['events'][0]['seq']}: InspectionPlanDefined · inspection_plan:IP-SEAL")
    expect(approved.locator(".tag.superseded")).to_contain_text("superseded by SIG-")
    expect(page.locator("#sig-count")).to_have_text("2 signatures")
    screenshot(page, "signatures-page")

    # the day before had none
    page.click("#day-before")
    expect(page.locator("#signatures tbody tr.none")).to_have_text("No signatures on this day")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert page.input_value("#day") == yesterday

    # a Dutch operator logs on: no signatures for that role, in Dutch
    page.click("#logoff")
    Wedge(page).scan("BADGE:anna")
    enter_pin(page, "1234")
    expect(page.locator("#sig-forbidden")).to_have_text(
        "Alleen kwaliteit, supervisors en beheerders zien de handtekeningen")
    expect(page.locator("#signatures")).to_be_hidden()
    assert refused == []
    context.close()
