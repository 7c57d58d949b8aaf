"""Reliability figures from the classified state history: MTBF, MTTR and availability per machine and per reason
over any period, and the Pareto of downtime reasons. Pure; the same segments as OEE (edge.domain.downtime).

Over a period, for one machine:

- a *failure* is an unplanned stop of the machine itself (kind ``stop``, on no planned leaf and no leaf booked as a
  performance loss): micro-stops (performance), waits on a neighbour (starved, blocked: the machine could run),
  changeovers and planned stops, and time without data are not failures;
- *downtime* is the time in failures (clipped to the period), *planned* the time in planned stops and
  changeovers, *no data* the time offline, *unknown* the time before the first recorded state;
- *uptime* = period − unknown − planned − no data − downtime (the machine could produce);
- MTBF = uptime / failures, MTTR = downtime / failures, availability = uptime / (uptime + downtime).

Per reason, the failures and downtime are those booked to the reason's leaf and the uptime is the machine's.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.domain.downtime import (
    K_BLOCKED,
    K_CHANGEOVER,
    K_MICRO,
    K_NODATA,
    K_RUN,
    K_STARVED,
    K_STOP,
    KINDS,
    WAITING_REASONS,
    ReasonTree,
    Segments,
)

I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class Figures:
    equipment: str
    reason: str | None  # None: the machine over all reasons
    failures: int
    downtime_s: float
    uptime_s: float
    planned_s: float = 0.0
    no_data_s: float = 0.0
    unknown_s: float = 0.0

    @property
    def mtbf_s(self) -> float | None:
        return self.uptime_s / self.failures if self.failures else None

    @property
    def mttr_s(self) -> float | None:
        return self.downtime_s / self.failures if self.failures else None

    @property
    def availability(self) -> float | None:
        total = self.uptime_s + self.downtime_s
        return self.uptime_s / total if total > 0 else None


@dataclass(slots=True)
class Booking:
    """Each segment of a machine booked: its final kind, its leaf (an index into ``leaves``, -1: none), and
    whether it is a failure or planned."""

    kind: npt.NDArray[np.int8]
    leaf: I32
    failure: npt.NDArray[np.bool_]
    planned: npt.NDArray[np.bool_]
    leaves: list[str]


def book(seg: Segments, reason_texts: Sequence[str], tree: ReasonTree | None,
         plc_reasons: Mapping[int, str] | None = None, reclassified: Mapping[int, str] | None = None) -> Booking:
    """Book a machine's segments to leaves: the recorded reason (index into ``reason_texts``) resolved on the
    tree, and a supervisor's re-classification (segment start in epoch ms → leaf code) over it."""
    nodes = tree.leaves() if tree is not None else []
    leaves = [node.code for node in nodes]
    index = {code: i for i, code in enumerate(leaves)}
    # per recorded reason (the last slot: none, -1): its leaf, and whether that leaf is planned or a performance loss
    slots = len(reason_texts) + 1
    of_reason = np.full(slots, -1, dtype=np.int32)
    planned_of = np.zeros(slots, dtype=np.bool_)
    slow_of = np.zeros(slots, dtype=np.bool_)
    if tree is not None:
        for i, text in enumerate(reason_texts):
            found = tree.resolve(text, plc_reasons)
            if found is not None:
                of_reason[i], planned_of[i], slow_of[i] = index[found.code], found.planned, found.loss == "performance"
    leaf: I32 = np.take(of_reason, seg.reason)  # -1 takes the last slot
    planned_leaf = np.take(planned_of, seg.reason)
    not_failure = planned_leaf | np.take(slow_of, seg.reason)
    kind = seg.kind
    if reclassified:
        kind = kind.copy()
        for start_ms, code in reclassified.items():
            i = int(np.searchsorted(seg.start, start_ms))
            if i < len(seg.start) and int(seg.start[i]) == start_ms and code in index and kind[i] != K_RUN:
                node = nodes[index[code]]
                leaf[i] = index[code]
                kind[i] = WAITING_REASONS.get(code, K_STOP)  # a person saw it wait on a neighbour, or stop
                planned_leaf[i] = node.planned
                not_failure[i] = node.planned or node.loss == "performance"
    stop = kind == K_STOP
    failure = stop & np.logical_not(not_failure)
    planned = (kind == K_CHANGEOVER) | (stop & planned_leaf)
    return Booking(kind, leaf, failure, planned, leaves)


def _clipped(seg: Segments, start_ms: int, end_ms: int) -> npt.NDArray[np.int64]:
    return np.clip(seg.end, start_ms, end_ms) - np.clip(seg.start, start_ms, end_ms)


def reliability(equipment: str, seg: Segments, booking: Booking, start_ms: int, end_ms: int
                ) -> tuple[Figures, list[Figures]]:
    """The machine's figures over ``[start_ms, end_ms)``, and the same per reason (most downtime first)."""
    period = max(end_ms - start_ms, 0)
    if len(seg.start) == 0:
        return Figures(equipment, None, 0, 0.0, 0.0, unknown_s=period / 1000), []
    dur = _clipped(seg, start_ms, end_ms)
    unknown = min(max(int(seg.start[0]) - start_ms, 0), period)
    # a failure counts in the period it starts in (its downtime is clipped to the period)
    starts_inside = (seg.start >= start_ms) & (seg.start < end_ms)
    failure = booking.failure
    downtime = int(dur[failure].sum())
    planned = int(dur[booking.planned].sum())
    no_data = int(dur[booking.kind == K_NODATA].sum())
    uptime = max(period - unknown - planned - no_data - downtime, 0)
    failures = int((failure & starts_inside).sum())
    total = Figures(equipment, None, failures, downtime / 1000, uptime / 1000, planned / 1000, no_data / 1000,
                    unknown / 1000)
    per_reason: list[Figures] = []
    counted = failure & starts_inside
    slots = len(booking.leaves) + 1  # the last: a failure without a leaf
    keys = np.where(booking.leaf >= 0, booking.leaf, slots - 1)
    counts = np.bincount(keys[counted], minlength=slots)
    times = np.bincount(keys[failure], weights=dur[failure], minlength=slots)
    for k in np.flatnonzero((counts > 0) | (times > 0)).tolist():
        name = booking.leaves[k] if k < slots - 1 else UNCLASSIFIED
        per_reason.append(Figures(equipment, name, int(counts[k]), float(times[k]) / 1000, uptime / 1000))
    per_reason.sort(key=lambda f: (-f.downtime_s, f.reason or ""))
    return total, per_reason


@dataclass(frozen=True, slots=True)
class ParetoBar:
    reason: str  # a leaf's code, or the kind of an automatic stop (micro_stop, starved, blocked, no_data)
    stops: int
    minutes: float
    cumulative_percent: float


def pareto_parts(seg: Segments, booking: Booking, start_ms: int, end_ms: int) -> dict[str, tuple[int, float]]:
    """A machine's unplanned lost time by reason: reason → (stops, minutes), for ``pareto``."""
    dur = _clipped(seg, start_ms, end_ms)
    lost = (booking.kind != K_RUN) & np.logical_not(booking.planned) & (dur > 0)
    n_leaves = len(booking.leaves)
    # one key per reason: the leaves, then the automatic kinds (by their code), then unclassified
    unclassified = n_leaves + len(KINDS)
    auto = np.isin(booking.kind, (K_MICRO, K_STARVED, K_BLOCKED, K_NODATA))
    key = np.where((booking.kind == K_STOP) & (booking.leaf >= 0), booking.leaf,
                   np.where(auto, n_leaves + booking.kind.astype(np.int32), unclassified))
    counts = np.bincount(key[lost], minlength=unclassified + 1)
    minutes = np.bincount(key[lost], weights=dur[lost], minlength=unclassified + 1) / 60_000
    out: dict[str, tuple[int, float]] = {}
    for k in np.flatnonzero(counts).tolist():
        reason = booking.leaves[k] if k < n_leaves else KINDS[k - n_leaves] if k < unclassified else UNCLASSIFIED
        out[reason] = (int(counts[k]), float(minutes[k]))
    return out


def pareto(parts: Sequence[Mapping[str, tuple[int, float]]]) -> list[ParetoBar]:
    """Reasons by lost minutes, most first, with the cumulative share of all lost minutes."""
    total: dict[str, tuple[int, float]] = {}
    for part in parts:
        for reason, (n, minutes) in part.items():
            had = total.get(reason, (0, 0.0))
            total[reason] = (had[0] + n, had[1] + minutes)
    ordered = sorted(total.items(), key=lambda kv: (-kv[1][1], kv[0]))
    whole = sum(m for _, (_, m) in ordered) or 1.0
    bars: list[ParetoBar] = []
    running = 0.0
    for reason, (n, minutes) in ordered:
        running += minutes
        bars.append(ParetoBar(reason, n, round(minutes, 3), round(100 * running / whole, 2)))
    return bars
