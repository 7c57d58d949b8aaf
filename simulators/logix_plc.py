"""A Rockwell Logix controller: cpppo's EtherNet/IP CIP server (an independent implementation) serving a ``Machine``'s tags.

Controller tags (Logix types, little-endian on the wire as CIP carries them):

    State                     INT      PackML state number
    Alarm                     INT      alarm reason code (0 = none)
    GoodCount                 DINT     good parts counter (reset by a controller restart, wraps at 2**31)
    ScrapCount                DINT     scrap parts counter
    Temperature               REAL     degrees Celsius
    Pressure                  REAL     bar
    Running                   BOOL
    Recent                    REAL[10] the last ten temperatures, newest first
    Line.Station1.Good        DINT     a UDT member (Line is a structure tag): the good counter again
    Program:MainProgram.Step  DINT     a program-scoped tag: the machine's completed cycles
    SpeedSetpoint             REAL     a setpoint a client may write (parts per minute); the machine keeps it
    TempSetpoint              REAL     a setpoint a client may write (degrees Celsius)
    Sim_Produce               DINT     write N > 0: the machine makes N parts now (set back to 0 when done)

cpppo has no tag list service (``GetTagList`` ends the session): ``takt logix browse`` says so against it.

The server runs in its own process (``python -m simulators.logix_plc`` or ``takt sim logix``): a restart is a
real process restart, with every connection dropped and the counters back at 0. ``LogixPlc`` starts and stops
that process for tests and the demo.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from simulators.machine import Machine, PackMLState

log = logging.getLogger("takt.sim.logix")

TAGS: dict[str, str] = {
    "State": "INT", "Alarm": "INT", "GoodCount": "DINT", "ScrapCount": "DINT", "Temperature": "REAL",
    "Pressure": "REAL", "Running": "BOOL", "Recent": "REAL[10]", "Line.Station1.Good": "DINT",
    "Program:MainProgram.Step": "DINT", "Sim_Produce": "DINT", "SpeedSetpoint": "REAL", "TempSetpoint": "REAL",
}


def _tick(machine: Machine, tick_s: float) -> None:
    """Advance ``machine`` and copy it into cpppo's tags, forever (a daemon thread of the server process)."""
    from cpppo.server.enip.main import tags

    while not all(dict.__contains__(tags, name) for name in TAGS):  # cpppo makes them as it starts
        time.sleep(0.01)

    def attribute(name: str) -> Any:
        return dict.__getitem__(tags, name).attribute

    recent = [machine.temperature] * 10
    last = time.monotonic()
    while True:
        now = time.monotonic()
        machine.advance(now - last)
        last = now
        produce = attribute("Sim_Produce")
        asked = int(produce[0])
        if asked > 0:
            machine.produce(asked)
        snap = machine.snapshot()
        recent = [snap.temperature, *recent[:9]]
        values: dict[str, Any] = {
            "State": snap.state, "Alarm": snap.alarm, "GoodCount": snap.good, "ScrapCount": snap.scrap,
            "Temperature": snap.temperature, "Pressure": snap.pressure, "Running": snap.state == PackMLState.EXECUTE,
            "Line.Station1.Good": snap.good, "Program:MainProgram.Step": snap.cycles % 2**31,
        }
        for name, value in values.items():
            attribute(name)[0] = value
        attribute("Recent")[0:10] = recent
        if asked > 0:
            produce[0] = 0  # after the counters: a client that sees 0 reads the new counts
        time.sleep(tick_s)


def run(host: str, port: int, *, cycle_time_s: float, scrap_rate: float, alarm_rate: float, seed: int,
        running: bool, tick_s: float = 0.02) -> None:
    """Serve the machine's tags on ``host:port`` until the process is stopped."""
    from cpppo.server.enip.main import main as enip_main

    logging.getLogger("cpppo").setLevel(logging.ERROR)
    logging.getLogger("enip").setLevel(logging.ERROR)
    machine = Machine(cycle_time_s=cycle_time_s, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed,
                      counter_bits=31)
    if running:
        machine.start()
    threading.Thread(target=_tick, args=(machine, tick_s), daemon=True, name="sim-logix-tick").start()
    enip_main(argv=["--address", f"{host}:{port}", *(f"{name}={kind}" for name, kind in TAGS.items())])


class LogixPlc:
    """The Logix simulator as a child process on ``host:port``: ``start``, ``stop``, ``restart`` (a power cycle:
    counters back at 0), and ``produce`` (parts made, over the wire through ``Sim_Produce``)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 44818, cycle_time_s: float = 3600.0,
                 scrap_rate: float = 0.0, seed: int = 1, running: bool = True) -> None:
        self.host = host
        self.port = port
        self.options = ["--cycle-time", str(cycle_time_s), "--scrap-rate", str(scrap_rate), "--seed", str(seed)]
        if not running:
            self.options.append("--stopped")
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None

    async def start(self) -> None:
        if self._process is not None:
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", "simulators.logix_plc", "--host", self.host, "--port", str(self.port),
             *self.options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 20
        while not await asyncio.to_thread(self._answers):
            if self._process.poll() is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"the Logix simulator did not start on {self.host}:{self.port}")
            await asyncio.sleep(0.05)

    def _answers(self) -> bool:
        """Whether the server reads its tags yet (cpppo listens a moment before its tags exist)."""
        from pylogix import PLC

        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
            with PLC(self.host, port=self.port, timeout=1.0) as plc:
                return bool(plc.Read("Sim_Produce").Status == "Success")
        return False

    async def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 5)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 5)

    async def restart(self, downtime_s: float = 0.0) -> None:
        await self.stop()
        if downtime_s:
            await asyncio.sleep(downtime_s)
        self.restarts += 1
        await self.start()

    async def produce(self, parts: int) -> None:
        """Make the machine produce ``parts`` now; returns once the counters show them."""
        def write_and_wait() -> None:
            from pylogix import PLC

            with PLC(self.host, port=self.port, timeout=2.0) as plc:
                status = plc.Write("Sim_Produce", parts).Status
                if status != "Success":
                    raise RuntimeError(f"Sim_Produce: {status}")
                deadline = time.monotonic() + 5
                while plc.Read("Sim_Produce").Value != 0:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the simulator did not take the parts")
                    time.sleep(0.01)

        await asyncio.to_thread(write_and_wait)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=44818)
    parser.add_argument("--cycle-time", type=float, default=2.0)
    parser.add_argument("--scrap-rate", type=float, default=0.03)
    parser.add_argument("--alarm-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stopped", action="store_true", help="the machine starts idle")
    args = parser.parse_args(argv)
    run(args.host, args.port, cycle_time_s=args.cycle_time, scrap_rate=args.scrap_rate, alarm_rate=args.alarm_rate,
        seed=args.seed, running=not args.stopped)


if __name__ == "__main__":
    main()
