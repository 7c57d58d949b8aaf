"""A Siemens S7 PLC: python-snap7's server (ISO-on-TCP, PUT/GET) exposing a simulated ``Machine`` in a DB, with faults.

DB1 (not optimised: absolute addresses), big-endian as S7 stores it:

    DBW0    state        INT      PackML state number
    DBW2    alarm        INT      alarm reason code (0 = none)
    DBD4    good         DWORD    good parts counter (reset by a PLC restart, wraps at 2**32)
    DBD8    scrap        DWORD    scrap parts counter
    DBD12   temperature  REAL     degrees Celsius
    DBD16   pressure     REAL     bar
    DBD20   cycles       UDINT    (wraps at 2**32)
    DBX24.0 running      BOOL     DBX24.1 alarm active
    DBB26   machine      STRING[16]
    DBB44   clock        DTL      the PLC's time of the last update
    DBB56   clock_dt     DATE_AND_TIME
    DBB64   energy       LREAL    kWh
    DBB100..199 scratch: free bytes a client may write (tests use them to check decoding)

Markers, inputs and outputs: M0.0 / I0.0 / Q0.0 running, M0.1 alarm active, MD4 the good counter.

DB2 stands for a DB with optimised block access: it exists in the PLC, and every absolute read of it is
refused with "address out of range", as an S7-1200/1500 refuses PUT/GET access to such a DB.

Faults: ``stop()``/``start()``, ``restart()`` (down, counters to 0, up), ``freeze()`` (values stop changing),
``slow_s`` (every answer delayed: a PLC whose communication load is too high, or a link that hangs).
"""
from __future__ import annotations

import asyncio
import logging
import struct
import time
from datetime import datetime
from typing import Any

from snap7.server import Server
from snap7.type import SrvArea
from snap7.util import set_dt, set_dtl, set_string

from simulators._tasks import SimulatedPlc, cancel_and_wait
from simulators.machine import Machine, PackMLState, Snapshot

DB_MACHINE = 1
DB_OPTIMISED = 2
DB_SIZE = 200
SCRATCH = 100
log = logging.getLogger("takt.sim.s7")
logging.getLogger("snap7").setLevel(logging.WARNING)


def machine_bytes(snap: Snapshot, name: str, now: datetime, energy_kwh: float) -> bytes:
    """DB1's first 72 bytes for ``snap``, as the map above lays them out."""
    running = snap.state == PackMLState.EXECUTE
    head = struct.pack(">hhIIffIB", snap.state, snap.alarm, snap.good, snap.scrap, snap.temperature, snap.pressure,
                       snap.cycles % 2**32, (1 if running else 0) | (2 if snap.alarm else 0))
    block = bytearray(72)
    block[:len(head)] = head
    set_string(block, 26, name[:16], 16)
    set_dtl(block, 44, now)
    set_dt(block, 56, now)
    struct.pack_into(">d", block, 64, energy_kwh)
    return bytes(block)


class _Server(Server):
    """snap7's server, refusing absolute reads of the DBs that stand for optimised ones."""

    def __init__(self, optimised: set[int]) -> None:
        super().__init__(log=False)
        self.optimised = optimised
        self.requests = 0
        self.slow_s = 0.0

    def _process_request(self, request_data: bytes, client_address: tuple[str, int]) -> bytes | None:
        if self.slow_s:
            time.sleep(self.slow_s)  # this client's own thread: the other connections are served meanwhile
        answer: bytes | None = super()._process_request(request_data, client_address)
        return answer

    def _read_from_memory_area(self, area: Any, db_number: int, start: int, count: int) -> tuple[int, bytearray]:
        self.requests += 1
        if int(area) == 0x84 and db_number in self.optimised:
            return 0x05, bytearray()  # what an S7-1500 answers for a DB with optimised block access
        result: tuple[int, bytearray] = super()._read_from_memory_area(area, db_number, start, count)
        return result


class S7Plc(SimulatedPlc):
    """Serve ``machine`` as an S7 PLC on ``host:port`` (any rack and slot are accepted, as snap7's server does)."""

    def __init__(self, machine: Machine, *, name: str = "M-ASSY", host: str = "127.0.0.1", port: int = 10102,
                 tick_s: float = 0.05) -> None:
        self.machine = machine
        self.name = name
        self.host = host
        self.port = port
        self.tick_s = tick_s
        self.frozen = False
        self.restarts = 0
        self.energy_kwh = 0.0
        # bytearrays: snap7's server serves these very objects (a ctypes array it would copy once)
        self.db = bytearray(DB_SIZE)
        self.markers = bytearray(16)
        self.inputs = bytearray(16)
        self.outputs = bytearray(16)
        self.optimised_db = bytearray(64)
        self._server: _Server | None = None
        self._slow_s = 0.0
        self._ticker: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def slow_s(self) -> float:
        return self._slow_s

    @slow_s.setter
    def slow_s(self, seconds: float) -> None:
        self._slow_s = seconds
        if self._server is not None:
            self._server.slow_s = seconds

    @property
    def requests(self) -> int:
        return 0 if self._server is None else self._server.requests

    def write_scratch(self, offset: int, data: bytes) -> None:
        """Put raw bytes into DB1's scratch area (offset ≥ 100)."""
        if offset < SCRATCH or offset + len(data) > DB_SIZE:
            raise ValueError(f"scratch bytes are DB1.DBB{SCRATCH}..{DB_SIZE - 1}")
        self.db[offset:offset + len(data)] = data

    def refresh(self) -> None:
        """Copy the model's current values into the DB now (tests call this after driving the model)."""
        if self.frozen:
            return
        snap = self.machine.snapshot()
        raw = machine_bytes(snap, self.name, datetime.now().replace(microsecond=0), self.energy_kwh)
        self.db[:len(raw)] = raw
        status = raw[24]
        for area in (self.markers, self.inputs, self.outputs):
            area[0] = status
        self.markers[4:8] = struct.pack(">I", snap.good)

    async def start(self) -> None:
        if self._server is not None:
            return
        self.refresh()
        server = _Server({DB_OPTIMISED})
        server.slow_s = self._slow_s
        server.register_area(SrvArea.DB, DB_MACHINE, self.db)
        server.register_area(SrvArea.DB, DB_OPTIMISED, self.optimised_db)
        server.register_area(SrvArea.MK, 0, self.markers)
        server.register_area(SrvArea.PE, 0, self.inputs)
        server.register_area(SrvArea.PA, 0, self.outputs)
        await asyncio.to_thread(server.start_to, self.host, self.port)
        self._server = server
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name=f"sim-s7-{self.port}")

    async def stop(self) -> None:
        await cancel_and_wait(self._ticker)
        self._ticker = None
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.stop)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            self.machine.advance(now - last)
            if self.machine.state == PackMLState.EXECUTE:
                self.energy_kwh += 0.004 * (now - last)
            last = now
            self.refresh()


async def serve(plc: S7Plc, *, start_running: bool = True) -> None:
    """Run ``plc`` until cancelled (``takt sim s7``)."""
    if start_running:
        plc.machine.start()
    await plc.start()
    try:
        await asyncio.Event().wait()
    finally:
        await plc.stop()
