"""Scans obey the same rules as the routes (issue 15), over HTTP against the demo node: a scan that books a command
needs that command's roles; a badge logs on only a known person, over the API with their PIN or their page session;
the journal records who sent the booking, on whose behalf, and from which device. A fixed reader (serial scanner,
camera) books as the device on behalf of the operator logged on by badge."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from takt.cli import app as cli
from takt.config import load_config, parse_config
from takt.runtime import Node

from .conftest import RunningNode, start_node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
TERMINAL = "WS-20-terminal"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningNode]:
    site = Node(load_config(DEMO), data_dir=tmp_path / "data", config_file=DEMO).start()
    running = start_node("", site=site)
    try:
        yield running
    finally:
        running.stop()


def scan(node: RunningNode, role: str, text: str, **extra: Any) -> httpx.Response:
    return node.post(role, "/scans", {"text": text, "device": TERMINAL, **extra})


def events_since(node: RunningNode, seq: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = node.client("supervisor").get("/api/v1/journal", params={
        "after": seq}).json()["events"]
    return events


def test_the_service_account_can_no_longer_issue_a_lot_in_an_operators_name(demo: RunningNode) -> None:
    # the reproducer: service token, BADGE:anna, WO:WO-1001, LOT:H-2232 at WS-20-terminal
    seq = demo.journal_count()
    badge = scan(demo, "service", "BADGE:anna")
    assert badge.status_code == 403 and badge.json()["code"] == "BADGE_PIN_REQUIRED", badge.text
    assert demo.client("service").get("/api/v1/journal", params={"after": seq}).json()["events"] == []
    assert scan(demo, "service", "WO:WO-1001").status_code == 200
    issued = scan(demo, "service", "LOT:H-2232")
    assert issued.status_code == 403 and issued.json()["code"] == "FORBIDDEN", issued.text
    assert "IssueToWorkOrder needs" in issued.json()["message"]
    # even with Anna's PIN (she is logged on now), the service account's own roles do not allow the issue
    assert scan(demo, "service", "BADGE:anna", pin="1234").json()["message"] == "operator anna logged on"
    again = scan(demo, "service", "LOT:H-2232")
    assert again.status_code == 403 and again.json()["code"] == "FORBIDDEN"
    assert demo.journal_count() == seq  # nothing booked


def test_the_journal_shows_the_caller_the_operator_and_the_device(demo: RunningNode, tmp_path: Path) -> None:
    # a supervisor at Anna's terminal, Anna logged on there with her PIN: booked for Anna, sent by the supervisor
    seq = demo.journal_count()
    assert scan(demo, "supervisor", "BADGE:anna", pin="1234").status_code == 200
    assert scan(demo, "supervisor", "WO:WO-1001").status_code == 200
    booked = scan(demo, "supervisor", "LOT:H-2232")
    assert booked.status_code == 200 and booked.json()["command"] == "IssueToWorkOrder", booked.text
    events = events_since(demo, seq)
    assert events and {(e["actor"], e["recorded_by"], e["on_behalf_of"], e["source_device"]) for e in events} == {
        ("anna", "supervisor1", "anna", TERMINAL)}, events
    issued = events[0]["type"]
    # a route's booking: its caller is the actor, on nobody else's behalf
    seq = demo.journal_count()
    moved = demo.post("warehouse", "/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LS-20",
                                                    "quantity": "1"})
    assert moved.status_code == 201, moved.text
    assert {(e["actor"], e["recorded_by"], e["on_behalf_of"]) for e in events_since(demo, seq)} == {
        ("warehouse1", "warehouse1", None)}
    tail = CliRunner().invoke(cli, ["journal", "tail", "-n", "20", "--database-url", demo.store.url],
                              env={"COLUMNS": "200"})
    assert tail.exit_code == 0, tail.output
    for header in ("recorded_by", "on_behalf_of", "device"):
        assert header in tail.stdout
    issue_line = next(line for line in tail.stdout.splitlines() if issued in line)
    assert "supervisor1" in issue_line and "anna" in issue_line and TERMINAL in issue_line


def test_an_unknown_badge_and_a_wrong_pin_are_refused(demo: RunningNode) -> None:
    unknown = scan(demo, "operator", "BADGE:nobody")
    assert unknown.status_code == 403 and unknown.json()["code"] == "UNKNOWN_BADGE", unknown.text
    device_account = scan(demo, "operator", "BADGE:erp-sync")  # a device account has no badge
    assert device_account.status_code == 403 and device_account.json()["code"] == "UNKNOWN_BADGE"
    wrong = scan(demo, "operator", "BADGE:anna", pin="9999")
    assert wrong.status_code == 403 and wrong.json()["code"] == "PIN_WRONG"
    handheld = demo.post("operator", "/scans", {"text": "BADGE:anna"})  # on the caller's own handheld, too
    assert handheld.status_code == 403 and handheld.json()["code"] == "BADGE_PIN_REQUIRED"
    app: Any = demo.server.config.app
    pipeline: Any = app.state.scans
    assert pipeline.contexts[TERMINAL].operator is None


def test_a_badge_of_someone_logged_on_at_a_page_is_accepted(demo: RunningNode) -> None:
    logon = httpx.post(f"{demo.url}/api/v1/sessions", json={"badge": "BADGE:anna", "pin": "1234"})
    assert logon.status_code == 201, logon.text
    accepted = scan(demo, "operator", "BADGE:anna")
    assert accepted.status_code == 200 and accepted.json()["message"] == "operator anna logged on"
    # and her own session scanning her own badge on her handheld, with no PIN: it is her (it logs her off there)
    own = httpx.post(f"{demo.url}/api/v1/scans", json={"text": "BADGE:anna"},
                     headers={"Authorization": f"Bearer {logon.json()['token']}",
                              "Idempotency-Key": secrets.token_hex(8)})
    assert own.status_code == 200 and own.json()["message"] == "operator anna logged off", own.text


def test_the_quality_account_cannot_issue_a_lot_by_scanning(demo: RunningNode) -> None:
    seq = demo.journal_count()
    assert demo.post("quality", "/work-orders/WO-1001/issues",
                     {"lot": "H-2232", "bin": "LS-20", "quantity": "1"}).status_code == 403
    # a configured terminal, and the quality user's own handheld (a GS1 label of H-2232 with its quantity)
    for device, label in (({"device": TERMINAL}, "LOT:H-2232"), ({}, "]C10104012345000016\x1d10H-2232\x1d301")):
        demo.post("quality", "/scans", {"text": "WO:WO-1001", **device})
        demo.post("quality", "/scans", {"text": "BIN:LS-20", **device})
        issued = demo.post("quality", "/scans", {"text": label, **device})
        assert issued.status_code == 403 and issued.json()["code"] == "FORBIDDEN", issued.text
    assert demo.journal_count() == seq


def _reader_site(tmp_path: Path, badge_pin: str = "privileged") -> Node:
    """The demo site with a serial scanner at WS-20 (its port is not opened: scans go to the pipeline as its reader
    task sends them)."""
    devices = """
    - device: WS-20-scanner
      workstation: WS-20
      bin: LS-20
      default_quantity: 1
      serial: {port: /dev/null-scanner, suffix: CR}
"""
    text = DEMO.read_text(encoding="utf-8").replace("  devices:\n", "  devices:" + devices, 1)
    text = text.replace("  badge_pin: privileged\n", f"  badge_pin: {badge_pin}\n", 1)
    config = parse_config(text, "site.yaml", base_dir=DEMO.parent)
    return Node(config, data_dir=tmp_path / "data", config_file="site.yaml").start()


def test_a_serial_reader_books_as_the_device_on_behalf_of_the_badge_logged_on(tmp_path: Path) -> None:
    node = _reader_site(tmp_path)
    booked_key: list[str] = []
    try:
        async def read(text: str) -> Any:  # as scanners.pipeline.start_scanner_tasks sends a serial read
            return await node.scans.scan("WS-20-scanner", text, idempotency_key=secrets.token_hex(8))

        async def scenario() -> None:
            assert (await read("WO:WO-1001")).ok
            nobody = await read("LOT:H-2232")
            assert (nobody.ok, nobody.code) == (False, "OPERATOR_REQUIRED")
            assert (await read("BADGE:nobody")).code == "UNKNOWN_BADGE"
            assert (await read("BADGE:priya")).code == "BADGE_PIN_REQUIRED"  # privileged: PIN logon at a page first
            assert (await read("BADGE:wim")).message == "operator wim logged on"  # a card read, no PIN
            booked_key.append(secrets.token_hex(8))
            booked = await node.scans.scan("WS-20-scanner", "LOT:H-2232", idempotency_key=booked_key[0])
            assert booked.ok and booked.command == "IssueToWorkOrder", booked
            assert (await read("BADGE:wim")).message == "operator wim logged off"
            assert (await read("BADGE:anna")).ok

        asyncio.run(scenario())
        entries = [e for e in node.store.journal() if e.idempotency_key == booked_key[0]]
        assert entries and {(e.actor, e.recorded_by, e.on_behalf_of, e.source_device) for e in entries} == {
            ("wim", "WS-20-scanner", "wim", "WS-20-scanner")}
    finally:
        node.stop()


def test_a_site_can_require_a_pin_logon_for_every_badge_at_a_reader(tmp_path: Path) -> None:
    node = _reader_site(tmp_path, badge_pin="always")
    try:
        async def read(text: str) -> Any:
            return await node.scans.scan("WS-20-scanner", text, idempotency_key=secrets.token_hex(8))

        assert asyncio.run(read("BADGE:anna")).code == "BADGE_PIN_REQUIRED"
        running = start_node("", site=node)
        try:  # Anna logs on at the terminal page with badge and PIN: her card is accepted at the reader then
            assert httpx.post(f"{running.url}/api/v1/sessions",
                              json={"badge": "BADGE:anna", "pin": "1234"}).status_code == 201
            read_after = running.post("operator", "/scans", {"text": "WO:WO-1001", "device": "WS-20-scanner"})
            assert read_after.status_code == 200
        finally:
            running.server.should_exit = True
            running.thread.join(10)
        assert asyncio.run(read("BADGE:anna")).message == "operator anna logged on"
    finally:
        node.stop()
