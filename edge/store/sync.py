"""The sync's bookkeeping in the node's store: cursors, sync exceptions and the events parked behind them.

This is not plant state: the journal stays the one record of what happened, and these tables only say how far
the central systems have it. They are written outside the service's writer (the sync daemon may run while
the node records), each change in one short transaction, and are neither journaled nor replayed.

A push exception parks its refused event and every later edge event of the same subject (``sync_parked``),
so the central side never sees one subject's events out of order, while every other subject goes on. A
supervisor either asks for a **retry** (after fixing the cause, e.g. the order now exists in the ERP) or
**sets aside** the refused event with a reason (the ERP was corrected by hand); the events behind it are then
sent again. Both are recorded with who and when.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from edge.store import schema
from edge.store.store import Store

PUSH = "push"
PULL = "pull"
OPEN_STATUSES = ("open", "retry")
Status = Literal["open", "retry", "set_aside", "resolved"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncException:
    id: int
    direction: str
    subject: str
    seq: int | None
    change_cursor: int | None
    code: str
    message: str
    field: str | None
    detail: str | None
    status: str
    attempts: int
    first_at: datetime
    last_at: datetime
    resolution: str | None
    handled_by: str | None
    handled_at: datetime | None
    note: str | None
    parked: int = 0  # events kept back behind it

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Refusal:
    """One event the central side refused (``held`` ones carry the code HELD)."""

    seq: int
    subject: str
    code: str
    message: str
    field: str | None = None


class NotFound(LookupError):
    pass


class NotOpen(ValueError):
    pass


class SyncLedger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # --- cursors ----------------------------------------------------------------------------------

    def cursor(self, name: str, conn: Connection | None = None) -> int:
        t = schema.sync_cursors
        query = select(t.c.value).where(t.c.name == name)
        if conn is None:
            with self.engine.connect() as own:
                value = own.execute(query).scalar_one_or_none()
        else:
            value = conn.execute(query).scalar_one_or_none()
        return int(value or 0)

    def _set_cursor(self, conn: Connection, name: str, value: int) -> None:
        t = schema.sync_cursors
        done = conn.execute(update(t).where(t.c.name == name).values(value=value, updated_at=_now()))
        if done.rowcount == 0:
            conn.execute(insert(t).values(name=name, value=value, updated_at=_now()))

    def set_cursor(self, name: str, value: int) -> None:
        with self.store.writing() as conn:
            self._set_cursor(conn, name, value)

    def cursor_times(self) -> dict[str, datetime]:
        t = schema.sync_cursors
        with self.engine.connect() as conn:
            return {r.name: r.updated_at for r in conn.execute(select(t.c.name, t.c.updated_at))}

    # --- push: parked subjects ----------------------------------------------------------------------

    def parked_subjects(self) -> dict[str, int]:
        """Subject → the open push exception that keeps its events back."""
        t = schema.sync_exceptions
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.subject, t.c.id).where(
                t.c.direction == PUSH, t.c.status.in_(OPEN_STATUSES)).order_by(t.c.id))
            return {r.subject: r.id for r in rows}

    def acknowledge(self, through: int, *, parked: Sequence[tuple[int, str, int]] = (),
                    refused: Sequence[Refusal] = ()) -> list[int]:
        """Record the central side's acknowledgement of everything up to ``through``, in one transaction:
        events kept back for an open exception (``parked``: seq, subject, exception id) and events it
        refused, each refused subject becoming (or joining) an exception. Returns new exception ids."""
        created: list[int] = []
        with self.store.writing() as conn:
            self._park(conn, parked)
            created = self._refuse(conn, refused)
            self._set_cursor(conn, PUSH, through)
        return created

    def _park(self, conn: Connection, parked: Iterable[tuple[int, str, int]]) -> None:
        """Keep events back behind their exception. An event parked already (the central side lost its copy of
        this node's events and the node sends them again) stays parked once."""
        rows = [{"seq": seq, "subject": subject, "exception_id": exc} for seq, subject, exc in parked]
        if not rows:
            return
        t = schema.sync_parked
        if conn.dialect.name == "postgresql":
            # PostgreSQL's own INSERT (ON CONFLICT DO NOTHING), imported on PostgreSQL only
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(t).on_conflict_do_nothing(index_elements=["seq"]), rows)
        else:
            conn.execute(insert(t).prefix_with("OR IGNORE"), rows)

    def _refuse(self, conn: Connection, refused: Sequence[Refusal]) -> list[int]:
        t = schema.sync_exceptions
        created: list[int] = []
        by_subject: dict[str, int] = {}
        for r in sorted(refused, key=lambda r: r.seq):
            exc_id = by_subject.get(r.subject)
            if exc_id is None:
                exc_id = conn.execute(select(t.c.id).where(
                    t.c.direction == PUSH, t.c.subject == r.subject, t.c.status.in_(OPEN_STATUSES))
                ).scalar_one_or_none()
            if exc_id is None:
                now = _now()
                exc_id = int(conn.execute(insert(t).values(
                    direction=PUSH, subject=r.subject, seq=r.seq, code=r.code, message=r.message, field=r.field,
                    status="open", attempts=1, first_at=now, last_at=now)).inserted_primary_key[0])  # type: ignore[index]
                created.append(exc_id)
            by_subject[r.subject] = exc_id
            self._park(conn, [(r.seq, r.subject, exc_id)])
        return created

    def set_gap_cursor(self, acknowledged: int) -> None:
        """The central side holds less than this node thought (its database was restored): resend."""
        self.set_cursor(PUSH, acknowledged)

    # --- push: retries ------------------------------------------------------------------------------

    def retries(self) -> list[tuple[int, list[int]]]:
        """Exceptions a supervisor asked to retry (or set aside), with the parked seqs to send again."""
        t, p = schema.sync_exceptions, schema.sync_parked
        with self.engine.connect() as conn:
            ids = list(conn.execute(select(t.c.id).where(t.c.direction == PUSH, t.c.status == "retry")
                                    .order_by(t.c.id)).scalars())
            return [(i, list(conn.execute(select(p.c.seq).where(p.c.exception_id == i).order_by(p.c.seq))
                             .scalars())) for i in ids]

    def retried(self, exception_id: int, sent: Sequence[int], refused: Sequence[Refusal]) -> bool:
        """The outcome of a retry: every sent event not refused (nor held) is now stored centrally. Returns
        whether the exception is cleared (then its subject flows again)."""
        t, p = schema.sync_exceptions, schema.sync_parked
        still = {r.seq for r in refused}
        with self.store.writing() as conn:
            done = [s for s in sent if s not in still]
            if done:
                conn.execute(delete(p).where(p.c.exception_id == exception_id, p.c.seq.in_(done)))
            first = min(refused, key=lambda r: r.seq) if refused else None
            if first is not None and first.code != "HELD":
                conn.execute(update(t).where(t.c.id == exception_id).values(
                    status="open", code=first.code, message=first.message, field=first.field, seq=first.seq,
                    attempts=t.c.attempts + 1, last_at=_now()))
                return False
            left = conn.execute(select(func.count()).select_from(p).where(p.c.exception_id == exception_id)
                                ).scalar_one()
            if left:
                return False  # more events were parked while the retry was on its way: send them next round
            resolution = conn.execute(select(t.c.resolution).where(t.c.id == exception_id)).scalar_one()
            conn.execute(update(t).where(t.c.id == exception_id).values(
                status="set_aside" if resolution == "set_aside" else "resolved", last_at=_now()))
            return True

    # --- pull exceptions ----------------------------------------------------------------------------

    def pull_refused(self, change_cursor: int, subject: str, code: str, message: str, field: str | None,
                     change: str) -> int:
        """A central change this node refused; ``change`` (its JSON) is applied again on a retry."""
        t = schema.sync_exceptions
        now = _now()
        with self.store.writing() as conn:
            return int(conn.execute(insert(t).values(
                direction=PULL, subject=subject, change_cursor=change_cursor, code=code, message=message,
                field=field, detail=change, status="open", attempts=1, first_at=now, last_at=now)
            ).inserted_primary_key[0])  # type: ignore[index]

    # --- what a supervisor sees and does -----------------------------------------------------------

    def exceptions(self, *, open_only: bool = False, limit: int = 500, exception_id: int | None = None,
                   direction: str | None = None, status: str | None = None) -> list[SyncException]:
        t, p = schema.sync_exceptions, schema.sync_parked
        parked = (select(p.c.exception_id, func.count().label("n")).group_by(p.c.exception_id).subquery())
        query = (select(t, func.coalesce(parked.c.n, 0).label("parked"))
                 .outerjoin(parked, parked.c.exception_id == t.c.id).order_by(t.c.id).limit(limit))
        if open_only:
            query = query.where(t.c.status.in_(OPEN_STATUSES))
        if exception_id is not None:
            query = query.where(t.c.id == exception_id)
        if direction is not None:
            query = query.where(t.c.direction == direction)
        if status is not None:
            query = query.where(t.c.status == status)
        with self.engine.connect() as conn:
            return [SyncException(**r._mapping) for r in conn.execute(query)]

    def get(self, exception_id: int) -> SyncException:
        found = self.exceptions(exception_id=exception_id)
        if not found:
            raise NotFound(f"there is no sync exception {exception_id}")
        return found[0]

    def request_retry(self, exception_id: int, actor: str, note: str | None = None) -> SyncException:
        return self._handle(exception_id, actor, note, set_aside=False)

    def set_aside(self, exception_id: int, actor: str, note: str) -> SyncException:
        """The refused event will not be sent again (the central side was corrected otherwise); the events
        parked behind it are sent on the next round."""
        return self._handle(exception_id, actor, note, set_aside=True)

    def _handle(self, exception_id: int, actor: str, note: str | None, *, set_aside: bool) -> SyncException:
        t, p = schema.sync_exceptions, schema.sync_parked
        with self.store.writing() as conn:
            row = conn.execute(select(t).where(t.c.id == exception_id)).first()
            if row is None:
                raise NotFound(f"there is no sync exception {exception_id}")
            if row.status not in OPEN_STATUSES:
                raise NotOpen(f"sync exception {exception_id} is already {row.status.replace('_', ' ')}")
            values: dict[str, Any] = {"handled_by": actor, "handled_at": _now(), "note": note,
                                      "resolution": "set_aside" if set_aside else "retry"}
            if row.direction == PULL:
                values["status"] = "set_aside" if set_aside else "retry"
            elif set_aside:
                if row.seq is not None:
                    conn.execute(delete(p).where(p.c.seq == row.seq))
                left = conn.execute(select(func.count()).select_from(p).where(p.c.exception_id == exception_id)
                                    ).scalar_one()
                # the events parked behind it still go out: "retry" until they are through (see retried)
                values["status"] = "retry" if left else "set_aside"
            else:
                values["status"] = "retry"
            conn.execute(update(t).where(t.c.id == exception_id).values(**values))
        return self.get(exception_id)

    def pull_retries(self) -> list[SyncException]:
        return self.exceptions(direction=PULL, status="retry")

    def pull_done(self, exception_id: int, ok: bool, code: str = "", message: str = "") -> None:
        t = schema.sync_exceptions
        with self.store.writing() as conn:
            if ok:
                conn.execute(update(t).where(t.c.id == exception_id).values(status="resolved", last_at=_now()))
            else:
                conn.execute(update(t).where(t.c.id == exception_id).values(
                    status="open", code=code, message=message, attempts=t.c.attempts + 1, last_at=_now()))

    # --- how far behind -----------------------------------------------------------------------------

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """Acknowledged sequence, lag in events and seconds (edge events not yet acknowledged, parked ones
        excluded), when the central side last acknowledged, the pull cursor, and open exceptions."""
        now = now or _now()
        j, t, p = schema.journal, schema.sync_exceptions, schema.sync_parked
        with self.engine.connect() as conn:
            acknowledged = self.cursor(PUSH, conn)
            pending = (select(func.count(), func.min(j.c.recorded_at))
                       .where(j.c.seq > acknowledged, j.c.origin == "edge"))
            count, oldest = conn.execute(pending).one()
            parked = conn.execute(select(func.count()).select_from(p)).scalar_one()
            open_exceptions = conn.execute(select(func.count()).select_from(t).where(
                t.c.status.in_(OPEN_STATUSES))).scalar_one()
            last_seq = self.store.last_seq(conn)
            pull = self.cursor(PULL, conn)
            times = {r.name: r.updated_at for r in conn.execute(select(schema.sync_cursors))}
        return {
            "acknowledged": acknowledged, "last_seq": last_seq, "lag_events": int(count),
            "lag_seconds": round((now - oldest).total_seconds(), 3) if oldest is not None else 0.0,
            "last_ack_at": times[PUSH].isoformat() if PUSH in times else None,
            "parked_events": int(parked), "open_exceptions": int(open_exceptions),
            "pull_cursor": pull, "last_pull_at": times[PULL].isoformat() if PULL in times else None,
        }
