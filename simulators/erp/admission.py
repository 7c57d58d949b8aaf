"""Admission of pushed batches: at most ``limit`` ingest requests at once, refused at once past it, fairly.

A plant of many lines pushes into one central side. Its database takes a bounded number of batches at once (its
connection pool, its cores); a request past that is not queued (a queue would hold a worker and a connection per
waiting node and answer late), it is answered at once with 503 ``BUSY`` and ``Retry-After``, which the nodes honour.

Fair: a slot that frees goes to the nodes refused before (in the order they were refused) before it goes to a
node that was just served and comes straight back with its next batch, so no node starves while the fast ones keep
the slots. A free slot is kept for the first waiting node from a batch's time before its turn until it is late by
half of one; otherwise it goes to whoever asks: no slot stays idle for a node told to come much later, or for one
that is late. Each refused node is told when its turn is likely (every slot frees a batch's time after its batch
began, a free one now, then once per batch's time; its place among the waiting says which turn is its own), in whole
seconds in ``Retry-After`` (the HTTP standard's) and in milliseconds in ``Retry-After-Ms`` (as several cloud APIs
send it), which Takt nodes prefer. A waiting node that does not come back within a few batch times loses its place.

A node has one batch stored at a time: a second one while its first is in flight (a retry after a client timeout) is
answered 429 ``TOO_MANY_REQUESTS`` (it would only wait for the first behind the node's mark).

Only this bookkeeping is under a lock (microseconds); the batches themselves are stored in parallel, each node's
serialised by its own mark row in the database (:mod:`simulators.erp.ingest`).
"""
from __future__ import annotations

import math
import threading
import time
from collections import Counter, OrderedDict


class Busy(Exception):
    """No slot for this node now: come back after ``retry_after_s``."""

    def __init__(self, node: str, retry_after_s: float, waiting: int, *, own: bool = False) -> None:
        if own:
            text = f"node {node} has a batch being stored already; send the next when it is answered"
        else:
            text = f"the central side is busy: {waiting} node(s) wait for a slot"
        super().__init__(f"{text}; come back in {retry_after_s:.2f} s")
        self.node, self.retry_after_s = node, retry_after_s
        self.waiting = waiting  # nodes waiting for a slot, this one included
        # 429 Too Many Requests: this node asks for more than its one batch at a time; 503: the plant's slots are full
        self.status = 429 if own else 503
        self.code = "TOO_MANY_REQUESTS" if own else "BUSY"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after_s))),
                "Retry-After-Ms": str(max(1, round(self.retry_after_s * 1000)))}


class Admission:
    """The gate in front of ingest. ``limit`` None lets every request in (the simulator's default)."""

    def __init__(self, limit: int | None, *, min_retry_s: float = 0.05, max_retry_s: float = 30.0) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"max_ingest must be at least 1, not {limit}")
        self.limit = limit
        self.min_retry_s = min_retry_s
        self.max_retry_s = max_retry_s
        self._lock = threading.Lock()
        self._in_flight = 0
        self._starts: list[float] = []  # when each batch in flight was let in
        self._nodes: Counter[str] = Counter()  # batches in flight per node
        self._waiting: OrderedDict[str, float] = OrderedDict()  # node -> when it was told to come back
        self._service_s = 0.2  # a moving average of how long an admitted batch takes
        self.refused: Counter[str] = Counter()  # per node, since the simulator started

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self, node: str) -> float:
        """Take a slot for ``node`` (returns the monotonic start, for :meth:`leave`) or raise :class:`Busy`."""
        now = time.monotonic()
        if self.limit is None:
            with self._lock:
                self._in_flight += 1
                self._nodes[node] += 1
                self._starts.append(now)
            return now
        with self._lock:
            if self._nodes[node]:  # its own earlier batch is still being stored (a retry after a client timeout)
                self.refused[node] += 1
                raise Busy(node, min(self.max_retry_s, max(self.min_retry_s, self._service_s)), len(self._waiting),
                           own=True)
            self._forget_stale(now)
            free = self.limit - self._in_flight
            places = list(self._waiting)
            ahead = places.index(node) if node in self._waiting else len(places)
            # a slot is free and fewer nodes wait before this one than there are free slots; or the first waiting node
            # is not due within a batch's time, or is late by half of one: a free slot goes to whoever asks, it does
            # not stay idle
            first_due = next(iter(self._waiting.values()), now)
            held = bool(self._waiting) and first_due - self._service_s <= now <= first_due + self._service_s / 2
            if free > ahead or (free > 0 and not held):
                self._waiting.pop(node, None)
                self._in_flight += 1
                self._nodes[node] += 1
                self._starts.append(now)
                return now
            hint = self._turn_in(ahead, free, now)
            self._waiting[node] = now + hint
            self.refused[node] += 1
            raise Busy(node, hint, len(self._waiting))

    def leave(self, node: str, started: float) -> None:
        took = time.monotonic() - started
        with self._lock:
            self._in_flight -= 1
            self._starts.remove(started)
            self._nodes[node] -= 1
            if not self._nodes[node]:
                del self._nodes[node]
            self._service_s = 0.8 * self._service_s + 0.2 * took

    def _turn_in(self, k: int, free: int, now: float) -> float:
        """When the ``k``-th slot from now (0: the next) is likely to be this node's: each of the ``limit`` slots is
        free now (``free`` of them) or frees a service time after its batch began, and then once per service time."""
        assert self.limit is not None
        ends = sorted([start + self._service_s for start in self._starts] + [now] * free)[:self.limit]
        at = ends[k % len(ends)] + (k // len(ends)) * self._service_s if ends else now
        # batches running over the recent time (a loaded database): not "now", a quarter of a batch's time
        return min(self.max_retry_s, max(self.min_retry_s, self._service_s / 4, at - now))

    def _forget_stale(self, now: float) -> None:
        """Drop waiting nodes that did not come back in time (stopped, or gone to another central)."""
        patience = max(2.0, 5 * self._service_s)
        while self._waiting:
            node, due = next(iter(self._waiting.items()))
            if now - due <= patience:
                break
            del self._waiting[node]
