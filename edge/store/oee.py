"""OEE by shift read from the store: the machines' state history, the production reports and the operations'
standard minutes, computed by the pure edge.domain.oee. Read by ``GET /api/v1/oee`` and by shift closing."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo
from decimal import Decimal

from sqlalchemy import Connection, and_, select

from edge.domain.oee import Produced, Shift, ShiftOee, StateChange, oee_by_shift, shift_windows
from edge.store import schema

ALL_DAY = Shift("day", time(0), time(0))  # without a shift calendar: one 24-hour shift a day


def recorded_workstations(conn: Connection) -> list[str]:
    """Every workstation that has equipment or production recorded, by name."""
    eq = schema.ENTITY_TABLES["equipment"].table
    names = {r[0] for r in conn.execute(select(eq.c.workstation).distinct())}
    names |= {r[0] for r in conn.execute(select(schema.production_reports.c.workstation).distinct())}
    return sorted(names)


def machines_of(conn: Connection, workstations: Sequence[str]) -> dict[str, list[str]]:
    """The equipment of each workstation."""
    eq = schema.ENTITY_TABLES["equipment"].table
    found: dict[str, list[str]] = {ws: [] for ws in workstations}
    for name, ws in conn.execute(select(eq.c.equipment, eq.c.workstation).where(eq.c.workstation.in_(workstations))):
        found[ws].append(name)
    return found


def state_changes(conn: Connection, equipment: Sequence[str], start: datetime, end: datetime) -> list[StateChange]:
    """The machines' state changes in ``[start, end)`` and the one in effect at ``start``."""
    h = schema.machine_state_history
    out: list[StateChange] = []
    for name in equipment:
        before = conn.execute(select(h.c.state, h.c.reason, h.c.since).where(h.c.equipment == name, h.c.since < start)
                              .order_by(h.c.since.desc(), h.c.seq.desc()).limit(1)).first()
        if before is not None:
            out.append(StateChange(name, before.state, before.reason, before.since))
        rows = conn.execute(select(h.c.state, h.c.reason, h.c.since).where(
            h.c.equipment == name, h.c.since >= start, h.c.since < end).order_by(h.c.since, h.c.seq))
        out.extend(StateChange(name, r.state, r.reason, r.since) for r in rows)
    return out


def production(conn: Connection, workstation: str, start: datetime, end: datetime) -> list[Produced]:
    """What the workstation reported made in ``[start, end)``, with the standard minutes of each operation."""
    pr, ops = schema.production_reports, schema.ENTITY_TABLES["operations"].table
    query = (select(pr.c.at, pr.c.good, pr.c.scrap, ops.c.standard_minutes)
             .select_from(pr.outerjoin(ops, and_(ops.c.work_order == pr.c.work_order,
                                                 ops.c.operation == pr.c.operation)))
             .where(pr.c.workstation == workstation, pr.c.at >= start, pr.c.at < end))
    return [Produced(r.at, r.good, r.scrap, r.standard_minutes if r.standard_minutes is not None else Decimal(0))
            for r in conn.execute(query)]


def oee_report(conn: Connection, workstations: Sequence[str], shifts: Sequence[Shift], zone: tzinfo,
               start: datetime, end: datetime) -> dict[str, list[ShiftOee]]:
    """OEE per shift of each workstation in ``[start, end)`` (without a shift calendar, one shift a day)."""
    windows = shift_windows(shifts or [ALL_DAY], start, end, zone)
    machines = machines_of(conn, workstations)
    return {ws: oee_by_shift(ws, windows, state_changes(conn, machines[ws], start, end),
                             production(conn, ws, start, end)) for ws in workstations}
