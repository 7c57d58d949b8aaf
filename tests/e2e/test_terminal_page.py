"""The workstation terminal in a real browser against a real node (the demo site): badge logon with PIN, start an
order, consume lots by keyboard-wedge scan (and the refusal of an expired lot with its FEFO pick), report counts,
record an inspection with its verdict and SPC chart, sign a disposition with the PIN, survive a lost connection."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from edge.store import schema
from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, gs1_lot_label, screenshot
from tests.integration.conftest import RunningNode

HOUSING_GTIN = "4012345000016"
GREASE_GTIN = "09501101530003"
WAIT = 15_000  # ms: generous, the machine is shared


def open_terminal(browser: Any, node: RunningNode, workstation: str = "WS-20") -> tuple[Any, Any, Wedge]:
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{node.url}/pages/terminal/{workstation}")
    page.wait_for_selector("body[data-ready=true]")
    return context, page, Wedge(page)


def log_on(page: Any, wedge: Wedge, badge: str, pin: str) -> None:
    wedge.scan(badge)
    page.wait_for_selector("#pinpad")
    for digit in pin:
        page.click(f"#pinpad button[data-k='{digit}']")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#logon")).to_be_hidden()


def operation(node: RunningNode, work_order: str, number: int) -> dict[str, Any]:
    found = node.client("supervisor").get(f"/api/v1/work-orders/{work_order}").json()
    return next(op for op in found["operations"] if op["operation"] == number)


def test_badge_logon_start_consume_by_wedge_scan_expired_lot_refused_and_counts(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_terminal(browser, demo)
    expect(page.locator("#logon")).to_be_visible()

    # A wrong PIN is refused and the logon screen stays; the right one logs Anna on, in her language (Dutch).
    wedge.scan("BADGE:anna")
    page.wait_for_selector("#pinpad")
    page.fill("#pin-input", "9999")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#feedback")).to_contain_text("PIN_WRONG")
    expect(page.locator("#logon")).to_be_visible()
    log_on(page, wedge, "BADGE:anna", "1234")
    expect(page.locator("#who")).to_have_text("Anna de Vries")
    expect(page.locator("[data-t=dispatch]")).to_have_text("Werklijst")
    expect(page.locator("#current-order")).to_have_text("WO-1001 / 20")
    expect(page.locator("#bom-rev")).to_have_text("7")
    expect(page.locator("#instruction")).to_have_attribute(
        "href", "https://plm.acme.example/instructions/PUMP-100/rev-7/op-20")  # PLM's work instruction
    expect(page.locator("#instruction")).to_have_text("Werkinstructie")
    expect(page.locator("#dispatch li")).to_have_count(3)

    # Start: the operation runs and Anna is clocked on to it.
    page.click("#btn-start")
    expect(page.locator("#op-status")).to_have_text("loopt")
    expect(page.locator("#people")).to_contain_text("anna")
    assert operation(demo, "WO-1001", 20)["status"] == "in_progress"

    # A housing lot label scanned with the keyboard wedge (no field focused) is issued to the order: green at once.
    wedge.scan(gs1_lot_label(HOUSING_GTIN, "H-2232", quantity=1))
    expect(page.locator("#feedback")).to_have_attribute("data-ok", "true")
    expect(page.locator("#feedback")).to_contain_text("1 of lot H-2232 issued to work order WO-1001")
    expect(page.locator("#bom tr[data-line='1'] td.consumed")).to_have_text("1")
    lot = demo.client("supervisor").get("/api/v1/lots/H-2232").json()
    assert lot["stock"] == [{"bin": "LS-20", "quantity": "19"}]

    # The expired grease lot is refused, red, with the reason and the FEFO pick; nothing is recorded.
    before = demo.journal_count()
    wedge.scan(gs1_lot_label(GREASE_GTIN, "L123", quantity=1))
    feedback = page.locator("#feedback")
    expect(feedback).to_have_attribute("data-ok", "false")
    expect(feedback).to_contain_text("LOT_EXPIRED")
    expect(feedback).to_contain_text("lot L123 expired on 2026-10-01; FEFO pick is L118 in bin A-02-3")
    expect(feedback).to_have_class(re.compile(r"\bbad\b"))
    screenshot(page, "terminal-refused-expired-lot")
    assert demo.journal_count() == before

    # Counts: one good, then two scrap with a reason.
    page.click("#btn-good")
    expect(page.locator("#count-good")).to_contain_text("1")
    page.click("#btn-scrap")
    page.click("#choose button:has-text('Lekkage')")
    page.click("#choose button[data-v='2']")
    expect(page.locator("#count-scrap")).to_contain_text("2")
    op = operation(demo, "WO-1001", 20)
    assert (op["good"], op["scrap"]) == ("1", "2")
    with demo.store.engine.connect() as conn:
        reasons = [r.scrap_reason for r in conn.execute(select(schema.production_reports.c.scrap_reason))]
    assert reasons == [None, "leak"]  # the reason code, whatever the language on screen

    # Pause asks for a reason; resume.
    page.click("#btn-pause")
    page.click("#choose button:has-text('Materiaal ontbreekt')")
    expect(page.locator("#op-status")).to_have_text("gepauzeerd")
    expect(page.locator("#pause-reason")).to_have_text("Materiaal ontbreekt")
    assert operation(demo, "WO-1001", 20)["pause_reason"] == "material"
    page.click("#btn-resume")
    expect(page.locator("#op-status")).to_have_text("loopt")
    screenshot(page, "terminal-ws20")

    # The same badge again logs Anna off.
    wedge.scan("BADGE:anna")
    expect(page.locator("#logon")).to_be_visible()
    context.close()


def test_inspection_verdict_spc_chart_ncr_and_signed_disposition(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_terminal(browser, demo, "WS-30")
    log_on(page, wedge, "BADGE:anna", "1234")
    page.click("#dispatch button[data-wo='WO-1001']")
    page.click("#btn-start")
    expect(page.locator("#op-status")).to_have_text("loopt")
    page.click(".tabs button[data-tab=inspection]")

    plan = page.locator(".plan[data-plan='IP-PUMP-100-FT']")
    pressure = plan.locator(".char[data-char='test_pressure']")
    pressure.locator("input").fill("10.1")
    expect(pressure.locator(".verdict")).to_have_text("GOED")
    pressure.locator("input").fill("10.7")
    expect(pressure.locator(".verdict")).to_have_text("AFKEUR")
    pressure.locator("input").fill("10.2")
    leak = plan.locator(".char[data-char='leak_rate']")
    leak.locator("input").fill("0.8")
    expect(leak.locator(".verdict")).to_have_text("AFKEUR")
    expect(leak.locator("svg.spc circle")).to_have_count(1)
    plan.locator(".char[data-char='nameplate_ok'] button.yes").click()
    screenshot(page, "terminal-inspection-entry")
    plan.locator("button.record").click()
    expect(page.locator("#feedback")).to_contain_text("NCR-INS-WO-1001-30-")
    with demo.store.engine.connect() as conn:
        results = conn.execute(select(schema.inspection_results)).all()
    assert len(results) == 1 and results[0].passed is False and results[0].work_order == "WO-1001"
    # The chart now shows the recorded sample (one point per past result).
    expect(leak.locator("svg.spc")).to_have_attribute("data-points", "1")
    screenshot(page, "terminal-inspection")

    ncrs = demo.client("supervisor").get("/api/v1/nonconformances").json()["nonconformances"]
    assert [n["status"] for n in ncrs] == ["open"]
    ncr = ncrs[0]["ncr"]

    # The quality engineer logs on (another badge takes over) and signs the disposition with her PIN.
    wedge.scan("BADGE:priya")
    page.wait_for_selector("#pinpad")
    page.fill("#pin-input", "2468")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#who")).to_have_text("Priya Raman")
    page.click(".tabs button[data-tab=ncrs]")
    page.click(f"button.dispose[data-ncr='{ncr}']")
    page.click("#choose button[data-v=rework]")
    page.click("#rework button[data-v=none]")  # the NCR just closes: no rework operations here
    page.fill("#pin-input", "1111")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#feedback")).to_contain_text("SIGNATURE_INVALID")
    assert demo.client("supervisor").get("/api/v1/nonconformances").json()["nonconformances"][0]["status"] == "open"
    page.click(f"button.dispose[data-ncr='{ncr}']")
    page.click("#choose button[data-v=rework]")
    page.click("#rework button[data-v=none]")  # the NCR just closes: no rework operations here
    page.fill("#pin-input", "2468")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#feedback")).to_have_attribute("data-ok", "true")
    closed = demo.client("supervisor").get("/api/v1/nonconformances").json()["nonconformances"][0]
    assert (closed["status"], closed["disposition"], closed["dispositioned_by"]) == ("closed", "rework", "priya")
    with demo.store.engine.connect() as conn:
        signatures = conn.execute(select(schema.signatures)).all()
    assert [(s.user, s.meaning, s.subject) for s in signatures] == [("priya", "disposition: rework", ncr)]
    context.close()


def test_an_action_sent_while_the_node_is_unreachable_is_resent_with_its_key(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_terminal(browser, demo)
    log_on(page, wedge, "BADGE:anna", "1234")
    page.click("#btn-start")
    expect(page.locator("#op-status")).to_have_text("loopt")

    keys: list[str] = []

    def unreachable(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        route.abort("connectionrefused")

    page.route("**/operations/20/production", unreachable)
    page.click("#btn-good")
    expect(page.locator("#conn")).to_have_class(re.compile(r"\blost\b"))
    expect(page.locator("#conn")).to_contain_text("1 wacht op verzending")
    screenshot(page, "terminal-connection-lost")
    assert operation(demo, "WO-1001", 20)["good"] == "0"

    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.headers.get("idempotency-key", "")) if "/production" in r.url else None)
    page.unroute("**/operations/20/production")
    expect(page.locator("#conn")).not_to_have_class(re.compile(r"\blost\b"))
    expect(page.locator("#count-good")).to_contain_text("1")
    assert operation(demo, "WO-1001", 20)["good"] == "1"
    assert keys and sent and set(keys) | set(sent) == {keys[0]}, (keys, sent)
    context.close()


def test_supervisor_sees_every_workstation_with_state_order_and_alerts(browser: Any, demo: RunningNode) -> None:
    assert demo.post("service", "/equipment/TESTRIG-30/state", {"state": "down", "reason": "leak test jam"},
                     method="PUT").status_code == 201
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/line")
    Wedge(page).scan("BADGE:joost")
    enter_pin(page, "1357")  # a supervisor always needs the PIN
    expect(page.locator(".station")).to_have_count(3)
    ws30 = page.locator(".station[data-workstation='WS-30']")
    expect(ws30).to_have_class(re.compile(r"\bdown\b"))
    expect(ws30.locator(".alerts")).to_contain_text("TESTRIG-30 down: leak test jam")
    # Live: a start at WS-10 shows without a reload.
    assert demo.post("operator", "/work-orders/WO-1001/operations/10/start", {}).status_code == 201
    expect(page.locator(".station[data-workstation='WS-10'] .tag")).to_have_text("loopt")
    screenshot(page, "line-supervisor")
    context.close()


def test_a_stopped_machine_asks_for_a_reason_and_ctrl_bracket_gs_scans_into_a_focused_field(
        browser: Any, demo: RunningNode) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    assert demo.post("service", "/equipment/SCREWDRIVER-20/state", {"state": "down", "since": since},
                     method="PUT").status_code == 201
    context, page, wedge = open_terminal(browser, demo)
    log_on(page, wedge, "BADGE:anna", "1234")
    expect(page.locator("#machines .pill.down")).to_contain_text("SCREWDRIVER-20")
    # the machine has been down for 10 minutes: "Mechanisch ›", then "Vastloper" on the reason tree
    page.click("#choose button[data-v='branch:mechanical']")
    page.click("#choose button[data-v='leaf:jam']")
    expect(page.locator("#machines .pill.down")).to_contain_text("jam")
    stops = demo.client("supervisor").get("/api/v1/downtime/stops", params={"equipment": "SCREWDRIVER-20"}).json()
    assert (stops["stops"][-1]["state"], stops["stops"][-1]["reason"]) == ("down", "jam")

    # A scanner that sends GS as Ctrl+], while the operator's finger left the focus in a field: still a scan, and
    # the field keeps what it had.
    page.click("#btn-start")
    expect(page.locator("#op-status")).to_have_text("loopt")
    page.click(".tabs button[data-tab=inspection]")
    page.evaluate("""() => { const i = document.createElement('input'); i.id = 'scratch'; i.value = 'note';
                            document.querySelector('#tab-material').appendChild(i); i.focus(); }""")
    label = gs1_lot_label(GREASE_GTIN, "L123", quantity=1)
    head, tail = label.split("\x1d")
    cdp = wedge.cdp
    at = time.time() + 1
    keys: list[dict[str, Any]] = [*({"key": ch, "text": ch, "unmodifiedText": ch} for ch in head),
            {"key": "]", "code": "BracketRight", "modifiers": 2, "windowsVirtualKeyCode": 221},
            *({"key": ch, "text": ch, "unmodifiedText": ch} for ch in tail)]
    for i, key in enumerate(keys):
        cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "timestamp": at + i * 0.004, **key})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key["key"], "timestamp": at + i * 0.004 + 0.001})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter", "text": "\r",
                                        "windowsVirtualKeyCode": 13, "timestamp": at + len(keys) * 0.004})
    expect(page.locator("#feedback")).to_contain_text("FEFO pick is L118 in bin A-02-3")
    assert page.evaluate("window.taktProbes.lastScan.text") == label
    assert page.input_value("#scratch") == "note"
    context.close()


def test_a_result_out_of_statistical_control_is_flagged_on_the_terminal(browser: Any, demo: RunningNode) -> None:
    def final_test(i: int, pressure: str) -> None:
        answer = demo.post("quality", "/inspections", {"inspection": f"FT-{i}", "plan": "IP-PUMP-100-FT",
                                                       "measurements": [
                                                           {"characteristic": "test_pressure", "value": pressure},
                                                           {"characteristic": "leak_rate", "value": "0.1"},
                                                           {"characteristic": "nameplate_ok", "passed": True}]})
        assert answer.status_code == 201, answer.text

    for i in range(25):  # the baseline: 9.98 / 10.02
        final_test(i, "10.02" if i % 2 else "9.98")
    final_test(25, "10.2")  # within specification (9.5..10.5), far beyond the control limit
    context, page, wedge = open_terminal(browser, demo, "WS-30")
    log_on(page, wedge, "BADGE:anna", "1234")
    page.click("#dispatch button[data-wo='WO-1001']")
    page.click(".tabs button[data-tab=inspection]")
    pressure = page.locator(".plan[data-plan='IP-PUMP-100-FT'] .char[data-char='test_pressure']")
    expect(pressure.locator(".spc-alert")).to_contain_text("Proces buiten controle")
    expect(pressure.locator(".spc-alert")).to_contain_text("a point above the 3-sigma limit")
    expect(pressure.locator("svg.spc line.ctl")).to_have_count(2)
    expect(pressure.locator("svg.spc circle.flagged")).to_have_count(1)
    screenshot(page, "terminal-spc-alert")
    context.close()


def test_an_in_process_inspection_due_by_count_stands_out_on_the_terminal(browser: Any, demo: RunningNode) -> None:
    plan = {"plan": "IPC-20", "description": "Shaft seal every 10 pumps", "item": "PUMP-100", "operation": 20,
            "kind": "in_process", "every_n_parts": 10, "every_minutes": 240,
            "characteristics": [{"characteristic": "seal_seated", "kind": "attribute"}]}
    assert demo.post("quality", "/inspection-plans", plan).status_code == 201
    op = "/work-orders/WO-1001/operations/20"
    assert demo.post("supervisor", f"{op}/start", {}).status_code == 201
    assert demo.post("supervisor", f"{op}/production", {"good": "6"}).status_code == 201
    context, page, wedge = open_terminal(browser, demo, "WS-20")
    log_on(page, wedge, "BADGE:anna", "1234")
    page.click("#dispatch button[data-wo='WO-1001']")
    page.click(".tabs button[data-tab=inspection]")
    state = page.locator(".plan[data-plan='IPC-20'] .inspection-state")
    expect(state).to_contain_text("6")
    expect(state).not_to_have_class(re.compile(r"\bdue\b"))
    assert demo.post("supervisor", f"{op}/production", {"good": "5"}).status_code == 201
    expect(state).to_have_class(re.compile(r"\bdue\b"), timeout=WAIT)  # the terminal follows the live feed
    expect(state).to_contain_text("11")
    expect(page.locator(".tabs button[data-tab=inspection]")).to_have_class(re.compile(r"\bdue\b"))
    screenshot(page, "terminal-inspection-due")
    line = demo.client("supervisor").get("/api/v1/pages/line").json()
    [ws20] = [w for w in line["workstations"] if w["workstation"] == "WS-20"]
    assert {"kind": "inspection", "text": "inspection IPC-20 due on WO-1001/20: 11 of 10 parts"} in ws20["alerts"]
    assert demo.post("quality", "/inspections", {"inspection": "IPC-1", "plan": "IPC-20", "work_order": "WO-1001",
                                                 "operation": 20, "measurements": [
                                                     {"characteristic": "seal_seated", "passed": True}]}
                     ).status_code == 201
    expect(state).not_to_have_class(re.compile(r"\bdue\b"), timeout=WAIT)
    context.close()
