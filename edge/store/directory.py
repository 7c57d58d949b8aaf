"""The store's cache of people from the plant's directory (LDAP/AD): the last answer about each, and its age.

A directory user is a row of ``users`` (name, roles, language, badge hash, active, and as ``pin_hash`` the scrypt
hash of the last password the directory accepted) plus a row of ``directory_users`` (their DN, the groups that gave
the roles, whether the directory said disabled, and when it last confirmed them). The rest of the node (sessions,
tokens, roles) reads ``users`` as for anyone else; the logon (``takt.identity``) reads the confirmation time to
decide whether the cache still stands while the directory is away. A user of the site file is never overwritten by
the directory: the site file's users stay for small sites and device accounts.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from edge.store import schema
from edge.store.store import Store
from edge.store.users import badge_hash, digest, hash_pin


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory says about one person (roles already mapped from their groups)."""

    user: str
    dn: str
    name: str
    roles: frozenset[str]
    groups: tuple[str, ...] = ()
    language: str = "en"
    badge: str | None = None  # the badge's code as the directory holds it: only its hash is stored
    disabled: bool = False


@dataclass(frozen=True)
class CachedEntry:
    """What the node last heard from the directory about one person."""

    user: str
    dn: str
    groups: tuple[str, ...]
    disabled: bool
    confirmed_at: datetime

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.confirmed_at).total_seconds()


class LocalUserConflict(ValueError):
    """The directory names someone who is a user of the site file: the site file's user stays."""


def remember(store: Store, entry: DirectoryEntry, now: datetime | None = None, badge_hashed: str | None = None) -> None:
    """Keep the directory's answer about ``entry`` (confirmed now). A person without Takt roles or disabled stays
    in the store as inactive, so that their open sessions and tokens stop at once. ``badge_hashed``: the hash of
    ``entry.badge`` when the caller has it already (a logon hashed the scanned badge: one scrypt less)."""
    now = now or datetime.now(UTC)
    t, d = schema.users, schema.directory_users
    hashed = (badge_hashed or badge_hash(store, entry.badge)) if entry.badge else None
    values: dict[str, Any] = {"name": entry.name[:200], "roles": sorted(entry.roles), "language": entry.language,
                              "active": bool(entry.roles) and not entry.disabled, "badge_hash": hashed}
    with store.writing() as conn:
        known = conn.execute(select(t.c.user).where(t.c.user == entry.user)).first() is not None
        cached = conn.execute(select(d.c.user).where(d.c.user == entry.user)).first() is not None
        if known and not cached:
            raise LocalUserConflict(f"{entry.user} is a user of the site file; the directory's entry {entry.dn} is "
                                    "not used for them")
        if hashed is not None:  # a badge handed on to someone else leaves its former holder
            conn.execute(t.update().where(t.c.badge_hash == hashed, t.c.user != entry.user).values(badge_hash=None))
        if known:
            conn.execute(t.update().where(t.c.user == entry.user).values(**values))
        else:  # the digest of a random secret nobody holds: a directory user logs on at pages only
            conn.execute(t.insert().values(user=entry.user, token_sha256=digest(secrets.token_hex(32)),
                                           pin_hash=None, pin_sha256=None, **values))
        row = {"dn": entry.dn[:500], "groups": list(entry.groups), "disabled": entry.disabled, "confirmed_at": now}
        if cached:
            conn.execute(d.update().where(d.c.user == entry.user).values(**row))
        else:
            conn.execute(d.insert().values(user=entry.user, **row))


def remember_password(store: Store, user: str, password: str) -> None:
    """The directory accepted ``password`` for ``user``: keep its scrypt hash, the second factor while the directory
    is away (and at an e-signature)."""
    t = schema.users
    with store.writing() as conn:
        conn.execute(t.update().where(t.c.user == user).values(pin_hash=hash_pin(password)))


def cached(store: Store, user: str) -> CachedEntry | None:
    """The node's last answer from the directory about ``user``; None for anyone else (a site-file user)."""
    d = schema.directory_users
    with store.engine.connect() as conn:
        row = conn.execute(select(d).where(d.c.user == user)).first()
    if row is None:
        return None
    return CachedEntry(row.user, row.dn, tuple(row.groups), row.disabled, row.confirmed_at)


def all_cached(store: Store) -> list[CachedEntry]:
    d = schema.directory_users
    with store.engine.connect() as conn:
        rows = conn.execute(select(d).order_by(d.c.user)).all()
    return [CachedEntry(r.user, r.dn, tuple(r.groups), r.disabled, r.confirmed_at) for r in rows]


def disable(store: Store, user: str, now: datetime | None = None) -> None:
    """The directory says ``user`` is disabled, or no longer has them: refused from now on, also from the cache."""
    t, d = schema.users, schema.directory_users
    with store.writing() as conn:
        if conn.execute(select(d.c.user).where(d.c.user == user)).first() is None:
            return
        conn.execute(d.update().where(d.c.user == user).values(disabled=True, confirmed_at=now or datetime.now(UTC)))
        conn.execute(t.update().where(t.c.user == user).values(active=False, badge_hash=None))


def cache_ages(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """How many people the cache holds and how old its newest and oldest confirmations are (for ``/health``)."""
    now = now or datetime.now(UTC)
    d = schema.directory_users
    with store.engine.connect() as conn:
        count, newest, oldest = conn.execute(select(func.count(), func.max(d.c.confirmed_at),
                                                    func.min(d.c.confirmed_at))).one()

    def age(at: Any) -> float | None:
        if at is None:
            return None
        if isinstance(at, str):  # SQLite's aggregate comes back as text
            at = datetime.fromisoformat(at)
        moment: datetime = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        return round((now - moment).total_seconds(), 1)
    return {"users": int(count), "newest_age_s": age(newest), "oldest_age_s": age(oldest)}
