"""Users, roles and their bearer tokens; badge codes and PINs as scrypt hashes.

Tokens are long random strings: their SHA-256 digest is enough to find them and useless to reverse. Badge codes and
PINs are short and guessable, so they are kept as scrypt hashes (the standard library's ``hashlib.scrypt``):

- a PIN with its own random salt, ``scrypt$n$r$p$salt$hash``, checked in constant time;
- a badge code with the store's one badge salt (``node_settings``), so that the hash of a scanned badge finds its
  user with one indexed look-up; the code itself is never stored or logged.

The cost (n=2^14, r=8, p=1: 16 MiB and about 60 ms on the reference machine) is what a 2-core edge node can pay on
every logon; the parameters are written into each PIN hash, so a later release can raise them. Against guessing
online, the failed-logon limits (``edge.store.logons``) are the real defence.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row

from edge.domain.model import ROLES
from edge.store import schema
from edge.store.store import Store

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024
# Roles that change records of others: they need a second factor (a PIN) to log on at a page, always.
PRIVILEGED_ROLES = frozenset({"supervisor", "quality", "admin"})


@dataclass(frozen=True)
class User:
    user: str
    name: str
    roles: frozenset[str]
    language: str = "en"
    active: bool = True
    pin_hash: str | None = None
    session: bool = False  # signed in by a badge logon at a page (takt.pages), not by the user's own token

    @property
    def has_pin(self) -> bool:
        return self.pin_hash is not None

    @property
    def privileged(self) -> bool:
        return bool(self.roles & PRIVILEGED_ROLES)

    def check_pin(self, pin: str) -> bool:
        return verify_pin(self.pin_hash, pin)


def digest(secret: str) -> str:
    """SHA-256 of a bearer token (random and long: a fast digest is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _scrypt(secret: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str) -> str:
    """A PIN's scrypt hash with a fresh random salt, parameters included: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(_scrypt(pin, salt))}"


@functools.cache
def _no_pin() -> str:
    """Checked when there is no PIN to check against, so that "no such user" costs the time of "wrong PIN"."""
    return hash_pin(secrets.token_urlsafe(16))


def verify_pin(stored: str | None, pin: str) -> bool:
    """Whether ``pin`` is the PIN hashed in ``stored``; always pays one scrypt, also when there is no PIN."""
    text = stored if stored is not None else _no_pin()
    try:
        kind, n, r, p, salt, expected = text.split("$")
        computed = _scrypt(pin, _unb64(salt), int(n), int(r), int(p))
        same = kind == "scrypt" and hmac.compare_digest(computed, _unb64(expected))
    except ValueError:  # not a hash this release writes: nothing matches it
        return False
    return same and stored is not None


_badge_salts: weakref.WeakKeyDictionary[Store, bytes] = weakref.WeakKeyDictionary()


def _badge_salt(store: Store) -> bytes:
    """The store's salt for badge hashes: made at first use and kept in node_settings."""
    found = _badge_salts.get(store)
    if found is not None:
        return found
    t = schema.node_settings
    with store.writing() as conn:
        value = conn.execute(select(t.c.value).where(t.c.name == "badge_salt")).scalar_one_or_none()
        if value is None:
            value = secrets.token_hex(16)
            conn.execute(t.insert().values(name="badge_salt", value=value))
    salt = _badge_salts[store] = bytes.fromhex(str(value))
    return salt


def badge_hash(store: Store, code: str) -> str:
    """The hash a badge code is stored and found by (hex, 64 characters)."""
    return _scrypt(code, _badge_salt(store)).hex()


def _user(row: Row[Any], session: bool = False) -> User:
    return User(row.user, row.name, frozenset(row.roles), row.language, row.active, row.pin_hash, session)


def save_user(store: Store, user: str, name: str, roles: list[str] | frozenset[str], token: str,
              *, pin: str | None = None, badge: str | None = None, language: str = "en",
              active: bool = True) -> None:
    """Create or update a user. Roles must be Takt's roles; the token must be at least 16 characters. The badge
    code and the PIN are stored as hashes; without a badge code the user cannot log on at a page."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"user {user}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if len(token) < 16:
        raise ValueError(f"user {user}: a token needs at least 16 characters")
    t = schema.users
    with store.engine.connect() as conn:
        existing = conn.execute(select(t.c.pin_hash).where(t.c.user == user)).first()
    # the same PIN as before keeps its hash (a node start writes every configured user again)
    kept = existing is not None and pin is not None and verify_pin(existing.pin_hash, pin)
    row = {"user": user, "name": name, "roles": sorted(set(roles)), "token_sha256": digest(token),
           "badge_hash": badge_hash(store, badge) if badge else None,
           "pin_hash": (existing.pin_hash if kept and existing is not None else hash_pin(pin)) if pin else None,
           "pin_sha256": None, "language": language, "active": active}
    with store.writing() as conn:
        if conn.execute(select(t.c.user).where(t.c.user == user)).first():
            conn.execute(t.update().where(t.c.user == user).values(**row))
        else:
            conn.execute(t.insert().values(**row))


def forget_legacy_pin_digests(store: Store) -> int:
    """Empty the unsalted SHA-256 PIN digests that stores before migration 0017 kept; how many there were."""
    t = schema.users
    with store.writing() as conn:
        return conn.execute(t.update().where(t.c.pin_sha256.is_not(None)).values(pin_sha256=None)).rowcount


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
    return _user(row, session)


def user_by_name(store: Store, user: str) -> User | None:
    t = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.user == user)).first()
    return None if row is None else _user(row)


def user_by_badge_hash(store: Store, hashed: str) -> User | None:
    """The user whose badge code has this hash (:func:`badge_hash`), active or not."""
    t = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.badge_hash == hashed)).first()
    return None if row is None else _user(row)


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
    return [_user(r) for r in rows]


class DirectoryUser(ValueError):
    """A change to a person the plant's directory owns (``directory_users``), refused."""


def apply_user(store: Store, user: str, name: str, roles: list[str], *, language: str = "en",
               active: bool = True, badge_hashed: str | None = None) -> None:
    """A user as the central systems know them: name, roles, language, active. An existing user keeps their
    token, badge and PIN; a new one gets no usable token and no badge (the site file gives them), unless
    ``badge_hashed`` (:func:`badge_hash` of their badge code, as a B2MML Person may carry it) gives one."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"user {user}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    values: dict[str, Any] = {"name": name, "roles": sorted(set(roles)), "language": language, "active": active}
    if badge_hashed is not None:
        values["badge_hash"] = badge_hashed
    t = schema.users
    with store.writing() as conn:
        if conn.execute(select(schema.directory_users.c.user).where(schema.directory_users.c.user == user)).first():
            # the plant's directory decides who this person is and which roles their groups give; a central
            # system that could grant roles to a directory account would be a way around the directory's groups
            raise DirectoryUser(f"user {user} comes from the plant's directory: their name, roles and whether "
                                "they may log on are the directory's to change, not the central system's")
        if conn.execute(select(t.c.user).where(t.c.user == user)).first():
            conn.execute(t.update().where(t.c.user == user).values(**values))
        else:
            # the digest of a random secret nobody holds: unique, and no token matches it
            conn.execute(t.insert().values(user=user, token_sha256=digest(secrets.token_hex(32)), pin_hash=None,
                                           **values))


def directory_user_names(store: Store, users: list[str]) -> set[str]:
    """Those of ``users`` that come from the plant's directory (``directory_users``)."""
    d = schema.directory_users
    found: set[str] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(users), 500):
            found |= {r[0] for r in conn.execute(select(d.c.user).where(d.c.user.in_(users[start:start + 500])))}
    return found
