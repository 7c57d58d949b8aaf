"""Downtime that explains itself: reason trees, and stops classified from the machine state history. Pure.

**Reason trees.** A site (or the ERP, through the sync) gives trees of downtime reasons per workstation or machine
class: several levels (Mechanical → Conveyor → Belt jam), every leaf planned or unplanned and booked to an OEE loss
(availability, performance, quality, or ``planned``: excluded from planned time), PLC reason codes mapped onto
leaves, a text per language, and ``maintenance``: a stop on that leaf raises a maintenance request
(``raises_maintenance``; the maintenance requests themselves are built on top of it).

**Classification** is a pure function of the recorded state history (so it is the same after any restart): the
history is folded into segments of one state; every segment that is not ``running`` is a stop, classified as

- ``micro_stop``: a ``down``/``idle`` stop shorter than the machine's threshold (closed): a performance loss, never
  prompted;
- ``no_data``: ``offline`` (the connector was silent or bad beyond its timeout, or the PLC reports no state):
  unplanned, availability;
- ``changeover``: ``setup``: planned, excluded from planned time; tied to the work order started during it;
- ``starved`` / ``blocked``: the machine waits (``idle``, or ``down`` without a reason) while a machine of the
  workstation before it (starved) or after it (blocked) on the line is stopped at the moment it stopped: an
  availability loss whose cause is the neighbour, not a failure of this machine;
- ``stop``: every other stop, booked by its reason's leaf (a person's reason given on the terminal, or the PLC's
  reason code mapped onto a leaf); without a leaf: unplanned availability.

The work is done on columns (numpy) because a week of 50 machines is millions of state changes; ``classify``
takes and gives plain Python objects for the callers that have a few.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.domain.oee import RUN_STATES, StateChange

LOSSES: tuple[str, ...] = ("availability", "performance", "quality", "planned")
STATE_CODES: dict[str, int] = {"running": 0, "idle": 1, "down": 2, "setup": 3, "offline": 4}
STATE_NAMES: tuple[str, ...] = tuple(STATE_CODES)
RUNNING, IDLE, DOWN, SETUP, OFFLINE = range(5)
# The kinds of stop, in the order of their codes in the columns.
KINDS: tuple[str, ...] = ("running", "stop", "micro_stop", "no_data", "changeover", "starved", "blocked")
K_RUN, K_STOP, K_MICRO, K_NODATA, K_CHANGEOVER, K_STARVED, K_BLOCKED = range(len(KINDS))
# The loss and planned flag of the kinds a person does not decide.
AUTOMATIC_LOSS: dict[str, str] = {"micro_stop": "performance", "no_data": "availability",
                                  "changeover": "planned", "starved": "availability", "blocked": "availability"}
# Reasons whose words say the machine waited on a neighbour (the old fixed terminal reasons and PLC texts).
WAITING_REASONS = {"starved": K_STARVED, "blocked": K_BLOCKED}

assert (K_RUN, K_STOP, K_MICRO, K_NODATA, K_CHANGEOVER) == (0, 1, 2, 3, 4)  # segments() counts on these codes
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]


# --- reason trees ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReasonNode:
    """A node of a reason tree; a node without children is a leaf (a reason a stop is booked to)."""

    code: str
    labels: Mapping[str, str]  # language → text
    children: tuple[ReasonNode, ...] = ()
    planned: bool = False
    loss: str = "availability"
    maintenance: bool = False  # a stop on this reason raises a maintenance request
    plc_codes: tuple[int, ...] = ()

    @property
    def leaf(self) -> bool:
        return not self.children

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.code


@dataclass(frozen=True, slots=True)
class ReasonTree:
    """The downtime reasons of some workstations or of a machine class."""

    name: str
    roots: tuple[ReasonNode, ...]
    workstations: frozenset[str] = frozenset()
    machine_class: str | None = None
    _leaves: dict[str, tuple[ReasonNode, tuple[str, ...]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        def walk(node: ReasonNode, path: tuple[str, ...]) -> None:
            if node.leaf:
                self._leaves[node.code] = (node, path)
            for child in node.children:
                walk(child, (*path, node.code))
        for root in self.roots:
            walk(root, ())

    def leaves(self) -> list[ReasonNode]:
        return [node for node, _ in self._leaves.values()]

    def leaf(self, code: str | None) -> ReasonNode | None:
        found = self._leaves.get(code) if code is not None else None
        return found[0] if found is not None else None

    def path(self, code: str) -> tuple[str, ...]:
        """The codes of the branches above a leaf, top first."""
        found = self._leaves.get(code)
        return found[1] if found is not None else ()

    def resolve(self, recorded: str | None, plc_reasons: Mapping[int, str] | None = None) -> ReasonNode | None:
        """The leaf a recorded reason stands for: a leaf's code (a person chose it), or a PLC reason code mapped
        onto a leaf (recorded as ``alarm N``, or as the text the site's state rule gives code N)."""
        if recorded is None:
            return None
        found = self.leaf(recorded)
        if found is not None:
            return found
        code: int | None = None
        if recorded.startswith("alarm "):
            try:
                code = int(recorded[6:])
            except ValueError:
                code = None
        elif plc_reasons:
            code = next((n for n, text in plc_reasons.items() if text == recorded), None)
        if code is None:
            return None
        return next((leaf for leaf in self.leaves() if code in leaf.plc_codes), None)


def check_tree(tree: ReasonTree) -> None:
    """Raise ValueError naming what is wrong: a code twice, an unknown loss, a planned leaf not booked as planned,
    a PLC code on two leaves, a node without an English text."""
    seen: set[str] = set()
    plc: dict[int, str] = {}

    def walk(node: ReasonNode, where: str) -> None:
        if node.code in seen:
            raise ValueError(f"{where}: reason {node.code} is in tree {tree.name} twice")
        seen.add(node.code)
        if "en" not in node.labels:
            raise ValueError(f"{where}: reason {node.code} needs an English text (en)")
        if node.loss not in LOSSES:
            raise ValueError(f"{where}: loss of {node.code} is one of {', '.join(LOSSES)}, not {node.loss}")
        if node.leaf and node.planned != (node.loss == "planned"):
            raise ValueError(f"{where}: {node.code} is planned exactly when its loss is planned")
        for n in node.plc_codes:
            if n in plc:
                raise ValueError(f"{where}: PLC reason code {n} is mapped to {plc[n]} and {node.code}")
            plc[n] = node.code
        for i, child in enumerate(node.children):
            walk(child, f"{where}.children[{i}]")

    for i, root in enumerate(tree.roots):
        walk(root, f"reasons[{i}]")


def tree_from_json(name: str, definition: str, workstations: Iterable[str] = (),
                   machine_class: str | None = None) -> ReasonTree:
    """A tree from its roots as JSON (the ERP's ``reason_tree`` change); raises ValueError naming what is wrong."""
    try:
        roots = json.loads(definition)
    except ValueError as exc:
        raise ValueError(f"the reasons are not JSON: {exc}") from None

    def node(raw: Any, where: str) -> ReasonNode:
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
            raise ValueError(f"{where}: a reason needs a code")
        text = raw.get("text") or {}
        if not isinstance(text, dict):
            raise ValueError(f"{where}: text is the reason's text per language")
        planned = bool(raw.get("planned", False))
        children = raw.get("children") or []
        if not isinstance(children, list):
            raise ValueError(f"{where}: children is a list")
        codes = raw.get("plc_codes") or []
        if not isinstance(codes, list) or not all(isinstance(n, int) for n in codes):
            raise ValueError(f"{where}: plc_codes is a list of whole numbers")
        return ReasonNode(raw["code"], {str(k): str(v) for k, v in text.items()},
                          tuple(node(ch, f"{where}.children[{i}]") for i, ch in enumerate(children)), planned,
                          str(raw.get("loss") or ("planned" if planned else "availability")),
                          bool(raw.get("maintenance", False)), tuple(codes))

    if not isinstance(roots, list) or not roots:
        raise ValueError("reasons: a tree has at least one reason")
    tree = ReasonTree(name, tuple(node(r, f"reasons[{i}]") for i, r in enumerate(roots)), frozenset(workstations),
                      machine_class)
    check_tree(tree)
    return tree


def tree_for(trees: Sequence[ReasonTree], workstation: str | None, machine_class: str | None) -> ReasonTree | None:
    """The tree of a workstation (named in a tree), else of its machine class, else a tree for all (neither)."""
    for tree in trees:
        if workstation is not None and workstation in tree.workstations:
            return tree
    for tree in trees:
        if machine_class is not None and tree.machine_class == machine_class:
            return tree
    return next((t for t in trees if not t.workstations and t.machine_class is None), None)


def raises_maintenance(tree: ReasonTree | None, reason: str | None, plc_reasons: Mapping[int, str] | None = None
                       ) -> bool:
    """Whether a stop booked to ``reason`` (a leaf's code or a PLC reason mapped onto one) raises a maintenance
    request: the leaf's ``maintenance`` flag. The hook for maintenance requests from stops."""
    leaf = tree.resolve(reason, plc_reasons) if tree is not None else None
    return leaf is not None and leaf.maintenance


def maintenance_reasons(tree: ReasonTree | None, plc_reasons: Mapping[int, str] | None = None) -> tuple[str, ...]:
    """Every recorded reason that :func:`raises_maintenance` says yes to: the flagged leaves' codes, and the PLC
    codes mapped onto them as the connector records them (``alarm N``, or the text the state rule gives code N).
    The node hands them to the maintenance context as the machine's ``request_reasons`` (takt.runtime)."""
    if tree is None:
        return ()
    found: list[str] = []
    for leaf in tree.leaves():
        if not leaf.maintenance:
            continue
        found.append(leaf.code)
        for n in leaf.plc_codes:
            found.append(f"alarm {n}")
            if plc_reasons and n in plc_reasons:
                found.append(plc_reasons[n])
    return tuple(dict.fromkeys(found))


def frequent_first(tree: ReasonTree, counts: Mapping[str, int], top: int = 6) -> list[ReasonNode]:
    """The leaves most often given (``counts``: leaf code → stops), most first, at most ``top``: the terminal
    shows them on its first screen, so a frequent reason takes two taps (the stop, then the reason)."""
    leaves = [leaf for leaf in tree.leaves() if counts.get(leaf.code, 0) > 0]
    leaves.sort(key=lambda leaf: (-counts[leaf.code], leaf.code))
    return leaves[:top]


# --- classification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MachineSettings:
    """How one machine's stops are classified."""

    micro_stop_s: float = 60.0
    workstation: str | None = None
    machine_class: str | None = None


@dataclass(slots=True)
class Columns:
    """One machine's state history as columns: change times (epoch milliseconds), state codes, reason indexes into a
    shared reason table (-1: none)."""

    times: I64
    states: I8
    reasons: I32


@dataclass(slots=True)
class Segments:
    """One machine's history folded into segments of one state, each classified."""

    start: I64
    end: I64
    state: I8
    reason: I32  # the last reason recorded in the segment (-1: none)
    kind: I8  # a code of KINDS
    open_end: bool  # the last segment is still going on at the period's end


def columns(changes: Iterable[StateChange], reasons: dict[str, int]) -> dict[str, Columns]:
    """State changes as columns per machine (sorted by time); ``reasons`` (text → index) grows with new texts."""
    by_machine: dict[str, list[tuple[float, int, int]]] = {}
    for ch in changes:
        r = -1
        if ch.reason is not None:
            r = reasons.setdefault(ch.reason, len(reasons))
        by_machine.setdefault(ch.equipment, []).append((ch.since.timestamp() * 1000, STATE_CODES.get(ch.state, DOWN), r))
    out: dict[str, Columns] = {}
    for name, rows in by_machine.items():
        rows.sort(key=lambda row: row[0])
        out[name] = Columns(np.array([round(row[0]) for row in rows], dtype=np.int64),
                            np.array([row[1] for row in rows], dtype=np.int8),
                            np.array([row[2] for row in rows], dtype=np.int32))
    return out


def segments(col: Columns, end: int, micro_stop_s: float, open_end: bool = True) -> Segments:
    """Fold a machine's changes (before ``end``, epoch ms) into segments of one state and classify each on its own (micro,
    no data, changeover, stop); the line's neighbours are looked at afterwards (``neighbours``)."""
    if len(col.times) and col.times[-1] < end:  # the usual case: the history was read up to the end
        t, s, r = col.times, col.states, col.reasons
    else:
        keep_rows = col.times < end
        t, s, r = col.times[keep_rows], col.states[keep_rows], col.reasons[keep_rows]
    n = len(t)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Segments(empty, empty.copy(), np.empty(0, np.int8), np.empty(0, np.int32), np.empty(0, np.int8), open_end)
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    if first.all():  # every change a new state (the usual case): the rows are the segments
        seg_start, seg_state, seg_reason = t, s, r
    else:
        starts_at = np.flatnonzero(first)
        # the last reason recorded in each segment: the latest row with a reason in it (-1: none)
        with_reason = np.where(r >= 0, np.arange(n, dtype=np.int64), -1)
        latest = np.maximum.reduceat(with_reason, starts_at)
        seg_reason = np.where(latest >= 0, r[np.maximum(latest, 0)], -1).astype(np.int32)
        seg_start, seg_state = t[starts_at], s[starts_at]
    seg_end = np.empty_like(seg_start)
    seg_end[:-1] = seg_start[1:]
    seg_end[-1] = max(end, int(seg_start[-1]))
    # kinds by arithmetic on the state codes (several times faster than a table look-up per row): running 0 → run,
    # idle 1 / down 2 → stop, setup 3 → changeover, offline 4 → no data; a short stop becomes a micro-stop (+1)
    kind = (seg_state != RUNNING).view(np.int8).copy()
    kind += (seg_state >= SETUP).view(np.int8) * np.int8(K_CHANGEOVER - K_STOP - 1)
    kind += (seg_state == SETUP).view(np.int8)
    short = (seg_state == IDLE) | (seg_state == DOWN)
    short &= (seg_end - seg_start) < micro_stop_s * 1000
    if open_end:
        short[-1] = False  # still going on: not known yet to be short
    kind += short.view(np.int8)  # K_MICRO is K_STOP + 1
    return Segments(seg_start, seg_end, seg_state, seg_reason, kind, open_end)


def _stopped_at(neighbour: Segments, at: I64) -> npt.NDArray[np.bool_]:
    """Whether ``neighbour`` was stopped (not running, not in a micro-stop) at each moment of ``at``."""
    i = np.searchsorted(neighbour.start, at, side="right") - 1
    known = i >= 0
    kinds = np.take(neighbour.kind, np.maximum(i, 0))
    stopped: npt.NDArray[np.bool_] = known & (kinds != K_RUN) & (kinds != K_MICRO)
    return stopped


def neighbours(seg: Segments, upstream: Sequence[Segments], downstream: Sequence[Segments],
               waiting_reasons: Mapping[int, int] | None = None) -> None:
    """Mark the stops of a machine that waited on the line: starved (a machine before it was stopped when it
    stopped) or blocked (one after it was). A stop waits when the machine is ``idle``, or ``down`` without a
    reason, or its reason says it waited (``waiting_reasons``: reason index → starved/blocked kind)."""
    candidate = (seg.kind == K_STOP) & ((seg.state == IDLE) | (seg.reason < 0))
    if waiting_reasons:
        for index, kind in waiting_reasons.items():
            seg.kind[(seg.kind == K_STOP) & (seg.reason == index)] = kind
    if not candidate.any():
        return
    where = np.flatnonzero(candidate)
    at = seg.start[where]
    starved = np.zeros(len(where), dtype=bool)
    for up in upstream:
        starved |= _stopped_at(up, at)
    blocked = np.zeros(len(where), dtype=bool)
    for down in downstream:
        blocked |= _stopped_at(down, at)
    seg.kind[where[blocked]] = K_BLOCKED
    seg.kind[where[starved]] = K_STARVED  # starved wins: nothing came in


@dataclass(frozen=True, slots=True)
class Line:
    """The line's workstations in flow order and the machines at each, for blocked and starved."""

    workstations: tuple[str, ...] = ()
    machines: Mapping[str, str] = field(default_factory=dict)  # equipment → workstation

    def around(self, equipment: str) -> tuple[list[str], list[str]]:
        """The machines of the workstation before and after this machine's on the line."""
        ws = self.machines.get(equipment)
        if ws is None or ws not in self.workstations:
            return [], []
        i = self.workstations.index(ws)
        before = self.workstations[i - 1] if i > 0 else None
        after = self.workstations[i + 1] if i + 1 < len(self.workstations) else None
        return ([m for m, w in self.machines.items() if w == before],
                [m for m, w in self.machines.items() if w == after])


def classify_columns(history: Mapping[str, Columns], end: int, settings: Mapping[str, MachineSettings],
                     line: Line, reason_texts: Sequence[str] = (), open_end: bool = True,
                     default: MachineSettings = MachineSettings()) -> dict[str, Segments]:
    """Every machine's segments, classified: alone first, then against its neighbours on the line."""
    waiting = {i: WAITING_REASONS[text] for i, text in enumerate(reason_texts) if text in WAITING_REASONS}
    out = {name: segments(col, end, settings.get(name, default).micro_stop_s, open_end)
           for name, col in history.items()}
    raw = {name: Segments(s.start, s.end, s.state, s.reason, s.kind.copy(), s.open_end) for name, s in out.items()}
    for name, seg in out.items():
        before, after = line.around(name)
        neighbours(seg, [raw[m] for m in before if m in raw], [raw[m] for m in after if m in raw], waiting)
    return out


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop of a machine, classified. ``reason`` is what was recorded (a person's leaf or the PLC's reason),
    ``leaf`` the tree's leaf it is booked to."""

    equipment: str
    start: datetime
    end: datetime
    open: bool
    state: str
    kind: str
    reason: str | None
    leaf: str | None
    loss: str
    planned: bool
    maintenance: bool = False
    work_order: str | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Reclassified:
    """A supervisor booked a stop to another leaf afterwards (the stop is the machine's stop that started at
    ``start``)."""

    equipment: str
    start: datetime
    leaf: str


@dataclass(frozen=True, slots=True)
class OrderStart:
    """An operation started on a workstation: a changeover during which it started is tied to its work order."""

    workstation: str
    at: datetime
    work_order: str


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def stops_of(classified: Mapping[str, Segments], reason_texts: Sequence[str],
             trees: Mapping[str, ReasonTree | None], plc_reasons: Mapping[str, Mapping[int, str]] | None = None,
             reclassified: Iterable[Reclassified] = (), order_starts: Iterable[OrderStart] = (),
             line: Line = Line(), kinds: Iterable[str] | None = None) -> list[Stop]:
    """The stops as objects (time order per machine), booked to leaves: a supervisor's re-classification wins
    over the recorded reason. ``trees``: equipment → its tree."""
    again = {(r.equipment, round(r.start.timestamp() * 1000)): r.leaf for r in reclassified}
    starts_by_ws: dict[str, list[OrderStart]] = {}
    for o in order_starts:
        starts_by_ws.setdefault(o.workstation, []).append(o)
    wanted = {KINDS.index(k) for k in kinds} if kinds is not None else None
    out: list[Stop] = []
    for name, seg in classified.items():
        tree = trees.get(name)
        plc = (plc_reasons or {}).get(name)
        last = len(seg.start) - 1
        for i in np.flatnonzero(seg.kind != K_RUN).tolist():
            k = int(seg.kind[i])
            if wanted is not None and k not in wanted:
                continue
            start, end = int(seg.start[i]), int(seg.end[i])
            r = int(seg.reason[i])
            recorded = reason_texts[r] if r >= 0 else None
            chosen = again.get((name, start))
            leaf = tree.resolve(chosen or recorded, plc) if tree is not None else None
            kind = KINDS[k]
            if chosen is not None and leaf is not None:  # a person's decision wins over what the history suggested
                kind = KINDS[WAITING_REASONS[leaf.code]] if leaf.code in WAITING_REASONS else "stop"
            if kind == "stop":
                loss = leaf.loss if leaf is not None else "availability"
                planned = leaf.planned if leaf is not None else False
            else:
                loss = AUTOMATIC_LOSS[kind]
                planned = kind == "changeover"
            work_order = None
            if kind == "changeover":
                ws = line.machines.get(name)
                for o in starts_by_ws.get(ws or "", ()):
                    if start <= o.at.timestamp() * 1000 <= end:
                        work_order = o.work_order
            out.append(Stop(name, _moment(start), _moment(end), seg.open_end and i == last, STATE_NAMES[seg.state[i]],
                            kind, recorded, leaf.code if leaf is not None else (chosen or None),
                            loss, planned, bool(leaf is not None and leaf.maintenance), work_order))
    return out


def classify(changes: Iterable[StateChange], end: datetime, settings: Mapping[str, MachineSettings],
             line: Line = Line(), trees: Mapping[str, ReasonTree | None] | None = None,
             reclassified: Iterable[Reclassified] = (), order_starts: Iterable[OrderStart] = (),
             plc_reasons: Mapping[str, Mapping[int, str]] | None = None, open_end: bool = True,
             default: MachineSettings = MachineSettings()) -> list[Stop]:
    """The stops in machines' state changes up to ``end``, classified (see the module's text)."""
    reasons: dict[str, int] = {}
    history = columns(changes, reasons)
    texts = list(reasons)
    classified = classify_columns(history, round(end.timestamp() * 1000), settings, line, texts, open_end, default)
    return stops_of(classified, texts, trees or {}, plc_reasons, reclassified, order_starts, line)


def classified_changes(changes: Sequence[StateChange], stops: Sequence[Stop]) -> list[StateChange]:
    """The state changes with every stop in them replaced by its class, for OEE (edge.domain.oee): the state
    becomes the kind for automatic ones (``micro_stop``, ``no_data``, ``changeover``, ``starved``, ``blocked``),
    ``planned`` for a stop on a planned leaf, and the reason the leaf's code."""
    out = [ch for ch in changes if ch.state == "running"]
    for s in stops:
        if s.kind != "stop":
            state = s.kind
        elif s.planned:
            state = "planned"
        elif s.loss == "performance":
            state = "slow_running"  # a leaf booked as a performance loss: the machine runs, slowly
        else:
            state = s.state
        out.append(StateChange(s.equipment, state, s.leaf or s.reason, s.start))
    return out


# --- slow cycles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlowCycles:
    """Production reports whose pieces took longer than their ideal cycle time (beyond a tolerance) of run time."""

    reports: int  # reports looked at (each after the first, with pieces and an ideal time)
    slow: int  # of which slow
    lost_minutes: float  # run time beyond the ideal in the slow ones


def slow_cycles(changes: Sequence[StateChange], produced: Sequence[Any], tolerance: float = 0.1) -> SlowCycles:
    """Slow cycles against the ideal cycle time: for each production report (``edge.domain.oee.Produced``) the
    run time since the report before it (``running`` time of the workstation's machines, averaged as OEE does)
    per piece, against its ideal minutes per piece. Micro-stops count as run time (they are classified as such
    before: ``classified_changes``), so a report is slow when its pieces came slowly for any reason but a stop."""
    by_machine: dict[str, list[StateChange]] = {}
    for ch in changes:
        by_machine.setdefault(ch.equipment, []).append(ch)
    timelines = []
    for chs in by_machine.values():
        chs.sort(key=lambda ch: ch.since)
        times = np.array([ch.since.timestamp() for ch in chs])
        running = np.array([ch.state in RUN_STATES for ch in chs], dtype=np.float64)
        run_before = np.concatenate(([0.0], np.cumsum(running[:-1] * np.diff(times))))
        timelines.append((times, running, run_before))
    if not timelines:
        return SlowCycles(0, 0, 0.0)
    reports = sorted(produced, key=lambda p: p.at)
    if len(reports) < 2:
        return SlowCycles(0, 0, 0.0)
    at = np.array([p.at.timestamp() for p in reports])
    run = np.zeros(len(at))
    for times, running, run_before in timelines:  # run seconds up to each report
        i = np.searchsorted(times, at, side="right") - 1
        known = i >= 0
        j = np.maximum(i, 0)
        run += np.where(known, run_before[j] + running[j] * (at - times[j]), 0.0)
    run /= len(timelines)
    pieces = np.array([float(p.good + p.scrap) for p in reports])
    ideal = np.array([float(p.ideal_minutes) * 60 for p in reports]) * pieces
    took = np.diff(run)
    looked = (pieces[1:] > 0) & (ideal[1:] > 0)
    slow = looked & (took > ideal[1:] * (1 + tolerance))
    lost = float(np.sum((took - ideal[1:])[slow])) / 60
    return SlowCycles(int(looked.sum()), int(slow.sum()), round(lost, 3))
