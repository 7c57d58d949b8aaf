"""The HTTP probe: a bare FastAPI + uvicorn app doing the durable part of a command without the domain, the baseline
of ``bench.foundation``'s HTTP figures. ``python -m bench.probe --port N --data-dir DIR``.

What one ``POST /api/v1/stock/moves`` costs here is what any Python web service with the node's durability promise
costs on this host: bearer token check, ``Idempotency-Key`` check, one ``model_validate_json`` of the same body,
then the request waits for its row (key + payload) to be committed by one writer thread that group-commits
everything queued meanwhile into SQLite (WAL, ``synchronous=FULL``), as ``edge.service`` does; a key seen before
is answered as a replay. The answer is a 201 with a small JSON body. No commands, no decisions, no state, no journal
encoding: the ratio node / probe is what the domain and the node's layers cost, on any machine.

The process model is the node's (``takt.runtime.serve``): one process, one uvicorn worker with the same settings
(uvloop and httptools when installed, no access log), the writer a thread beside the event loop. The endpoint reads
the request itself rather than through FastAPI's dependency layer, as the node's command routes do
(``takt.api.commands``), so that the probe is no slower than the lean way to write it.
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import queue
import sqlite3
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from bench.node import ADMIN_TOKEN, NodeProcess

PATH = "/api/v1/stock/moves"
MAX_BATCH = 1000


class Writer:
    """One thread owns the SQLite connection; callers queue (key, payload) and await the commit of their batch."""

    def __init__(self, db_file: Path) -> None:
        self.db_file = db_file
        self._queue: queue.SimpleQueue[tuple[str, str, asyncio.AbstractEventLoop, asyncio.Future[bool]] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="probe-writer", daemon=True)

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    async def record(self, key: str, payload: str) -> bool:
        """True when this request recorded the row, False when the key was recorded before (a replay)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put((key, payload, loop, future))
        return await future

    def _run(self) -> None:
        db = sqlite3.connect(self.db_file, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS command_log (idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL, "
                   "recorded_at REAL NOT NULL)")
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop_after = False
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop_after = True
                        break
                    batch.append(item)
                now = time.time()
                outcomes: list[bool | BaseException] = []
                try:
                    db.execute("BEGIN IMMEDIATE")
                    for key, payload, _, _ in batch:
                        cursor = db.execute("INSERT OR IGNORE INTO command_log VALUES (?, ?, ?)", (key, payload, now))
                        outcomes.append(cursor.rowcount == 1)
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    outcomes = [exc] * len(batch)
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
                for (_, _, loop, future), outcome in zip(batch, outcomes, strict=True):
                    by_loop.setdefault(loop, []).append((future, outcome))
                for loop, answers in by_loop.items():
                    loop.call_soon_threadsafe(_settle, answers)
                if stop_after:
                    return
        finally:
            db.close()


def _settle(answers: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, outcome in answers:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class Move(BaseModel):
    """The body of a stock move, as the node's ``MoveRequest`` takes it."""

    model_config = ConfigDict(extra="forbid")
    lot: str
    from_bin: str
    to_bin: str
    quantity: Decimal


def create_app(writer: Writer) -> FastAPI:
    expected = f"Bearer {ADMIN_TOKEN}".encode()
    app = FastAPI(title="takt bench probe", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PATH)
    async def move(request: Request) -> JSONResponse:
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return JSONResponse({"code": "UNAUTHORIZED"}, status_code=401)
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"code": "IDEMPOTENCY_KEY_MISSING"}, status_code=400)
        try:
            body = Move.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"code": "INVALID", "message": str(exc)}, status_code=422)
        try:
            recorded = await writer.record(key, body.model_dump_json())
        except sqlite3.Error as exc:
            return JSONResponse({"code": "STORE_UNAVAILABLE", "message": str(exc)}, status_code=503)
        headers = None if recorded else {"Idempotent-Replayed": "true"}
        return JSONResponse({"idempotency_key": key, "command": "MoveStock", "replayed": not recorded},
                            status_code=201, headers=headers)

    return app


class ProbeProcess(NodeProcess):
    """``python -m bench.probe`` as a child process, started, stopped and killed as the node is."""

    what = "the probe"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.probe", "--port", str(self.port), "--data-dir", str(self.data_dir)]


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    writer = Writer(args.data_dir / "probe.sqlite").start()
    try:
        config = uvicorn.Config(create_app(writer), host=args.host, port=args.port, log_level="warning", workers=1,
                                access_log=False, lifespan="on")
        uvicorn.Server(config).run()
    finally:  # uvicorn re-raises SIGTERM after its shutdown: this runs on Ctrl+C; either way every answer was durable
        writer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
