"""GS1 labels over the wire: ZPL sent on raw TCP to the printer simulator (as to port 9100), the lot label route of
the API to a printer or a folder, and its refusals; the barcodes read back out of what the printer received."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from edge.labels import LotLabel, barcodes_in, lot_label_zpl, send_to_printer
from scanners.gs1 import parse
from simulators.label_printer import LabelPrinter, running_label_printer
from takt.config import LabelsSection, load_config
from takt.runtime import Node
from tests.integration.conftest import RunningNode, start_node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
GREASE = "09501101530003"


def node_with_labels(data_dir: Path, labels: LabelsSection) -> tuple[Node, RunningNode]:
    config = load_config(DEMO).model_copy(update={"labels": labels})
    site = Node(config, data_dir=data_dir).start()
    try:
        return site, start_node("", site=site)
    except BaseException:
        site.stop()
        raise


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[LabelPrinter]:
    with running_label_printer(folder=tmp_path / "printed") as running:
        yield running


def test_zpl_sent_on_raw_tcp_is_stored_by_the_printer_simulator(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        sim = await LabelPrinter("127.0.0.1", 0, tmp_path / "spool").start()
        try:
            for lot, quantity in (("L118", 40), ("L119", 12)):
                zpl = lot_label_zpl(LotLabel(gtin=GREASE, lot=lot, quantity=Decimal(quantity)))
                assert await send_to_printer("127.0.0.1", sim.port, zpl) == len(zpl.encode())
            for _ in range(500):
                if len(sim.labels) == 2:
                    break
                await asyncio.sleep(0.01)
            return sim.labels
        finally:
            await sim.stop()

    labels = asyncio.run(scenario())
    assert [parse(barcodes_in(zpl)[0]).ais for zpl in labels] == [
        {"01": GREASE, "10": "L118", "30": "40"}, {"01": GREASE, "10": "L119", "30": "12"}]
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["0001.zpl", "0002.zpl"]


def test_the_api_prints_a_lot_label_to_the_network_printer(tmp_path: Path, printer: LabelPrinter) -> None:
    site, node = node_with_labels(tmp_path / "data", LabelsSection(printer_host="127.0.0.1", printer_port=printer.port))
    try:
        r = node.post("warehouse", "/lots/L118/label", {"copies": 2})
        assert r.status_code == 201, r.text
        assert (r.json()["printed_to"], r.json()["copies"]) == (f"127.0.0.1:{printer.port}", 2)
        [zpl] = printer.wait_for(1)
        assert "^PQ2" in zpl and "GREASE-LT2" in zpl
        label = parse(barcodes_in(zpl)[0])
        assert label.ais == {"01": GREASE, "17": "280331", "10": "L118", "30": "40"}  # the demo's lot L118
        r = node.post("warehouse", "/lots/L118/label", {"quantity": "10"})
        assert parse(barcodes_in(printer.wait_for(2)[1])[0]).quantity == 10

        for lot, body, status, code, field in (
                ("BLT-0907", {}, 409, "NO_GTIN", "lot"),  # bolts have no GTIN in the demo
                ("NOPE", {}, 404, "UNKNOWN_LOT", "lot"),
                ("L118", {"copies": 0}, 422, "INVALID_REQUEST", "copies"),
                ("L118", {"quantity": "2.5"}, 422, "LABEL_NOT_POSSIBLE", "quantity")):
            r = node.post("warehouse", f"/lots/{lot}/label", body)
            assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, field), r.text
        assert node.post("service", "/lots/L118/label", {}).status_code == 403
        assert len(printer.snapshot()) == 2  # nothing refused was printed
    finally:
        node.stop()
        site.stop()


def test_a_printer_that_does_not_answer_is_reported_and_a_folder_gets_zpl_files(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    site, node = node_with_labels(tmp_path / "data", LabelsSection(printer_host="127.0.0.1", printer_port=closed_port))
    try:
        r = node.post("warehouse", "/lots/L118/label", {})
        assert (r.status_code, r.json()["code"]) == (503, "PRINTER_UNREACHABLE")
    finally:
        node.stop()
        site.stop()
    site, node = node_with_labels(tmp_path / "data2", LabelsSection(folder=tmp_path / "labels"))
    try:
        r = node.post("quality", "/lots/H-2231/label", {})
        assert r.status_code == 201, r.text
        written = Path(r.json()["printed_to"])
        assert written == tmp_path / "labels" / "lot-H-2231.zpl"
        assert parse(barcodes_in(written.read_text())[0]).ais == {"01": "04012345000016", "10": "H-2231", "30": "60"}
    finally:
        node.stop()
        site.stop()
