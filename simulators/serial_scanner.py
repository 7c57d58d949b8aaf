"""A serial barcode scanner on a pty: sends labels with a suffix and AIM identifiers, splits writes, injects noise,
and can be unplugged and plugged back (the port path is a symlink, like a udev by-id name)."""

from __future__ import annotations

import os
import random
import time
import tty
from pathlib import Path


class PtyScanner:
    """The scanner side of a pty pair. The reader opens `link`; `unplug()`/`plug()` make the device vanish/return."""

    def __init__(self, link: Path, *, suffix: bytes = b"\r", prefix: bytes = b"", seed: int = 0) -> None:
        self.link = link
        self.suffix = suffix
        self.prefix = prefix
        self.random = random.Random(seed)
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation even before the reader opens the port
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        tmp = self.link.with_name(self.link.name + ".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        """The cable is pulled: the port disappears and the reader's handle hangs up."""
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def write(self, data: bytes) -> None:
        if self._master is None:
            raise OSError("scanner unplugged")
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            view = view[written:]

    def send(self, label: str, *, symbology: str = "", split: int | None = None, pause_s: float = 0.0) -> None:
        """One read: [prefix] [AIM identifier] label suffix; `split` writes it in chunks of that many bytes."""
        data = self.prefix + (symbology + label).encode() + self.suffix
        if not split:
            self.write(data)
            return
        for start in range(0, len(data), split):
            self.write(data[start:start + split])
            if pause_s:
                time.sleep(pause_s)

    def noise(self, length: int = 16) -> bytes:
        """Line noise ending in the suffix (a glitch, a half-read): the reader must drop it."""
        junk = bytes(self.random.choice([0x00, 0x07, 0x1B, 0xFF, 0xFE, 0x80]) for _ in range(length))
        self.write(junk + self.suffix)
        return junk

    def read_feedback(self) -> bytes:
        """What the host wrote back (good/bad beep commands)."""
        if self._master is None:
            return b""
        try:
            return os.read(self._master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def close(self) -> None:
        self.unplug()
