"""What the simulated PLCs share: task helpers, and restarting or freezing a PLC."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class SimulatedPlc:
    """A simulated PLC's life cycle beside its protocol: ``start``/``stop`` are the protocol's; ``restart`` is a PLC
    restart (connections drop, the counters count from 0 again, the PLC answers again); ``freeze`` stops the values
    from updating while the machine goes on producing."""

    machine: Any  # simulators.machine.Machine
    restarts: int
    frozen: bool

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def _restarting(self) -> None:
        """What else a restart resets (the server's start time, ...)."""

    async def restart(self, *, reset_counters: bool = True, downtime_s: float = 0.0) -> None:
        await self.stop()
        self._restarting()
        if reset_counters:
            self.machine.restart()
        if downtime_s:
            await asyncio.sleep(downtime_s)
        self.restarts += 1
        await self.start()

    def freeze(self, frozen: bool = True) -> None:
        self.frozen = frozen
