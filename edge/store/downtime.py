"""Downtime read from the store: the machines' state history classified into stops (edge.domain.downtime), with
the people's decisions on stops (``stop_reasons``) and the work orders started during changeovers, and the
reliability figures and Pareto over them (edge.domain.reliability). Read by the downtime routes and by OEE."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import Connection, select

from edge.domain.downtime import (
    Line,
    MachineSettings,
    OrderStart,
    ReasonTree,
    Reclassified,
    Segments,
    Stop,
    classified_changes,
    classify_columns,
    columns,
    stops_of,
    tree_from_json,
)
from edge.domain.oee import Shift, ShiftOee, StateChange, oee_by_shift, shift_windows
from edge.domain.reliability import Booking, Figures, ParetoBar, book, pareto, pareto_parts, reliability
from edge.store import schema
from edge.store.oee import ALL_DAY, machines_of, production, state_changes


@dataclass(frozen=True)
class DowntimeSetup:
    """What classifying needs besides the history: the line, each machine's settings and tree, the PLC's reason
    texts per machine (code → text, from the site's state rules)."""

    line: Line = Line()
    settings: Mapping[str, MachineSettings] = field(default_factory=dict)
    default: MachineSettings = MachineSettings()
    trees: Mapping[str, ReasonTree | None] = field(default_factory=dict)
    plc_reasons: Mapping[str, Mapping[int, str]] = field(default_factory=dict)


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def central_trees(conn: Connection) -> list[ReasonTree]:
    """The reason trees the central systems sent (the latest of each name)."""
    t = schema.reason_trees
    latest: dict[str, ReasonTree] = {}
    for r in conn.execute(select(t.c.name, t.c.workstations, t.c.machine_class, t.c.definition).order_by(t.c.seq)):
        latest[r.name] = tree_from_json(r.name, r.definition, r.workstations or (), r.machine_class)
    return list(latest.values())


def decisions(conn: Connection, equipment: Sequence[str], start: datetime, end: datetime) -> list[Reclassified]:
    """People's latest decision on each stop that started in ``[start, end)`` (or before, still going then)."""
    t = schema.stop_reasons
    latest: dict[tuple[str, datetime], str] = {}
    rows = conn.execute(select(t.c.equipment, t.c.stop_start, t.c.reason).where(
        t.c.equipment.in_(list(equipment)), t.c.stop_start < end).order_by(t.c.seq))
    for r in rows:
        latest[(r.equipment, r.stop_start)] = r.reason
    return [Reclassified(eq, at, reason) for (eq, at), reason in latest.items()]


def order_starts(conn: Connection, workstations: Sequence[str], start: datetime, end: datetime) -> list[OrderStart]:
    ops = schema.ENTITY_TABLES["operations"].table
    rows = conn.execute(select(ops.c.workstation, ops.c.started_at, ops.c.work_order).where(
        ops.c.workstation.in_(list(workstations)), ops.c.started_at >= start, ops.c.started_at < end))
    return [OrderStart(r.workstation, r.started_at, r.work_order) for r in rows]


@dataclass
class Classified:
    """The classified history of some machines over a period."""

    start: datetime
    end: datetime
    segments: dict[str, Segments]
    reason_texts: list[str]
    bookings: dict[str, Booking]
    reclassified: list[Reclassified]
    changes: list[StateChange]
    order_starts: list[OrderStart]

    def stops(self, setup: DowntimeSetup, kinds: Sequence[str] | None = None) -> list[Stop]:
        lo = _ms(self.start)
        stops = stops_of(self.segments, self.reason_texts, setup.trees, setup.plc_reasons, self.reclassified,
                         self.order_starts, setup.line, kinds)
        return [s for s in stops if _ms(s.end) > lo]

    def reliability(self) -> dict[str, tuple[Figures, list[Figures]]]:
        lo, hi = _ms(self.start), _ms(self.end)
        return {name: reliability(name, seg, self.bookings[name], lo, hi) for name, seg in self.segments.items()}

    def pareto(self, machines: Sequence[str] | None = None) -> list[ParetoBar]:
        lo, hi = _ms(self.start), _ms(self.end)
        return pareto([pareto_parts(seg, self.bookings[name], lo, hi) for name, seg in self.segments.items()
                       if machines is None or name in machines])


def classified(conn: Connection, equipment: Sequence[str], setup: DowntimeSetup, start: datetime,
               end: datetime) -> Classified:
    """The machines' history up to ``end`` (from the state in effect at ``start``), classified and booked. The
    machines beside them on the line are read too (blocked and starved need them)."""
    wanted = set(equipment)
    for name in equipment:
        before, after = setup.line.around(name)
        wanted |= set(before) | set(after)
    changes = state_changes(conn, sorted(wanted), start, end)
    texts: dict[str, int] = {}
    history = columns(changes, texts)
    reason_texts = list(texts)
    segs = classify_columns(history, _ms(end), setup.settings, setup.line, reason_texts, True, setup.default)
    segs = {name: seg for name, seg in segs.items() if name in equipment}
    again = decisions(conn, equipment, start, end)
    by_machine: dict[str, dict[int, str]] = {}
    for r in again:
        by_machine.setdefault(r.equipment, {})[_ms(r.start)] = r.leaf
    bookings = {name: book(seg, reason_texts, setup.trees.get(name), setup.plc_reasons.get(name),
                           by_machine.get(name)) for name, seg in segs.items()}
    workstations = sorted({ws for m, ws in setup.line.machines.items() if m in wanted})
    return Classified(start, end, segs, reason_texts, bookings, again,
                      [ch for ch in changes if ch.equipment in segs], order_starts(conn, workstations, start, end))


def classified_workstations(conn: Connection, workstations: Sequence[str], setup: DowntimeSetup, start: datetime,
                            end: datetime) -> tuple[dict[str, list[str]], Classified]:
    machines = machines_of(conn, workstations)
    return machines, classified(conn, [m for ws in workstations for m in machines[ws]], setup, start, end)


def oee_classified(conn: Connection, workstations: Sequence[str], shifts: Sequence[Shift], zone: tzinfo,
                   start: datetime, end: datetime, setup: DowntimeSetup) -> dict[str, list[ShiftOee]]:
    """OEE per shift (edge.store.oee.oee_report) over the classified history: micro-stops and slow running as
    performance, changeovers and planned stops out of planned time, no data, starved and blocked by name."""
    windows = shift_windows(shifts or [ALL_DAY], start, end, zone)
    machines, found = classified_workstations(conn, workstations, setup, start, end)
    changes = classified_changes(found.changes, found.stops(setup))
    return {ws: oee_by_shift(ws, windows, [ch for ch in changes if ch.equipment in machines[ws]],
                             production(conn, ws, start, end)) for ws in workstations}
