"""A simulated production machine: cycle-based, PackML-like states, good/scrap counters, alarms, process values.

Pure and deterministic (a seeded random generator, time passed in by the caller): the OPC UA and Modbus
simulators wrap one of these and serve its ``snapshot()``. ``total_good``/``total_scrap`` are the machine's
true production since it was built; ``good``/``scrap`` are the PLC's counters, which a restart resets to 0 and
which wrap at ``counter_bits`` like a real PLC word.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from enum import IntEnum


class PackMLState(IntEnum):
    """PackML (ISA-TR88.00.02) state numbers."""

    UNDEFINED = 0
    CLEARING = 1
    STOPPED = 2
    STARTING = 3
    IDLE = 4
    SUSPENDED = 5
    EXECUTE = 6
    STOPPING = 7
    ABORTING = 8
    ABORTED = 9
    HOLDING = 10
    HELD = 11
    UNHOLDING = 12
    SUSPENDING = 13
    UNSUSPENDING = 14
    RESETTING = 15
    COMPLETING = 16
    COMPLETE = 17


# Alarm reason codes the simulated machine raises (a real PLC's alarm word documents its own).
ALARMS: dict[int, str] = {
    101: "jam",
    102: "material starved",
    103: "safety door open",
    104: "overtemperature",
    201: "tool change",
}


@dataclass(frozen=True)
class Snapshot:
    """What the machine's PLC shows at one moment."""

    state: int
    alarm: int
    good: int
    scrap: int
    temperature: float
    pressure: float
    cycles: int


class Machine:
    """A machine that completes one part every ``cycle_time_s`` while in EXECUTE.

    Each completed part is scrap with probability ``scrap_rate``. ``alarm_rate`` is the chance per cycle of a
    random alarm (the machine then aborts until ``clear_alarm``); 0 keeps the machine running.
    """

    def __init__(self, *, cycle_time_s: float = 1.0, scrap_rate: float = 0.05, alarm_rate: float = 0.0,
                 counter_bits: int = 32, ambient_c: float = 22.0, working_c: float = 65.0, seed: int = 1) -> None:
        if cycle_time_s <= 0:
            raise ValueError("cycle_time_s must be positive")
        self.cycle_time_s = cycle_time_s
        self.scrap_rate = scrap_rate
        self.alarm_rate = alarm_rate
        self.counter_modulus = 1 << counter_bits
        self.ambient_c = ambient_c
        self.working_c = working_c
        self._random = random.Random(seed)
        self.state = PackMLState.IDLE
        self.alarm = 0
        self.good = 0
        self.scrap = 0
        self.total_good = 0
        self.total_scrap = 0
        self.cycles = 0
        self.temperature = ambient_c
        self.pressure = 1.0
        self._progress = 0.0

    # --- commands (what an operator or the PLC program does) ---------------------------------------

    def start(self) -> None:
        if self.alarm == 0:
            self.state = PackMLState.EXECUTE

    def stop(self) -> None:
        self.state = PackMLState.STOPPED
        self._progress = 0.0

    def hold(self) -> None:
        self.state = PackMLState.HELD

    def suspend(self) -> None:
        """Starved or blocked: waiting for material, not faulty."""
        self.state = PackMLState.SUSPENDED

    def raise_alarm(self, code: int) -> None:
        self.alarm = code
        self.state = PackMLState.ABORTED
        self._progress = 0.0

    def clear_alarm(self) -> None:
        self.alarm = 0
        self.state = PackMLState.IDLE

    def restart(self) -> None:
        """A PLC restart: the counters start again from 0 (true production is kept), state back to IDLE."""
        self.good = 0
        self.scrap = 0
        self.alarm = 0
        self.state = PackMLState.IDLE
        self._progress = 0.0

    def set_counters(self, good: int, scrap: int) -> None:
        """Preset the PLC counters (e.g. near the top of their range, to see them roll over)."""
        self.good = good % self.counter_modulus
        self.scrap = scrap % self.counter_modulus

    # --- time ----------------------------------------------------------------------------------

    def advance(self, seconds: float) -> int:
        """Let ``seconds`` pass; returns the number of parts completed."""
        made = 0
        if self.state == PackMLState.EXECUTE:
            self._progress += seconds / self.cycle_time_s
            while self._progress >= 1.0 and self.state == PackMLState.EXECUTE:
                self._progress -= 1.0
                self._complete_part()
                made += 1
        self._process_values(seconds)
        return made

    def produce(self, parts: int) -> None:
        """Complete ``parts`` cycles at once, whatever the state (tests drive production exactly this way)."""
        for _ in range(parts):
            self._complete_part()

    def _complete_part(self) -> None:
        self.cycles += 1
        if self._random.random() < self.scrap_rate:
            self.scrap = (self.scrap + 1) % self.counter_modulus
            self.total_scrap += 1
        else:
            self.good = (self.good + 1) % self.counter_modulus
            self.total_good += 1
        if self.alarm_rate > 0 and self._random.random() < self.alarm_rate:
            self.raise_alarm(self._random.choice(list(ALARMS)))

    def _process_values(self, seconds: float) -> None:
        target = self.working_c if self.state == PackMLState.EXECUTE else self.ambient_c
        approach = min(1.0, seconds / 30.0)  # first-order lag, ~30 s time constant
        self.temperature += (target - self.temperature) * approach + self._random.gauss(0.0, 0.05)
        base = 6.0 if self.state == PackMLState.EXECUTE else 1.0
        self.pressure = base + self._random.gauss(0.0, 0.02)

    def snapshot(self) -> Snapshot:
        return Snapshot(state=int(self.state), alarm=self.alarm, good=self.good, scrap=self.scrap,
                        temperature=round(self.temperature, 3), pressure=round(self.pressure, 4), cycles=self.cycles)
