"""WAL checkpoints off the write path (edge.store.wal): the writer leaves them to a thread of its own, which copies
the log back into the database file while the writer goes on; stopping the service stops it."""
from __future__ import annotations

import threading
import time
from typing import Any

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store
from edge.store.wal import WRITER_AUTOCHECKPOINT_PAGES
from tests.conftest import StoreFactory, store_file

WAREHOUSE: dict[str, Any] = {"actor": "wh", "actor_roles": frozenset({"warehouse"})}


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "takt-wal-checkpoint"]


def test_the_log_goes_back_into_the_database_file_by_the_checkpointer_not_the_writer(
        store_factory: StoreFactory) -> None:
    store: Store = store_factory()
    store.node_id("wal-node")
    before = len(_checkpointers())
    service = Service(store, "wal-node").start()
    try:
        assert len(_checkpointers()) == before + 1
        assert service._conn is not None
        raw: Any = service._conn.connection.driver_connection  # read beside SQLAlchemy: no transaction begun
        writer_pages = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert writer_pages == WRITER_AUTOCHECKPOINT_PAGES  # the writer checkpoints only as a backstop
        database = store_file(store)
        size_before = database.stat().st_size
        for n in range(300):  # a few hundred pages of log, far below the writer's backstop
            service.handle(c.DefineBin(idempotency_key=f"bin-{n}", bin=f"B-{n:04}", zone="WAL", **WAREHOUSE))
        deadline = time.monotonic() + 10
        while database.stat().st_size <= size_before:  # only a checkpoint writes the database file in WAL mode
            assert time.monotonic() < deadline, "no checkpoint copied the log back"
            time.sleep(0.05)
    finally:
        service.stop()
    assert len(_checkpointers()) == before
