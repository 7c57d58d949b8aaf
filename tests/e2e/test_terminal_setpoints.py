"""The terminal shows the setpoints downloaded to the operation's machine (as read back) and a setpoint changed on the
machine while the operation runs, flagged (who and when unknown); the line view lists that variance as an alert. In
the user's language: Anna's terminal in Dutch, the administrator's line view in English."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from edge.domain import commands as c
from tests.e2e.conftest import Wedge, enter_pin
from tests.e2e.test_line_page import open_line
from tests.e2e.test_terminal_page import log_on, open_terminal
from tests.integration.conftest import RunningNode


@pytest.mark.slow
def test_the_terminal_and_the_line_view_show_setpoints_and_a_variance(browser: Any, demo: RunningNode) -> None:
    speed = c.SetpointWrite(parameter="Speed", device="OPC-SCREWDRIVER-20", tag="SpeedSetpoint", value=Decimal(10),
                            writable=True, low=Decimal(1), high=Decimal(30), unit="ppm", read_back=Decimal(10))
    demo.service.handle(c.DownloadSetpoints(
        idempotency_key="changeover-1", actor="anna", actor_roles=frozenset({"operator"}), work_order="WO-1001",
        operation=20, equipment="SCREWDRIVER-20", values=(speed,), allowed_roles=frozenset({"operator"})))
    assert demo.post("operator", "/work-orders/WO-1001/operations/20/start", {}).status_code == 201
    demo.service.handle(c.RecordSetpointVariance(
        idempotency_key="variance-1", actor="plc:OPC-SCREWDRIVER-20", actor_roles=frozenset({"service"}),
        work_order="WO-1001", operation=20, equipment="SCREWDRIVER-20", parameter="Speed", tag="SpeedSetpoint",
        downloaded=Decimal(10), observed=Decimal(14), seen_at=datetime.now(UTC)))

    context, page, wedge = open_terminal(browser, demo, "WS-20")
    log_on(page, wedge, "BADGE:anna", "1234")  # Dutch
    expect(page.locator("#current-order")).to_have_text("WO-1001 / 20")
    expect(page.locator("#setpoints")).to_contain_text("Instelwaarden op de machine")
    expect(page.locator("#setpoints")).to_contain_text("10 ppm")
    expect(page.locator(".variance[data-parameter=Speed]")).to_have_text(
        "SCREWDRIVER-20: Speed op de machine gewijzigd van 10 naar 14 (door wie en wanneer onbekend)")
    context.close()

    context, page = open_line(browser, demo)
    Wedge(page).scan("BADGE:4711")  # the administrator (English)
    enter_pin(page, "8642")
    expect(page.locator("section[data-workstation=WS-20] .alerts li.setpoint")).to_have_text(
        "SCREWDRIVER-20: Speed changed on the machine from 10 to 14 (who and when unknown)")
    context.close()
