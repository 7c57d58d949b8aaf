"""Running the central simulator in-process: uvicorn in a thread on a free port, with a small client for the
planner routes and the fault switches (what tests and benchmarks use)."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from simulators.erp.app import ErpSimConfig, ErpSimulator
from simulators.erp.faults import FaultSettings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningErpSim:
    """A simulator serving at :attr:`url` (``http://127.0.0.1:PORT``, no trailing slash)."""

    simulator: ErpSimulator
    url: str
    port: int
    admin_token: str
    server: uvicorn.Server
    thread: threading.Thread
    _admin: httpx.Client | None = field(default=None, repr=False)

    @property
    def admin(self) -> httpx.Client:
        """An httpx client on :attr:`url` carrying the admin token."""
        if self._admin is None:
            self._admin = httpx.Client(base_url=self.url, timeout=60,
                                       headers={"Authorization": f"Bearer {self.admin_token}"})
        return self._admin

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """An admin request; raises on a non-2xx answer with the simulator's refusal in the message."""
        response = self.admin.request(method, path, json=body, params={k: v for k, v in params.items()
                                                                       if v is not None})
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def set_faults(self, **switches: Any) -> dict[str, Any]:
        """Set fault switches directly (same fields as ``POST /sim/v1/faults``: down, delay_ms, fail_next,
        drop_next, crash_after_store, reject=[{type, subject, code, message}], reset)."""
        self.simulator.faults.apply(FaultSettings.model_validate(switches))
        return self.simulator.faults.snapshot()

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
        self.server.should_exit = True
        self.thread.join(15)
        self.simulator.close()


def start_erp_sim(config: ErpSimConfig, *, host: str = "127.0.0.1", port: int | None = None) -> RunningErpSim:
    simulator = ErpSimulator(config)
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(simulator.app, host=host, port=port, log_level="warning",
                                           lifespan="off", timeout_keep_alive=30))
    thread = threading.Thread(target=server.run, name=f"erp-sim-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            simulator.close()
            raise RuntimeError(f"the ERP simulator did not start on {host}:{port}")
        time.sleep(0.01)
    return RunningErpSim(simulator, f"http://{host}:{port}", port, config.admin_token, server, thread)


@contextlib.contextmanager
def running_erp_sim(database_url: str, node_tokens: dict[str, str], admin_token: str = "erp-admin-token", *,
                    max_body_bytes: int | None = None, port: int | None = None,
                    max_ingest: int | None = None) -> Iterator[RunningErpSim]:
    """Run a simulator on ``database_url`` for the ``with`` block. ``node_tokens`` maps token -> node id.

    In process, the ``crash_after_store`` switch drops the answer's connection after the commit (once) instead of
    exiting the process."""
    config = ErpSimConfig(database_url=database_url, node_tokens=dict(node_tokens), admin_token=admin_token,
                          crash_exits_process=False, max_ingest=max_ingest)
    if max_body_bytes is not None:
        config.max_body_bytes = max_body_bytes
    running = start_erp_sim(config, port=port)
    try:
        yield running
    finally:
        running.stop()
