"""The store's read API for adapters: what the journal and the current-state tables say, without SQL in adapters.

The adapters (connectors/, erp_sync/, scanners/) read the node's store only through these functions: each opens
its own short read connection, so a caller in a worker thread (``asyncio.to_thread``) never holds the writer up.
Payloads come back as the JSON text the journal holds; :meth:`RecordedEvent.data` parses it when a caller needs it
(most readers need only a few of the rows they list).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from edge.store import schema
from edge.store.store import Store

_J = schema.journal


@dataclass(frozen=True)
class RecordedEvent:
    """One event of the node's journal, as an adapter reads it."""

    seq: int
    event_id: str
    type: str
    subject: str
    payload: str  # JSON text, as journalled

    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.payload)
        return found


_COLUMNS = (_J.c.seq, _J.c.event_id, _J.c.type, _J.c.subject, _J.c.payload)


def _recorded(rows: Iterable[Any]) -> list[RecordedEvent]:
    return [RecordedEvent(int(r.seq), str(r.event_id), str(r.type), str(r.subject), str(r.payload)) for r in rows]


def events_of_subject(store: Store, subject: str, types: Iterable[str], *, upto: int) -> list[RecordedEvent]:
    """The events of ``types`` recorded about ``subject`` (``work_order:WO-1``, ``lot:L-7``, ...) up to and
    including journal sequence ``upto``, in sequence order."""
    query = (select(*_COLUMNS).where(_J.c.subject == subject, _J.c.type.in_(tuple(types)), _J.c.seq <= upto)
             .order_by(_J.c.seq))
    with store.engine.connect() as conn:
        return _recorded(conn.execute(query))


def events_of_types(store: Store, types: Iterable[str], *, upto: int) -> list[RecordedEvent]:
    """Every event of ``types`` up to and including journal sequence ``upto``, in sequence order."""
    query = select(*_COLUMNS).where(_J.c.type.in_(tuple(types)), _J.c.seq <= upto).order_by(_J.c.seq)
    with store.engine.connect() as conn:
        return _recorded(conn.execute(query))


def event_by_id(store: Store, event_id: str) -> RecordedEvent | None:
    """The event with this id (the id the sync sends with it), or None."""
    with store.engine.connect() as conn:
        rows = _recorded(conn.execute(select(*_COLUMNS).where(_J.c.event_id == event_id)))
    return rows[0] if rows else None


def recorded_with(store: Store, subject: str, type_: str, *, upto: int, other_type: str) -> RecordedEvent | None:
    """The event of ``other_type`` that the command behind the first ``type_`` event of ``subject`` (up to
    ``upto``) recorded too: e.g. the inspection that raised a nonconformance in the same command."""
    with store.engine.connect() as conn:
        key = conn.execute(select(_J.c.idempotency_key).where(
            _J.c.subject == subject, _J.c.type == type_, _J.c.seq <= upto).order_by(_J.c.seq).limit(1)).scalar()
        if key is None:
            return None
        rows = _recorded(conn.execute(select(*_COLUMNS).where(_J.c.idempotency_key == key,
                                                              _J.c.type == other_type).order_by(_J.c.seq)))
    return rows[0] if rows else None


def subject_known(store: Store, subject: str) -> bool:
    """Whether the journal holds any event about ``subject``."""
    with store.engine.connect() as conn:
        return conn.execute(select(_J.c.seq).where(_J.c.subject == subject).limit(1)).first() is not None


def workstation_of(store: Store, equipment: str) -> str | None:
    """The workstation a machine stands at, or None for a machine the node does not know."""
    table = schema.ENTITY_TABLES["equipment"].table
    with store.engine.connect() as conn:
        found = conn.execute(select(table.c.workstation).where(table.c.equipment == equipment)).scalar_one_or_none()
    return None if found is None else str(found)


def operation_in_progress(store: Store, workstation: str) -> tuple[str, int] | None:
    """The operation in progress on ``workstation`` now (the one started last, if several): work order and
    operation number."""
    ops = schema.ENTITY_TABLES["operations"].table
    with store.engine.connect() as conn:
        row = conn.execute(select(ops.c.work_order, ops.c.operation)
                           .where(ops.c.workstation == workstation, ops.c.status == "in_progress")
                           .order_by(ops.c.started_at.desc()).limit(1)).first()
    return None if row is None else (str(row[0]), int(row[1]))


# --- the outbox: journal rows as the sync pushes them ---------------------------------------------------------

_OUTBOX_COLUMNS = (_J.c.seq, _J.c.event_id, _J.c.type, _J.c.subject, _J.c.payload, _J.c.actor, _J.c.source_device,
                   _J.c.occurred_at, _J.c.recorded_at, _J.c.origin, _J.c.recorded_by, _J.c.on_behalf_of)


def journal_after(store: Store, after: int, *, limit: int) -> list[Any]:
    """Up to ``limit`` journal rows after sequence ``after``, in order, with the columns a push batch carries
    (``seq``, ``event_id``, ``type``, ``subject``, ``payload`` as JSON text, ``actor``, ``source_device``,
    ``occurred_at``, ``recorded_at``, ``origin``, ``recorded_by``, ``on_behalf_of``)."""
    query = select(*_OUTBOX_COLUMNS).where(_J.c.seq > after).order_by(_J.c.seq).limit(limit)
    with store.engine.connect() as conn:
        return list(conn.execute(query).all())


def journal_rows(store: Store, seqs: Iterable[int]) -> list[Any]:
    """The journal rows of the sequences ``seqs``, in order, with the columns of :func:`journal_after`."""
    query = select(*_OUTBOX_COLUMNS).where(_J.c.seq.in_(list(seqs))).order_by(_J.c.seq)
    with store.engine.connect() as conn:
        return list(conn.execute(query).all())



def event_keys(store: Store, type_: str, work_orders: Iterable[str]) -> dict[str, str]:
    """For those of ``work_orders`` that have an event of ``type_`` in the journal (``WorkOrderReleased``,
    ``WorkOrderChanged``), the idempotency key of the last one: who released or changed an order (a B2MML
    document's keys begin ``b2mml:``)."""
    ordered = sorted({f"work_order:{wo}" for wo in work_orders})
    found: dict[str, str] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ordered), 500):
            rows = conn.execute(select(_J.c.subject, _J.c.idempotency_key).where(
                _J.c.type == type_, _J.c.subject.in_(ordered[start:start + 500])).order_by(_J.c.seq))
            for subject, key in rows:
                found[subject.removeprefix("work_order:")] = key
    return found


def released_with_key_prefix(store: Store, prefix: str) -> list[str]:
    """The work orders released with an idempotency key beginning ``prefix`` (a B2MML schedule's, ``b2mml:<ID>:``),
    in the order they were released."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with store.engine.connect() as conn:
        rows = conn.execute(select(_J.c.subject).where(
            _J.c.type == "WorkOrderReleased", _J.c.idempotency_key.like(f"{escaped}%", escape="\\"))
            .order_by(_J.c.seq))
        return [subject.removeprefix("work_order:") for (subject,) in rows]
