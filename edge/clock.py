"""Watching the node's wall clock against a steady clock: a jump (NTP stepping it, an admin setting it, an RTC
that lost its time) is found between two readings and recorded once.

The node stamps what it records with wall time (UTC), because that is what the plant and the ERP read. Ordering and
idempotency never depend on it (the journal's ``seq`` and the commands' idempotency keys do), but a duration taken
as the difference of two wall times is off by any jump in between. ``ClockWatch`` compares how far the wall clock
moved with how far the steady clock moved between two readings (``CLOCK_BOOTTIME`` on Linux: it keeps counting
through a suspend, so a suspended machine does not look like a jump ahead; elsewhere ``time.monotonic``); a
difference beyond ``threshold_s`` is a jump. The service (``edge.service``) then records a ``ClockJumped`` event
before the batch that found it, which moves the open labour clock-ons and machine states onto the new time line
(``edge.domain.plant.evolve``) so their durations stay the time that really passed, and flags the events that close
them (``clock_jump_s``); it logs the jump once and ``/health`` and ``takt doctor`` show it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

DEFAULT_THRESHOLD_S = 1.0  # NTP slews small errors and steps from 0.128 s; a step of a second is a jump worth noting
RATE_TOLERANCE = 0.001  # NTP slews at most 500 ppm, and both clocks follow its frequency corrections on Linux


def steady_seconds() -> float:
    """A clock that never jumps and counts through a suspend (Linux ``CLOCK_BOOTTIME``), in seconds."""
    return time.clock_gettime(BOOTTIME) if BOOTTIME is not None else time.monotonic()


BOOTTIME: int | None = getattr(time, "CLOCK_BOOTTIME", None)


@dataclass(frozen=True)
class ClockJump:
    jump_s: Decimal  # + the wall clock leapt ahead, - it went back (beyond what the steady clock moved)
    wall_before: datetime  # the wall clock at the reading before
    wall_after: datetime  # the wall clock at the reading that found the jump

    def as_dict(self) -> dict[str, object]:
        return {"jump_s": float(self.jump_s), "wall_before": self.wall_before.isoformat(),
                "wall_after": self.wall_after.isoformat()}


class ClockWatch:
    """Finds jumps of the wall clock between readings (``observe``), counts them and keeps the last one."""

    def __init__(self, steady: Callable[[], float] = steady_seconds, threshold_s: float = DEFAULT_THRESHOLD_S) -> None:
        self.steady = steady
        self.threshold_s = threshold_s
        self.jumps = 0
        self.last_jump: ClockJump | None = None
        self._lock = threading.Lock()
        self._wall: datetime | None = None
        self._steady = 0.0

    def observe(self, wall: datetime) -> ClockJump | None:
        """Take a reading of the wall clock (with the steady clock now); the jump since the last reading, if any."""
        steady = self.steady()
        with self._lock:
            before, before_steady = self._wall, self._steady
            self._wall, self._steady = wall, steady
            if before is None:
                return None
            elapsed = steady - before_steady
            jump = (wall - before).total_seconds() - elapsed
            # after a long quiet spell a little more: two clocks that tick at rates 0.1 % apart are not a jump
            if abs(jump) < max(self.threshold_s, RATE_TOLERANCE * abs(elapsed)):
                return None
            found = ClockJump(Decimal(str(round(jump, 3))), before, wall)
            self.jumps += 1
            self.last_jump = found
            return found

    def drift_s(self, wall: datetime) -> float:
        """How far the wall clock has moved off the steady clock since the last reading (without taking one)."""
        steady = self.steady()
        with self._lock:
            if self._wall is None:
                return 0.0
            return (wall - self._wall).total_seconds() - (steady - self._steady)

    def status(self, wall: datetime) -> dict[str, object]:
        """For ``/health``: the jumps found since the node started, the last one, and the drift not yet recorded."""
        return {"jumps": self.jumps, "last_jump": self.last_jump.as_dict() if self.last_jump else None,
                "unrecorded_drift_s": round(self.drift_s(wall), 3), "threshold_s": self.threshold_s}
