"""Exponential backoff with jitter, shared by everything that retries a link (connectors, the sync)."""
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
