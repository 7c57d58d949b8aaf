"""Modbus RTU over a virtual serial pair (socat): several units on one line, a silent unit, corrupted frames.

The simulated PLCs answer on one end of the pair as an RTU bus; the connectors' shared serial client is on the
other end, as a node on an RS-485 line would be."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import Backoff, Sample, supervise
from connectors.config import ConnectivitySection, ModbusDevice, ModbusTag, PollGroup, SerialLine
from connectors.modbus import ModbusConnector, serial_lines
from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc, RtuBus

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed (scripts/test adds it)")

TAGS = [ModbusTag(name="state", address=0, type="uint16"), ModbusTag(name="good", address=2, type="uint32")]


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two linked ptys: (the bus's end, the node's end)."""
    bus_end, node_end = tmp_path / "bus", tmp_path / "node"
    proc = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={bus_end}",
                             f"pty,raw,echo=0,link={node_end}"], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    for line in proc.stderr:  # socat says when both ends are open
        if "starting data transfer loop" in line:
            break
        assert time.monotonic() < deadline, "socat did not start"
    try:
        yield str(bus_end), str(node_end)
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.fixture
async def bus(serial_pair: tuple[str, str]) -> AsyncIterator[RtuBus]:
    plcs = [ModbusPlc(Machine(cycle_time_s=3600, scrap_rate=0.0), unit=unit, tick_s=0.02) for unit in (1, 2, 3)]
    rtu = RtuBus(serial_pair[0], plcs, baudrate=115200)
    await rtu.start()
    yield rtu
    await rtu.stop()


class PerDevice:
    """Samples by device, with the time each arrived."""

    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[float, Sample]]] = {}

    async def __call__(self, batch: Sequence[Sample]) -> None:
        now = time.monotonic()
        for s in batch:
            self.samples.setdefault(s.device, []).append((now, s))

    def good(self, device: str, tag: str = "good") -> list[tuple[float, Sample]]:
        return [(t, s) for t, s in self.samples.get(device, []) if s.tag == tag and s.quality == "good"]

    def last(self, device: str, tag: str = "good") -> Sample | None:
        rows = [s for _, s in self.samples.get(device, []) if s.tag == tag]
        return rows[-1] if rows else None


def rtu_device(name: str, port: str, unit: int, *, timeout_s: float = 1.0, interval_ms: float = 50) -> ModbusDevice:
    return ModbusDevice(name=name, serial=SerialLine(port=port, baudrate=115200), unit=unit, timeout_s=timeout_s,
                        retries=0, groups=[PollGroup(interval_ms=interval_ms, tags=TAGS)])


@contextlib.asynccontextmanager
async def polling(devices: list[ModbusDevice], sink: PerDevice) -> AsyncIterator[list[ModbusConnector]]:
    lines = serial_lines(devices)
    connectors = [ModbusConnector(d, lines[d.serial.port]) for d in devices if d.serial is not None]
    tasks = [asyncio.create_task(supervise(c, sink, Backoff(initial=0.5, maximum=2.0))) for c in connectors]
    try:
        yield connectors
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(t, 10)
    assert all(line.client is None for line in lines.values()), "the serial port is closed when nobody uses it"


async def until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)


async def test_several_units_on_one_line_are_polled_and_decoded(bus: RtuBus, serial_pair: tuple[str, str]) -> None:
    for i, plc in enumerate(bus.plcs):
        plc.machine.start()
        plc.machine.produce(100 * (i + 1))
        plc.refresh()
    devices = [rtu_device(f"PRESS-{u}", serial_pair[1], u) for u in (1, 2, 3)]
    sink = PerDevice()
    async with polling(devices, sink) as connectors:
        await until(lambda: all((s := sink.last(f"PRESS-{u}")) is not None and s.value == 100 * u
                                for u in (1, 2, 3)), 10, "each unit's own counter")
        assert all(c.health.connected and c.health.connects == 1 for c in connectors)
        assert {c.line for c in connectors} == {connectors[0].line}  # one serial client for the line
        assert connectors[0].line is not None and connectors[0].line.opens == 1


async def test_a_silent_unit_costs_the_others_no_more_than_its_timeout(bus: RtuBus, serial_pair: tuple[str, str]
                                                                       ) -> None:
    timeout = 0.5
    devices = [rtu_device("PRESS-1", serial_pair[1], 1), rtu_device("PRESS-2", serial_pair[1], 2),
               rtu_device("OVEN-9", serial_pair[1], 9, timeout_s=timeout)]  # unit 9 is switched off
    sink = PerDevice()
    async with polling(devices, sink) as connectors:
        await until(lambda: len(sink.good("PRESS-1")) >= 5, 10, "the live units polled")
        start = time.monotonic()
        await asyncio.sleep(4)
        window = [t for t, _ in sink.good("PRESS-1") if t >= start]
        oven = connectors[2]
        assert not oven.health.connected and "does not answer" in (oven.health.last_error or "")
        assert "unit 9" in (oven.health.last_error or "")
        assert oven.health.restarts >= 1
        silent = sink.last("OVEN-9")
        assert silent is not None and silent.quality == "bad" and silent.value is None
        assert all(c.health.connected for c in connectors[:2])
        assert connectors[0].health.bad_values == 0, [s for _, s in sink.samples["PRESS-1"] if s.quality != "good"]
    gaps = [b - a for a, b in zip(window, window[1:], strict=False)]
    # PRESS-1 is polled every 50 ms. The silent unit holds the line for one timeout per turn at most (a device
    # that did not answer is not asked again in that cycle), so PRESS-1 never waits much longer than that; and
    # after three unanswered cycles the silent unit is only asked again after its backoff.
    assert max(gaps) < timeout + 0.3, f"PRESS-1 waited {max(gaps):.2f} s for the line"
    assert len(window) >= 25, f"PRESS-1 polled {len(window)} times in 4 s (80 without the silent unit)"


@pytest.mark.parametrize("fault", ["truncated", "garbled"])
async def test_a_corrupted_frame_is_bad_quality_and_the_line_goes_on(bus: RtuBus, serial_pair: tuple[str, str],
                                                                      fault: str) -> None:
    devices = [rtu_device("PRESS-1", serial_pair[1], 1), rtu_device("PRESS-2", serial_pair[1], 2, timeout_s=0.3)]
    sink = PerDevice()
    async with polling(devices, sink) as connectors:
        await until(lambda: len(sink.good("PRESS-2")) >= 3, 10, "first values")
        bus.frame_faults[2] = fault  # type: ignore[assignment]
        await until(lambda: (s := sink.last("PRESS-2")) is not None and s.quality == "bad", 5, "bad quality")
        assert bus.corrupted >= 1
        before = len(sink.good("PRESS-1"))
        await until(lambda: len(sink.good("PRESS-1")) >= before + 10, 5, "unit 1 still answered")
        bus.plcs[1].machine.start()
        bus.plcs[1].machine.produce(7)
        bus.plcs[1].refresh()
        del bus.frame_faults[2]
        await until(lambda: (s := sink.last("PRESS-2")) is not None and s.quality == "good" and s.value == 7, 10,
                    "unit 2 read right again once its frames are whole")
        assert connectors[0].health.bad_values == 0, [s for _, s in sink.samples["PRESS-1"] if s.quality != "good"]


def test_devices_on_one_line_share_its_settings_and_have_their_own_units() -> None:
    line = {"port": "/dev/ttyUSB0", "baudrate": 19200}
    group = [{"tags": [{"name": "good", "address": 2, "type": "uint32"}]}]
    with pytest.raises(ValidationError, match="unit 1 on /dev/ttyUSB0 is already A"):
        ConnectivitySection.model_validate({"modbus": [
            {"name": "A", "serial": line, "unit": 1, "groups": group},
            {"name": "B", "serial": line, "unit": 1, "groups": group}]})
    with pytest.raises(ValidationError, match="has other settings than for A"):
        ConnectivitySection.model_validate({"modbus": [
            {"name": "A", "serial": line, "unit": 1, "groups": group},
            {"name": "B", "serial": {**line, "baudrate": 9600}, "unit": 2, "groups": group}]})
    with pytest.raises(ValidationError, match="either host .TCP. or serial .RTU."):
        ModbusDevice.model_validate({"name": "A", "host": "10.0.0.5", "serial": line, "groups": group})


async def test_takt_sim_modbus_serves_several_units_on_a_serial_port(serial_pair: tuple[str, str]) -> None:
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "sim", "modbus", "--serial", serial_pair[0], "--unit", "4", "--unit", "5",
        "--baudrate", "115200", "--cycle-time", "0.2", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        banner = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert b"units 4, 5" in banner
        sink = PerDevice()
        devices = [rtu_device(f"PLC-{u}", serial_pair[1], u) for u in (4, 5)]
        async with polling(devices, sink):
            await until(lambda: all(any(isinstance(s.value, int) and s.value > 0 for _, s in sink.good(f"PLC-{u}"))
                                    for u in (4, 5)), 20, "both simulated PLCs counting parts")
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
