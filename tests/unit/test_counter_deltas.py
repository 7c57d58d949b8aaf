"""Counter readings → parts made: counting, PLC restarts (reset to 0) and rollovers."""
from __future__ import annotations

from connectors.config import CounterRule
from connectors.mapping import counter_delta

RULE = CounterRule(tag="good", kind="good", modulus=65536, rollover_window=100)


def test_first_reading_is_a_baseline_not_production() -> None:
    assert counter_delta(None, 5000, RULE) == (0, "baseline")


def test_counting_up() -> None:
    assert counter_delta(10, 13, RULE) == (3, "count")
    assert counter_delta(10, 10, RULE) == (0, "count")


def test_a_counter_that_goes_down_was_reset_not_negative_production() -> None:
    assert counter_delta(500, 0, RULE) == (0, "reset")
    assert counter_delta(500, 7, RULE) == (7, "reset")


def test_rollover_across_the_modulus() -> None:
    assert counter_delta(65534, 3, RULE) == (5, "rollover")
    # too far for a wrap between two readings: the PLC was reset instead
    assert counter_delta(60000, 3, RULE) == (3, "reset")
    assert counter_delta(65534, 3, CounterRule(tag="g", kind="good", modulus=None)) == (3, "reset")


def test_after_a_server_restart_a_resetting_counter_counts_from_zero_even_past_the_last_reading() -> None:
    resets = CounterRule(tag="good", kind="good", resets_on_restart=True)
    assert counter_delta(5, 9, resets, restarted=True) == (9, "reset")
    assert counter_delta(5, 9, RULE, restarted=True) == (4, "count")  # a retained counter: never booked twice
