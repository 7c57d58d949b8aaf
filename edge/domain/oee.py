"""OEE by shift: availability, performance and quality per workstation per shift, and the loss tree. Pure.

- The shift calendar names shifts by their local start and end time and weekdays; a shift that ends at or before
  its start runs past midnight. ``shift_windows`` turns it into the shifts in a period (clipped to the period).
- Planned time is the shift's time less planned downtime: the time a workstation's machines were in a state of
  ``PLANNED_DOWNTIME`` (``maintenance``: a technician works on the machine; ``changeover``; ``planned``), which is no
  loss. Run time is the
  time a workstation's machines were ``running`` (with several machines, their times are averaged). Every other state is a loss, booked under its state and reason: the loss
  tree. Time before the first known state is booked as ``unknown``.
- Performance = ideal time of what was made (standard minutes per piece × (good + scrap)) / run time.
  Quality = good / (good + scrap). OEE = availability × performance × quality. A production report counts in the
  shift its time falls in.
- Stops classified from the history (edge.domain.downtime.classified_changes) come in as states of their own:
  ``micro_stop`` and ``slow_running`` count as run time (their loss shows in performance), ``changeover`` and
  ``planned`` are planned downtime (above); the rest are availability losses.
  ``slow_cycle_minutes`` is the rest of the performance loss: run time that is neither ideal time nor micro-stops.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

# Machine states that are planned downtime: out of the planned time, never a loss (a technician's maintenance, a
# changeover or setup, a stop booked to a planned reason).
PLANNED_DOWNTIME: frozenset[str] = frozenset({"maintenance", "changeover", "planned"})
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = Decimal(0)
RUN_STATES = frozenset({"running", "micro_stop", "slow_running"})  # run time (their loss is in performance)


@dataclass(frozen=True, slots=True)
class Shift:
    name: str
    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))  # 0 = Monday


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    shift: str
    day: date  # the local date the shift starts on
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class StateChange:
    equipment: str
    state: str
    reason: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class Produced:
    """A production report at a workstation, with the operation's ideal minutes per piece."""

    at: datetime
    good: Decimal
    scrap: Decimal
    ideal_minutes: Decimal


@dataclass(frozen=True, slots=True)
class Loss:
    state: str
    reason: str | None
    minutes: float


@dataclass(frozen=True, slots=True)
class ShiftOee:
    workstation: str
    window: ShiftWindow
    planned_minutes: float
    run_minutes: float
    ideal_minutes: float
    good: Decimal
    scrap: Decimal
    losses: tuple[Loss, ...] = field(default=())
    planned_downtime_minutes: float = 0.0  # out of the shift's time: maintenance, changeovers, planned stops

    @property
    def availability(self) -> float:
        return self.run_minutes / self.planned_minutes if self.planned_minutes > 0 else 0.0

    @property
    def performance(self) -> float:
        return self.ideal_minutes / self.run_minutes if self.run_minutes > 0 else 0.0

    @property
    def quality(self) -> float:
        made = self.good + self.scrap
        return float(self.good / made) if made > 0 else 0.0

    @property
    def oee(self) -> float:
        return self.availability * self.performance * self.quality

    @property
    def micro_stop_minutes(self) -> float:
        return sum(x.minutes for x in self.losses if x.state == "micro_stop")

    @property
    def slow_cycle_minutes(self) -> float:
        """Run time lost to cycles slower than the ideal (neither made at ideal speed nor in micro-stops)."""
        return max(0.0, self.run_minutes - self.ideal_minutes - self.micro_stop_minutes)


def shift_windows(shifts: Sequence[Shift], start: datetime, end: datetime, zone: tzinfo) -> list[ShiftWindow]:
    """The shifts that overlap ``[start, end)``, clipped to it, in time order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end need a time zone")
    found: list[ShiftWindow] = []
    first = start.astimezone(zone).date() - timedelta(days=1)  # a night shift of the day before runs into start
    last = end.astimezone(zone).date()
    day = first
    while day <= last:
        for s in shifts:
            if day.weekday() not in s.days:
                continue
            # in UTC: arithmetic on datetimes sharing one tzinfo is wall-clock time, wrong across a DST change
            opens = datetime.combine(day, s.start, zone).astimezone(UTC)
            closes = datetime.combine(day + timedelta(days=1) if s.end <= s.start else day, s.end,
                                      zone).astimezone(UTC)
            lo, hi = max(opens, start.astimezone(UTC)), min(closes, end.astimezone(UTC))
            if lo < hi:
                found.append(ShiftWindow(s.name, day, lo, hi))
        day += timedelta(days=1)
    found.sort(key=lambda w: (w.start, w.shift))
    return found


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60.0


def _timeline(changes: Sequence[StateChange]) -> tuple[list[datetime], list[StateChange]]:
    ordered = sorted(changes, key=lambda ch: ch.since)
    return [ch.since for ch in ordered], ordered


def _state_minutes(times: list[datetime], ordered: list[StateChange], lo: datetime,
                   hi: datetime) -> dict[tuple[str, str | None], float]:
    """Minutes per (state, reason) of one machine in ``[lo, hi)``."""
    spent: dict[tuple[str, str | None], float] = {}
    i = bisect_right(times, lo) - 1  # the change in effect at lo (-1: none known yet)
    at = lo
    while at < hi:
        until = times[i + 1] if i + 1 < len(times) else hi
        until = min(until, hi)
        if until > at:
            key = ("unknown", None) if i < 0 else (ordered[i].state, ordered[i].reason)
            spent[key] = spent.get(key, 0.0) + _minutes(until - at)
        at = until
        i += 1
    return spent


def oee_by_shift(workstation: str, windows: Sequence[ShiftWindow], changes: Iterable[StateChange],
                 produced: Iterable[Produced]) -> list[ShiftOee]:
    """OEE of ``workstation`` in each shift window, from its machines' state changes and its production reports."""
    by_machine: dict[str, list[StateChange]] = {}
    for ch in changes:
        by_machine.setdefault(ch.equipment, []).append(ch)
    timelines = [_timeline(chs) for _, chs in sorted(by_machine.items())]
    reports = sorted(produced, key=lambda p: p.at)
    report_times = [p.at for p in reports]
    out: list[ShiftOee] = []
    for w in windows:
        planned = _minutes(w.end - w.start)
        spent: dict[tuple[str, str | None], float] = {}
        if timelines:
            for times, ordered in timelines:
                for key, minutes in _state_minutes(times, ordered, w.start, w.end).items():
                    spent[key] = spent.get(key, 0.0) + minutes / len(timelines)
        else:
            spent[("unknown", None)] = planned
        run = sum(m for (state, _), m in spent.items() if state in RUN_STATES)
        downtime = sum(m for (state, _), m in spent.items() if state in PLANNED_DOWNTIME)
        planned = max(planned - downtime, 0.0)
        lo, hi = bisect_left(report_times, w.start), bisect_left(report_times, w.end)
        good = scrap = ZERO
        ideal = 0.0
        for p in reports[lo:hi]:
            good += p.good
            scrap += p.scrap
            ideal += float(p.ideal_minutes * (p.good + p.scrap))
        losses = tuple(sorted((Loss(state, reason, round(m, 3)) for (state, reason), m in spent.items()
                               if state != "running" and state not in PLANNED_DOWNTIME),
                              key=lambda x: (-x.minutes, x.state, x.reason or "")))
        out.append(ShiftOee(workstation, w, planned, run, ideal, good, scrap, losses, round(downtime, 3)))
    return out


def loss_tree(results: Iterable[ShiftOee]) -> dict[str, dict[str, float]]:
    """Lost minutes by state, then by reason (``-`` for none), over several shifts."""
    tree: dict[str, dict[str, float]] = {}
    for r in results:
        for loss in r.losses:
            branch = tree.setdefault(loss.state, {})
            key = loss.reason or "-"
            branch[key] = round(branch.get(key, 0.0) + loss.minutes, 3)
    return tree


def parse_days(days: Iterable[str]) -> frozenset[int]:
    """``["mon", "tue"]`` -> {0, 1}; raises ValueError naming a day that is not one."""
    out = set()
    for d in days:
        key = d.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"{d!r} is not a weekday (mon, tue, wed, thu, fri, sat, sun)")
        out.add(WEEKDAYS.index(key))
    return frozenset(out)
