"""The demo line's machines, simulated: PRESS-10 on Modbus TCP, SCREWDRIVER-20 and TESTRIG-30 on OPC UA (these two take
their recipe's setpoints, Speed and Temp, written at operation start and read back).

``takt demo`` starts a ``DemoPlant`` in a thread of its own (its own event loop, so the node's loop only runs
the node) on free local ports, and connects the node to it with ``connectivity()``: the connectivity section of
a site file, as plain data, naming the demo site's equipment. The machines run, make good parts and some scrap,
and now and then stop with an alarm (jam, starved, door open ...); a simulated operator clears an alarm after
``alarm_clear_s`` and starts the machine again.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from simulators.machine import ALARMS, Machine, PackMLState
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine

log = logging.getLogger("takt.sim.plant")


@dataclass(frozen=True)
class DemoMachine:
    equipment: str
    device: str  # the connector's name
    protocol: str  # "modbus" or "opcua"
    cycle_time_s: float
    scrap_rate: float
    alarm_rate: float


DEMO_MACHINES = (
    DemoMachine("PRESS-10", "PLC-PRESS-10", "modbus", cycle_time_s=4.0, scrap_rate=0.03, alarm_rate=0.02),
    DemoMachine("SCREWDRIVER-20", "OPC-SCREWDRIVER-20", "opcua", cycle_time_s=6.0, scrap_rate=0.02, alarm_rate=0.015),
    DemoMachine("TESTRIG-30", "OPC-TESTRIG-30", "opcua", cycle_time_s=5.0, scrap_rate=0.05, alarm_rate=0.01),
)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class DemoPlant:
    """The simulated machines of the demo line, served from a background thread until ``stop()``."""

    def __init__(self, *, host: str = "127.0.0.1", alarm_clear_s: float = 8.0, seed: int = 1,
                 machines: tuple[DemoMachine, ...] = DEMO_MACHINES) -> None:
        self.host = host
        self.alarm_clear_s = alarm_clear_s
        self.machines = machines
        self.models = {m.equipment: Machine(cycle_time_s=m.cycle_time_s, scrap_rate=m.scrap_rate,
                                            alarm_rate=m.alarm_rate, seed=seed + i)
                       for i, m in enumerate(machines)}
        self.ports = {m.equipment: _free_port(host) for m in machines}
        self.servers: dict[str, ModbusPlc | OpcUaMachine] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> DemoPlant:
        """Start the machines' servers in a background thread; returns once they listen."""
        self._thread = threading.Thread(target=self._run, name="takt-demo-plant", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the simulated plant did not start within {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"the simulated plant did not start: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> DemoPlant:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connectivity(self) -> dict[str, Any]:
        """The connectivity section (plain data) that connects a node to these machines."""
        section: dict[str, Any] = {"opcua": [], "modbus": [], "machines": []}
        reasons = dict(ALARMS)
        for m in self.machines:
            port = self.ports[m.equipment]
            if m.protocol == "modbus":
                section["modbus"].append({
                    "name": m.device, "host": self.host, "port": port, "unit": 1, "timeout_s": 1.0,
                    "groups": [{"interval_ms": 250, "tags": [
                        {"name": "state", "address": 0}, {"name": "alarm", "address": 1},
                        {"name": "good", "address": 2, "type": "uint32"},
                        {"name": "scrap", "address": 4, "type": "uint32"}]},
                        {"interval_ms": 1000, "tags": [
                            {"name": "temperature", "address": 6, "type": "float32"},
                            {"name": "pressure", "address": 8, "type": "float32"}]}]})
                state, alarm, good, scrap, temperature, pressure = "state", "alarm", "good", "scrap", "temperature", \
                    "pressure"
            else:
                server = OpcUaMachine.url_for(m.equipment, self.host, port)
                section["opcua"].append({
                    "name": m.device, "url": server, "publishing_interval_ms": 250, "timeout_s": 4,
                    "tags": [{"name": v, "node_id": f"ns=2;s={m.equipment}.{v}", "sampling_interval_ms": 100}
                             for v in ("State", "Alarm", "GoodCount", "ScrapCount")]
                    + [{"name": v, "node_id": f"ns=2;s={m.equipment}.{v}", "sampling_interval_ms": 500,
                        "deadband": {"kind": "absolute", "value": 0.1}} for v in ("Temperature", "Pressure")]
                    + [{"name": v, "node_id": f"ns=2;s={m.equipment}.{v}", "sampling_interval_ms": 500}
                       for v in ("SpeedSetpoint", "TempSetpoint")]})
                state, alarm, good, scrap, temperature, pressure = ("State", "Alarm", "GoodCount", "ScrapCount",
                                                                    "Temperature", "Pressure")
            section["machines"].append({
                "equipment": m.equipment, "device": m.device,
                "state": {"tag": state, "kind": "packml", "reason_tag": alarm, "reasons": reasons},
                "counters": [{"tag": good, "kind": "good", "resets_on_restart": True},
                             {"tag": scrap, "kind": "scrap", "resets_on_restart": True}],
                "process_values": [
                    {"tag": temperature, "name": "temperature", "deadband": 0.2, "retention_s": 86400},
                    {"tag": pressure, "name": "pressure", "deadband": 0.05, "retention_s": 86400}]})
            if m.protocol == "opcua":  # the recipe's setpoints (demo.yaml master_data.recipes) go down at start
                section["machines"][-1]["setpoints"] = {
                    # the simulated operator keeps the machines running: the demo lets a download go to a running
                    # machine (a real site keeps the default, refuse_while_running: true)
                    "refuse_while_running": False, "roles": ["operator", "supervisor"], "tags": [
                        {"parameter": "Speed", "tag": "SpeedSetpoint", "writable": True, "low": 1, "high": 30,
                         "tolerance": 0.01, "unit": "ppm"},
                        {"parameter": "Temp", "tag": "TempSetpoint", "writable": True, "low": 20, "high": 80,
                         "tolerance": 0.1, "unit": "°C"}]}
        return section

    # --- the plant's own thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() when it happens before the plant is ready
            self._error = exc
            self._ready.set()
            log.error("the simulated plant stopped: %s", exc)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            for m in self.machines:
                model = self.models[m.equipment]
                server: ModbusPlc | OpcUaMachine
                for attempt in range(5):
                    port = self.ports[m.equipment]
                    if m.protocol == "modbus":
                        server = ModbusPlc(model, host=self.host, port=port, unit=1, tick_s=0.1)
                    else:
                        server = OpcUaMachine(model, name=m.equipment, host=self.host, port=port, tick_s=0.1)
                    try:
                        await server.start()
                        break
                    except OSError as exc:  # the free port was taken before we bound it: take another
                        if exc.errno != errno.EADDRINUSE or attempt == 4:
                            raise
                        with contextlib.suppress(Exception):
                            await server.stop()
                        self.ports[m.equipment] = _free_port(self.host)
                self.servers[m.equipment] = server
                model.start()
            self._ready.set()
            await self._operate()
        finally:
            for server in self.servers.values():
                with contextlib.suppress(Exception):
                    await server.stop()

    async def _operate(self) -> None:
        """The simulated operator: an alarm is cleared after ``alarm_clear_s`` and the machine started again."""
        assert self._stopping is not None
        alarmed_since: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.5)
            now = loop.time()
            for equipment, model in self.models.items():
                if model.alarm:
                    since = alarmed_since.setdefault(equipment, now)
                    if now - since >= self.alarm_clear_s:
                        model.clear_alarm()
                        model.start()
                        alarmed_since.pop(equipment, None)
                elif model.state != PackMLState.EXECUTE:
                    model.start()
