"""Helpers for tests that talk to simulators over the wire: free ports and waiting for a condition."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from simulators.ports import free_port

__all__ = ["free_port", "wait_for"]


async def wait_for(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, what: str = "condition",
                   interval: float = 0.01) -> float:
    """Poll ``condition`` until it is true; returns the seconds it took, fails the test after ``timeout``."""
    start = time.monotonic()
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
