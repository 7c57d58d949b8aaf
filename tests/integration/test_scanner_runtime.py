"""The node starts a reader per configured scanning device (serial port, camera) and their scans reach the
pipeline the API uses: configuration → tasks → context changes at that device."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scanners.pipeline import start_scanner_tasks
from simulators.camera import Camera, Scene, label_image, write_video
from simulators.serial_scanner import PtyScanner
from takt.config import parse_config
from takt.runtime import Node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


async def wait_for(check: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_configured_serial_and_camera_devices_feed_the_pipeline(tmp_path: Path) -> None:
    sim = PtyScanner(tmp_path / "ttyScanner0")
    video = write_video(tmp_path / "ws10.avi", Camera().frames([
        Scene([(label_image("WO:WO-1001", "Code128", scale=3), (80, 120))], frames=3),
        Scene([(label_image("BIN:A-02-3", "QRCode", scale=5), (200, 150))], frames=3),
    ]))
    devices = f"""
    - device: WS-10-scanner
      workstation: WS-10
      serial: {{port: "{sim.link}", suffix: CR}}
    - device: WS-10-camera
      workstation: WS-10
      camera: {{source: "{video}", formats: [Code128, QRCode]}}
"""
    text = DEMO.read_text(encoding="utf-8").replace("  devices:\n", "  devices:" + devices, 1)
    config = parse_config(text, "site.yaml", base_dir=DEMO.parent)
    node = Node(config, data_dir=tmp_path / "data", config_file="site.yaml").start()
    tasks = start_scanner_tasks(node.scans, config.scanning)
    try:
        assert len(tasks) == 2
        await wait_for(lambda: node.scans.contexts["WS-10-camera"].bin == "A-02-3")
        assert node.scans.contexts["WS-10-camera"].work_order == "WO-1001"
        await asyncio.sleep(0.1)  # the reader opens the port
        sim.send("BADGE:anna")
        await wait_for(lambda: node.scans.contexts["WS-10-scanner"].operator == "anna")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sim.close()
        node.stop()


def test_takt_sim_scanner_sends_typed_lines_as_reads(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    import serial

    link = tmp_path / "ttyScanner"
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "sim", "scanner", "--link", str(link),
                             "--symbology", "]C1"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not link.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "simulator did not start"
            time.sleep(0.05)
        with serial.Serial(str(link), timeout=5) as port:
            assert proc.stdin is not None
            proc.stdin.write(b"0109501101530003<GS>10L1\n")
            proc.stdin.flush()
            assert port.read_until(b"\r") == b"]C10109501101530003\x1d10L1\r"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(10)
