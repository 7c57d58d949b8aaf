"""OEE by shift from fixed data: shift windows (night shifts, weekdays, DST), availability, performance, quality and
the loss tree by downtime reason."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edge.domain.oee import Produced, Shift, StateChange, loss_tree, oee_by_shift, parse_days, shift_windows

AMS = ZoneInfo("Europe/Amsterdam")
D = Decimal
WEEKDAYS = parse_days(["mon", "tue", "wed", "thu", "fri"])
EARLY = Shift("early", time(6), time(14), WEEKDAYS)
LATE = Shift("late", time(14), time(22), WEEKDAYS)
NIGHT = Shift("night", time(22), time(6), WEEKDAYS)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_the_shift_calendar_gives_the_shifts_of_a_period_night_shifts_across_midnight() -> None:
    # Monday 2026-11-23 00:00 to Tuesday 00:00, Amsterdam (UTC+1): Sunday's night shift does not run (weekdays
    # only), Monday's early, late and the first two hours of its night shift do.
    start = datetime(2026, 11, 23, tzinfo=AMS)
    windows = shift_windows([EARLY, LATE, NIGHT], start, start + timedelta(days=1), AMS)
    assert [(w.shift, w.day, w.start, w.end) for w in windows] == [
        ("early", date(2026, 11, 23), utc(2026, 11, 23, 5), utc(2026, 11, 23, 13)),
        ("late", date(2026, 11, 23), utc(2026, 11, 23, 13), utc(2026, 11, 23, 21)),
        ("night", date(2026, 11, 23), utc(2026, 11, 23, 21), utc(2026, 11, 23, 23))]
    # Saturday: no shift; Friday's night shift runs into Saturday morning.
    saturday = datetime(2026, 11, 28, tzinfo=AMS)
    assert [(w.shift, w.day) for w in shift_windows([EARLY, NIGHT], saturday, saturday + timedelta(days=1), AMS)] == [
        ("night", date(2026, 11, 27))]


def test_a_night_shift_over_the_autumn_clock_change_lasts_nine_hours() -> None:
    sunday = Shift("night", time(22), time(6), parse_days(["sat"]))
    windows = shift_windows([sunday], datetime(2026, 10, 24, 12, tzinfo=AMS), datetime(2026, 10, 25, 12, tzinfo=AMS),
                            AMS)
    assert [(w.end - w.start) for w in windows] == [timedelta(hours=9)]


def test_availability_performance_quality_and_losses_of_one_shift() -> None:
    # Early shift 06:00-14:00 local = 05:00-13:00 UTC (480 minutes).
    window = shift_windows([EARLY], datetime(2026, 11, 23, tzinfo=AMS), datetime(2026, 11, 24, tzinfo=AMS), AMS)
    changes = [
        StateChange("PRESS-10", "down", "jam", utc(2026, 11, 23, 4, 30)),  # down since before the shift
        StateChange("PRESS-10", "running", None, utc(2026, 11, 23, 5, 30)),
        StateChange("PRESS-10", "setup", "changeover", utc(2026, 11, 23, 9)),
        StateChange("PRESS-10", "running", None, utc(2026, 11, 23, 9, 20)),
        StateChange("PRESS-10", "down", "jam", utc(2026, 11, 23, 12, 30)),
        StateChange("PRESS-10", "running", None, utc(2026, 11, 23, 13, 30)),  # after the shift
    ]
    produced = [
        Produced(utc(2026, 11, 23, 4, 59), D(99), D(0), D(6)),  # before the shift: not counted
        Produced(utc(2026, 11, 23, 8), D(30), D(2), D(6)),
        Produced(utc(2026, 11, 23, 12), D(28), D(0), D(6)),
        Produced(utc(2026, 11, 23, 13), D(5), D(0), D(6)),  # at the shift's end: the next one's
    ]
    [result] = oee_by_shift("WS-10", window, changes, produced)
    # running 05:30-09:00 (210) + 09:20-12:30 (190) = 400 of 480
    assert (result.planned_minutes, result.run_minutes) == (480.0, 400.0)
    assert result.availability == pytest.approx(400 / 480)
    assert result.performance == pytest.approx(60 * 6 / 400)  # 60 pieces at 6 ideal minutes each
    assert result.quality == pytest.approx(58 / 60)
    assert result.oee == pytest.approx((400 / 480) * (360 / 400) * (58 / 60))
    assert [(x.state, x.reason, x.minutes) for x in result.losses] == [("down", "jam", 60.0),
                                                                      ("setup", "changeover", 20.0)]
    assert loss_tree([result, result]) == {"down": {"jam": 120.0}, "setup": {"changeover": 40.0}}


def test_two_machines_at_a_workstation_are_averaged_and_unknown_time_is_a_loss() -> None:
    window = shift_windows([EARLY], datetime(2026, 11, 23, tzinfo=AMS), datetime(2026, 11, 24, tzinfo=AMS), AMS)
    changes = [StateChange("A", "running", None, utc(2026, 11, 23, 1)),
               StateChange("B", "running", None, utc(2026, 11, 23, 9))]  # B: nothing known before 09:00
    [result] = oee_by_shift("WS", window, changes, [])
    assert result.run_minutes == pytest.approx((480 + 240) / 2)
    assert [(x.state, x.minutes) for x in result.losses] == [("unknown", 120.0)]
    assert (result.performance, result.quality) == (0.0, 0.0)  # nothing made


def test_a_workstation_without_machine_data_has_its_whole_shift_unknown() -> None:
    window = shift_windows([EARLY], datetime(2026, 11, 23, tzinfo=AMS), datetime(2026, 11, 24, tzinfo=AMS), AMS)
    [result] = oee_by_shift("WS", window, [], [])
    assert (result.availability, result.oee, [(x.state, x.minutes) for x in result.losses]) == (
        0.0, 0.0, [("unknown", 480.0)])


def test_weekdays_are_checked() -> None:
    assert parse_days(["Monday", "sun"]) == frozenset({0, 6})
    with pytest.raises(ValueError, match="'funday' is not a weekday"):
        parse_days(["funday"])


def test_a_shift_end_between_two_looks_is_seen_once() -> None:
    from types import SimpleNamespace

    from takt.shift_close import shift_ended_between

    site = SimpleNamespace(timezone="Europe/Amsterdam", shifts=[SimpleNamespace(
        shift=lambda: Shift("early", time(6), time(14)))])
    config: Any = SimpleNamespace(site=site)  # a stand-in holding only the calendar the function reads
    before = datetime(2026, 11, 25, 12, 59, tzinfo=UTC)  # 13:59 in Amsterdam: the early shift runs
    after = datetime(2026, 11, 25, 13, 1, tzinfo=UTC)
    assert shift_ended_between(config, before, after)
    assert not shift_ended_between(config, after, after + timedelta(minutes=1))
    no_calendar: Any = SimpleNamespace(site=None)
    assert shift_ended_between(no_calendar, datetime(2026, 11, 25, 23, 59, tzinfo=UTC),
                               datetime(2026, 11, 26, 0, 0, tzinfo=UTC))  # no calendar: a day ends at midnight UTC
