"""A faulty network link for tests: a TCP proxy that forwards a local port to a target and can refuse new
connections, close them at once, cut a connection after N bytes in either direction, or delay every chunk.

Real sockets, no mocks: a client talks to ``127.0.0.1:link.port`` and reaches the target through it.

Asyncio use::

    link = FaultyLink("127.0.0.1", sim_port)
    await link.start()                # link.port, link.url
    link.cut_after(upstream=10_000)   # the next connection dies after 10 kB sent towards the target
    await link.go_down()              # connects are refused; await link.go_up() to come back
    ...
    await link.stop()

From synchronous tests, :func:`running_link` runs the proxy's event loop in a thread and yields the link; its
switches are plain attributes and methods that are safe to call from any thread.
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

CHUNK = 65536


@dataclass
class _Cut:
    upstream: int | None
    downstream: int | None


class FaultyLink:
    """Forwards ``host:port`` (port 0: a free one, see :attr:`port`) to ``target_host:target_port``.

    Switches: :meth:`down` / :meth:`up` (``refuse=True``: stop listening so connects are refused; else accept
    and close at once), :meth:`cut_after` (the next ``connections`` connections are cut after so many bytes
    upstream, towards the target, or downstream, towards the client), :attr:`delay_s` (wait before forwarding
    each chunk), :meth:`cut_all` (close every open connection now). Counters: :attr:`connections`,
    :attr:`cuts`, :attr:`bytes_upstream`, :attr:`bytes_downstream`.
    """

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = port
        self.delay_s = 0.0
        self.closing = False  # accept and close new connections
        self.connections = 0
        self.cuts = 0
        self.bytes_upstream = 0
        self.bytes_downstream = 0
        self._pending_cuts: list[_Cut] = []
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self._stop_listening()
        self._close_open()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    # --- switches (thread-safe) ----------------------------------------------------------------------

    async def go_down(self, *, refuse: bool = True) -> None:
        """The link goes down: open connections are cut; new ones are refused (nothing listens) or, with
        ``refuse=False``, accepted and closed at once. (From the link's own event loop.)"""
        if refuse:
            await self._stop_listening()
        else:
            self.closing = True
        self._close_open()

    async def go_up(self) -> None:
        """The link is back: it listens again on the same port and forwards. (From the link's own event loop.)"""
        self.closing = False
        if self._server is None:
            await self.start()

    def down(self, *, refuse: bool = True) -> None:
        """:meth:`go_down` from another thread (e.g. a synchronous test with :func:`running_link`); waits for it."""
        self._call(lambda: self.go_down(refuse=refuse))

    def up(self) -> None:
        """:meth:`go_up` from another thread; waits for it."""
        self._call(self.go_up)

    def cut_after(self, *, upstream: int | None = None, downstream: int | None = None, connections: int = 1) -> None:
        """Cut each of the next ``connections`` new connections once it has carried ``upstream`` bytes towards
        the target or ``downstream`` bytes back to the client (the bytes up to the limit are forwarded)."""
        with self._lock:
            self._pending_cuts = [_Cut(upstream, downstream) for _ in range(connections)]

    def cut_all(self) -> None:
        self._call_sync(self._close_open)

    # --- plumbing ------------------------------------------------------------------------------------

    def _call(self, coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run an async switch on the link's loop from another thread and wait for it."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the link is not started")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("on the link's own event loop, await go_down()/go_up() instead")
        asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(10)

    def _call_sync(self, fn: object) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()  # type: ignore[operator]
        else:
            done = threading.Event()

            def run() -> None:
                try:
                    fn()  # type: ignore[operator]
                finally:
                    done.set()

            loop.call_soon_threadsafe(run)
            done.wait(10)

    def _close_open(self) -> None:
        for writer in list(self._open):
            transport = writer.transport
            if transport is not None:
                transport.abort()
        self._open.clear()

    def _take_cut(self) -> _Cut | None:
        with self._lock:
            return self._pending_cuts.pop(0) if self._pending_cuts else None

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.connections += 1
        if self.closing:
            client_writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._open.update((client_writer, target_writer))
        cut = self._take_cut()
        ends = (client_writer, target_writer)
        up = asyncio.create_task(self._pipe(client_reader, target_writer, cut.upstream if cut else None, True, ends))
        down = asyncio.create_task(self._pipe(target_reader, client_writer, cut.downstream if cut else None, False,
                                              ends))
        try:
            await asyncio.gather(up, down, return_exceptions=True)
        finally:
            up.cancel()
            down.cancel()
            for w in ends:
                self._open.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int | None,
                    upstream: bool, ends: tuple[asyncio.StreamWriter, ...]) -> None:
        carried = 0
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                if limit is not None and carried + len(data) >= limit:
                    data = data[:limit - carried]
                    writer.write(data)
                    await writer.drain()
                    self._count(len(data), upstream)
                    self.cuts += 1
                    for w in ends:
                        w.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
                carried += len(data)
                self._count(len(data), upstream)
        except (ConnectionError, OSError):
            for w in ends:
                w.transport.abort()

    def _count(self, n: int, upstream: bool) -> None:
        if upstream:
            self.bytes_upstream += n
        else:
            self.bytes_downstream += n


@contextlib.contextmanager
def running_link(target_host: str, target_port: int, *, port: int = 0) -> Iterator[FaultyLink]:
    """A :class:`FaultyLink` whose event loop runs in a thread, for the ``with`` block."""
    loop = asyncio.new_event_loop()
    link = FaultyLink(target_host, target_port, port=port)
    thread = threading.Thread(target=loop.run_forever, name="faulty-link", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(link.start(), loop).result(10)
    try:
        yield link
    finally:
        asyncio.run_coroutine_threadsafe(link.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
