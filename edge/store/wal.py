"""WAL checkpoints off the write path (SQLite).

A SQLite store in WAL mode copies the log back into the database file in a *checkpoint*. By default the connection
whose commit takes the log past 1,000 pages does it, inside that commit: with ``synchronous=FULL`` that is the
copy plus an fsync of the database file, tens of milliseconds on an industrial SSD, and every command of the group
(and every command queued behind it) waits for it. Under steady load that happens every second or two: a stall in
the latency tail that no amount of faster code removes.

:class:`WalCheckpointer` moves the work to a thread of its own: every ``interval_s`` it runs a PASSIVE checkpoint
on its own connection, which copies what no reader still needs without taking the write lock, so the writer goes
on committing meanwhile. The writer's own automatic checkpoint stays as a backstop (``writer_autocheckpoint``
pages, set on the writer's connection by :func:`defer_autocheckpoint`), so a stopped or stuck checkpointer cannot
let the log grow without bound. Durability is unchanged: a commit is durable once its log frames are synced,
which ``synchronous=FULL`` does at every commit; the checkpoint only moves committed pages.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger("takt.store")

WRITER_AUTOCHECKPOINT_PAGES = 20_000  # ~80 MB of log: reached only when the checkpointer cannot keep up or stopped


def defer_autocheckpoint(conn: Connection, pages: int = WRITER_AUTOCHECKPOINT_PAGES) -> None:
    """On the writer's connection: leave checkpoints to the :class:`WalCheckpointer` up to ``pages`` pages of log."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")  # type: ignore[union-attr]


class WalCheckpointer:
    """A PASSIVE checkpoint every ``interval_s`` on a connection of its own, in a daemon thread."""

    def __init__(self, engine: Engine, *, interval_s: float = 0.25) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WalCheckpointer:
        if self.engine.dialect.name != "sqlite" or self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="takt-wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        raw: Any = None
        try:
            raw = self.engine.raw_connection()
            sqlite = raw.driver_connection  # isolation_level None (make_engine): the pragma runs outside a transaction
            while not self._stop.wait(self.interval_s):
                try:
                    sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except Exception as exc:  # a busy or vanished file: the writer's backstop checkpoint still runs
                    log.warning("WAL checkpoint failed: %s", exc)
        except Exception:
            log.exception("the WAL checkpointer stopped; the writer checkpoints by itself")
        finally:
            if raw is not None:
                raw.close()
