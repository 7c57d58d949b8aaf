"""The node's scan pipeline, built once with the node's rules of who may scan what (scanners.pipeline explains them).

`scan_pipeline(service, store, scanning)` is what `takt.runtime.Node` builds at start; the API's `POST /api/v1/scans`,
the serial scanners and the cameras all scan through that one pipeline, so the same authorization serves them all:

- the roles a scan that books a command needs are those of the command's route (`takt.api.commands.command_roles`);
- a badge names a user of this node (`badge_holder`); an unknown or inactive one is refused;
- a badge scan over the API of someone other than the caller needs their PIN (`pin_is_right`) or an open page
  session of theirs; at a fixed reader a card read logs its holder on, except a privileged one or, with the site's
  `scanning.badge_pin: always`, anyone, who must hold an open page session (logged on at a page with badge and PIN).

The badge and PIN checks each sit behind one function here (`badge_holder`, `pin_is_right`) so that a change of how
badges and PINs are kept (hashed badge codes, hashed PINs) changes those two functions only.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from edge.domain.scans import LabelPatterns
from edge.service import Service
from edge.store import Store, schema
from edge.store.logons import FailedLogons, LogonLimits
from edge.store.users import User, badge_hash, user_by_badge_hash, user_by_name, verify_pin
from scanners.pipeline import BadgeHolder, ScanAuthorization, ScanPipeline, from_config


def _holder(store: Store, found: User | None) -> BadgeHolder | None:
    if found is None:
        return None
    s = schema.sessions
    with store.engine.connect() as conn:
        session = conn.execute(select(s.c.user).where(s.c.user == found.user, s.c.expires_at > datetime.now(UTC))
                               .limit(1)).first()
    return BadgeHolder(found.user, found.roles, found.active, has_session=session is not None)


def badge_holder(store: Store, code: str) -> BadgeHolder | None:
    """The person a scanned badge code names, found by the code's hash as a page logon finds them, or None."""
    return _holder(store, user_by_badge_hash(store, badge_hash(store, code)))


def holder(store: Store, user: str) -> BadgeHolder | None:
    """A user as the node knows them now: roles, active, and whether they hold an open page session."""
    return _holder(store, user_by_name(store, user))


def pin_is_right(store: Store, user: str, pin: str) -> bool:
    """The user's PIN check, as a page logon does it (edge.store.users.verify_pin against the stored hash)."""
    found = user_by_name(store, user)
    return verify_pin(found.pin_hash if found is not None and found.active else None, pin)


def logon_limits(logon: Any) -> LogonLimits:
    """The site's limits on failed logons (its `logon` section), which wrong PINs sent with badge scans count to."""
    if logon is None:
        return LogonLimits()
    return LogonLimits(**{name: getattr(logon, name) for name in LogonLimits.__dataclass_fields__})


def authorization(store: Store, scanning: Any = None, logon: Any = None) -> ScanAuthorization:
    """The node's rules for scans: the routes' roles, this store's users, sessions and failed-logon counts (the
    pages' too: a wrong PIN is a wrong PIN wherever it is typed), the site's badge setting."""
    from takt.api.commands import command_roles

    failures = FailedLogons(store, logon_limits(logon))

    def client(device: str) -> str:  # a scan has no address the node can trust more than its device's name
        return f"scan:{device}"

    async def badge(code: str) -> BadgeHolder | None:
        return await run_in_threadpool(badge_holder, store, code)

    async def user(name: str) -> BadgeHolder | None:
        return await run_in_threadpool(holder, store, name)

    async def pin_right(name: str, pin: str, device: str) -> bool:
        right = await run_in_threadpool(pin_is_right, store, name, pin)
        if right:
            await run_in_threadpool(failures.passed, client(device), name)
        else:
            await run_in_threadpool(failures.failed, client(device), name)
        return right

    async def locked_for(name: str, device: str) -> float:
        wait, _ = await run_in_threadpool(failures.locked_for, client(device), name)
        return wait

    return ScanAuthorization(command_roles=command_roles(), badge_holder=badge, user=user, pin_is_right=pin_right,
                             pin_locked_for=locked_for, badge_pin=getattr(scanning, "badge_pin", "privileged"))


def scan_pipeline(service: Service, store: Store, scanning: Any = None, logon: Any = None) -> ScanPipeline:
    """The node's one scan pipeline: the devices and label patterns of the site's `scanning:` section (none: handhelds
    only, GS1 labels only), with the node's authorization (`logon`: the site's limits on failed logons)."""
    rules = authorization(store, scanning, logon)
    if scanning is None:
        return ScanPipeline(service, {}, LabelPatterns({}), authorization=rules)
    return from_config(service, scanning, rules)
