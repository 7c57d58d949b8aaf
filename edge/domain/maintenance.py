"""Maintenance rules that need no state of their own: whether a stop raises a maintenance request, where a
preventive plan stands by its kind of use, and an index that answers "which plans are due" in one pass. Pure.

- A stop raises a request when its reason is one marked for maintenance, or when it lasts longer than the machine's
  threshold (:func:`stop_raises_request`). The marked reasons are the machine's reason tree's leaves flagged
  ``maintenance`` (edge.domain.downtime: handed over with the reason an operator gives, ``reason_flagged``, and as
  the machine's ``request_reasons`` for the reasons a PLC records) and the site file's
  ``maintenance.request_reasons`` of the machine.
- A plan's use since it was last done (:func:`plan_used`): days for ``calendar``, counted cycles (good + scrap
  parts) for ``cycles``, good parts for ``parts``, run hours (from the machine's ``running`` states) for
  ``run_hours``. It is due at its interval, overdue ``overdue_after_pct`` percent past it.
- :class:`DueIndex` keeps, per plan, the counter value (or the time) at which it falls due, as floats, so that the
  due check of every plan after a counter update is one comparison per plan (bench/maintenance.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from edge.domain.model import MachineUsage, MaintenancePlan, MaintenanceSetting

PLAN_KINDS: tuple[str, ...] = ("calendar", "cycles", "parts", "run_hours")
PLAN_UNITS: dict[str, str] = {"calendar": "days", "cycles": "cycles", "parts": "parts", "run_hours": "hours"}
ZERO = Decimal(0)
_HOUR = Decimal(3600)
_DAY = Decimal(86400)


def stop_raises_request(setting: MaintenanceSetting | None, reason: str | None, stopped_s: Decimal | None, *,
                        reason_flagged: bool | None = None) -> str | None:
    """Why a stop raises a maintenance request: ``reason`` (its reason is marked for maintenance), ``duration`` (it
    lasted longer than the machine's threshold), or None (it raises none).

    ``reason_flagged`` is the reason tree's ``maintenance`` flag of the stop's leaf when there is one (it then
    decides instead of the site file's list); ``stopped_s`` how long the stop lasted (None: it has just begun)."""
    flagged = reason_flagged if reason_flagged is not None else (
        setting is not None and reason is not None and reason in setting.request_reasons)
    if flagged:
        return "reason"
    if (setting is not None and setting.request_after_s is not None and stopped_s is not None
            and stopped_s > setting.request_after_s):
        return "duration"
    return None


def counter_of(kind: str, usage: MachineUsage | None, now: datetime) -> Decimal:
    """The machine's counter a plan of ``kind`` measures by, now: cycles, good parts or run hours (with the running
    interval still open). Calendar plans count days from ``last_done_at`` and have none (0)."""
    if usage is None or kind == "calendar":
        return ZERO
    if kind == "cycles":
        return usage.cycles
    if kind == "parts":
        return usage.parts
    run_s = usage.run_s
    if usage.running_since is not None and now > usage.running_since:
        run_s += Decimal(str((now - usage.running_since).total_seconds()))
    return run_s / _HOUR


def plan_used(plan: MaintenancePlan, usage: MachineUsage | None, now: datetime) -> Decimal:
    """How much of its interval ``plan`` has used since it was last done, in its unit."""
    if plan.kind == "calendar":
        return Decimal(str(max((now - plan.last_done_at).total_seconds(), 0.0))) / _DAY
    return max(counter_of(plan.kind, usage, now) - plan.usage_at_done, ZERO)


@dataclass(frozen=True, slots=True)
class PlanStatus:
    plan: str
    equipment: str
    kind: str
    unit: str
    interval: Decimal
    used: Decimal
    remaining: Decimal  # negative: past due by that much
    status: str  # ok | due | overdue
    blocks_start: bool


def overdue_at(plan: MaintenancePlan) -> Decimal:
    return plan.interval * (1 + plan.overdue_after_pct / 100)


def plan_status(plan: MaintenancePlan, usage: MachineUsage | None, now: datetime) -> PlanStatus:
    """Where ``plan`` stands now: ok, due (its interval is used up) or overdue."""
    used = plan_used(plan, usage, now)
    status = "overdue" if used >= overdue_at(plan) else "due" if used >= plan.interval else "ok"
    return PlanStatus(plan=plan.plan, equipment=plan.equipment, kind=plan.kind, unit=PLAN_UNITS[plan.kind],
                      interval=plan.interval, used=used.quantize(Decimal("0.001")),
                      remaining=(plan.interval - used).quantize(Decimal("0.001")), status=status,
                      blocks_start=plan.blocks_start)


def due_plans(plans: Iterable[MaintenancePlan], usage: Mapping[str, MachineUsage], now: datetime,
              equipment: Iterable[str] | None = None) -> list[PlanStatus]:
    """The due and overdue active plans (of ``equipment`` only, when given), most overdue first."""
    only = None if equipment is None else set(equipment)
    found = [plan_status(p, usage.get(p.equipment), now) for p in plans
             if p.active and (only is None or p.equipment in only)]
    return sorted((s for s in found if s.status != "ok"), key=lambda s: (s.remaining / s.interval, s.plan))


def blocking_plan(plans: Iterable[MaintenancePlan], usage: Mapping[str, MachineUsage], equipment: Iterable[str],
                  now: datetime) -> PlanStatus | None:
    """The first due plan of ``equipment`` that blocks starting work there, or None."""
    for s in due_plans(plans, usage, now, equipment):
        if s.blocks_start:
            return s
    return None


class DueIndex:
    """Where every plan falls due, as a float of its own measure: the counter value (cycles, good parts, run
    seconds) or, for calendar plans, the POSIX time. ``due(counters, now)`` answers which plans are due after
    counters changed with one comparison per plan; it is rebuilt only when a plan is defined or done."""

    __slots__ = ("_plans", "_thresholds", "_kinds", "_machines")

    def __init__(self, plans: Iterable[MaintenancePlan]) -> None:
        active = [p for p in plans if p.active]
        self._plans = [p.plan for p in active]
        self._machines = [p.equipment for p in active]
        self._kinds = [p.kind for p in active]
        self._thresholds = [
            (p.last_done_at + timedelta(days=float(p.interval))).timestamp() if p.kind == "calendar"
            else float((p.usage_at_done + p.interval) * (_HOUR if p.kind == "run_hours" else 1))
            for p in active]

    def due(self, counters: Mapping[str, tuple[float, float, float]], now: float) -> list[str]:
        """The plans due now. ``counters``: equipment -> (cycles, good parts, run seconds); ``now``: POSIX time."""
        out: list[str] = []
        column = {"cycles": 0, "parts": 1, "run_hours": 2}
        zero = (0.0, 0.0, 0.0)
        for plan, machine, kind, threshold in zip(self._plans, self._machines, self._kinds, self._thresholds,
                                                  strict=True):
            value = now if kind == "calendar" else counters.get(machine, zero)[column[kind]]
            if value >= threshold:
                out.append(plan)
        return out
