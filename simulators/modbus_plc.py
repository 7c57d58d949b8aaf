"""A Modbus PLC (TCP, or RTU on a serial line): a pymodbus server exposing a simulated ``Machine`` in registers, with fault injection.

Holding registers (and the same values in input registers), 0-based addresses, big-endian bytes and words:

    0      state        uint16  PackML state number
    1      alarm        uint16  alarm reason code (0 = none)
    2-3    good         uint32  good parts counter (reset by a PLC restart, wraps at 2**32)
    4-5    scrap        uint32  scrap parts counter
    6-7    temperature  float32 degrees Celsius
    8-9    pressure     float32 bar
    10-13  cycles       uint64
    14     status       bits    bit 0 running, bit 1 alarm active
    100-199 scratch: free registers a client may write (tests use them to check decoding)

Coils and discrete inputs: 0 running, 1 alarm active.

Faults: ``stop()``/``start()``, ``restart()`` (down, counters to 0, up), ``freeze()`` (registers stop changing),
``exception_code`` (every request answered with that Modbus exception), ``slow_s`` (answers delayed).

``RtuBus`` puts several PLCs (each its own unit id and machine) on one RS-485 line: a pymodbus RTU server on a
serial port (one end of a socat pty pair in tests). A unit id nobody has is not answered (a device switched off),
and ``frame_faults`` corrupts a unit's answers on the wire: ``truncated`` (the frame is cut short) or
``garbled`` (a byte flipped, so its CRC fails).
"""
from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Sequence
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators._tasks import SimulatedPlc, cancel_and_wait
from simulators.machine import Machine, PackMLState, Snapshot

REGISTERS = 200
SCRATCH = 100
log = logging.getLogger("takt.sim.modbus")
logging.getLogger("pymodbus").setLevel(logging.WARNING)


def machine_registers(snap: Snapshot) -> list[int]:
    """The first 15 registers for ``snap``, as the map above lays them out."""
    raw = struct.pack(">HHIIffQH", snap.state, snap.alarm, snap.good, snap.scrap, snap.temperature, snap.pressure,
                      snap.cycles, _status(snap))
    return list(struct.unpack(f">{len(raw) // 2}H", raw))


def _status(snap: Snapshot) -> int:
    return (1 if snap.state == PackMLState.EXECUTE else 0) | (2 if snap.alarm else 0)


class ModbusPlc(SimulatedPlc):
    """Serve ``machine`` over Modbus TCP on ``host:port`` as unit ``unit`` (any unit id answers if ``unit`` is 0)."""

    def __init__(self, machine: Machine, *, host: str = "127.0.0.1", port: int = 5020, unit: int = 1,
                 tick_s: float = 0.05) -> None:
        self.machine = machine
        self.host = host
        self.port = port
        self.unit = unit
        self.tick_s = tick_s
        self.frozen = False
        self.exception_code: int | None = None
        self.slow_s = 0.0
        self.requests = 0
        self.restarts = 0
        self._server: ModbusTcpServer | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._registers = machine_registers(machine.snapshot())
        self._scratch = [0] * (REGISTERS - SCRATCH)

    @property
    def running(self) -> bool:
        return self._server is not None

    def write_scratch(self, address: int, values: list[int]) -> None:
        """Put raw register values into the scratch area (``address`` ≥ 100)."""
        start = address - SCRATCH
        if start < 0 or start + len(values) > len(self._scratch):
            raise ValueError(f"scratch registers are {SCRATCH}..{REGISTERS - 1}")
        self._scratch[start:start + len(values)] = values

    def device(self) -> SimDevice:
        """This PLC as a pymodbus simulated device (its unit id, registers and fault-injecting action)."""
        self._registers = machine_registers(self.machine.snapshot())
        blocks = ([SimData(0, count=16, datatype=DataType.BITS)], [SimData(0, count=16, datatype=DataType.BITS)],
                  [SimData(0, count=REGISTERS, datatype=DataType.REGISTERS)],
                  [SimData(0, count=REGISTERS, datatype=DataType.REGISTERS)])
        return SimDevice(id=self.unit, simdata=blocks, action=self._action)

    def start_ticking(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name=f"sim-modbus-{self.port}-{self.unit}")

    async def stop_ticking(self) -> None:
        await cancel_and_wait(self._ticker)
        self._ticker = None

    async def start(self) -> None:
        if self._server is not None:
            return
        server = ModbusTcpServer(self.device(), address=(self.host, self.port))
        await server.serve_forever(background=True)
        self._server = server
        self.start_ticking()

    async def stop(self) -> None:
        await self.stop_ticking()
        if self._server is not None:
            server, self._server = self._server, None
            await server.shutdown()  # type: ignore[no-untyped-call]

    def refresh(self) -> None:
        """Copy the model's current values into the registers now (tests call this after driving the model)."""
        if not self.frozen:
            self._registers = machine_registers(self.machine.snapshot())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            self.machine.advance(now - last)
            last = now
            self.refresh()

    async def _action(self, function_code: int, start_address: int, address: int, count: int,
                      current: list[int], set_values: list[int] | list[bool] | None) -> ExcCodes | None:
        self.requests += 1
        if self.slow_s:
            await asyncio.sleep(self.slow_s)
        if self.exception_code is not None:
            return ExcCodes(self.exception_code)
        if function_code in (1, 2):  # coils, discrete inputs: bit-packed, one register holds 16 of them
            current[0] = self._registers[14] & 0x3
            return None
        if function_code in (3, 4):
            regs = self._registers
            current[:len(regs)] = regs
            current[SCRATCH:REGISTERS] = self._scratch
            return None
        if function_code in (6, 16) and set_values is not None:  # writes: only into the scratch area
            if address < SCRATCH or address + len(set_values) > REGISTERS:
                return ExcCodes.ILLEGAL_ADDRESS
            self.write_scratch(address, [int(v) for v in set_values])
        return None


FrameFault = Literal["truncated", "garbled"]


class RtuBus:
    """PLCs sharing one RS-485 line: a Modbus RTU server on ``port`` (a serial device path) answering for each
    PLC's unit id. The PLCs' own host/port are not used."""

    def __init__(self, port: str, plcs: Sequence[ModbusPlc], *, baudrate: int = 19200, parity: str = "N",
                 bytesize: int = 8, stopbits: int = 1) -> None:
        units = [p.unit for p in plcs]
        if len(set(units)) != len(units) or 0 in units:
            raise ValueError(f"units: each PLC on a bus needs its own unit id 1..247, got {units}")
        self.port = port
        self.plcs = list(plcs)
        self.settings = {"baudrate": baudrate, "parity": parity, "bytesize": bytesize, "stopbits": stopbits}
        self.frame_faults: dict[int, FrameFault] = {}  # unit → how its answers are corrupted on the wire
        self.corrupted = 0  # answers corrupted so far
        self._server: ModbusSerialServer | None = None
        self._units = set(units)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        # Unit 0 catches requests to units nobody has (pymodbus' simulator falls back to it); its answers are
        # dropped on the wire below, so such a request goes unanswered as on a real line.
        nobody = SimDevice(id=0, simdata=([SimData(0, count=1, datatype=DataType.BITS)],) * 2 + (
            [SimData(0, count=REGISTERS, datatype=DataType.REGISTERS)],) * 2, action=_nobody)
        server = ModbusSerialServer([nobody, *(p.device() for p in self.plcs)], port=self.port, timeout=1,
                                    trace_packet=self._on_the_wire, **self.settings)  # type: ignore[arg-type]
        await server.serve_forever(background=True)
        self._server = server
        for plc in self.plcs:
            plc.start_ticking()

    async def stop(self) -> None:
        for plc in self.plcs:
            await plc.stop_ticking()
        if self._server is not None:
            server, self._server = self._server, None
            await server.shutdown()  # type: ignore[no-untyped-call]

    def _on_the_wire(self, sending: bool, frame: bytes) -> bytes:
        """Every frame the bus sends or receives; answers of a faulty unit are corrupted here."""
        if not sending or not frame:
            return frame
        if frame[0] not in self._units:
            return b""  # no device with that address on the line: nobody answers
        fault = self.frame_faults.get(frame[0])
        if fault is None:
            return frame
        self.corrupted += 1
        if fault == "truncated":
            return frame[:max(1, len(frame) // 2)]
        middle = len(frame) // 2
        return frame[:middle] + bytes([frame[middle] ^ 0x5A]) + frame[middle + 1:]


async def _nobody(function_code: int, start_address: int, address: int, count: int, current: list[int],
                  set_values: list[int] | list[bool] | None) -> ExcCodes | None:
    return ExcCodes.GATEWAY_NO_RESPONSE


async def serve(plc: ModbusPlc, *, start_running: bool = True) -> None:
    """Run ``plc`` until cancelled (``takt sim modbus``)."""
    if start_running:
        plc.machine.start()
    await plc.start()
    try:
        await asyncio.Event().wait()
    finally:
        await plc.stop()
