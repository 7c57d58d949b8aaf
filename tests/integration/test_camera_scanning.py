"""Camera scanning from a video file the camera simulator films: codes decoded off the loop, consecutive frames of
the same code are one scan, several codes in one frame are all reported, and a GS1 label parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.camera_reader import CameraConfig, CameraScanner, SameCodeFilter
from scanners.decode import DecodedCode
from scanners.gs1 import GS, GS1Parser
from scanners.gs1_syntax import load_syntax_dictionary
from simulators.camera import Camera, Scene, image_file, label_image, write_video
from tests.shared_data import require_mirror

GS1_LOT = label_image("(01)09501101530003(17)271231(10)L1(30)8", "DataMatrix", gs1=True, scale=5)
WORK_ORDER = label_image("WO1", "Code128", scale=3)
BIN = label_image("BIN:LINE1", "QRCode", scale=5)
FIGURE = image_file(require_mirror("barcodes/zxing-cpp/qrcode-2/gs1-figure-4.15.1-2.png"))


def film(path: Path, camera: Camera) -> Path:
    scenes = [
        Scene([(GS1_LOT, (200, 150))], frames=6),
        Scene([(WORK_ORDER, (40, 60)), (BIN, (380, 220))], frames=5),  # two codes in one frame
        Scene([], frames=4),
        Scene([(GS1_LOT, (260, 180))], frames=3),  # the same label shown again: a new scan
        Scene([(FIGURE, (150, 100))], frames=2),
    ]
    return write_video(path, camera.frames(scenes))


async def read_all(video: Path, decoder: str = "zxing", formats: list[str] | None = None) -> list[str]:
    scans: list[str] = []

    async def on_scan(text: str, key: str) -> None:
        scans.append(text)

    scanner = CameraScanner(CameraConfig(device="cam1", source=str(video), decoder=decoder,  # type: ignore[arg-type]
                                         formats=formats), on_scan)
    await scanner.run()
    assert scanner.frames == 20
    return scans


LOT_TEXT = f"]d201095011015300031727123110L1{GS}308"
FIGURE_TEXT = f"]Q301095040000591012112345678p901{GS}101234567p{GS}171411208200http://www.gs1.org/demo/"


@pytest.mark.parametrize("camera", [Camera(), Camera(blur=3, noise=6, rotation=8, seed=1)], ids=["clean", "rough"])
async def test_a_filmed_sequence_gives_one_scan_per_appearance(tmp_path: Path, camera: Camera) -> None:
    scans = await read_all(film(tmp_path / "line.avi", camera))
    assert scans[0] == LOT_TEXT
    assert sorted(scans[1:3]) == ["]C0WO1", "]Q1BIN:LINE1"]
    assert scans[3:] == [LOT_TEXT, FIGURE_TEXT]
    label = GS1Parser(load_syntax_dictionary()).parse(scans[0])
    assert (label.gtin, label.lot, label.quantity) == ("09501101530003", "L1", 8)


async def test_formats_and_pyzbar(tmp_path: Path) -> None:
    video = film(tmp_path / "line.avi", Camera())
    assert await read_all(video, formats=["DataMatrix"]) == [LOT_TEXT, LOT_TEXT]
    pytest.importorskip("pyzbar.pyzbar", exc_type=ImportError)
    zbar = await read_all(video, decoder="pyzbar")  # no DataMatrix in zbar; no AIM identifiers either
    assert sorted(zbar) == sorted(["WO1", "BIN:LINE1", FIGURE_TEXT.removeprefix("]Q3")])


def test_same_code_filter_tolerates_a_missed_frame() -> None:
    code = DecodedCode(text="A", format="QR Code", symbology_identifier="]Q1", gs1=False)
    same = SameCodeFilter(gap_frames=1)
    seen = [len(same.new_codes(frame)) for frame in ([code], [code], [], [code], [], [], [code])]
    assert seen == [1, 0, 0, 0, 0, 0, 1]


async def test_a_failing_consumer_does_not_stop_the_camera(tmp_path: Path) -> None:
    video = film(tmp_path / "line.avi", Camera())
    seen: list[str] = []

    async def on_scan(text: str, key: str) -> None:
        seen.append(text)
        raise RuntimeError("consumer broke")

    scanner = CameraScanner(CameraConfig(device="cam1", source=str(video)), on_scan)
    await scanner.run()
    assert scanner.frames == 20 and len(seen) == 5
