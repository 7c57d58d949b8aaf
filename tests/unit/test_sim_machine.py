"""The simulated machine model: cycles, counters with restart and rollover, alarms, process values."""
from __future__ import annotations

from simulators.machine import ALARMS, Machine, PackMLState


def test_running_machine_completes_one_part_per_cycle_and_counts_good_and_scrap() -> None:
    m = Machine(cycle_time_s=0.5, scrap_rate=0.2, seed=7)
    m.start()
    made = sum(m.advance(0.1) for _ in range(100))  # 10 s
    assert made == 20
    assert m.good + m.scrap == 20 == m.total_good + m.total_scrap
    assert 0 < m.scrap < 20


def test_an_idle_machine_makes_nothing_and_cools_down() -> None:
    m = Machine(cycle_time_s=0.1)
    m.start()
    m.advance(60)
    hot = m.temperature
    m.stop()
    assert m.advance(60) == 0
    assert m.temperature < hot
    assert m.snapshot().state == PackMLState.STOPPED


def test_restart_resets_the_plc_counters_but_not_true_production() -> None:
    m = Machine(scrap_rate=0.0)
    m.produce(12)
    m.restart()
    m.produce(3)
    assert (m.good, m.total_good) == (3, 15)


def test_counters_wrap_at_their_width() -> None:
    m = Machine(scrap_rate=0.0, counter_bits=16)
    m.set_counters(65534, 0)
    m.produce(3)
    assert m.good == 1
    assert m.total_good == 3


def test_alarms_abort_the_machine_with_a_reason_code_until_cleared() -> None:
    m = Machine(cycle_time_s=0.1, alarm_rate=1.0, seed=3)
    m.start()
    m.advance(0.1)
    assert m.state == PackMLState.ABORTED and m.alarm in ALARMS
    assert m.advance(10) == 0
    m.start()  # refused while the alarm stands
    assert m.state == PackMLState.ABORTED
    m.clear_alarm()
    m.start()
    assert m.snapshot().state == PackMLState.EXECUTE


def test_same_seed_same_run() -> None:
    a, b = Machine(scrap_rate=0.3, seed=5), Machine(scrap_rate=0.3, seed=5)
    a.produce(50)
    b.produce(50)
    assert a.snapshot() == b.snapshot()
