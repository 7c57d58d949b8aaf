"""What a plant's security review does to a node's HTTP API, over the wire: schemathesis against /openapi.json.

Shared by the suite (tests/integration/test_api_contract.py) and the figures (``python -m bench.api_contract``), which
must not import each other. A review runs against a node of its own (``serve_demo``: the demo site on a fresh
SQLite store in a folder of the caller's), never a plant's: the fuzzer records whatever the schema allows.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DEMO_ADMIN_TOKEN = "demo-admin-token-0000000000"  # config/demo.yaml: published demo token, demo only
HOOKS = "simulators.schemathesis_hooks"


@dataclass
class DemoNode:
    """The demo site served by uvicorn in a thread of this process."""

    node: Any
    server: Any
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.node.stop()


def serve_demo(data_dir: Path) -> DemoNode:
    """Start the demo site (config/demo.yaml) on a fresh store in ``data_dir``, served on a free port."""
    import uvicorn

    from takt.api.app import create_app
    from takt.config import load_config
    from takt.runtime import Node

    node = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=data_dir).start()
    try:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the node did not start")
            time.sleep(0.01)
    except BaseException:
        node.stop()
        raise
    return DemoNode(node, server, thread, f"http://127.0.0.1:{port}")


@dataclass
class Review:
    """One schemathesis run: its exit code, the failures by check, and what it printed."""

    returncode: int
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    output: str = ""

    @property
    def server_errors(self) -> int:
        return sum(count for name, count in self.failures.items() if name.startswith("ST101 "))

    @property
    def valid_refused(self) -> int:
        return sum(count for name, count in self.failures.items() if name.startswith("ST202 "))


def run_schemathesis(url: str, report_dir: Path, *, token: str = DEMO_ADMIN_TOKEN, max_examples: int = 10,
                     max_time: float = 80.0, seed: int = 15, checks: str = "all",
                     extra: tuple[str, ...] = ()) -> Review:
    """Run schemathesis (all checks) against the node at ``url`` with ``token``, a fresh Idempotency-Key per request.

    Bounded: ``max_examples`` per operation, ``max_time`` seconds for the whole run, one seed, so that the suite
    stays under its budget and a failure reproduces."""
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / "schemathesis.json"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
               "-H", f"Authorization: Bearer {token}", "--checks", checks, "-n", str(max_examples),
               "--max-time", str(int(max_time)), "--seed", str(seed), "--workers", "1", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off", "--continue-on-failure",
               "--report", "json", "--report-json-path", str(report), "--output-truncate", "true", *extra]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=max_time * 2 + 60)
    review = Review(done.returncode, output=done.stdout + done.stderr)
    if report.exists():
        _read_report(json.loads(report.read_text()), review)
    return review


def _read_report(data: Any, review: Review) -> None:
    """Count failures by check in schemathesis' JSON report: ``failures`` lists code, title, count, operations."""
    for failure in data.get("failures", []):
        name = f"{failure.get('code')} {failure.get('title')}"
        review.failures[name] += int(failure.get("count", 1))
        review.examples[name] = [str(op) for op in failure.get("operations", [])]
