"""Helpers for tests that talk to simulators over the wire: free ports and waiting for a condition."""
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
