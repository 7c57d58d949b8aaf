"""Exponential backoff with jitter for the unbounded restarts of supervised tasks (connectors, the sync daemon).

Not a retry policy: a supervised task is started again for as long as the node runs, and its backoff starts over
once a run got through (``reset``), which a bounded retry of one operation has no use for. Bounded retries use
:class:`edge.retry.RetryPolicy`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    """Exponential backoff with jitter: ``initial``, doubling, capped at ``maximum`` seconds."""

    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0
    _next: float = 0.0

    def next(self) -> float:
        delay = self._next or self.initial
        self._next = min(delay * self.factor, self.maximum)
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self._next = 0.0
