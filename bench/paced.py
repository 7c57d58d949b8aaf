"""An open-loop (wrk2-style) HTTP/1.1 load generator: requests are *scheduled* at a fixed rate and each
latency is measured from the request's scheduled time, not from when a connection was free to send it.

A closed-loop tool (wrk, or N clients each waiting for its answer) sends less when the server slows
down, so a stall delays the requests that would have seen it and the percentiles look better than
what users get ("coordinated omission"). Here a stall makes the queued requests late, and their
lateness counts. Raw asyncio streams with keep-alive connections and pre-rendered requests keep the
client's own CPU cost small (it shares the machine with the server).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class PacedResult:
    offered_per_s: float
    sent: int
    acknowledged: int  # 2xx
    failed: int  # other status or connection error
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[index]


def render_post(host: str, port: int, path: str, headers: Mapping[str, str], body: Mapping[str, object]) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(data)}", *[f"{k}: {v}" for k, v in headers.items()], "", ""]
    return "\r\n".join(lines).encode() + data


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def run_paced(host: str, port: int, make_request: Callable[[int], bytes], *, rate: float, duration: float,
                    warmup: float = 1.0, connections: int = 32) -> PacedResult:
    """Offer ``rate`` requests/s for ``warmup + duration`` seconds; report the requests scheduled after the warm-up."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes, bool] | None] = asyncio.Queue()
    result = PacedResult(offered_per_s=rate, sent=0, acknowledged=0, failed=0)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                scheduled, request, counted = item
                try:
                    writer.write(request)
                    status = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    if counted:
                        result.failed += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if counted:
                    result.latencies_ms.append((loop.time() - scheduled) * 1000)
                    if 200 <= status < 300:
                        result.acknowledged += 1
                    else:
                        result.failed += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # let the connections open
    total = int((warmup + duration) * rate)
    start = loop.time() + 0.05
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        counted = i >= warmup * rate
        result.sent += counted
        queue.put_nowait((scheduled, make_request(i), counted))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return result


def paced(host: str, port: int, make_request: Callable[[int], bytes], *, rate: float, duration: float,
          warmup: float = 1.0, connections: int = 32) -> PacedResult:
    return asyncio.run(run_paced(host, port, make_request, rate=rate, duration=duration, warmup=warmup,
                                 connections=connections))
