"""Rules every page keeps, in a real browser against a real node (the demo site): the verdict of a typed value is
the domain's on the terminal and on the handheld alike (a decimal comma, blanks, exact decimals at a limit), the
handheld's menu fits a phone, and the pages work under a Content-Security-Policy that allows only the node's own
script files."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from edge.store import schema
from tests.e2e.conftest import TERMINAL, Wedge, enter_pin, screenshot
from tests.integration.conftest import RunningNode

WAIT = 15_000

# What people type, for a characteristic with LSL 9.5 and USL 10.5 (the terminal's test_pressure) and for one with
# LSL 61.985 and USL 62.015 (the handheld's bore_diameter): a decimal comma and a point, blanks around, a value a
# hair beyond a limit that a binary float would round onto it, an exponent, and texts that are no number.
TERMINAL_TYPED = ["10,5", "10.5", " 10.5 ", "10,50000000000000001", "10.50000000000000001", "10.500001", "9,5", "9.49999999999999999",
                  "1.05e1", "+10,1", "10,6", ".95e1", "abc", "", "1.000,5", "10,1,2", "1e1", "-0"]
HANDHELD_TYPED = ["62,015", "62.015", "62.01500000000000001", "61.984999", "61,985", "61.98499999999999999", "6.2015e1", "62,02",
                  "62.0", "x", "", "62,0,1"]


def domain_verdicts(node: RunningNode, plan: str, characteristic: str, others: list[dict[str, Any]],
                    sent: list[str], item: str | None = None) -> list[str]:
    """The domain's verdict on each value as the page sends it, by recording it on the node: "pass", "fail", or ""
    where the node refuses the text as no number. An incoming plan's samples are of a lot of ``item`` received
    for each (its inspection task takes them)."""
    quality = node.client("quality")
    out = []
    for i, value in enumerate(sent):
        inspection = f"VERDICT-{plan}-{i}"
        sample: dict[str, Any] = {"inspection": inspection, "plan": plan,
                                  "measurements": [{"characteristic": characteristic, "value": value}, *others]}
        if item is not None:
            sample["lot"] = f"VERDICT-LOT-{i}"
            assert node.post("warehouse", "/lots", {"lot": sample["lot"], "item": item, "quantity": "1",
                                                    "bin": "REC-01"}).status_code == 201
        r = quality.post("/api/v1/inspections", headers={"Idempotency-Key": inspection}, json=sample)
        if r.status_code == 422:
            assert "value" in r.text, r.text  # refused as no number, not for anything else
            out.append("")
            continue
        assert r.status_code in (200, 201), r.text
        with node.store.engine.connect() as conn:
            row = conn.execute(select(schema.inspection_results.c.results)
                               .where(schema.inspection_results.c.inspection == inspection)).one()
        [result] = [x for x in row.results if x["characteristic"] == characteristic]
        out.append("pass" if result["passed"] else "fail")
    return out


def shown_verdict(page: Any, row: Any, typed: str) -> str:
    row.locator("input.measure").fill(typed)
    classes = set((row.locator(".verdict").get_attribute("class") or "").split())
    shown = "pass" if "pass" in classes else "fail" if "fail" in classes else ""
    assert row.locator(".verdict").inner_text() != ""  # a text (GOED / AFKEUR) or a dash, never empty
    return shown


def sent_value(page: Any, typed: str) -> str:
    """The value the pages send for a typed text (read by the rule that gives the verdict; a text that is no number
    as it was typed, for the node to refuse)."""
    value: str = page.evaluate("text => Takt.measured(text) ?? text", typed)
    return value


def test_the_verdict_of_a_typed_value_is_the_domains_on_the_terminal_and_the_handheld(browser: Any,
                                                                                      demo: RunningNode) -> None:
    # The terminal: Anna starts WO-1001 at WS-30 and types into the final test's pressure.
    context = browser.new_context(viewport=TERMINAL)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/terminal/WS-30")
    page.wait_for_selector("body[data-ready=true]")
    Wedge(page).scan("BADGE:anna")
    page.wait_for_selector("#pinpad")
    page.fill("#pin-input", "1234")
    page.click("#pinpad button[data-k=OK]")
    expect(page.locator("#logon")).to_be_hidden()
    page.click("#dispatch button[data-wo='WO-1001']")
    page.click("#btn-start")
    expect(page.locator("#op-status")).to_have_text("loopt")
    page.click(".tabs button[data-tab=inspection]")
    row = page.locator(".plan[data-plan='IP-PUMP-100-FT'] .char[data-char='test_pressure']")
    on_terminal = [shown_verdict(page, row, typed) for typed in TERMINAL_TYPED]
    terminal_sent = [sent_value(page, typed) for typed in TERMINAL_TYPED]
    context.close()

    # The handheld: Wim opens the incoming inspection of lot R-7781 and types into the bore diameter.
    context = browser.new_context(viewport={"width": 360, "height": 640}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/handheld")
    page.wait_for_selector("body[data-ready=true]")
    wedge = Wedge(page)
    wedge.scan("BADGE:wim")
    expect(page.locator("#logon")).to_be_hidden()
    page.click(".menu button[data-task=inspect]")
    wedge.scan("LOT:R-7781")
    row = page.locator("#sample-form .sample-char[data-char='bore_diameter']")
    on_handheld = [shown_verdict(page, row, typed) for typed in HANDHELD_TYPED]
    handheld_sent = [sent_value(page, typed) for typed in HANDHELD_TYPED]
    # Both pages read a typed text the same way: the comma and the point give one verdict.
    assert page.evaluate("""() => ["1,5", "1.5", " 1,5 "].map(v => Takt.verdict({kind: "numeric", lsl: "1.5", usl: null}, v))
                         """) == ["pass", "pass", "pass"]
    context.close()

    terminal_domain = domain_verdicts(demo, "IP-PUMP-100-FT", "test_pressure",
                                      [{"characteristic": "leak_rate", "value": "0.1"},
                                       {"characteristic": "nameplate_ok", "passed": True}], terminal_sent)
    handheld_domain = domain_verdicts(demo, "IP-HOUSING-20-IN", "bore_diameter",
                                      [{"characteristic": "casting_visual", "passed": True}], handheld_sent,
                                      item="HOUSING-20")
    assert list(zip(TERMINAL_TYPED, on_terminal, strict=True)) == list(zip(TERMINAL_TYPED, terminal_domain, strict=True))
    assert list(zip(HANDHELD_TYPED, on_handheld, strict=True)) == list(zip(HANDHELD_TYPED, handheld_domain, strict=True))
    # The cases that tell an exact rule from a floating-point one, spelt out.
    # More than 6 digits after the point: the node refuses the number (edge.fields), so the page shows no verdict.
    assert dict(zip(TERMINAL_TYPED, on_terminal, strict=True))["10.50000000000000001"] == ""
    assert dict(zip(HANDHELD_TYPED, on_handheld, strict=True))["61.98499999999999999"] == ""
    assert dict(zip(TERMINAL_TYPED, on_terminal, strict=True))["10.500001"] == "fail"
    assert dict(zip(HANDHELD_TYPED, on_handheld, strict=True))["61.984999"] == "fail"
    assert dict(zip(TERMINAL_TYPED, on_terminal, strict=True))["10,5"] == "pass"


@pytest.mark.parametrize("width", [360, 390])
def test_the_handheld_menu_fits_a_phone(browser: Any, demo: RunningNode, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{demo.url}/pages/handheld")
    page.wait_for_selector("body[data-ready=true]")
    Wedge(page).scan("BADGE:wim")  # Dutch: the longer words ("Ingangscontrole")
    expect(page.locator("#logon")).to_be_hidden()
    expect(page.locator(".menu button")).to_have_count(10)  # wave picking and replenishment joined the menu (#23)
    screenshot(page, f"handheld-menu-{width}")
    fits = page.evaluate("""() => {
      const screen = document.querySelector(".screen");
      return {
        page: document.documentElement.scrollWidth <= innerWidth,
        screen: screen.scrollWidth <= screen.clientWidth,
        buttons: [...document.querySelectorAll(".menu button")].every(b => {
          const r = b.getBoundingClientRect();
          return r.left >= 0 && r.right <= innerWidth && b.scrollWidth <= b.clientWidth;
        }),
      };
    }""")
    assert fits == {"page": True, "screen": True, "buttons": True}
    context.close()


CSP = "script-src 'self'"


def test_every_page_works_with_scripts_from_the_node_only(browser: Any, demo: RunningNode) -> None:
    context = browser.new_context(viewport=TERMINAL)

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    context.route(f"{demo.url}/pages**", with_policy)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{demo.url}/pages")
    expect(page.locator(".tile")).not_to_have_count(0)
    for path, badge, pin in (("/pages/terminal/WS-20", None, None), ("/pages/handheld", "BADGE:wim", None),
                             ("/pages/line", "BADGE:joost", "1357")):
        page.goto(demo.url + path)
        page.wait_for_load_state()
        if badge is None:
            page.wait_for_selector("body[data-ready=true]")
        else:  # both speak Dutch: the texts came from the page and the scripts ran
            Wedge(page).scan(badge)
            if pin is not None:  # a supervisor always needs the PIN
                enter_pin(page, pin)
            expect(page.locator("#logon")).to_be_hidden()
            expect(page.locator("#logoff")).to_have_text("Afmelden")
            page.wait_for_selector("body[data-ready=true]")
    assert refused == []
    context.close()
