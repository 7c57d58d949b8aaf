"""Replay: rebuild the projections from the journal alone and compare them with the live store.

``takt store verify`` runs this. The history starts in the archive files retention moved old events to
(``edge.store.retention``), when there are any, and goes on in the journal. A difference means some write
bypassed the one write path, or a projection depends on something outside the events; either is a bug worth stopping for.
"""
from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.domain.plant import STATE_TABLES, PlantState, evolve
from edge.store import schema
from edge.store.history import history_row
from edge.store.retention import ArchiveProblem, archived_entries
from edge.store.store import Store, sqlite_url


@dataclass
class VerifyReport:
    events: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


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


def verify(store: Store) -> VerifyReport:
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
