"""Closing shifts: when a shift of the site's calendar has ended, its OEE per workstation is recorded as
``ShiftOeeClosed`` (command ``CloseShiftOee``) and goes to the ERP through the journal like any event.

The figures are those of ``GET /api/v1/oee`` (edge.store.oee: edge.domain.oee over the store's machine state history
and production reports). Each shift is closed under the idempotency key ``shift-oee:<workstation>:<shift>:<day>``, so running this
again (every minute in ``takt run``, or ``POST /api/v1/oee/close``) closes nothing twice; a shift whose figures
changed after it was closed (a late production report) keeps the figures it was closed with. Shifts that ended in
the last two days are looked at; a shift on which nothing was recorded (no machine state, no production) is not
closed.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain.oee import Shift, ShiftOee, shift_windows
from edge.service import IdempotencyKeyReused, Service
from edge.store import Store
from edge.store.oee import ALL_DAY, recorded_workstations
from takt.config import TaktConfig
from takt.downtime import node_oee

log = logging.getLogger("takt.shifts")
LOOKBACK = timedelta(days=2)
RATIO = Decimal("0.0001")
MINUTES = Decimal("0.001")


def workstations(conn: Connection, config: TaktConfig | None) -> list[str]:
    """The workstations OEE is reported for: the site file's, else every one with equipment or production."""
    site = config.site if config is not None else None
    if site is not None and site.workstations:
        return [w.workstation for w in site.workstations]
    return recorded_workstations(conn)


def shift_calendar(config: TaktConfig | None) -> tuple[str, list[Shift]]:
    """The site's time zone and shift calendar; without a site file or shifts in it, UTC and no shifts (then OEE
    is reported per day, edge.store.oee.ALL_DAY)."""
    site = config.site if config is not None else None
    if site is None:
        return "UTC", []
    return site.timezone, [s.shift() for s in site.shifts]


def ended_shifts(store: Store, config: TaktConfig | None, now: datetime,
                 lookback: timedelta = LOOKBACK) -> list[ShiftOee]:
    """The OEE of every whole shift per workstation that ended in ``[now - lookback, now)`` with something
    recorded on it."""
    zone_name, shifts = shift_calendar(config)
    zone = ZoneInfo(zone_name)
    start = now - lookback - timedelta(days=1)  # a day more, so no shift that ends in the lookback is clipped
    with store.engine.connect() as conn:
        known = workstations(conn, config)
        report = node_oee(conn, config, known, shifts, zone, start, now)
    out = []
    for results in report.values():
        for r in results:
            if not (now - lookback <= r.window.end < now) or r.window.start <= start:
                continue
            if r.good + r.scrap == 0 and all(x.state == "unknown" for x in r.losses):
                continue  # nothing known of this shift here
            out.append(r)
    return out


def close_command(r: ShiftOee) -> c.CloseShiftOee:
    def ratio(value: float) -> Decimal:
        return Decimal(repr(value)).quantize(RATIO)

    def minutes(value: float) -> Decimal:
        return Decimal(repr(value)).quantize(MINUTES)

    return c.CloseShiftOee(
        idempotency_key=f"shift-oee:{r.workstation}:{r.window.shift}:{r.window.day.isoformat()}", actor="takt",
        actor_roles=frozenset({"service"}), workstation=r.workstation, shift=r.window.shift, day=r.window.day,
        start=r.window.start, end=r.window.end, planned_minutes=minutes(r.planned_minutes),
        run_minutes=minutes(r.run_minutes), good=r.good, scrap=r.scrap, availability=min(ratio(r.availability),
                                                                                           Decimal(1)),
        performance=ratio(r.performance), quality=ratio(r.quality), oee=ratio(r.oee))


async def close_ended_shifts(service: Service, store: Store, config: TaktConfig | None,
                             now: datetime) -> list[dict[str, Any]]:
    """Record the shifts that ended and were not closed yet; what was closed now."""
    closed = []
    for r in await asyncio.to_thread(ended_shifts, store, config, now):
        command = close_command(r)
        try:
            recorded = await service.execute(command)
        except IdempotencyKeyReused:
            continue  # closed before with the figures it had then
        except DomainError as err:
            log.warning("shift %s of %s on %s not closed: %s", r.window.shift, r.window.day, r.workstation,
                        err.message)
            continue
        if not recorded.replayed:
            closed.append({"workstation": r.workstation, "shift": r.window.shift, "day": r.window.day.isoformat(),
                           "oee": str(command.oee)})
    return closed


def shift_ended_between(config: TaktConfig | None, after: datetime, until: datetime) -> bool:
    """Whether a shift of the calendar (a 24-hour day without one) ended in ``(after, until]``."""
    zone_name, shifts = shift_calendar(config)
    zone = ZoneInfo(zone_name)
    windows = shift_windows(shifts or [ALL_DAY], after - timedelta(days=1), until + timedelta(seconds=1), zone)
    return any(after < w.end <= until for w in windows)


async def close_shifts_forever(service: Service, store: Store, config: TaktConfig | None, interval_s: float = 60.0) -> None:
    """Close ended shifts at start and then whenever a shift has ended since the last look (checked every
    ``interval_s`` seconds; the store is read only then). A failed round is logged and tried again."""
    checked: datetime | None = None
    while True:
        now = datetime.now(UTC)
        try:
            if checked is None or shift_ended_between(config, checked, now):
                await close_ended_shifts(service, store, config, now)
            checked = now
        except Exception:
            log.exception("closing ended shifts failed; retrying")
        await asyncio.sleep(interval_s)
