"""Replay and the hash chain: rebuild the projections from the journal alone and compare them with the live store,
and recompute the journal's hash chain and check its signed checkpoints (:mod:`edge.store.chain`).

``takt store verify`` runs both (``--chain-only``: the chain alone, which is fast). The history starts in the archive files retention moved old events to
(``edge.store.retention``), when there are any, and goes on in the journal. A difference means some write
bypassed the one write path, or a projection depends on something outside the events; either is a bug worth stopping for.
"""
from __future__ import annotations

import itertools
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from edge.domain.plant import STATE_TABLES, PlantState, evolve
from edge.store import schema
from edge.store.chain import (
    CHAIN_COLUMNS,
    ChainReport,
    CheckpointKey,
    check_checkpoints,
    check_rows,
)
from edge.store.history import history_row
from edge.store.retention import ArchiveProblem, archived_entries
from edge.store.store import Store, sqlite_url


@dataclass
class VerifyReport:
    events: int
    differences: list[str] = field(default_factory=list)
    chain: ChainReport | None = None

    @property
    def ok(self) -> bool:
        return not self.differences and (self.chain is None or self.chain.ok)


def replay_into(source: Store, target: Store, *, page: int = 5000) -> int:
    """Replay every event of ``source`` (archived, then in the journal) into the (empty, migrated) ``target``."""
    state = PlantState()
    count = 0
    history: dict[str, list[dict[str, Any]]] = {}
    with target.engine.connect() as out:
        for entry in itertools.chain(archived_entries(source), source.journal()):
            event = entry.event()
            evolve(state, event)
            hist = history_row(entry.seq, entry.actor, event)
            if hist is not None:
                history.setdefault(hist[0], []).append(hist[1])
            count += 1
            if count % page == 0:
                with out.begin():
                    target.write_batch(out, [], [], history, state, state.take_dirty())
                history = {}
        with out.begin():
            target.write_batch(out, [], [], history, state, state.take_dirty())
    return count


def _table_rows(store: Store, table: str) -> dict[Any, Any]:
    if table in schema.ENTITY_TABLES:
        state: PlantState = store.load_state()
        return dict(getattr(state, table))
    return {row["seq"]: row for row in store.history(table)}


def compare(live: Store, replayed: Store, *, limit: int = 50) -> list[str]:
    differences: list[str] = []
    live_state, replay_state = live.load_state(), replayed.load_state()
    tables: list[tuple[str, dict[Any, Any], dict[Any, Any]]] = [
        (name, getattr(live_state, name), getattr(replay_state, name)) for name in STATE_TABLES
    ]
    tables += [(name, _table_rows(live, name), _table_rows(replayed, name)) for name in schema.HISTORY_TABLES]
    for name, a, b in tables:
        for key in sorted(set(a) | set(b), key=repr):
            if a.get(key) != b.get(key):
                differences.append(f"{name}[{key!r}]: live {a.get(key)!r} != replayed {b.get(key)!r}")
                if len(differences) >= limit:
                    return differences
    return differences


def _journal_tuples(store: Store, page: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """The journal's rows in seq order as tuples of :data:`CHAIN_COLUMNS`, read straight from the driver (a million
    rows through SQLAlchemy's row machinery would cost more than hashing them); SQLite's timestamps stay text. A
    thread reads the next pages while the caller hashes (the driver lets go of the GIL while it reads)."""
    quote = store.engine.dialect.identifier_preparer.quote
    sql = f"SELECT {', '.join(quote(c) for c in CHAIN_COLUMNS)} FROM journal ORDER BY seq"
    pages: queue.Queue[Sequence[Any] | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def put(item: Sequence[Any] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with store.engine.connect() as conn:
                conn.begin()  # one snapshot for the whole read
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(sql)
                    while rows := cursor.fetchmany(page):
                        if not put(rows):
                            return
                finally:
                    cursor.close()
            put(None)
        except BaseException as exc:  # handed to the caller
            put(exc)

    reader = threading.Thread(target=read, name="takt-verify-read", daemon=True)
    reader.start()
    try:
        while (item := pages.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        reader.join()


def _entry_tuples(entries: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    for e in entries:
        yield tuple(getattr(e, c) for c in CHAIN_COLUMNS)


def verify_chain(store: Store, key: CheckpointKey | None = None) -> ChainReport:
    """Recompute the hash chain over the archives and the journal, check the archives' end hashes and the signed
    checkpoints (their signatures only when ``key`` is given); the first break is named (edge.store.chain)."""
    with store.engine.connect() as conn:
        node_id = conn.execute(select(schema.node_settings.c.value).where(
            schema.node_settings.c.name == "node_id")).scalar_one_or_none() or ""
        start = conn.execute(select(schema.journal_chain)).first()
        cp = schema.journal_checkpoints
        checkpoints = list(conn.execute(select(cp).order_by(cp.c.seq)).all())
        a = schema.journal_archives
        archives = list(conn.execute(select(a.c.last_seq, a.c.last_hash, a.c.path).order_by(a.c.first_seq)).all())
    report = ChainReport(chained_from=int(start.chained_from) if start else 1,
                         chained_since=int(start.chained_since) if start else 0)
    ends = {int(r.last_seq): r for r in archives if r.last_hash is not None}
    wanted = {int(c.seq) for c in checkpoints} | set(ends)
    hashes: dict[int, str] = {}
    try:
        prev, last = check_rows(_entry_tuples(archived_entries(store)), report, wanted=wanted, hashes=hashes)
    except ArchiveProblem as problem:
        report.breaks.append(f"archive: {problem}")
        return report
    if not report.breaks:
        check_rows(_journal_tuples(store), report, prev, last, wanted, hashes)
    for seq, archive in ends.items():
        if seq in hashes and hashes[seq] != archive.last_hash:
            report.breaks.append(f"archive {archive.path}: ends with chain hash {archive.last_hash[:12]}…, the chain "
                                 f"there is {hashes[seq][:12]}… (the archive or the events before it were rewritten)")
    checked = report.head_seq if not report.breaks else max(hashes, default=0)
    check_checkpoints(report, checkpoints, hashes, node_id, key, checked)
    return report


def verify(store: Store, key: CheckpointKey | None = None, *, replay: bool = True) -> VerifyReport:
    """The chain check (:func:`verify_chain`), then, with ``replay``, the replay check."""
    chain = verify_chain(store, key)
    if not replay:
        return VerifyReport(chain.events, chain=chain)
    report = _replay_check(store)
    report.chain = chain
    return report


def _replay_check(store: Store) -> VerifyReport:
    with tempfile.TemporaryDirectory(prefix="takt-verify-") as tmp:
        target = Store(sqlite_url(Path(tmp)))
        try:
            target.migrate()
            try:
                events = replay_into(store, target)
            except ArchiveProblem as problem:
                return VerifyReport(0, [f"archive: {problem}"])
            return VerifyReport(events, compare(store, target))
        finally:
            target.close()
