"""Scanning benchmark: serial scan → booked → feedback latency, and camera frames decoded per second on one core.
``python -m bench.scanning [--scans N] [--frames N] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``serial_scan_p99_ms``: a GS1 lot label (``]C1`` 01 + 10 + 21 + 30, each scan a different serial) written into a
  pty by the scanner simulator → the serial reader (framing, double-read filter) → GS1 parse + syntax-dictionary
  validation → meaning at the station → ``IssueToWorkOrder`` through ``Service`` on SQLite (WAL,
  ``synchronous=FULL``: recorded durably) → the good-read feedback byte back on the pty, read by the simulator.
  Scans one after another, as one operator scans; p99 over ``--scans`` scans after a warm-up.
- ``serial_roundtrip_baseline_p99_ms``: the same pty round trip with a reader that answers at once (no parse, no
  store): what the wire and the event loop cost. ``serial_scan_vs_baseline_p99`` is the ratio.
- ``camera_fps_zxing``: 640×480 grayscale frames (a GS1 DataMatrix, a Code 128 and a QR label per frame, moved,
  slightly rotated and noisy, from the camera simulator) → every code decoded → same-code filter, with zxing-cpp
  restricted to the station's formats (DataMatrix, Code128, QRCode), the process pinned to one core.
  ``camera_fps_zxing_all_formats``: the same without the restriction.
- ``camera_fps_bare_decode``: the baseline, measured in this run because these machines differ ~3x in speed and are
  shared: ``zxingcpp.read_barcodes`` called bare on the same frames with the same formats and options (no Takt
  decoder, camera scanner or filter around it). Its runs and the scanner's alternate (six turns each), so that a
  change in the machine's other load falls on both. ``camera_vs_bare_decode_ratio`` = scanner / bare, the median
  of the six turn pairs' ratios (goal >= 0.8).
- ``camera_fps_pyzbar``: pyzbar on the same frames (zbar reads the Code 128 and QR, not the DataMatrix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

FIGURES: list[tuple[str, float, str]] = []
SUMMARY: dict[str, Any] = {}
GTIN = "09501101530003"
ACK, NAK = b"\x06", b"\x15"


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, value, unit))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


# --- serial ------------------------------------------------------------------------------------------


async def _serial_run(folder: Path, scans: int, warmup: int, full: bool) -> list[float]:
    from edge.domain import commands as c
    from edge.domain.scans import LabelPatterns, ScanContext
    from edge.service import Service
    from edge.store import Store, sqlite_url
    from scanners.gs1 import GS
    from scanners.pipeline import ScanPipeline
    from scanners.serial_reader import SerialScanner, SerialScannerConfig
    from simulators.serial_scanner import PtyScanner

    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    store.node_id("bench-scan")
    service = Service(store, "bench-scan").start()
    admin: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
    total = scans + warmup + 10
    for command in (
        c.DefineItem(idempotency_key="i1", item="SCREW", description="Screw", unit="pcs", revision="B", **admin),
        c.DefineItem(idempotency_key="i2", item="PUMP", description="Pump", unit="pcs", revision="A", **admin),
        c.DefineBin(idempotency_key="b1", bin="LINE1", zone="L", **admin),
        c.ReleaseWorkOrder(idempotency_key="wo", work_order="WO1", item="PUMP", item_revision="A", bom_revision="1",
                           quantity=Decimal(total), operations=(c.OperationSpec(operation=10, description="Build",
                                                                               workstation="WS1"),),
                           bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=Decimal(1)),),
                           **admin),
        c.ReceiveLot(idempotency_key="r1", lot="L1", item="SCREW", item_revision="B", quantity=Decimal(total),
                     bin="LINE1", expiry=date(2099, 12, 31), **admin),
    ):
        service.handle(command)
    pipeline = ScanPipeline(service, {"WS1-scanner": ScanContext(device="", work_order="WO1", bin="LINE1")},
                            LabelPatterns({}))
    sim = PtyScanner(folder / "ttyScanner0")

    async def on_scan(text: str, key: str) -> bool:
        if not full:
            return True
        result = await pipeline.scan("WS1-scanner", text, idempotency_key=key)
        if not result.ok:
            say(f"    refused: {result.code} {result.message}")
        return result.ok

    config = SerialScannerConfig(device="WS1-scanner", port=str(sim.link), double_read_window_s=0.5,
                                 good_feedback=ACK.decode(), bad_feedback=NAK.decode())
    reader = SerialScanner(config, on_scan)
    task = asyncio.get_running_loop().create_task(reader.run())
    await asyncio.wait_for(reader.connected.wait(), 5)
    loop = asyncio.get_running_loop()
    answered = asyncio.Event()
    assert sim._master is not None
    master = sim._master
    loop.add_reader(master, answered.set)
    latencies: list[float] = []
    bad = 0
    try:
        for i in range(warmup + scans):
            data = f"]C101{GTIN}10L1{GS}21S{i:06d}{GS}301\r".encode()
            answered.clear()
            started = time.perf_counter()
            sim.write(data)
            reply = b""
            while not reply:  # a wake-up queued before the last read finds nothing: wait again
                await asyncio.wait_for(answered.wait(), 5)
                answered.clear()
                reply = sim.read_feedback()
            elapsed = (time.perf_counter() - started) * 1000
            if reply != ACK:
                bad += 1
            if i >= warmup:
                latencies.append(elapsed)
    finally:
        loop.remove_reader(master)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        sim.close()
        service.stop()
        store.close()
    if bad:
        raise RuntimeError(f"{bad} scans were not booked")
    return latencies


def bench_serial(scans: int) -> None:
    with tempfile.TemporaryDirectory(prefix="takt-bench-scan-") as tmp:
        say(f"(a) serial: {scans} scans, pty → reader → GS1 → IssueToWorkOrder (durable) → feedback ...")
        full = asyncio.run(_serial_run(Path(tmp) / "full", scans, 50, True))
        say("    baseline: the same pty round trip, answered at once ...")
        base = asyncio.run(_serial_run(Path(tmp) / "base", scans, 50, False))
    SUMMARY["serial"] = {"scans": scans, "median_ms": round(statistics.median(full), 3),
                         "p99_ms": round(p99(full), 3), "max_ms": round(max(full), 3),
                         "baseline_median_ms": round(statistics.median(base), 3),
                         "baseline_p99_ms": round(p99(base), 3)}
    say(f"    scan: median {statistics.median(full):.2f} ms, p99 {p99(full):.2f} ms, max {max(full):.2f} ms; "
        f"baseline p99 {p99(base):.3f} ms")
    figure("serial_scan_p99_ms", round(p99(full), 2), "ms")
    figure("serial_roundtrip_baseline_p99_ms", round(p99(base), 3), "ms")
    figure("serial_scan_vs_baseline_p99", round(p99(full) / p99(base), 1), "x")


# --- camera ------------------------------------------------------------------------------------------


def _frames(count: int) -> list[Any]:
    from simulators.camera import Camera, label_image

    camera = Camera(noise=4, rotation=4, seed=7)
    out = []
    for i in range(count):
        lot = label_image(f"(01){GTIN}(10)L{i % 50}(30){1 + i % 9}", "DataMatrix", gs1=True, scale=4)
        order = label_image(f"WO{1000 + i % 20}", "Code128", scale=2)
        where = label_image(f"BIN:A-{i % 10:02d}", "QRCode", scale=4)
        dx = (i * 7) % 60
        out.append(camera.frame([(lot, (60 + dx, 60)), (order, (320, 40 + dx)), (where, (380 - dx, 280))]))
    return out


def _scanner_decode(decoder: Any) -> Callable[[Any], int]:
    """One frame through Takt's camera scanner (grayscale, region of interest, decoder, same-code filter)."""
    from scanners.camera_reader import CameraConfig, CameraScanner

    async def on_scan(text: str, key: str) -> None:
        return None

    scanner = CameraScanner(CameraConfig(device="cam", source=0), on_scan, decoder=decoder)

    def one(frame: Any) -> int:
        codes = scanner.decode_frame(frame)
        scanner.filter.new_codes(codes)
        return len(codes)

    return one


def _bare_decode(formats: list[str]) -> Callable[[Any], int]:
    """One frame through zxing-cpp alone, with the options Takt's decoder passes."""
    import zxingcpp

    wanted = zxingcpp.barcode_formats_from_str("|".join(formats))

    def one(frame: Any) -> int:
        return len(zxingcpp.read_barcodes(frame, formats=wanted, text_mode=zxingcpp.TextMode.Plain, try_rotate=True,
                                          try_downscale=True))

    return one


def _fps(decoders: dict[str, Callable[[Any], int]], frames: list[Any], seconds: float, rounds: int = 1
         ) -> dict[str, tuple[float, float, list[float]]]:
    """Frames/s and codes/frame of each decoder: ``seconds`` each, in ``rounds`` alternating turns, after one
    untimed pass over the frames each (the frames go round: each turn starts where the decoder's last one ended).
    Also each turn's frames/s, so that turns taken side by side can be compared."""
    for decode in decoders.values():
        for frame in frames:
            decode(frame)
    done = dict.fromkeys(decoders, 0)
    found = dict.fromkeys(decoders, 0)
    spent = dict.fromkeys(decoders, 0.0)
    turns: dict[str, list[float]] = {name: [] for name in decoders}
    for _ in range(rounds):
        for name, decode in decoders.items():
            started, before = time.perf_counter(), done[name]
            while time.perf_counter() - started < seconds / rounds:
                found[name] += decode(frames[done[name] % len(frames)])
                done[name] += 1
            took = time.perf_counter() - started
            spent[name] += took
            turns[name].append((done[name] - before) / took)
    return {name: (done[name] / spent[name], found[name] / done[name], turns[name]) for name in decoders}


def bench_camera(frame_count: int, seconds: float) -> None:
    from scanners.decode import PyzbarDecoder, ZxingDecoder

    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = True
    except (AttributeError, OSError):
        pinned = False
    say(f"(b) camera: {frame_count} frames of 640×480, 3 codes each, one core{'' if pinned else ' (not pinned)'} ...")
    frames = _frames(frame_count)
    station = ["DataMatrix", "Code128", "QRCode"]
    paired = _fps({"bare": _bare_decode(station), "zxing": _scanner_decode(ZxingDecoder(station))}, frames, seconds,
                  rounds=6)
    (bare, bare_codes, bare_turns), (zx, zx_codes, zx_turns) = paired["bare"], paired["zxing"]
    # the ratio of turns taken one after the other, median over the turns: a burst of the machine's other load
    # spoils one pair, not the figure
    ratio = statistics.median(z / b for z, b in zip(zx_turns, bare_turns, strict=True))
    zx_all, zx_all_codes, _ = _fps({"all": _scanner_decode(ZxingDecoder())}, frames, seconds)["all"]
    say(f"    zxing-cpp bare (station formats): {bare:.0f} frames/s, {bare_codes:.2f} codes/frame; "
        f"camera scanner: {zx:.0f} frames/s, {zx_codes:.2f} codes/frame; "
        f"all formats: {zx_all:.0f} frames/s, {zx_all_codes:.2f} codes/frame")
    figure("camera_fps_zxing", round(zx, 1), "frames/s")
    figure("camera_fps_bare_decode", round(bare, 1), "frames/s")
    figure("camera_vs_bare_decode_ratio", round(ratio, 2), "x")
    figure("camera_fps_zxing_all_formats", round(zx_all, 1), "frames/s")
    SUMMARY["camera"] = {"frames": frame_count, "pinned_to_one_core": pinned, "zxing_codes_per_frame": zx_codes,
                         "bare_decode_codes_per_frame": bare_codes,
                         "zxing_all_formats_codes_per_frame": zx_all_codes}
    try:
        zb, zb_codes, _ = _fps({"pyzbar": _scanner_decode(PyzbarDecoder())}, frames, seconds)["pyzbar"]
    except ImportError as exc:
        say(f"    pyzbar unavailable: {exc}")
        return
    say(f"    pyzbar: {zb:.0f} frames/s, {zb_codes:.2f} codes/frame (zbar has no DataMatrix)")
    SUMMARY["camera"]["pyzbar_codes_per_frame"] = zb_codes
    figure("camera_fps_pyzbar", round(zb, 1), "frames/s")
    figure("camera_zxing_vs_pyzbar", round(zx / zb, 2), "x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scanning", description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=5.0, help="per camera decoder")
    parser.add_argument("--json", type=Path, help="also write the figures and details to this file")
    args = parser.parse_args(argv)
    bench_serial(args.scans)
    bench_camera(args.frames, args.seconds)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES},
                                         "details": SUMMARY}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
