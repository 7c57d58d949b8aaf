"""The handheld page on a phone-sized viewport against a real node (the demo site): badge logon, receive a GS1
lot label into the receiving bin, put it away to the suggested bin, find where the lot is, count a bin, issue to
a work order, record the samples of an incoming inspection and see its verdict."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from edge.domain import commands as c
from tests.e2e.conftest import HANDHELD, Wedge, gs1_lot_label, screenshot
from tests.integration.conftest import RunningNode

HOUSING_GTIN = "4012345000016"
WAIT = 15_000


def open_handheld(browser: Any, node: RunningNode, badge: str) -> tuple[Any, Any, Wedge]:
    context = browser.new_context(viewport=HANDHELD, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{node.url}/pages/handheld")
    page.wait_for_selector("body[data-ready=true]")
    wedge = Wedge(page)
    wedge.scan(badge)
    expect(page.locator("#logon")).to_be_hidden()
    return context, page, wedge


def test_receive_a_gs1_label_and_put_it_away_to_the_suggested_bin(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    expect(page.locator(".menu button")).to_have_count(10)
    screenshot(page, "handheld-menu")

    page.click(".menu button[data-task=receive]")
    expect(page.locator("#step")).to_have_text("Scan de ontvangstlocatie")  # Wim's language is Dutch
    wedge.scan("BIN:REC-01")
    expect(page.locator("#feedback")).to_contain_text("location set to bin REC-01")
    label = gs1_lot_label(HOUSING_GTIN, "H-9001", quantity=30, expiry="281231")
    wedge.scan(label)
    expect(page.locator("#feedback")).to_contain_text("30 of lot H-9001 received into bin REC-01")
    received = page.locator("#received")
    expect(received).to_contain_text("HOUSING-20 rev B")
    expect(received).to_contain_text("H-9001")
    expect(received).to_contain_text("2028-12-31")
    expect(received).to_contain_text("30 @ REC-01")
    screenshot(page, "handheld-received")

    # Put away: the lot label again, the suggested bin (dedicated to housings, with room), then that bin.
    page.click("#to-putaway")
    wedge.scan(label)
    expect(page.locator("#suggestion")).to_contain_text("A-01-1")
    expect(page.locator("#step")).to_contain_text("Scan de doellocatie")
    screenshot(page, "handheld-putaway")
    wedge.scan("BIN:A-01-1")
    expect(page.locator("#moved")).to_contain_text("30 of lot H-9001 put away from bin REC-01 to bin A-01-1")
    lot = demo.client("supervisor").get("/api/v1/lots/H-9001").json()
    assert (lot["item"], lot["expiry"], lot["stock"]) == ("HOUSING-20", "2028-12-31", [{"bin": "A-01-1", "quantity": "30"}])

    # Where is this lot: its bin and its history.
    page.click("#back")
    page.click(".menu button[data-task=find]")
    wedge.scan("LOT:H-9001")
    card = page.locator("#lot-card")
    expect(card).to_contain_text("A-01-1 · 30")
    expect(card).to_contain_text("REC-01 → A-01-1")
    expect(card).to_contain_text("receive")
    screenshot(page, "handheld-where-is-lot")
    context.close()


def test_cycle_count_and_issue_to_a_work_order(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=count]")
    wedge.scan("BIN:A-02-3")
    row = page.locator("#count input[data-lot='L118']")
    row.fill("38")
    page.click("#count-save")
    expect(page.locator("#feedback")).to_contain_text("Telling opgeslagen · A-02-3")
    assert demo.client("supervisor").get("/api/v1/lots/L118").json()["stock"] == [{"bin": "A-02-3", "quantity": "38"}]

    page.click("#back")
    page.click(".menu button[data-task=issue]")
    wedge.scan("WO:WO-1001")
    expect(page.locator("#issue-work_order")).to_have_value("WO-1001")
    wedge.scan("BIN:A-02-3")
    wedge.scan("LOT:L118")
    expect(page.locator("#issue-lot")).to_have_value("L118")
    expect(page.locator("#issue-bin")).to_have_value("A-02-3")
    page.fill("#issue-quantity", "1")
    page.click("#issue-go")
    expect(page.locator("#feedback")).to_contain_text("1 × L118 → WO-1001")
    assert demo.client("supervisor").get("/api/v1/lots/L118").json()["stock"] == [{"bin": "A-02-3", "quantity": "37"}]
    context.close()


def test_receive_against_a_purchase_order_counts_on_its_line_and_refuses_more_than_ordered(
        browser: Any, demo: RunningNode) -> None:
    demo.service.handle(c.DefinePurchaseOrder(
        idempotency_key="erp:po:PO-4711", actor="erp-sync", actor_roles=frozenset({"service"}), origin="erp",
        purchase_order="PO-4711", supplier="Gietwerk Twente", lines=(c.PurchaseOrderLineSpec(
            line=1, item="HOUSING-20", quantity=Decimal(40),
            expected_lots=(c.ExpectedLotSpec(supplier_lot="GT-5510", quantity=Decimal(40)),)),)))
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=receive]")
    page.click("#po-choice button[data-po='PO-4711']")
    expect(page.locator("#po-lines")).to_contain_text("HOUSING-20 · 0 / 40")
    expect(page.locator("#po-lines")).to_contain_text("GT-5510")
    wedge.scan("BIN:REC-01")
    wedge.scan(gs1_lot_label(HOUSING_GTIN, "GT-5510", quantity=30, expiry="281231"))
    expect(page.locator("#feedback")).to_contain_text("received into bin REC-01 on PO-4711")
    expect(page.locator("#po-lines")).to_contain_text("HOUSING-20 · 30 / 40")
    screenshot(page, "handheld-receive-purchase-order")
    wedge.scan(gs1_lot_label(HOUSING_GTIN, "GT-5511", quantity=30, expiry="281231"))
    feedback = page.locator("#feedback")
    expect(feedback).to_have_attribute("data-ok", "false")
    expect(feedback).to_contain_text("OVER_RECEIPT")
    expect(feedback).to_contain_text("expects 10 more HOUSING-20")
    lot = demo.client("supervisor").get("/api/v1/lots/GT-5510").json()
    assert (lot["supplier_lot"], lot["stock"]) == ("GT-5510", [{"bin": "REC-01", "quantity": "30"}])

    # Housings await incoming inspection (plan IP-HOUSING-20-IN, 3 samples): quality passes the lot, then two
    # housings of it go into WO-1001; "where is this lot" shows where it came from and where it went.
    assert lot["status"] == "quarantine"
    for i in range(3):
        assert demo.post("quality", "/inspections", {"inspection": f"GT-5510-{i}", "plan": "IP-HOUSING-20-IN",
                                                     "lot": "GT-5510", "measurements": [
                                                         {"characteristic": "bore_diameter", "value": "62.001"},
                                                         {"characteristic": "casting_visual", "passed": True}]},
                         ).status_code == 201
    assert demo.post("operator", "/work-orders/WO-1001/issues", {"lot": "GT-5510", "bin": "REC-01",
                                                                 "quantity": "2"}).status_code == 201
    page.click("#back")
    page.click(".menu button[data-task=find]")
    wedge.scan("LOT:GT-5510")
    tree = page.locator("#genealogy")
    expect(tree).to_contain_text("Van GT-5510 · PO-4711 / 1")
    expect(tree.locator("[data-work-order='WO-1001']")).to_contain_text("WO-1001 · 2 · PUMP-100")
    expect(tree.locator("[data-work-order='WO-1001']")).to_contain_text("SO-88120")
    screenshot(page, "handheld-genealogy")
    context.close()


GREASE_GTIN = "09501101530003"


def test_pick_for_kitting_follows_the_pick_list_and_records_a_short_pick(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=pick]")
    expect(page.locator("#step")).to_have_text("Scan de productieorder")
    # WO-1001 is kitted into LS-20, the line-side bin of WS-20's scanner: the housings there count, expired grease
    # L123 there does not; the rest comes FEFO from the store in walk order (A-01-2, A-02-4, A-02-3, then LS-10).
    wedge.scan("WO:WO-1001")
    picks = page.locator("#picks li")
    expect(picks).to_have_count(5)
    expect(picks.nth(0)).to_contain_text("A-01-2 · IMP-5510 · 20")
    expect(picks.nth(1)).to_contain_text("A-01-2 · BLT-0907 · 160")
    expect(picks.nth(2)).to_contain_text("A-02-4 · SK-3301 · 20")
    expect(picks.nth(3)).to_contain_text("A-02-3 · L118 · 1")
    expect(picks.nth(4)).to_contain_text("LS-10 · MOT-8812 · 20")
    expect(page.locator("#step")).to_contain_text("Pak 20 van partij IMP-5510 uit locatie A-01-2")
    expect(page.locator("#step")).to_contain_text("Klaarzetlocatie LS-20")
    screenshot(page, "handheld-pick-list")

    wedge.scan("BIN:A-01-2")
    wedge.scan("LOT:IMP-5510")
    expect(page.locator("#pick-qty")).to_have_value("20")
    page.click("#pick-go")
    expect(page.locator("#feedback")).to_contain_text("20 van partij IMP-5510 gepakt naar locatie LS-20")
    expect(picks).to_have_count(4)

    # A lot that is not on the list is refused on the spot.
    wedge.scan("LOT:IMP-4420")
    expect(page.locator("#feedback")).to_contain_text("Partij IMP-4420 staat niet op deze verzamellijst")

    # Fewer bolts than asked: refused without a reason, recorded with one.
    wedge.scan("LOT:BLT-0907")
    page.fill("#pick-qty", "150")
    page.click("#pick-go")
    feedback = page.locator("#feedback")
    expect(feedback).to_have_attribute("data-ok", "false")
    expect(feedback).to_contain_text("MISSING_REASON")
    page.fill("#pick-reason", "10 rusty")
    page.click("#pick-go")
    expect(feedback).to_contain_text("150 van partij BLT-0907 gepakt naar locatie LS-20 · Tekort gepakt")
    screenshot(page, "handheld-short-pick")

    # The GS1 label of the grease (its GTIN checked against the lot's item).
    wedge.scan(gs1_lot_label(GREASE_GTIN, "L118", quantity=1))
    expect(page.locator("#pick-confirm")).to_contain_text("L118")
    page.click("#pick-go")
    expect(feedback).to_contain_text("1 van partij L118 gepakt naar locatie LS-20")

    api = demo.client("supervisor")
    assert {"bin": "LS-20", "quantity": "20"} in api.get("/api/v1/lots/IMP-5510").json()["stock"]
    assert {"bin": "LS-20", "quantity": "1"} in api.get("/api/v1/lots/L118").json()["stock"]
    listed = api.get("/api/v1/work-orders/WO-1001/pick-list").json()
    assert listed["staging_bin"] == "LS-20"
    assert [(s["lot"], s["asked"], s["picked"], s["reason"], s["actor"]) for s in listed["short_picks"]] == [
        ("BLT-0907", "160", "150", "10 rusty", "wim")]
    assert [(p["lot"], p["quantity"]) for p in listed["picks"]] == [("BLT-0907", "10"), ("SK-3301", "20"),
                                                                   ("MOT-8812", "20")]
    context.close()


def test_a_putaway_elsewhere_than_suggested_asks_why_and_keeps_the_reason(browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")
    page.click(".menu button[data-task=receive]")
    wedge.scan("BIN:REC-01")
    label = gs1_lot_label(HOUSING_GTIN, "H-9002", quantity=20, expiry="281231")
    wedge.scan(label)
    expect(page.locator("#received")).to_contain_text("H-9002")
    page.click("#to-putaway")
    wedge.scan(label)
    suggestion = page.locator("#suggestion")
    expect(suggestion).to_contain_text("A-01-1")
    expect(suggestion).to_contain_text("dedicated to HOUSING-20")  # the reason, under the bin
    # Another storage bin than suggested: refused until the handheld says why; the lot still waits for its bin.
    wedge.scan("BIN:A-01-2")
    override = page.locator("#override")
    expect(override).to_contain_text("bin A-01-2 is not the suggested bin A-01-1")
    page.click("#override-go")  # no reason typed: asked again, nothing booked
    expect(page.locator("#feedback")).to_contain_text("Waarom niet de voorgestelde locatie?")
    page.fill("#override-reason", "A-01-1 blocked by a pallet")
    page.click("#override-go")
    expect(page.locator("#moved")).to_contain_text("20 of lot H-9002 put away from bin REC-01 to bin A-01-2")
    expect(override).to_have_count(0)
    screenshot(page, "handheld-putaway-override")
    moves = demo.client("supervisor").get("/api/v1/lots/H-9002/moves").json()["moves"]
    [putaway] = [m for m in moves if m["kind"] == "putaway"]
    assert (putaway["actor"], putaway["from_bin"], putaway["to_bin"], putaway["suggested_bin"],
            putaway["override_reason"]) == ("wim", "REC-01", "A-01-2", "A-01-1", "A-01-1 blocked by a pallet")
    context.close()


def record_sample(page: Any, n: int, bore: str, visual_ok: bool, verdict: str) -> None:
    """One sample on the handheld: the bore typed (its verdict shows as it is typed), the casting judged by eye."""
    form = page.locator("#sample-form")
    expect(form.locator("h2")).to_have_text(f"Monster {n} van 3")
    bore_row = form.locator(".sample-char[data-char='bore_diameter']")
    expect(bore_row).to_contain_text("61.985 … 62.015 mm")
    bore_row.locator("input").fill(bore)
    expect(bore_row.locator(".verdict")).to_have_text(verdict)
    form.locator(".sample-char[data-char='casting_visual'] button." + ("yes" if visual_ok else "no")).click()
    page.click("#sample-go")


def test_incoming_inspection_at_receiving_records_samples_and_releases_or_holds_the_lot(
        browser: Any, demo: RunningNode) -> None:
    context, page, wedge = open_handheld(browser, demo, "BADGE:wim")  # receiving staff: warehouse role, Dutch
    page.click(".menu button[data-task=inspect]")
    expect(page.locator("#task-title")).to_have_text("Ingangscontrole")
    # The demo's housing lot R-7781 waits in quarantine for plan IP-HOUSING-20-IN.
    waiting = page.locator("#inspect-list button[data-inspect-lot='R-7781']")
    expect(waiting).to_contain_text("HOUSING-20")
    expect(waiting).to_contain_text("IP-HOUSING-20-IN · 0 van 3 monsters")
    screenshot(page, "handheld-inspect-list")

    wedge.scan("LOT:R-7781")
    expect(page.locator("#step")).to_contain_text("Partij R-7781")
    expect(page.locator("#step")).to_contain_text("IP-HOUSING-20-IN · Incoming inspection pump housing")
    count = page.locator("#sample-count")
    expect(count).to_contain_text("0 van 3 monsters")
    expect(page.locator("#inspect-lot")).to_contain_text("GJ-55190")
    # Incomplete: refused on the handheld, nothing recorded.
    page.click("#sample-go")
    expect(page.locator("#feedback")).to_contain_text("Vul bore_diameter in")
    record_sample(page, 1, "62.004", True, "GOED")
    expect(page.locator("#feedback")).to_contain_text("Monster 1 van 3 vastgelegd · GOED")
    expect(count).to_contain_text("1 van 3 monsters")
    screenshot(page, "handheld-inspect-sample")
    record_sample(page, 2, "61,990", True, "GOED")  # a decimal comma, as typed on a Dutch handheld
    expect(count).to_contain_text("2 van 3 monsters")
    record_sample(page, 3, "62.010", True, "GOED")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Partij R-7781 vrijgegeven")
    expect(page.locator("#samples li")).to_have_count(3)
    screenshot(page, "handheld-inspect-released")
    api = demo.client("supervisor")
    assert api.get("/api/v1/lots/R-7781").json()["status"] == "available"
    [task] = api.get("/api/v1/inspection-tasks", params={"kind": "incoming"}).json()["inspection_tasks"]
    assert (task["lot"], task["status"], task["samples"], task["failed"]) == ("R-7781", "passed", 3, 0)

    # A housing lot received without a purchase order falls under the same plan: quarantine, and a failed
    # sample holds it with an NCR once its 3 samples are in.
    page.click("#back")
    page.click("#back")
    page.click(".menu button[data-task=receive]")
    wedge.scan("BIN:REC-01")
    wedge.scan(gs1_lot_label(HOUSING_GTIN, "H-9100", quantity=12, expiry="281231"))
    awaits = page.locator("#awaits-inspection")
    expect(awaits).to_contain_text("In quarantaine: wacht op ingangscontrole IP-HOUSING-20-IN · 0 van 3 monsters")
    page.click("#to-inspect")
    expect(page.locator("#step")).to_contain_text("Partij H-9100")
    record_sample(page, 1, "62.030", True, "AFKEUR")  # bore above 62.015
    expect(page.locator("#feedback")).to_contain_text("Monster 1 van 3 vastgelegd · AFKEUR")
    record_sample(page, 2, "62.000", True, "GOED")
    expect(count).to_contain_text("2 van 3 monsters")
    record_sample(page, 3, "62.001", True, "GOED")
    expect(verdict).to_contain_text("Partij H-9100 geblokkeerd")
    expect(verdict.locator("[data-ncr]")).to_contain_text("1 of 3 samples failed, 0 allowed")
    expect(page.locator("#samples .tag.fail")).to_have_count(1)
    screenshot(page, "handheld-inspect-held")
    lot = api.get("/api/v1/lots/H-9100").json()
    assert lot["status"] == "hold"
    ncrs = [n for n in api.get("/api/v1/nonconformances").json()["nonconformances"] if n["lot"] == "H-9100"]
    assert len(ncrs) == 1 and ncrs[0]["status"] == "open"
    expect(verdict.locator(f"[data-ncr='{ncrs[0]['ncr']}']")).to_be_visible()
    # Nothing else waits now: the list says so.
    page.click("#back")
    expect(page.locator("#inspect-list")).to_contain_text("Geen partij wacht op ingangscontrole")
    context.close()
