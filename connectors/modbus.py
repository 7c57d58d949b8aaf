"""Modbus client connector (pymodbus, TCP or RTU): polling groups, merged reads, typed decoding, bad quality on errors.

Each polling group is read on its own fixed-rate schedule (a late cycle is skipped, never bunched up). Tags of a
group that sit in the same table close together are read in one request, up to the protocol's limit (125
registers, 2000 coils or discrete inputs). Values are decoded from their registers by type, byte order and word
order, then scaled: ``value * scale + offset``.

A request that times out is retried ``retries`` times; an exception response (illegal address, device busy, ...)
or a frame that cannot be parsed makes that request's tags bad quality and polling goes on. Only a link that is
down (not connected, or every request of a cycle failing three cycles in a row) ends the run, and the supervisor
reconnects after a backoff: pymodbus' own reconnect loop is not relied on (``reconnect_delay=0`` busy-loops,
pymodbus issue 1794).

Modbus RTU: devices on one serial line share a ``ModbusLine`` (one port, one client, one poll cycle at a time). Each
device keeps its own connector, health and backoff: a device that stops answering costs the line at most its
``timeout_s`` per try, and once it is taken for down it is only asked again after its backoff, so the other units
on the bus keep their polling rate (pymodbus issue 1654: a dead unit must not stall the bus). A frame that is cut
short or fails its CRC is not an answer: that read's tags turn bad and the next request starts clean.
"""
from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from connectors.base import Health, Sample, Sink, WrittenValue, run_poll_groups
from connectors.config import ModbusDevice, ModbusTag, PollGroup, SerialLine
from edge.retry import RetryPolicy

log = logging.getLogger("takt.connectors.modbus")
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # failed requests are reported as bad quality instead

MAX_REGISTERS = 125  # per read request (Modbus application protocol, function codes 3 and 4)
MAX_BITS = 2000  # per read request (function codes 1 and 2)
MAX_WRITE_REGISTERS = 123  # per write request (function code 16)
LINK_DOWN_AFTER = 3  # cycles in a row with every request failing


# --- decoding --------------------------------------------------------------------------------------

_STRUCT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f",
           "float64": "d"}


def register_bytes(registers: Sequence[int], byte_order: str = "big", word_order: str = "big") -> bytes:
    """The bytes of ``registers`` most significant first, undoing the device's byte and word order."""
    words = list(registers)
    if word_order == "little":
        words.reverse()
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    if byte_order == "little":
        raw = b"".join(raw[i + 1:i + 2] + raw[i:i + 1] for i in range(0, len(raw), 2))
    return raw


def decode(tag: ModbusTag, registers: Sequence[int]) -> Any:
    """The value of ``tag`` from its registers (or ``[bit]`` for coils and discrete inputs)."""
    if tag.table in ("coil", "discrete"):
        return bool(registers[0])
    if tag.type == "bool":
        return registers[0] != 0
    if tag.type == "bit":
        assert tag.bit is not None
        return bool((registers[0] >> tag.bit) & 1)
    if tag.type == "string":
        # Byte order only: a string's registers are in address order (word order does not apply).
        raw = register_bytes(registers, tag.byte_order, "big")
        return raw.split(b"\x00", 1)[0].decode("latin-1").rstrip()
    value: int | float = struct.unpack(">" + _STRUCT[tag.type], register_bytes(registers, tag.byte_order,
                                                                              tag.word_order))[0]
    if tag.scale != 1.0 or tag.offset != 0.0:
        return value * tag.scale + tag.offset
    return value


Decoder = Callable[[bytes, Sequence[int]], Any]


def decoder(tag: ModbusTag, offset: int) -> Decoder:
    """A function of (the read's bytes, its registers or bits) → ``tag``'s value, ``offset`` registers in.

    The common case (big-endian bytes and words, no scaling) unpacks straight from the read's bytes with a
    precompiled struct; everything else goes through ``decode``."""
    count = tag.count
    if (tag.table in ("holding", "input") and tag.type in _STRUCT and tag.byte_order == "big"
            and tag.word_order == "big" and tag.scale == 1.0 and tag.offset == 0.0):
        unpack_from = struct.Struct(">" + _STRUCT[tag.type]).unpack_from
        at = offset * 2
        return lambda raw, words: unpack_from(raw, at)[0]
    return lambda raw, words: decode(tag, words[offset:offset + count])


def encode(tag: ModbusTag, value: Any) -> list[int]:
    """The registers (or ``[bit]`` for a coil) that hold ``value`` for ``tag``: ``decode`` undone, scaling
    included. Raises ValueError naming why a value does not fit the tag."""
    if tag.table == "coil" or tag.type == "bool":
        number = float(value)
        if number not in (0.0, 1.0):
            raise ValueError(f"{tag.name} is a {tag.type if tag.table != 'coil' else 'coil'}: 0 or 1, not {value}")
        return [int(number)]
    if tag.type not in _STRUCT:
        raise ValueError(f"{tag.name} is a {tag.type}: not writable as a setpoint")
    raw_value = (float(value) - tag.offset) / tag.scale
    if tag.type.startswith(("int", "uint")):
        if abs(raw_value - round(raw_value)) > 1e-9:
            raise ValueError(f"{tag.name} holds whole numbers ({tag.type}): {value} is not one"
                             + (" after its scale and offset" if tag.scale != 1.0 or tag.offset != 0.0 else ""))
        try:
            raw = struct.pack(">" + _STRUCT[tag.type], round(raw_value))
        except struct.error:
            raise ValueError(f"{tag.name}: {value} does not fit a {tag.type}") from None
    else:
        raw = struct.pack(">" + _STRUCT[tag.type], raw_value)
    if tag.byte_order == "little":
        raw = b"".join(raw[i + 1:i + 2] + raw[i:i + 1] for i in range(0, len(raw), 2))
    words = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    if tag.word_order == "little":
        words.reverse()
    return words


# --- planning reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One request: ``count`` registers or bits of ``table`` from ``address``, and the tags inside it."""

    table: str
    address: int
    count: int
    tags: tuple[ModbusTag, ...]

    @property
    def decoders(self) -> list[tuple[str, Decoder]]:
        return [(t.name, decoder(t, t.address - self.address)) for t in self.tags]

    def unpacker(self) -> tuple[struct.Struct, tuple[str, ...]] | None:
        """One struct that unpacks every tag of this read at once (pad bytes over gaps), and the tags' names in
        its order; None unless every tag is a plain big-endian number without scaling, none overlapping."""
        if self.table not in ("holding", "input"):
            return None
        fmt, at = ">", 0
        for t in self.tags:  # sorted by address (plan_reads)
            plain = (t.type in _STRUCT and t.byte_order == "big" and t.word_order == "big" and t.scale == 1.0
                     and t.offset == 0.0)
            offset = (t.address - self.address) * 2
            if not plain or offset < at:
                return None
            fmt += "x" * (offset - at) + _STRUCT[t.type]
            at = offset + t.count * 2
        return struct.Struct(fmt), tuple(t.name for t in self.tags)


def plan_reads(tags: Sequence[ModbusTag], max_gap: int = 0) -> list[Read]:
    """Merge tags of the same table whose registers are contiguous (or ``max_gap`` apart) into as few
    requests as the protocol limit allows."""
    reads: list[Read] = []
    for table in ("holding", "input", "coil", "discrete"):
        limit = MAX_BITS if table in ("coil", "discrete") else MAX_REGISTERS
        members = sorted((t for t in tags if t.table == table), key=lambda t: (t.address, t.count))
        start = end = -1
        group: list[ModbusTag] = []
        for t in members:
            t_end = t.address + t.count
            if group and t.address <= end + max_gap and max(end, t_end) - start <= limit:
                end = max(end, t_end)
                group.append(t)
                continue
            if group:
                reads.append(Read(table, start, end - start, tuple(group)))
            start, end, group = t.address, t_end, [t]
        if group:
            reads.append(Read(table, start, end - start, tuple(group)))
    return reads


# --- requests ----------------------------------------------------------------------------------------

#: What a request without a usable answer raises (a timeout, a frame that did not parse, the socket): asked again.
_NO_ANSWER = (TimeoutError, ModbusException, OSError)


class _LinkDown(Exception):
    """A request got no answer and the client is not connected any more: not asked again (the run ends and the
    supervisor reconnects)."""


# --- a shared serial line ------------------------------------------------------------------------------

Client = AsyncModbusTcpClient | AsyncModbusSerialClient


class ModbusLine:
    """One RTU serial line shared by the devices on it: the port is opened while any of them uses it, and
    requests go one at a time (``lock``), each waiting its own device's timeout."""

    def __init__(self, settings: SerialLine) -> None:
        self.settings = settings
        self.lock = asyncio.Lock()
        self.client: AsyncModbusSerialClient | None = None
        self.users = 0
        self.opens = 0
        self._opening = asyncio.Lock()

    async def acquire(self) -> AsyncModbusSerialClient:
        async with self._opening:
            if self.client is None or not self.client.connected:
                if self.client is not None:
                    self.client.close()
                    self.client = None
                s = self.settings
                client = AsyncModbusSerialClient(s.port, framer=FramerType.RTU, baudrate=s.baudrate, parity=s.parity,
                                                 bytesize=s.bytesize, stopbits=s.stopbits, timeout=1, retries=0,
                                                 reconnect_delay=60, reconnect_delay_max=60, name="takt-rtu")
                if not await client.connect():
                    client.close()
                    raise ConnectionError(f"cannot open serial port {s.port}")
                self.client = client
                self.opens += 1
            self.users += 1
            return self.client

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.client is not None:
            self.users = 0
            self.client.close()
            self.client = None


def serial_lines(devices: Sequence[ModbusDevice]) -> dict[str, ModbusLine]:
    """One shared line per serial port used by ``devices``."""
    lines: dict[str, ModbusLine] = {}
    for d in devices:
        if d.serial is not None and d.serial.port not in lines:
            lines[d.serial.port] = ModbusLine(d.serial)
    return lines


# --- the connector ---------------------------------------------------------------------------------


class ModbusConnector:
    """Poll the configured tags of one Modbus device (TCP, or a unit on an RTU line) as samples.

    Devices on the same serial line must be given the same ``line`` (``serial_lines``); without one, an RTU
    device has its serial port to itself."""

    def __init__(self, config: ModbusDevice, line: ModbusLine | None = None) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "modbus")
        if config.serial is not None and line is None:
            line = ModbusLine(config.serial)
        if line is not None and (config.serial is None or line.settings.port != config.serial.port):
            raise ValueError(f"modbus {config.name}: the shared line {line.settings.port} is not its serial port")
        self.line = line
        self.plans = [(g, plan_reads(g.tags, config.max_gap)) for g in config.groups]
        self._decoders = {id(r): r.decoders for _, reads in self.plans for r in reads}
        self._unpackers = {id(r): r.unpacker() for _, reads in self.plans for r in reads}
        self._registers = {n: struct.Struct(f">{n}H") for n in {r.count for _, reads in self.plans for r in reads}}
        # A request without an answer is sent again at once (its wait was the device's timeout), ``retries`` times.
        # The first try is made outside the policy: it is the poll's hot path, and tenacity's bookkeeping would
        # cost it about a sixth of its rate (modbus_vs_raw_ratio in bench.machines).
        self._retry = (RetryPolicy(attempts=config.retries, initial_s=0.0, maximum_s=0.0) if config.retries
                       else None)
        self.requests = 0
        self.failed_requests = 0
        self.cycles = 0
        self.late_cycles = 0  # cycles that started after their slot (skipped slots are counted once each)
        self.cycle_lag_s: list[float] = []  # how late each cycle started, for jitter figures (bounded)
        self._client: Client | None = None  # the live connection, for setpoint writes
        self._tags = {t.name: t for g in config.groups for t in g.tags}

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        client: Client
        if self.line is not None:
            client = await self.line.acquire()
            return await self._run(client, sink, self.line.release)
        # pymodbus reconnects by itself after reconnect_delay; this client is closed on any failure and the
        # supervisor makes a new one, so its own loop gets a long delay and never spins.
        client = AsyncModbusTcpClient(cfg.host or "", port=cfg.port, timeout=cfg.timeout_s, retries=0,
                                      reconnect_delay=60, reconnect_delay_max=60, name=f"takt-{cfg.name}")
        if not await client.connect():
            client.close()
            raise ConnectionError(f"cannot connect to {cfg.address}")
        await self._run(client, sink, client.close)

    async def _run(self, client: Client, sink: Sink, done_with: Callable[[], None]) -> None:
        try:
            if self.line is None:  # TCP: connected is the link; RTU: the device's first answer (in _poll)
                self._connected()
            self._client = client
            await run_poll_groups([self._poll(client, group, reads, sink) for group, reads in self.plans])
        finally:
            self._client = None
            self.health.connected = False
            done_with()

    async def write_setpoints(self, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        """Write each (tag, value) with function 16 (registers next to each other in one request, up to 123) or 5
        (a coil) on the live connection, then read them all back (merged reads, as polling does). A value that
        does not fit its tag, or an exception response, is the refusal of that tag (of the tags of that request);
        the others are written on."""
        client = self._client
        if client is None or not self.health.connected:
            raise ConnectionError(f"modbus {self.name} is not connected")
        if self.line is None:
            return await self._write_and_read(client, values)
        async with self.line.lock:  # a turn on the shared line, as a poll cycle takes
            client.ctx.comm_params.timeout_connect = self.config.timeout_s
            return await self._write_and_read(client, values)

    async def _write_and_read(self, client: Client, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        unit = self.config.unit
        errors: dict[str, str | None] = {}
        runs: list[tuple[int, list[int], list[str]]] = []  # holding registers next to each other: one request
        for name, value in sorted(values, key=lambda v: self._tags[v[0]].address):
            tag = self._tags[name]
            try:
                words = encode(tag, value)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if tag.table == "coil":
                runs.append((-1 - tag.address, words, [name]))
            elif runs and runs[-1][0] >= 0 and runs[-1][0] + len(runs[-1][1]) == tag.address \
                    and len(runs[-1][1]) + len(words) <= MAX_WRITE_REGISTERS:
                runs[-1][1].extend(words)
                runs[-1][2].append(name)
            else:
                runs.append((tag.address, list(words), [name]))
        for address, words, names in runs:
            try:
                if address < 0:
                    rr = await client.write_coil(-1 - address, bool(words[0]), device_id=unit)
                else:
                    rr = await client.write_registers(address, words, device_id=unit)
                where = (f"coil {-1 - address}" if address < 0 else
                         f"holding register{'s' if len(words) > 1 else ''} {address}"
                         + (f"..{address + len(words) - 1}" if len(words) > 1 else ""))
                error = f"exception response {getattr(rr, 'exception_code', '?')} at {where}" if rr.isError() else None
            except (TimeoutError, ModbusException, OSError) as exc:
                error = f"no answer: {type(exc).__name__}: {exc}"
            errors.update(dict.fromkeys(names, error))
        read_back: dict[str, Any] = {}
        for read in plan_reads([self._tags[name] for name, _ in values]):
            samples, _ = await self._read(client, read)
            read_back.update({s.tag: s.value for s in samples if s.quality == "good"})
        return [WrittenValue(name, errors[name] is None, read_back.get(name), errors[name]) for name, _ in values]

    def _connected(self) -> None:
        self.health.connected = True
        self.health.connects += 1
        self.health.last_error = None

    async def _poll(self, client: Client, group: PollGroup, reads: list[Read], sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        interval = group.interval_ms / 1000
        next_at = loop.time()
        failing = 0
        this = asyncio.current_task()
        while True:
            if this is not None and this.cancelling():
                # pymodbus may swallow a cancellation that lands in a request (its own wait for the answer):
                # the task was asked to stop, so it stops, instead of polling on until it is asked again.
                raise asyncio.CancelledError
            lag = loop.time() - next_at
            if len(self.cycle_lag_s) < 100_000:
                self.cycle_lag_s.append(lag)
            self.cycles += 1
            if self.line is None:
                batch, ok = await self._cycle(client, reads)
            else:
                async with self.line.lock:  # a cycle is one turn on the line: at most one timeout for the others
                    # The line's client waits for an answer as long as this device's timeout (pymodbus reads
                    # it from its transaction manager's copy of the settings on every request).
                    client.ctx.comm_params.timeout_connect = self.config.timeout_s
                    batch, ok = await self._cycle(client, reads)
            self.health.saw(batch)
            await sink(batch)
            failing = 0 if ok else failing + 1
            if ok and not self.health.connected:
                self._connected()
            if not client.connected or failing >= LINK_DOWN_AFTER:
                raise ConnectionError(f"{self.config.address} does not answer" if client.connected
                                      else "connection lost")
            next_at += interval
            now = loop.time()
            if now > next_at:  # overran: skip the slots already missed instead of firing them back to back
                self.late_cycles += 1
                next_at += interval * ((now - next_at) // interval + 1)
            await asyncio.sleep(next_at - now)

    async def _cycle(self, client: Client, reads: list[Read]) -> tuple[list[Sample], int]:
        """One poll of a group: its samples and how many of its requests the device answered."""
        batch: list[Sample] = []
        ok = 0
        for i, read in enumerate(reads):
            samples, good = await self._read(client, read)
            batch.extend(samples)
            ok += good
            if not good and self.line is not None:
                # On a shared line a device that did not answer is not asked again this cycle: the line is
                # the other devices' too.
                when = datetime.now(UTC)
                for rest in reads[i + 1:]:
                    batch.extend(self._bad(rest, when, "not asked: no answer to the previous request"))
                break
        return batch, ok

    async def _request(self, client: Client, read: Read) -> ModbusPDU:
        """One request for ``read``, counted. A request without an answer raises (and is tried again by
        ``_read``), unless the link is down with it: then ``_LinkDown``, which is not tried again."""
        unit = self.config.unit
        self.requests += 1
        self.health.reads += 1
        try:
            if read.table == "holding":
                return await client.read_holding_registers(read.address, count=read.count, device_id=unit)
            if read.table == "input":
                return await client.read_input_registers(read.address, count=read.count, device_id=unit)
            if read.table == "coil":
                return await client.read_coils(read.address, count=read.count, device_id=unit)
            return await client.read_discrete_inputs(read.address, count=read.count, device_id=unit)
        except _NO_ANSWER as exc:
            self.failed_requests += 1
            self.health.failed_reads += 1
            if not client.connected:
                raise _LinkDown(f"{type(exc).__name__}: {exc}") from exc
            raise

    async def _read(self, client: Client, read: Read) -> tuple[list[Sample], bool]:
        """The samples of ``read``'s tags, and whether the device answered with data."""
        try:
            try:
                rr = await self._request(client, read)
            except _NO_ANSWER:  # a timeout or a frame that did not parse: asked again, ``retries`` more times
                if self._retry is None:
                    raise
                rr = await self._retry.call(lambda: self._request(client, read), *_NO_ANSWER)
        except (TimeoutError, ModbusException, OSError, _LinkDown) as exc:
            detail = str(exc) if isinstance(exc, _LinkDown) else f"{type(exc).__name__}: {exc}"
            return self._bad(read, datetime.now(UTC), detail), False
        when = datetime.now(UTC)
        if rr.isError():
            # An exception response is an answer: retrying would get the same one.
            self.failed_requests += 1
            self.health.failed_reads += 1
            code = getattr(rr, "exception_code", None)
            return self._bad(read, when, f"exception response {code}"), True
        data: list[int] = list(rr.bits) if read.table in ("coil", "discrete") else list(rr.registers)
        if len(data) < read.count:
            self.failed_requests += 1
            self.health.failed_reads += 1
            return self._bad(read, when, f"short answer: {len(data)} of {read.count}"), True
        name = self.name
        if read.table in ("coil", "discrete"):
            raw = b""
        else:
            packer = self._registers.get(len(data))
            raw = packer.pack(*data) if packer is not None else struct.pack(f">{len(data)}H", *data)
            fast = self._unpackers.get(id(read))
            if fast is not None:  # the common case: every tag in one unpack, samples built as plain tuples
                new = tuple.__new__
                return [new(Sample, (name, tag_name, value, "good", when, None))
                        for tag_name, value in zip(fast[1], fast[0].unpack_from(raw), strict=True)], True
        decoders = self._decoders.get(id(read)) or read.decoders
        samples = []
        for tag_name, decode_tag in decoders:
            try:
                samples.append(Sample(name, tag_name, decode_tag(raw, data), "good", when))
            except (ValueError, struct.error, UnicodeError) as exc:
                samples.append(Sample(name, tag_name, None, "bad", when, f"cannot decode: {exc}"))
        return samples, True

    def _bad(self, read: Read, when: datetime, detail: str) -> list[Sample]:
        return [Sample(self.name, t.name, None, "bad", when, detail) for t in read.tags]
