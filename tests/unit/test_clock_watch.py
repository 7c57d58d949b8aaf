"""ClockWatch: what counts as a jump of the wall clock against the steady clock (stand-in clocks: a test cannot move
the machine's clock)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from edge.clock import ClockWatch

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class Steady:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_passing_is_no_jump_however_long() -> None:
    steady = Steady()
    watch = ClockWatch(steady)
    assert watch.observe(T0) is None  # the first reading only sets the baseline
    steady.now += 86_400
    assert watch.observe(T0 + timedelta(days=1)) is None
    assert watch.jumps == 0 and watch.last_jump is None


def test_a_step_beyond_the_threshold_is_a_jump_back_or_ahead() -> None:
    steady = Steady()
    watch = ClockWatch(steady, threshold_s=1.0)
    watch.observe(T0)
    steady.now += 10
    found = watch.observe(T0 + timedelta(seconds=10 - 1.5))
    assert found is not None and found.jump_s == Decimal("-1.5") and found.wall_before == T0
    steady.now += 10
    ahead = watch.observe(T0 + timedelta(seconds=8.5 + 10 + 3600))
    assert ahead is not None and ahead.jump_s == Decimal("3600.0")
    assert watch.jumps == 2 and watch.last_jump == ahead
    steady.now += 1
    assert watch.observe(T0 + timedelta(seconds=8.5 + 10 + 3600 + 1.4)) is None  # 0.4 s: below the threshold


def test_after_a_long_quiet_spell_clock_rates_may_differ_a_little() -> None:
    steady = Steady()
    watch = ClockWatch(steady, threshold_s=1.0)
    watch.observe(T0)
    steady.now += 3600
    assert watch.observe(T0 + timedelta(seconds=3600 + 2)) is None  # 2 s in an hour: 0.06 %, slewing
    steady.now += 3600
    assert watch.observe(T0 + timedelta(seconds=7200 + 2 + 5)) is not None  # 5 s in an hour: a step


def test_status_shows_the_drift_not_yet_recorded_without_taking_a_reading() -> None:
    steady = Steady()
    watch = ClockWatch(steady)
    watch.observe(T0)
    status = watch.status(T0 + timedelta(hours=-1))
    assert status["unrecorded_drift_s"] == -3600 and status["jumps"] == 0
    assert watch.observe(T0 + timedelta(hours=-1)) is not None  # the peek did not move the baseline
