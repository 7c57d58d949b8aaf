"""A network label printer simulator: a raw TCP server (as on port 9100) that stores the ZPL labels it receives.

Every connection's bytes are split into labels (``^XA`` ... ``^XZ``); each label is kept in ``labels`` (and, with a
folder, written there as ``NNNN.zpl``). It prints nothing and answers nothing, as a real printer's raw port does.
``running_label_printer`` runs one in a background thread for the ``with`` block (for synchronous tests and tools).
"""
from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

_LABEL = re.compile(r"\^XA.*?\^XZ", re.DOTALL)
MAX_JOB_BYTES = 16 * 1024 * 1024


class LabelPrinter:
    """The simulated printer. ``received`` holds every connection's raw bytes, ``labels`` the labels in them."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9100, folder: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.folder = folder
        self.received: list[bytes] = []
        self.labels: list[str] = []
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()

    async def start(self) -> LabelPrinter:
        self._server = await asyncio.start_server(self._job, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def _job(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await reader.read(65536):
                size += len(chunk)
                if size > MAX_JOB_BYTES:
                    break
                chunks.append(chunk)
        except ConnectionError:
            pass
        finally:
            writer.close()
        data = b"".join(chunks)
        if data:
            self._store(data)

    def _store(self, data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        with self._lock:
            self.received.append(data)
            for label in _LABEL.findall(text):
                self.labels.append(label)
                if self.folder is not None:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    (self.folder / f"{len(self.labels):04d}.zpl").write_text(label, encoding="utf-8")

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.labels)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """The labels once at least ``count`` arrived (from another thread); TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.snapshot()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(found)} labels arrived, {count} expected")
            time.sleep(0.01)


@contextlib.contextmanager
def running_label_printer(host: str = "127.0.0.1", port: int = 0, folder: Path | None = None
                          ) -> Iterator[LabelPrinter]:
    """A printer simulator on ``host``:``port`` (0: a free port) in a background thread for the ``with`` block."""
    printer = LabelPrinter(host, port, folder)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(printer.start())
        except BaseException as exc:  # the caller sees it
            failed.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(printer.stop())
        loop.close()

    thread = threading.Thread(target=run, name="label-printer", daemon=True)
    thread.start()
    ready.wait(10)
    if failed:
        raise failed[0]
    try:
        yield printer
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
