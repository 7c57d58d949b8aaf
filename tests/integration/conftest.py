"""Fixtures for integration tests: a real node (store + writer + uvicorn on a free port) and PostgreSQL.

PostgreSQL: a test that needs it gets ``postgres_url``. If TAKT_TEST_POSTGRES_URL is set (the test
command may set it) that server is used; otherwise a throwaway cluster is started with the local
PostgreSQL binaries (initdb as the ``postgres`` user, a free port, fsync off) and removed afterwards.
"""
from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.users import save_user
from takt.api.app import create_app

TOKENS = {
    "admin": "test-admin-token-00000000",
    "operator": "test-operator-token-00000",
    "warehouse": "test-warehouse-token-0000",
    "quality": "test-quality-token-000000",
    "supervisor": "test-supervisor-token-00",
    "service": "test-service-token-000000",
    "maintenance": "test-maintenance-token-00",
}


@contextlib.asynccontextmanager
async def supervised(connector: Any, sink: Any, backoff: Any) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``connector`` under ``connectors.base.supervise`` for the ``async with`` block, then cancel it.

    The wait after the cancel is bounded: a connector that ignored the cancel fails the test, never hangs it."""
    from connectors.base import supervise

    task = asyncio.create_task(supervise(connector, sink, backoff))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningNode:
    store: Store
    service: Service
    node_id: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, role: str) -> httpx.Client:
        if role not in self.clients:
            self.clients[role] = httpx.Client(base_url=self.url, timeout=30,
                                              headers={"Authorization": f"Bearer {TOKENS[role]}"})
        return self.clients[role]

    def post(self, role: str, path: str, body: dict[str, Any], key: str | None = None,
             method: str = "POST") -> httpx.Response:
        headers = {"Idempotency-Key": key or secrets.token_hex(8)}
        return self.client(role).request(method, f"/api/v1{path}", json=body, headers=headers)

    def journal_count(self) -> int:
        return self.store.last_seq()

    def stop(self) -> None:
        for c in self.clients.values():
            c.close()
        self.server.should_exit = True
        self.thread.join(10)
        self.service.stop()
        self.store.close()


def start_node(url: str, node_id: str = "test-node", *, live_queue_size: int | None = None,
               site: Any = None) -> RunningNode:
    """Serve a node on a free port: a bare store at ``url``, or ``site``, a started ``takt.runtime.Node`` (its
    configuration, scanning devices and seeded master data). Either way the TOKENS users exist."""
    if site is not None:
        store, service, node_id, node = site.store, site.service, site.node_id, site
    else:
        store = Store(url)
        store.migrate()
        node_id = store.node_id(node_id)
    for role, token in TOKENS.items():
        save_user(store, f"{role}1", f"Test {role}", [role], token)
    if site is None:
        service = Service(store, node_id).start()

        class _Node:
            pass

        node = _Node()
        node.store, node.service, node.node_id = store, service, node_id  # type: ignore[attr-defined]
    extra = {} if live_queue_size is None else {"live_queue_size": live_queue_size}
    app = create_app(node, max_body_bytes=64_000, **extra)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return RunningNode(store, service, node_id, f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(sqlite_url(tmp_path))
    yield running
    running.stop()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL prefix (without database name)."""
    given = os.environ.get("TAKT_TEST_POSTGRES_URL")
    if given:
        yield given.rsplit("/", 1)[0]
        return
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None:
        pytest.skip("no PostgreSQL binaries here and TAKT_TEST_POSTGRES_URL is not set (scripts/test installs them)")
    base = Path(tempfile.mkdtemp(prefix="takt-pg-"))
    os.chmod(base, 0o755)
    data = base / "data"
    pwfile = base / "pw"
    password = secrets.token_hex(8)
    pwfile.write_text(password)
    shutil.chown(base, "postgres", "postgres")
    shutil.chown(pwfile, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "app", f"--pwfile={pwfile}",
                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                   check=True, capture_output=True)
    port = free_port()
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://app:{password}@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test PostgreSQL server."""
    import sqlalchemy

    name = f"takt_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
