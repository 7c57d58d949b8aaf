"""HTTPS benchmark: durable commands per second over TLS, against plain HTTP on the same node in the same run.
``python -m bench.https [--seconds N] [--rounds N] [--json FILE]``.

The node is ``takt run`` on the demo site (one data directory), started alternately without and with ``api.tls``
(a certificate made by ``takt certs``' ``make_certificates``: ECDSA P-256, TLS 1.2+), so both modes write the same
store and the machine's noise falls on both alike. In each round ``wrk`` (2 threads, 64 keep-alive connections,
a 2 s warm-up, then ``--seconds``) posts stock moves, each with a fresh Idempotency-Key; only 201 answers (durably
recorded) count. Before measuring, one request over HTTPS checks the certificate against the CA with httpx, so the
figure is for a certificate a client really accepts (wrk itself does not check it).

Figures:

- ``https_commands_per_s``: acknowledged stock moves per second over HTTPS (median of the rounds).
- ``https_vs_http_ratio``: HTTPS over plain HTTP, per round (measured back to back), median of the rounds (goal
  >= 0.8). The plain HTTP figure (median of the rounds) is printed as ``https_baseline_http_commands_per_s``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.foundation import run_wrk
from bench.node import ADMIN_TOKEN, seed_lot
from simulators.ports import free_port
from takt.cli.certs import make_certificates
from takt.config import demo_config_path

ROOT = Path(__file__).resolve().parent.parent
MOVE = {"lot": "BENCH-TLS-L1", "from_bin": "BENCH-TLS-A", "to_bin": "BENCH-TLS-B", "quantity": "1"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_sites(folder: Path, port: int) -> tuple[Path, Path]:
    """Two site files for one node and one store: plain HTTP, and HTTPS with a fresh certificate."""
    certs = make_certificates(folder / "certs", ["localhost", "127.0.0.1"])
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    site["node"]["data_dir"] = str(folder / "data")
    site["api"] = {"host": "127.0.0.1", "port": port}
    plain = folder / "site-http.yaml"
    plain.write_text(yaml.safe_dump(site))
    site["api"]["tls"] = {"cert_file": str(certs.cert), "key_file": str(certs.key)}
    tls = folder / "site-https.yaml"
    tls.write_text(yaml.safe_dump(site))
    return plain, tls


class Node:
    """``takt run -c SITE`` in its own process group, until stopped."""

    def __init__(self, site: Path, url: str, verify: ssl.SSLContext | bool, log: Path) -> None:
        self.url = url
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "takt", "run", "-c", str(site), "--log-level",
                                          "warning"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"takt run exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(f"{url}/health", verify=verify, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the node did not answer at {url} within 60 s; see {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def measure(wrk: str, url: str, seconds: int, prefix: str) -> dict[str, float]:
    moves, body = f"{url}/api/v1/stock/moves", json.dumps(MOVE)
    run_wrk(wrk, moves, seconds=2, connections=64, threads=2, prefix=f"{prefix}-warm", body=body)
    result = run_wrk(wrk, moves, seconds=seconds, connections=64, threads=2, prefix=prefix, body=body)
    errors = sum(v for k, v in result.items() if k.startswith("errors_") and k != "errors_status")
    return {**result, "errors": errors, "per_s": result["created"] / (result["duration_us"] / 1e6)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.https", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="measured seconds per round and mode (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of plain HTTP then HTTPS (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures and the rounds to this file")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        say("wrk is needed: apt-get install -y wrk")
        return 2
    started = time.perf_counter()
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="takt-bench-https-") as tmp:
        folder = Path(tmp)
        port = free_port()
        plain_site, tls_site = write_sites(folder, port)
        ca = ssl.create_default_context(cafile=folder / "certs" / "ca.pem")
        plain_url, tls_url = f"http://127.0.0.1:{port}", f"https://127.0.0.1:{port}"
        for n in range(args.rounds):
            node = Node(plain_site, plain_url, False, folder / "node.log")
            try:
                if n == 0:
                    seed_lot(plain_url, item="BENCH-TLS", bins=("BENCH-TLS-A", "BENCH-TLS-B"), lot="BENCH-TLS-L1",
                             quantity=10**11)
                plain = measure(wrk, plain_url, args.seconds, f"http-{n}")
            finally:
                node.stop()
            node = Node(tls_site, tls_url, ca, folder / "node.log")
            try:
                checked = httpx.post(f"{tls_url}/api/v1/stock/moves", json=MOVE, verify=ca, timeout=30,
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                                              "Idempotency-Key": f"verified-{n}"})
                if checked.status_code != 201:
                    raise RuntimeError(f"a verified HTTPS move was refused: {checked.status_code} {checked.text}")
                tls = measure(wrk, tls_url, args.seconds, f"https-{n}")
            finally:
                node.stop()
            say(f"round {n + 1}: http {plain['per_s']:.0f}/s, https {tls['per_s']:.0f}/s "
                f"(https p99 {tls['p99_us'] / 1000:.1f} ms, refused {tls['other']:.0f}, errors {tls['errors']:.0f})")
            rounds.append({"http": plain, "https": tls})
    http_per_s = statistics.median(r["http"]["per_s"] for r in rounds)
    https_per_s = statistics.median(r["https"]["per_s"] for r in rounds)
    # The ratio of each round (HTTP and HTTPS measured back to back), then their median: a burst of load from
    # elsewhere on the machine spoils one round, not the figure.
    ratio = statistics.median(r["https"]["per_s"] / r["http"]["per_s"] if r["http"]["per_s"] else 0.0
                              for r in rounds)
    say(f"done in {time.perf_counter() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps({"rounds": rounds, "http_commands_per_s": http_per_s,
                                         "https_commands_per_s": https_per_s, "https_vs_http_ratio": ratio},
                                        indent=2))
    print(f"FIGURE https_baseline_http_commands_per_s {http_per_s:.0f} commands/s")
    print(f"FIGURE https_commands_per_s {https_per_s:.0f} commands/s")
    print(f"FIGURE https_vs_http_ratio {ratio:.2f} ratio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
