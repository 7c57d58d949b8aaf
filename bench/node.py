"""A Takt demo node as a child process, for benchmarks and crash tests: start, wait until healthy, stop or kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from simulators.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "demo-admin-token-0000000000"  # the demo configuration's admin (public, demo only)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class NodeProcess:
    """``python -m takt.cli demo --port N --data-dir DIR`` in its own process group (``command`` says what runs)."""

    what = "the node"

    def __init__(self, data_dir: Path, port: int | None = None, log_file: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.log_file = log_file or self.data_dir / "node.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """What runs in the child process (started in the project root)."""
        return [sys.executable, "-m", "takt.cli", "demo", "--port", str(self.port), "--data-dir", str(self.data_dir),
                "--log-level", "warning", "--no-plant"]  # the simulated machines would load the node under test

    def start(self, timeout: float = 60.0) -> NodeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.what} exited with {self.proc.returncode}; see {self.log_file}:\n"
                                   + self.log_file.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.what} did not become healthy within {timeout} s; see {self.log_file}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class CentralProcess(NodeProcess):
    """The central ERP simulator in a process of its own (``takt sim erp``, SQLite in ``data_dir``, niced), as a
    site's node syncs with a central system elsewhere: the demo's simulator in the node's process would share its
    GIL."""

    what = "the central ERP simulator"
    node_token = "bench-sync-token-0000000000"
    admin_token = "bench-central-admin-0000000"

    def __init__(self, data_dir: Path, node_id: str, port: int | None = None) -> None:
        super().__init__(data_dir, port, data_dir / "central.log")
        self.node_id = node_id

    def command(self) -> list[str]:
        # at the lowest CPU priority: a plant's central system runs on a machine of its own, not on the node's cores
        # beside the load generator; niced, it takes only what the node and the load leave
        return ["nice", "-n", "19", sys.executable, "-m", "takt.cli", "sim", "erp", "--port", str(self.port),
                "--database-url", f"sqlite:///{self.data_dir / 'central.sqlite'}",
                "--node-token", f"{self.node_id}={self.node_token}", "--admin-token", self.admin_token]


class SiteNodeProcess(NodeProcess):
    """The demo node with a ``sync`` section towards ``central`` (a :class:`CentralProcess`): the node a site
    deploys, recording and pushing to a central system in another process."""

    def __init__(self, data_dir: Path, central: CentralProcess, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self.central = central

    def command(self) -> list[str]:
        import yaml

        site = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
        site["sync"] = {"central_url": self.central.base, "token": self.central.node_token}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        site_file = self.data_dir / "site.yaml"
        site_file.write_text(yaml.safe_dump(site, sort_keys=False))
        return [*super().command(), "--config", str(site_file)]


DEMO_NODE_ID = "demo-eindhoven-assembly-1"  # config/demo.yaml's node.id


def post(client: httpx.Client, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"/api/v1{path}", json=body, headers={**AUTH, "Idempotency-Key": key})


def seed_lot(base: str, *, item: str, bins: tuple[str, ...], lot: str, quantity: int) -> None:
    """An item, bins without capacity limits, and a lot with ``quantity`` in the first bin (repeatable)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("/items", f"seed-{item}", {"item": item, "description": "benchmark item", "unit": "pcs", "revision": "A"}),
            *[("/bins", f"seed-bin-{b}", {"bin": b, "zone": "bench"}) for b in bins],
            ("/lots", f"seed-lot-{lot}", {"lot": lot, "item": item, "quantity": str(quantity), "bin": bins[0]}),
        ]
        for path, key, body in steps:
            r = post(client, path, key, body)
            if r.status_code != 201:
                raise RuntimeError(f"seeding {path} failed: {r.status_code} {r.text}")
