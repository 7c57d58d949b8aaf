"""Users, roles and their bearer tokens. Only SHA-256 digests of tokens and PINs are stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from edge.domain.model import ROLES
from edge.store import schema
from edge.store.store import Store


@dataclass(frozen=True)
class User:
    user: str
    name: str
    roles: frozenset[str]
    language: str = "en"
    active: bool = True
    pin_sha256: str | None = None
    session: bool = False  # signed in by a badge logon at a page (takt.pages), not by the user's own token

    def check_pin(self, pin: str) -> bool:
        return self.pin_sha256 is not None and hmac.compare_digest(self.pin_sha256, digest(pin))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def save_user(store: Store, user: str, name: str, roles: list[str] | frozenset[str], token: str,
              *, pin: str | None = None, language: str = "en", active: bool = True) -> None:
    """Create or update a user. Roles must be Takt's roles; the token must be at least 16 characters."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"user {user}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if len(token) < 16:
        raise ValueError(f"user {user}: a token needs at least 16 characters")
    row = {"user": user, "name": name, "roles": sorted(set(roles)), "token_sha256": digest(token),
           "pin_sha256": digest(pin) if pin else None, "language": language, "active": active}
    t = schema.users
    with store.writing() as conn:
        if conn.execute(select(t.c.user).where(t.c.user == user)).first():
            conn.execute(t.update().where(t.c.user == user).values(**row))
        else:
            conn.execute(t.insert().values(**row))


def user_by_token(store: Store, token: str) -> User | None:
    """The active user a bearer token belongs to: a user's own token, or a page session that has not expired."""
    t, s = schema.users, schema.sessions
    hashed = digest(token)
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.token_sha256 == hashed)).first()
        session = row is None
        if session:
            row = conn.execute(select(t).join(s, s.c.user == t.c.user)
                               .where(s.c.token_sha256 == hashed, s.c.expires_at > datetime.now(UTC))).first()
    if row is None or not row.active:
        return None
    return User(row.user, row.name, frozenset(row.roles), row.language, row.active, row.pin_sha256, session)


def user_by_name(store: Store, user: str) -> User | None:
    t = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.user == user)).first()
    if row is None:
        return None
    return User(row.user, row.name, frozenset(row.roles), row.language, row.active, row.pin_sha256)


def open_session(store: Store, user: str, device: str | None, lifetime: timedelta) -> str:
    """A new page session for ``user``: a random bearer token (only its digest is kept) valid for ``lifetime``.
    Expired sessions are removed on the way."""
    token = "tks_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    s = schema.sessions
    with store.engine.begin() as conn:
        conn.execute(delete(s).where(s.c.expires_at <= now))
        conn.execute(s.insert().values(token_sha256=digest(token), user=user, device=device, created_at=now,
                                       expires_at=now + lifetime))
    return token


def close_session(store: Store, token: str) -> bool:
    """End a page session (log off); False if it was not an open session."""
    s = schema.sessions
    with store.engine.begin() as conn:
        return conn.execute(delete(s).where(s.c.token_sha256 == digest(token))).rowcount > 0


def record_signature(store: Store, user: str, meaning: str, subject: str, idempotency_key: str,
                     device: str | None) -> int:
    """Audit one electronic signature (a PIN re-entered to sign a quality decision); its id."""
    t = schema.signatures
    with store.engine.begin() as conn:
        found = conn.execute(select(t.c.id).where(t.c.idempotency_key == idempotency_key, t.c.user == user)).first()
        if found is not None:  # a resent request signs once
            return int(found.id)
        result = conn.execute(t.insert().values(user=user, meaning=meaning, subject=subject,
                                                idempotency_key=idempotency_key, device=device,
                                                signed_at=datetime.now(UTC)))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def all_users(store: Store) -> list[User]:
    t = schema.users
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.user)).all()
    return [User(r.user, r.name, frozenset(r.roles), r.language, r.active, r.pin_sha256) for r in rows]


def apply_user(store: Store, user: str, name: str, roles: list[str], *, language: str = "en",
               active: bool = True) -> None:
    """A user as the central systems know them: name, roles, language, active. An existing user keeps their
    token and PIN; a new one gets no usable token (an admin issues one here, or they log on by badge + PIN)."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"user {user}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    values = {"name": name, "roles": sorted(set(roles)), "language": language, "active": active}
    t = schema.users
    with store.writing() as conn:
        if conn.execute(select(t.c.user).where(t.c.user == user)).first():
            conn.execute(t.update().where(t.c.user == user).values(**values))
        else:
            # the digest of a random secret nobody holds: unique, and no token matches it
            conn.execute(t.insert().values(user=user, token_sha256=digest(secrets.token_hex(32)), pin_sha256=None,
                                           **values))
