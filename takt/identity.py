"""People from the plant's directory (OpenLDAP or Active Directory, over TLS with ``ldap3``): who holds a badge,
which groups give which Takt roles, whether the account is disabled, and the directory password as second factor.

Every page logon with a badge that is not a site-file user's asks the directory live (``identity`` in the site
file, :class:`takt.config.identity.IdentitySection`): a disabled account or one no longer in a mapped group is
refused at once and marked inactive in the store, which also ends its open sessions. Each answer is kept in the
store (``edge.store.directory``) with its time. While the directory cannot be reached, a person it confirmed
within ``cache_hours`` logs on from that cache (their password checked against the hash of the last one the
directory accepted); anyone else is answered ``DIRECTORY_UNAVAILABLE``. Going down and coming back are logged
(``takt.identity``) and shown on ``/health`` with the cache's age.
"""
from __future__ import annotations

import asyncio
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPOperationResult
from ldap3.utils.conv import escape_filter_chars

from edge.store import Store
from edge.store.directory import (
    CachedEntry,
    DirectoryEntry,
    LocalUserConflict,
    all_cached,
    cache_ages,
    cached,
    disable,
    remember,
    remember_password,
)
from edge.store.users import User, user_by_name, verify_pin
from takt.config.identity import IdentitySection

log = logging.getLogger("takt.identity")
T = TypeVar("T")


class DirectoryDown(Exception):
    """The directory cannot be reached (or refuses the node's service account), and the cache does not answer."""


@dataclass
class Synced:
    """What a sync with the directory did."""

    people: int = 0  # Takt users (and former ones) the directory answered for
    refused: list[str] = field(default_factory=list)  # of those: disabled or without a Takt role
    gone: list[str] = field(default_factory=list)  # cached here, no longer in the directory: marked inactive
    site_file_users: list[str] = field(default_factory=list)  # the site file's user of that name is kept


@dataclass(frozen=True)
class BadgeHolder:
    """Who a scanned badge belongs to according to the directory (or its cache)."""

    user: User | None  # active and with Takt roles; None: refused (``reason`` says why, for the log)
    reason: str = ""
    dn: str | None = None
    from_cache: bool = False


def _first(entry: dict[str, Any], attribute: str | None) -> str | None:
    if attribute is None:
        return None
    values = _values(entry, attribute)
    return values[0] if values else None


def _values(entry: dict[str, Any], attribute: str) -> list[str]:
    for key, value in entry.items():
        if key.lower() == attribute.lower():
            if isinstance(value, list | tuple):
                return [str(v) for v in value]
            return [] if value is None else [str(value)]
    return []


def _answered(conn: ldap3.Connection) -> None:
    """A search that the directory did not answer (busy, unwilling, a referral, a size limit) is not "nobody":
    it is raised, so that nobody is refused or disabled on a half answer."""
    code = conn.result.get("result", 0) if conn.result else 0
    if code not in (0, 32):  # success, or no such object (the base is empty)
        raise LDAPOperationResult(result=code, description=conn.result.get("description"),
                                  message=conn.result.get("message"))


def _search_all(conn: ldap3.Connection, base: str, search: str, attributes: list[str]) -> list[dict[str, Any]]:
    """Every entry a search finds, fetched in pages of 500 (a directory's size limit never cuts the list short)."""
    found = conn.extend.standard.paged_search(base, search, search_scope=ldap3.SUBTREE, attributes=attributes,
                                              paged_size=500, generator=False)
    _answered(conn)
    return [e for e in found or [] if e.get("type") == "searchResEntry"]


class Directory:
    """The plant's directory as the node sees it: asked over TLS, its state (up, down since) kept for ``/health``."""

    def __init__(self, config: IdentitySection) -> None:
        self.config = config
        self.up: bool | None = None  # None: not asked yet
        self.down_since: datetime | None = None
        self.last_error: str | None = None
        self.last_contact: datetime | None = None
        self._lock = threading.Lock()
        self._next_try = 0.0  # while down: logons ask the directory again from this time.monotonic() on
        self._service_lock = threading.Lock()
        self._service_conn: ldap3.Connection | None = None
        self._checker_lock = threading.Lock()
        self._checker: ldap3.Connection | None = None  # the connection passwords are checked on (rebinds)

    # --- the connection ------------------------------------------------------------------------------------------

    def _server(self) -> ldap3.Server:
        cfg = self.config
        url = urlparse(cfg.url)
        tls = ldap3.Tls(ca_certs_file=str(cfg.ca_file) if cfg.ca_file else None, validate=ssl.CERT_REQUIRED,
                        version=ssl.PROTOCOL_TLS_CLIENT)
        return ldap3.Server(url.hostname or "localhost", port=url.port, use_ssl=url.scheme.lower() == "ldaps",
                            tls=tls, get_info=ldap3.NONE, connect_timeout=cfg.timeout_s)

    def _bound(self, dn: str, password: str) -> ldap3.Connection | None:
        """A connection bound as ``dn`` (None: the directory refused the password). Raises LDAPException when the
        directory cannot be reached or TLS fails."""
        conn = ldap3.Connection(self._server(), user=dn, password=password,
                                receive_timeout=math.ceil(self.config.timeout_s), read_only=True,
                                raise_exceptions=False)
        conn.open()
        if self.config.start_tls and not conn.start_tls():
            conn.unbind()
            raise DirectoryDown(f"StartTLS refused: {conn.result.get('description')}")
        if not conn.bind():
            conn.unbind()
            return None
        return conn

    def _not_now(self, force: bool) -> None:
        """Raise DirectoryDown without asking while the directory was found down less than ``down_retry_s`` ago."""
        if not force and self.up is False and time.monotonic() < self._next_try:
            raise DirectoryDown(self.last_error or "the directory cannot be reached")

    def _ask(self, question: Callable[[ldap3.Connection], T], force: bool = False) -> T:
        """Ask ``question`` on the node's service connection, kept open between logons (one TLS handshake and bind
        per connection, not per logon) and made anew once when the kept one has gone stale. Any failure to reach or
        use the directory is :class:`DirectoryDown`."""
        self._not_now(force)
        with self._service_lock:
            for attempt in (1, 2):
                kept, conn = self._service_conn is not None, self._service_conn
                try:
                    if conn is None:
                        conn = self._bound(self.config.bind_dn, self.config.bind_password())
                        if conn is None:
                            raise DirectoryDown(f"the directory refused the service account {self.config.bind_dn}")
                        self._service_conn = conn
                    answer = question(conn)
                except (LDAPException, OSError, ValueError, DirectoryDown) as exc:
                    self._drop_service()
                    if kept and attempt == 1 and not isinstance(exc, DirectoryDown | ValueError):
                        continue  # a connection kept from an earlier logon: the directory may have restarted
                    error = str(exc) if isinstance(exc, DirectoryDown) else f"{type(exc).__name__}: {exc}"
                    raise self._went_down(error) from exc
                self._came_up()
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop_service(self) -> None:
        conn, self._service_conn = self._service_conn, None
        if conn is not None:
            try:
                conn.unbind()
            except (LDAPException, OSError):
                pass

    def close(self) -> None:
        """Close the kept connections."""
        with self._service_lock:
            self._drop_service()
        with self._checker_lock:
            conn, self._checker = self._checker, None
            if conn is not None:
                try:
                    conn.unbind()
                except (LDAPException, OSError):
                    pass

    def _went_down(self, error: str) -> DirectoryDown:
        with self._lock:
            was_up = self.up is not False
            self.up, self.last_error = False, error
            self._next_try = time.monotonic() + self.config.down_retry_s
            if was_up:
                self.down_since = datetime.now(UTC)
        if was_up:
            log.warning("directory down", extra={"url": self.config.url, "error": error})
        return DirectoryDown(error)

    def _came_up(self) -> None:
        with self._lock:
            was_down = self.up is False
            self.up, self.down_since, self.last_contact = True, None, datetime.now(UTC)
        if was_down:
            log.warning("directory back", extra={"url": self.config.url})

    # --- what the directory says ----------------------------------------------------------------------------------

    def _attributes(self) -> list[str]:
        cfg = self.config
        wanted = [cfg.name_of_user_attribute(), cfg.full_name_attribute(), cfg.badge_attribute]
        rule = cfg.disabled_rule()
        for extra in (cfg.language_attribute, cfg.groups_from_attribute(), rule.attribute if rule else None):
            if extra:
                wanted.append(extra)
        return wanted

    def _search_people(self, conn: ldap3.Connection, condition: str | None) -> list[tuple[str, dict[str, Any]]]:
        people = self.config.filter_of_users()
        search = f"(&{people}{condition})" if condition else people
        if condition is None:  # everyone: page by page, all pages
            found = _search_all(conn, self.config.users_base, search, self._attributes())
        else:
            conn.search(self.config.users_base, search, search_scope=ldap3.SUBTREE, attributes=self._attributes())
            _answered(conn)
            found = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        return [(str(e["dn"]), dict(e["attributes"])) for e in found]

    def _groups_of(self, conn: ldap3.Connection, dn: str, attributes: dict[str, Any]) -> list[str]:
        cfg = self.config
        member_of = cfg.groups_from_attribute()
        if member_of is not None:
            return _values(attributes, member_of)
        escaped = escape_filter_chars(dn)
        conn.search(cfg.group_search_base(), f"(&{cfg.group_filter}(|(member={escaped})(uniqueMember={escaped})))",
                    search_scope=ldap3.SUBTREE, attributes=[])
        _answered(conn)
        return [str(e["dn"]) for e in conn.response or [] if e.get("type") == "searchResEntry"]

    def roles_of(self, groups: list[str]) -> tuple[frozenset[str], dict[str, list[str]]]:
        """The Takt roles the groups give, and which configured group gave which (for ``takt users check``)."""
        by_group: dict[str, list[str]] = {}
        for group in groups:
            lowered = group.lower()
            first = lowered.split(",", 1)[0]
            common_name = first.split("=", 1)[1].strip() if "=" in first else first
            for key, roles in self.config.roles.items():
                if key.lower() in (lowered, common_name):
                    by_group.setdefault(group, []).extend(roles)
        return frozenset(r for roles in by_group.values() for r in roles), by_group

    def _entry(self, dn: str, attributes: dict[str, Any], groups: list[str]) -> DirectoryEntry:
        cfg = self.config
        rule = cfg.disabled_rule()
        language = (_first(attributes, cfg.language_attribute) or "en").lower()
        roles, _ = self.roles_of(groups)
        return DirectoryEntry(
            user=_first(attributes, cfg.name_of_user_attribute()) or dn, dn=dn,
            name=_first(attributes, cfg.full_name_attribute()) or dn, roles=roles, groups=tuple(groups),
            language="nl" if language.startswith("nl") else "en", badge=_first(attributes, cfg.badge_attribute),
            disabled=rule.disabled(_values(attributes, rule.attribute)) if rule is not None else False)

    def entry_by(self, attribute: str, value: str) -> list[DirectoryEntry]:
        """The people whose ``attribute`` is ``value`` (a badge code or a user name); raises DirectoryDown."""
        def ask(conn: ldap3.Connection) -> list[DirectoryEntry]:
            found = self._search_people(conn, f"({attribute}={escape_filter_chars(value)})")
            return [self._entry(dn, attrs, self._groups_of(conn, dn, attrs)) for dn, attrs in found]
        return self._ask(ask)

    def by_badge(self, code: str) -> list[DirectoryEntry]:
        return self.entry_by(self.config.badge_attribute, code)

    def by_user(self, user: str) -> list[DirectoryEntry]:
        return self.entry_by(self.config.name_of_user_attribute(), user)

    def everyone(self) -> list[DirectoryEntry]:
        """Every person under ``users_base`` (``takt users sync``), asked even while found down; raises
        DirectoryDown."""
        return self._ask(self._everyone, force=True)

    def _everyone(self, conn: ldap3.Connection) -> list[DirectoryEntry]:
        people = self._search_people(conn, None)
        if self.config.groups_from_attribute() is not None:
            return [self._entry(dn, attrs, self._groups_of(conn, dn, attrs)) for dn, attrs in people]
        groups = _search_all(conn, self.config.group_search_base(), self.config.group_filter,
                             ["member", "uniqueMember"])
        members: dict[str, list[str]] = {}
        for group in groups:
            if group.get("type") != "searchResEntry":
                continue
            attrs = dict(group["attributes"])
            for member in _values(attrs, "member") + _values(attrs, "uniqueMember"):
                members.setdefault(member.lower(), []).append(str(group["dn"]))
        return [self._entry(dn, attrs, members.get(dn.lower(), [])) for dn, attrs in people]

    def password_accepted(self, dn: str, password: str) -> bool:
        """Whether the directory accepts ``password`` for ``dn``: a bind as them on a connection kept for these
        checks (a first bind on a new connection costs some 40 ms more than a rebind on a kept one). Raises
        DirectoryDown."""
        if not password:  # an empty password is an anonymous bind, which "succeeds": never a second factor
            return False
        self._not_now(False)
        with self._checker_lock:
            for attempt in (1, 2):
                kept, conn = self._checker is not None, self._checker
                try:
                    if conn is None:
                        conn = self._bound(self.config.bind_dn, self.config.bind_password())
                        if conn is None:
                            raise DirectoryDown(f"the directory refused the service account {self.config.bind_dn}")
                        self._checker = conn
                    accepted = bool(conn.rebind(dn, password))
                    code = conn.result.get("result", 0) if conn.result else 0
                    if not accepted and code != 49:  # not "invalid credentials": the directory did not answer
                        raise LDAPOperationResult(result=code, description=conn.result.get("description"))
                except (LDAPException, OSError, ValueError, DirectoryDown) as exc:
                    conn, self._checker = self._checker, None
                    if conn is not None:
                        try:
                            conn.unbind()
                        except (LDAPException, OSError):
                            pass
                    if kept and attempt == 1 and not isinstance(exc, DirectoryDown | ValueError):
                        continue  # kept from an earlier logon: the directory may have restarted since
                    error = str(exc) if isinstance(exc, DirectoryDown) else f"{type(exc).__name__}: {exc}"
                    raise self._went_down(error) from exc
                self._came_up()
                return accepted
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the node's view -------------------------------------------------------------------------------------------

    @property
    def cache_seconds(self) -> float:
        return self.config.cache_hours * 3600

    def needs_password(self, user: User) -> bool:
        return user.privileged or self.config.password_for == "everyone"

    def health(self, store: Store) -> dict[str, Any]:
        """The directory's state for ``/health``: up or down (since when, why) and the age of the cache."""
        status = "unknown" if self.up is None else ("up" if self.up else "down")
        return {"status": status, "url": self.config.url,
                "down_since": self.down_since.isoformat() if self.down_since else None,
                "last_error": self.last_error if self.up is False else None,
                "last_contact": self.last_contact.isoformat() if self.last_contact else None,
                "cache_hours": self.config.cache_hours, "cache": cache_ages(store)}

    def holder_of_badge(self, store: Store, code: str, known: User | None, hashed: str | None = None) -> BadgeHolder:
        """Who holds the badge ``code`` (``hashed``: its hash; ``known``: the store's user with that hash, if any),
        asking the directory and keeping its answer; from the cache when it is down. Raises DirectoryDown when
        neither can answer."""
        try:
            entries = self.by_badge(code)
        except DirectoryDown:
            return self._from_cache(store, known)
        if len(entries) != 1:
            if known is not None:  # the badge left its former holder in the directory: ask about them anew
                try:
                    self.refresh(store, known.user)
                except DirectoryDown:
                    pass  # the badge is refused either way; their entry is asked about at the next sync
            return BadgeHolder(None, "unknown_badge" if not entries else "badge_ambiguous_in_directory")
        entry = entries[0]
        try:
            remember(store, entry, badge_hashed=hashed if entry.badge == code else None)
        except LocalUserConflict as exc:
            log.warning("directory entry not used", extra={"user": entry.user, "reason": str(exc)})
            return BadgeHolder(None, "site_file_user")
        if entry.disabled:
            log.info("directory user disabled", extra={"user": entry.user})
            return BadgeHolder(None, "user_disabled", entry.dn)
        if not entry.roles:
            return BadgeHolder(None, "no_takt_role", entry.dn)
        return BadgeHolder(user_by_name(store, entry.user), dn=entry.dn)

    def _from_cache(self, store: Store, known: User | None) -> BadgeHolder:
        found: CachedEntry | None = cached(store, known.user) if known is not None else None
        if known is None or found is None:
            raise DirectoryDown(self.last_error or "the directory cannot be reached")
        if found.disabled or not known.active:
            return BadgeHolder(None, "user_disabled", found.dn, from_cache=True)
        if found.age_s() > self.cache_seconds:
            log.warning("directory cache expired", extra={"user": known.user, "age_s": round(found.age_s())})
            raise DirectoryDown(f"the directory cannot be reached and its last word on this badge is older than "
                                f"{self.config.cache_hours:g} h")
        return BadgeHolder(known, dn=found.dn, from_cache=True)

    def second_factor(self, store: Store, holder: BadgeHolder, password: str) -> bool:
        """Whether ``password`` is the holder's directory password: asked of the directory, or (it is down, or the
        holder came from the cache) checked against the hash of the last one it accepted."""
        user = holder.user
        if user is None or holder.dn is None:
            return verify_pin(None, password)  # the same work as a wrong password
        if not holder.from_cache:
            try:
                accepted = self.password_accepted(holder.dn, password)
            except DirectoryDown:
                return verify_pin(user.pin_hash, password)
            if accepted:
                remember_password(store, user.user, password)
            return accepted
        return verify_pin(user.pin_hash, password)

    def sync_everyone(self, store: Store) -> Synced:
        """Ask the directory about everyone and keep the answers; people cached here who are gone from it are
        marked inactive (``takt users sync``, and every ``refresh_minutes`` while the node runs). Raises
        DirectoryDown."""
        entries = self.everyone()
        synced = Synced()
        present: set[str] = set()
        for entry in entries:
            if not entry.roles and cached(store, entry.user) is None:
                continue  # not a Takt user, and never was on this node
            try:
                remember(store, entry)
            except LocalUserConflict:
                synced.site_file_users.append(entry.user)
                continue
            present.add(entry.user)
            synced.people += 1
            if entry.disabled or not entry.roles:
                synced.refused.append(entry.user)
        for entry_cached in all_cached(store):
            if entry_cached.user not in present and not entry_cached.disabled:
                disable(store, entry_cached.user)
                synced.gone.append(entry_cached.user)
        if synced.gone or synced.refused:
            log.info("directory sync", extra={"people": synced.people, "refused": len(synced.refused),
                                              "gone": len(synced.gone)})
        return synced

    async def refresh_forever(self, store: Store) -> None:
        """While the node runs: :meth:`sync_everyone` at start and every ``refresh_minutes``, so that a disabled
        account's open sessions end without waiting for its next scan and ``/health`` knows whether the directory
        is up. A failure is logged (going down once) and tried again at the next round."""
        every = self.config.refresh_minutes * 60
        while every > 0:
            try:
                await asyncio.to_thread(self.sync_everyone, store)
            except DirectoryDown:
                pass  # logged when it went down; the cache answers meanwhile
            except Exception:
                log.exception("directory sync failed; tried again at the next round")
            await asyncio.sleep(every)

    def refresh(self, store: Store, user: str) -> DirectoryEntry | None:
        """Ask the directory about one cached person and keep the answer (gone from it: disabled here)."""
        entries = self.by_user(user)
        if len(entries) != 1:
            disable(store, user)
            return None
        try:
            remember(store, entries[0])
        except LocalUserConflict:
            return None
        return entries[0]
