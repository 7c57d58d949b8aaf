"""Users, roles and their bearer tokens. Only SHA-256 digests of tokens and PINs are stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

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
    t = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.token_sha256 == digest(token))).first()
    if row is None or not row.active:
        return None
    return User(row.user, row.name, frozenset(row.roles), row.language, row.active, row.pin_sha256)


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
