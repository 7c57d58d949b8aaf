"""Serial barcode scanners (USB CDC or RS-232): framing, double-read suppression, reopen after unplug, feedback.

The framing is a pure class (`Framer`) fed with whatever bytes the port delivers, so split writes are reassembled;
AIM symbology identifiers and GS (0x1D) are kept; garbage and overlong lines are dropped with a logged reason.
`SerialScanner` runs as an asyncio task: it reads the port through the event loop (no thread), hands every frame
to a callback, writes the optional good/bad feedback string back, and reopens the port after an unplug.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import serial

log = logging.getLogger(__name__)

SUFFIXES: dict[str, bytes] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t"}
Suffix = Literal["CR", "LF", "CRLF", "TAB"]
# Bytes a label may carry besides printable text: GS (FNC1 separator), RS and EOT (ISO/IEC 15434 envelopes).
_ALLOWED_CONTROLS = frozenset({0x1D, 0x1E, 0x04})


@dataclass(frozen=True, slots=True)
class Dropped:
    """A line the framer refused, and why."""

    data: bytes
    reason: str


@dataclass
class Framer:
    """Splits a byte stream into scanned labels by suffix (and optional prefix)."""

    suffix: bytes = b"\r"
    prefix: bytes = b""
    max_length: int = 1024
    _buffer: bytearray = field(default_factory=bytearray)
    _overlong: bool = False

    def feed(self, data: bytes) -> list[str | Dropped]:
        out: list[str | Dropped] = []
        self._buffer += data
        while True:
            end = self._buffer.find(self.suffix)
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[: end + len(self.suffix)]
            if self._overlong:
                self._overlong = False
                out.append(Dropped(line[-40:], f"overlong line (more than {self.max_length} bytes) dropped"))
                continue
            out.append(self._frame(line))
        if len(self._buffer) > self.max_length + len(self.prefix):
            if not self._overlong:
                log.warning("serial scanner: line longer than %d bytes without suffix; dropping it", self.max_length)
            self._overlong = True
            del self._buffer[: len(self._buffer) - len(self.suffix)]  # keep a possible partial suffix
        return out

    def _frame(self, line: bytes) -> str | Dropped:
        if self.suffix == b"\r\n" or self.suffix == b"\r":
            line = line.lstrip(b"\n")  # a CRLF scanner on a CR-configured port leaves an LF at the start
        if self.suffix == b"\n":
            line = line.rstrip(b"\r")
        if self.prefix:
            start = line.find(self.prefix)
            if start < 0:
                return Dropped(line, f"missing prefix {self.prefix!r}")
            line = line[start + len(self.prefix):]
        if not line:
            return Dropped(line, "empty line")
        if len(line) > self.max_length:
            return Dropped(line[:40], f"overlong line ({len(line)} bytes, at most {self.max_length})")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Dropped(line, f"not UTF-8 text: byte 0x{line[exc.start]:02x} at {exc.start}")
        for i, ch in enumerate(text):
            code = ord(ch)
            if (code < 0x20 or code == 0x7F) and code not in _ALLOWED_CONTROLS:
                return Dropped(line, f"control character 0x{code:02x} at {i}")
        return text


class DoubleReadFilter:
    """The same label read again within `window_s` seconds is the same physical scan."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._last: tuple[str, float] | None = None

    def first_read(self, text: str) -> bool:
        now = self.clock()
        last = self._last
        self._last = (text, now)
        return not (last is not None and last[0] == text and now - last[1] < self.window_s)


@dataclass(frozen=True)
class SerialScannerConfig:
    device: str  # the device id the scans are bound to (station or user)
    port: str
    baudrate: int = 9600
    suffix: Suffix = "CR"
    prefix: str = ""
    max_length: int = 1024
    double_read_window_s: float = 1.0
    reopen_interval_s: float = 1.0
    good_feedback: str | None = None  # e.g. a scanner-model command string for the good beep / green LED
    bad_feedback: str | None = None


OnScan = Callable[[str, str], Awaitable[bool | None]]  # (text, idempotency key) -> accepted?


class SerialScanner:
    """Reads one serial scanner until stopped; survives unplugging (reopens every `reopen_interval_s`)."""

    def __init__(self, config: SerialScannerConfig, on_scan: OnScan) -> None:
        self.config = config
        self.on_scan = on_scan
        self.framer = Framer(SUFFIXES[config.suffix], config.prefix.encode(), config.max_length)
        self.doubles = DoubleReadFilter(config.double_read_window_s)
        self.dropped: list[Dropped] = []
        self.opens = 0
        self.connected = asyncio.Event()
        self._port: serial.Serial | None = None

    async def run(self) -> None:
        while True:
            try:
                port = self._open()
            except (serial.SerialException, OSError) as exc:
                log.info("serial scanner %s: cannot open %s (%s); retrying", self.config.device, self.config.port,
                         exc)
                await asyncio.sleep(self.config.reopen_interval_s)
                continue
            try:
                await self._read(port)
            except (serial.SerialException, OSError) as exc:
                log.warning("serial scanner %s: %s lost (%s); reopening", self.config.device, self.config.port, exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    port.close()
                self._port = None
            await asyncio.sleep(self.config.reopen_interval_s)

    def _open(self) -> serial.Serial:
        port = serial.Serial(self.config.port, self.config.baudrate, timeout=0, exclusive=True)
        self._port = port
        self.opens += 1
        self.framer = Framer(self.framer.suffix, self.framer.prefix, self.framer.max_length)
        self.connected.set()
        log.info("serial scanner %s: %s open", self.config.device, self.config.port)
        return port

    async def _read(self, port: serial.Serial) -> None:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        fd = port.fileno()
        loop.add_reader(fd, ready.set)
        empty = 0
        try:
            while True:
                await ready.wait()
                ready.clear()
                data = port.read(port.in_waiting or 1)
                if not data:
                    # A wake-up queued before the last read finds nothing; readable-but-empty again and again means
                    # the other end hung up (a vanished USB device reads as EOF on some drivers).
                    empty += 1
                    if empty > 50:
                        raise serial.SerialException("device disconnected (readable but no data)")
                    await asyncio.sleep(0.001 * empty)
                    continue
                empty = 0
                for frame in self.framer.feed(data):
                    await self._handle(port, frame)
        finally:
            loop.remove_reader(fd)

    async def _handle(self, port: serial.Serial, frame: str | Dropped) -> None:
        if isinstance(frame, Dropped):
            self.dropped.append(frame)
            log.warning("serial scanner %s: dropped %r: %s", self.config.device, frame.data[:40], frame.reason)
            return
        if not self.doubles.first_read(frame):
            log.debug("serial scanner %s: double read of %r suppressed", self.config.device, frame)
            return
        key = f"{self.config.device}:{uuid.uuid4()}"  # one key per physical read
        try:
            accepted = await self.on_scan(frame, key)
        except Exception:  # a failing consumer must not stop the reader: the scan is answered as a bad read
            log.exception("serial scanner %s: scan %r failed", self.config.device, frame)
            accepted = False
        feedback = self.config.good_feedback if accepted else self.config.bad_feedback
        if feedback and accepted is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.write(feedback.encode())


def scanner_task(config: SerialScannerConfig, on_scan: OnScan) -> tuple[SerialScanner, asyncio.Task[Any]]:
    reader = SerialScanner(config, on_scan)
    return reader, asyncio.get_running_loop().create_task(reader.run(), name=f"serial-scanner-{config.device}")
