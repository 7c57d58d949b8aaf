"""The terminal asks why a machine stopped on the machine's reason tree (the demo site's, in the operator's language):
a branch opens its reasons, back returns; the reason given is booked to the stop; the next stop offers the reasons
given most often first, so a frequent reason takes two taps. The line view shows the Pareto of reasons."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from edge.store.schema import stop_reasons
from tests.e2e.conftest import Wedge, enter_pin
from tests.e2e.test_terminal_page import WAIT, log_on, open_terminal
from tests.integration.conftest import RunningNode


def state(demo: RunningNode, value: str, minutes_ago: float) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    assert demo.post("service", "/equipment/SCREWDRIVER-20/state", {"state": value, "since": since},
                     method="PUT").status_code == 201


@pytest.mark.slow  # a whole demo node and two pages: about 20 s on a shared machine
def test_the_reason_tree_with_frequent_reasons_first_and_the_pareto_on_the_line(browser: Any,
                                                                                 demo: RunningNode) -> None:
    state(demo, "down", 10)
    context, page, wedge = open_terminal(browser, demo)
    log_on(page, wedge, "BADGE:anna", "1234")  # Anna works in Dutch
    chooser = page.locator("#choose")
    expect(chooser.locator("h1")).to_contain_text("SCREWDRIVER-20")
    expect(chooser.locator("button[data-v='branch:mechanical']")).to_have_text("Mechanisch ›")
    expect(chooser.locator("button", has_text="★")).to_have_count(0)  # nothing given on this machine yet
    chooser.locator("button[data-v='branch:mechanical']").click()
    expect(chooser.locator("button[data-v='leaf:jam']")).to_have_text("Vastloper")
    chooser.locator("button[data-v=back]").click()  # "‹ Terug"
    chooser.locator("button[data-v='branch:mechanical']").click()
    chooser.locator("button[data-v='leaf:tooling']").click()
    expect(page.locator("#machines .pill.down")).to_contain_text("tooling")

    # The next stop: "Gereedschap wisselen" is offered first, one tap away
    state(demo, "running", 8)
    state(demo, "down", 6)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    frequent = page.locator("#choose button[data-v='leaf:tooling']")
    expect(frequent).to_have_text("★ Gereedschap wisselen")
    frequent.click()
    expect(page.locator("#machines .pill.down")).to_contain_text("tooling")
    found = demo.client("supervisor").get("/api/v1/downtime/stops", params={"equipment": "SCREWDRIVER-20"}).json()
    assert [(s["reason"], s["loss"]) for s in found["stops"][-2:]] == [("tooling", "availability")] * 2
    context.close()

    # The line view: the Pareto of reasons and each machine's MTBF and MTTR
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/line")
    Wedge(page).scan("BADGE:joost")
    enter_pin(page, "1357")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#downtime [data-t=downtime_pareto]")).to_have_text("Stilstand per reden (laatste 7 dagen)")
    expect(page.locator("#pareto g[data-reason=tooling]")).to_have_count(1)
    expect(page.locator("#pareto g[data-reason=tooling] text")).to_have_text("Gereedschap wi")
    expect(page.locator("#reliability tr[data-equipment='SCREWDRIVER-20'] td").nth(1)).to_have_text("2")  # two stops

    # Joost re-books the last stop to a jam: the operator chose the wrong reason
    last = page.locator("#recent-stops li").first
    expect(last).to_contain_text("SCREWDRIVER-20")
    last.locator("button[data-reclassify]").click()
    page.click("#choose button[data-v=jam]")  # "Mechanisch › Vastloper"
    page.click("#choose button[data-v=rc_wrong]")
    expect(page.locator("#recent-stops li").first).to_contain_text("jam")
    found = demo.client("supervisor").get("/api/v1/downtime/stops", params={"equipment": "SCREWDRIVER-20"}).json()
    assert [s["reason"] for s in found["stops"][-2:]] == ["tooling", "jam"]
    with demo.store.engine.connect() as conn:
        row = conn.execute(select(stop_reasons.c.kind, stop_reasons.c.actor, stop_reasons.c.why)
                           .order_by(stop_reasons.c.seq.desc()).limit(1)).one()
    assert tuple(row) == ("reclassified", "joost", "The operator chose the wrong reason")
    context.close()
