"""Serial scanning end to end: bytes into a pty → framing → GS1/in-house label → meaning at the station → the one
write path on a real SQLite store → booked, or refused with the plant's code; feedback goes back down the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain.scans import LabelPatterns, ScanContext
from edge.service import Service
from edge.store import Store
from scanners.gs1 import GS, GS1Parser
from scanners.gs1_syntax import load_syntax_dictionary
from scanners.pipeline import ScanPipeline, ScanResult
from scanners.serial_reader import SerialScanner, SerialScannerConfig
from simulators.serial_scanner import PtyScanner
from tests.conftest import StoreFactory

D = Decimal
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
ADMIN: dict[str, Any] = {"actor": "setup", "actor_roles": frozenset({"admin", "warehouse", "quality"})}
GTIN = "09501101530003"
PATTERNS = LabelPatterns({"badge": r"B-(?P<value>\d{4})", "work_order": r"WO\d+", "lot": r"LOT:(?P<value>.+)"})
ACK, NAK = "\x06", "\x15"


def gs1_lot(lot: str, quantity: int = 4, expiry: str = "271231") -> str:
    return f"01{GTIN}17{expiry}10{lot}{GS}30{quantity}"  # (30) count: (37) goes with (02)


def _seed(service: Service) -> None:
    commands: list[c.Command] = [
        c.DefineItem(idempotency_key="i1", item="SCREW", description="Screw", unit="pcs", revision="B", **ADMIN),
        c.DefineItem(idempotency_key="i2", item="GASKET", description="Gasket", unit="pcs", revision="C", **ADMIN),
        c.DefineItem(idempotency_key="i3", item="PUMP", description="Pump", unit="pcs", revision="A", **ADMIN),
        c.DefineBin(idempotency_key="b1", bin="LINE1", zone="L", **ADMIN),
        c.DefineBin(idempotency_key="b2", bin="A-02-3", zone="A", **ADMIN),
        c.ReleaseWorkOrder(idempotency_key="wo", work_order="WO1", item="PUMP", item_revision="A", bom_revision="3",
                           quantity=D(10), operations=(c.OperationSpec(operation=10, description="Build",
                                                                        workstation="WS1"),),
                           bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),),
                           **ADMIN),
    ]
    lots = [("L1", "SCREW", "B", "LINE1", date(2027, 12, 31)), ("L2", "SCREW", "B", "A-02-3", date(2026, 9, 1)),
            ("LOLD", "SCREW", "B", "LINE1", date(2026, 7, 1)), ("LHOLD", "SCREW", "B", "LINE1", date(2027, 1, 1)),
            ("LGSK", "GASKET", "C", "LINE1", None), ("LREV", "SCREW", "A", "LINE1", date(2027, 1, 1))]
    for lot, item, rev, bin_code, expiry in lots:
        commands.append(c.ReceiveLot(idempotency_key=f"r-{lot}", lot=lot, item=item, item_revision=rev,
                                     quantity=D(100), bin=bin_code, expiry=expiry, **ADMIN))
    commands.append(c.HoldLot(idempotency_key="h", lot="LHOLD", reason="supplier complaint", **ADMIN))
    for command in commands:
        service.handle(command)


@dataclass
class Line:
    sim: PtyScanner
    reader: SerialScanner
    results: asyncio.Queue[ScanResult]
    clock: list[datetime]

    async def next(self) -> ScanResult:
        return await asyncio.wait_for(self.results.get(), 3)


@pytest.fixture
def service(store_factory: StoreFactory) -> Iterator[Service]:
    store: Store = store_factory()
    store.node_id("scan-node")
    clock = [NOW]
    with Service(store, "scan-node", clock=lambda: clock[0]) as running:
        _seed(running)
        clock[0] = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)  # LOLD has expired by now; L2 is the FEFO lot
        yield running


@pytest.fixture
async def line(service: Service, tmp_path: Path) -> AsyncIterator[Line]:
    sim = PtyScanner(tmp_path / "ttyScanner0")
    parser = GS1Parser(load_syntax_dictionary(), today=date(2026, 8, 1))
    pipeline = ScanPipeline(service, {"WS1-scanner": ScanContext(device="", workstation="WS1", bin="LINE1")},
                            PATTERNS, gs1=parser)
    results: asyncio.Queue[ScanResult] = asyncio.Queue()

    async def on_scan(text: str, key: str) -> bool:
        result = await pipeline.scan("WS1-scanner", text, idempotency_key=key, actor_roles=frozenset({"operator"}))
        await results.put(result)
        return result.ok

    config = SerialScannerConfig(device="WS1-scanner", port=str(sim.link), suffix="CR", max_length=200,
                                 double_read_window_s=0.5, reopen_interval_s=0.05, good_feedback=ACK,
                                 bad_feedback=NAK)
    reader = SerialScanner(config, on_scan)
    task = asyncio.get_running_loop().create_task(reader.run())
    await asyncio.wait_for(reader.connected.wait(), 3)
    try:
        yield Line(sim, reader, results, [])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sim.close()


async def test_badge_work_order_and_gs1_lot_label_book_an_issue(line: Line, service: Service) -> None:
    line.sim.send("B-0042")
    assert (await line.next()).message == "operator 0042 logged on"
    line.sim.send("WO1", split=1, pause_s=0.002)  # a slow scanner: one byte per write
    assert (await line.next()).label == "work_order"
    line.sim.send(gs1_lot("L1", 8), symbology="]C1", split=5)
    booked = await line.next()
    assert booked.ok and booked.command == "IssueToWorkOrder" and booked.seq is not None, booked
    assert "8 of lot L1 issued to work order WO1" in booked.message
    await asyncio.sleep(0.05)
    assert ACK.encode() in line.sim.read_feedback()
    assert service.store.load_state().stock[("L1", "LINE1")].quantity == D(92)


@pytest.mark.parametrize(("label", "code", "hint"), [
    (gs1_lot("LGSK"), "WRONG_ITEM", "needs SCREW"),
    (gs1_lot("LREV"), "WRONG_REVISION", "needs revision B"),
    (gs1_lot("LOLD"), "LOT_EXPIRED", "FEFO pick is L2 in bin A-02-3"),
    (gs1_lot("LHOLD"), "LOT_ON_HOLD", "on hold"),
    (gs1_lot("NOPE"), "UNKNOWN_LOT", "NOPE"),
    (gs1_lot("L1", 50), "OVER_CONSUMPTION", "still needs 40"),
    (f"01{GTIN[:-1]}4" + "10L1", "GS1_INVALID", "check digit"),
    ("hello", "UNKNOWN_LABEL", "badge, work_order, lot"),
])
async def test_a_refused_scan_names_the_code_and_books_nothing(line: Line, service: Service, label: str, code: str,
                                                               hint: str) -> None:
    line.sim.send("WO1")
    await line.next()
    seq_before = service.snapshot_seq()
    line.sim.send(label, symbology="]C1" if label.startswith("01") else "")
    refused = await line.next()
    assert not refused.ok and refused.code == code and hint in refused.message, refused
    assert service.snapshot_seq() == seq_before
    await asyncio.sleep(0.05)
    assert NAK.encode() in line.sim.read_feedback()


async def test_double_reads_noise_and_overlong_lines_are_not_scans(line: Line) -> None:
    line.sim.send("WO1")
    await line.next()
    line.sim.send("LOT:L1")  # no default quantity at this station: refused, but it is one scan
    line.sim.send("LOT:L1")
    line.sim.noise()
    line.sim.send("X" * 500)
    line.sim.send("B-0007")
    first = await line.next()
    assert first.code == "QUANTITY_REQUIRED"
    assert (await line.next()).message == "operator 0007 logged on"  # the second LOT:L1 was a double read
    reasons = [d.reason for d in line.reader.dropped]
    assert any("control character" in r or "not UTF-8" in r for r in reasons)
    assert any("overlong" in r for r in reasons)


async def test_an_unplugged_scanner_is_reopened(line: Line) -> None:
    line.sim.unplug()
    await asyncio.sleep(0.2)
    assert not line.reader.connected.is_set()
    line.sim.plug()
    await asyncio.wait_for(line.reader.connected.wait(), 3)
    line.sim.send("WO1")
    assert (await line.next()).label == "work_order"
    assert line.reader.opens == 2


async def test_a_store_outage_answers_bad_read_and_the_reader_keeps_going(line: Line, service: Service) -> None:
    line.sim.send("WO1")
    await line.next()
    service.stop()
    line.sim.send(gs1_lot("L1"), symbology="]C1")
    down = await line.next()
    assert not down.ok and down.code == "STORE_UNAVAILABLE" and "scan again" in down.message
    await asyncio.sleep(0.05)
    assert NAK.encode() in line.sim.read_feedback()
    line.sim.send("B-0042")
    assert (await line.next()).ok  # the reader is still there


async def test_a_serialised_unit_scanned_again_later_is_a_duplicate_serial(line: Line, service: Service) -> None:
    from edge.store.verify import verify

    line.sim.send("WO1")
    await line.next()
    label = f"01{GTIN}10L1{GS}21SN-0001{GS}301"
    line.sim.send(label, symbology="]C1")
    assert (await line.next()).ok
    await asyncio.sleep(0.6)  # past the double-read window: a second physical scan of the same unit
    line.sim.send(label, symbology="]C1")
    again = await line.next()
    assert not again.ok and again.code == "DUPLICATE_SERIAL" and "already issued to work order WO1" in again.message
    assert verify(service.store).ok  # the serial table replays from the journal
