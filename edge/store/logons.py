"""Failed logons and their limits, kept in the store so that a restart does not reset them.

Three counts, each with its own lock, so that guessing is slowed down without handing anyone a way to keep a user
locked out:

- **pair**: one account at one client address. ``failures_per_account`` wrong PINs in a row lock that address out
  of that account; the user logs on from any other terminal as usual. Each further lock of the pair doubles.
- **client**: one address, every account. ``failures_per_client`` failures (wrong PINs, unknown badges) lock the
  address out of every account: a terminal that sprays badges and PINs stops, the others work on.
- **account**: one account from every address. It locks only when ``clients_per_account`` different addresses
  failed on it (a guess spread over many machines): one client alone can never lock a user out everywhere, and
  the lock ends by itself (``lock_seconds``, doubling up to ``max_lock_seconds``).

Attempts refused because of a lock are not counted, so a locked client cannot stretch any lock. Counts are forgotten
after ``max_lock_seconds`` without a failure; a right PIN clears its pair. An account is a user name, or for a badge
nobody has, ``badge:`` and a prefix of its hash: unknown badges are limited exactly like known ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from edge.retry import RetryPolicy
from edge.store import schema
from edge.store.store import Store

_RACED_INSERT = RetryPolicy(attempts=3, initial_s=0.0, maximum_s=0.0)  # two requests counting one new row

Scope = Literal["pair", "client", "account"]


@dataclass(frozen=True)
class LogonLimits:
    """The site's limits on failed logons (``logon`` in the site file)."""

    failures_per_account: int = 5  # wrong PINs for one account from one address before that address is locked out
    failures_per_client: int = 20  # failures from one address (any account) before it is locked out of all
    clients_per_account: int = 3  # addresses failing on one account before the account is locked everywhere
    lock_seconds: int = 60  # the first lock; each further lock of the same count doubles ...
    max_lock_seconds: int = 900  # ... up to this; counts are forgotten after this long without a failure


@dataclass(frozen=True)
class Lockout:
    """A lock that a failure just set (for the log)."""

    scope: Scope
    key: str
    seconds: int


def _pair(account: str, client: str) -> str:
    return f"{account}@{client}"


class FailedLogons:
    """The failed-logon counts of one store under the site's limits."""

    def __init__(self, store: Store, limits: LogonLimits | None = None) -> None:
        self.store = store
        self.limits = limits or LogonLimits()

    def locked_for(self, client: str, account: str | None = None, now: datetime | None = None) -> tuple[float, Scope]:
        """Seconds until ``client`` may try again (for ``account`` too, when given), and which lock holds it."""
        now = now or datetime.now(UTC)
        keys: list[tuple[Scope, str]] = [("client", client)]
        if account is not None:
            keys += [("pair", _pair(account, client)), ("account", account)]
        t = schema.logon_failures
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(t.c.scope, t.c.locked_until).where(
                or_(*(and_(t.c.scope == scope, t.c.key == key) for scope, key in keys)))).all()
        waits = [((row.locked_until - now).total_seconds(), row.scope) for row in rows
                 if row.locked_until is not None and row.locked_until > now]
        if not waits:
            return 0.0, "client"
        wait, scope = max(waits)
        return wait, scope

    def failed(self, client: str, account: str | None = None, now: datetime | None = None) -> list[Lockout]:
        """Count one failure of ``client`` (on ``account`` when there is one); the locks it sets."""
        now = now or datetime.now(UTC)
        # another request may insert the same row first (IntegrityError): count again on top of it
        for attempt in _RACED_INSERT.retrying(IntegrityError):
            with attempt, self.store.writing() as conn:
                found = [self._count(conn, "client", client, client, now)]
                if account is not None:
                    found += [self._count(conn, "pair", _pair(account, client), client, now),
                              self._count(conn, "account", account, client, now)]
                return [lock for lock in found if lock is not None]
        raise AssertionError("unreachable")  # pragma: no cover  (the policy raises the last failure)

    def passed(self, client: str, account: str) -> None:
        """A right PIN: the pair's count starts again (the client's and the account's run out by themselves)."""
        t = schema.logon_failures
        with self.store.writing() as conn:
            conn.execute(delete(t).where(t.c.scope == "pair", t.c.key == _pair(account, client)))

    def _count(self, conn: Connection, scope: Scope, key: str, client: str, now: datetime) -> Lockout | None:
        t = schema.logon_failures
        limits = self.limits
        row = conn.execute(select(t).where(t.c.scope == scope, t.c.key == key).with_for_update()).first()
        quiet = timedelta(seconds=limits.max_lock_seconds)
        values: dict[str, Any]
        if row is None or now - row.last_failed_at > quiet:  # nothing yet, or forgotten after a quiet spell
            values = {"failures": 0, "clients": [], "lockouts": 0, "locked_until": None}
        else:
            values = {"failures": row.failures, "clients": list(row.clients), "lockouts": row.lockouts,
                      "locked_until": row.locked_until}
        values["failures"] += 1
        if client not in values["clients"]:
            values["clients"] = [*values["clients"], client][-limits.clients_per_account * 4:]
        values["last_failed_at"] = now  # counts run on until a quiet spell
        if scope == "account":
            reached = (len(values["clients"]) >= limits.clients_per_account
                       and values["failures"] >= limits.failures_per_account)
        else:
            reached = values["failures"] >= (limits.failures_per_client if scope == "client"
                                             else limits.failures_per_account)
        lock: Lockout | None = None
        if reached:
            seconds = min(limits.lock_seconds * 2 ** min(values["lockouts"], 20), limits.max_lock_seconds)
            values.update(failures=0, clients=[], lockouts=values["lockouts"] + 1,
                          locked_until=now + timedelta(seconds=seconds))
            lock = Lockout(scope, key, seconds)
        if row is None:
            conn.execute(t.insert().values(scope=scope, key=key, **values))
        else:
            conn.execute(t.update().where(t.c.scope == scope, t.c.key == key).values(**values))
        return lock
