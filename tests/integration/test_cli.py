"""The `takt` command as a user runs it: config check, store verify/migrate, journal tail, and the demo node."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edge.domain import commands as c
from takt.cli import app
from takt.config import load_config
from takt.runtime import Node

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": "Bearer demo-admin-token-0000000000"}  # /health details need a token
DEMO = ROOT / "config" / "demo.yaml"
TAKT = Path(sys.executable).parent / "takt"
runner = CliRunner()


def takt(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed `takt` console script (falls back to `python -m takt`)."""
    command = [str(TAKT)] if TAKT.exists() else [sys.executable, "-m", "takt"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A data dir holding the demo site, seeded, plus one stock move made by a warehouse user."""
    data_dir = tmp_path / "data"
    node = Node(load_config(DEMO), data_dir=data_dir, config_file=DEMO).start()
    try:
        node.service.handle(c.MoveStock(idempotency_key="mv-1", actor="wim", actor_roles=frozenset({"warehouse"}),
                                        lot="L118", from_bin="A-02-3", to_bin="LS-20", quantity=Decimal(5)))
    finally:
        node.stop()
    return data_dir


# --- config check ----------------------------------------------------------------------------------


def test_config_check_accepts_the_demo_with_a_summary() -> None:
    result = takt("config", "check", str(DEMO))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: {DEMO}")
    assert "7 users" in result.stdout and "3 work orders" in result.stdout and "10 opening lots" in result.stdout


def test_config_check_refuses_a_bad_file_naming_file_path_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text(DEMO.read_text().replace("roles: [warehouse]", "roles: [warehouse, forklift]"))
    result = takt("config", "check", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{bad}: users[2].roles[1]:" in result.stderr
    assert "'forklift'" in result.stderr and "line " in result.stderr


def test_config_check_reports_broken_yaml_with_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("node:\n  id: x\n site: [\n")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert str(bad) in result.stderr and "line 3" in result.stderr


def test_python_dash_m_takt_is_the_same_command() -> None:
    for module in ("takt", "takt.cli"):
        result = subprocess.run([sys.executable, "-m", module, "config", "check", str(DEMO)],
                                capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("ok:")


# --- store and journal -----------------------------------------------------------------------------


def test_store_verify_on_a_seeded_store_exits_0(seeded: Path) -> None:
    result = takt("store", "verify", "--data-dir", str(seeded))
    assert result.returncode == 0, result.stderr
    assert "ok: replayed 49 events" in result.stdout


def test_store_verify_finds_a_projection_changed_behind_the_journal(seeded: Path) -> None:
    with sqlite3.connect(seeded / "takt.sqlite") as db:
        db.execute("UPDATE stock SET quantity = 999 WHERE lot = 'L118' AND bin = 'LS-20'")
    result = runner.invoke(app, ["store", "verify", "--data-dir", str(seeded)])
    assert result.exit_code == 1
    assert "DIFFERENT" in result.stderr
    assert "stock[('L118', 'LS-20')]" in result.stderr


def test_store_verify_names_the_first_event_an_sql_edit_broke(seeded: Path) -> None:
    result = takt("store", "verify", "--data-dir", str(seeded), "--chain-only")
    assert result.returncode == 0, result.stderr
    assert "ok: hash chain intact through seq 49 (49 events; " in result.stdout
    assert "signatures checked with " in result.stdout  # the data folder's key (the node made it at first start)
    with sqlite3.connect(seeded / "takt.sqlite") as db:
        db.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 12")
    tampered = runner.invoke(app, ["store", "verify", "--data-dir", str(seeded)])
    assert tampered.exit_code == 1
    assert "TAMPERED" in tampered.stderr
    assert "  seq 12: its content does not match its hash" in tampered.stderr


def test_store_verify_finds_a_forged_checkpoint_signature(seeded: Path) -> None:
    with sqlite3.connect(seeded / "takt.sqlite") as db:
        db.execute("UPDATE journal_checkpoints SET signature = ? WHERE seq = 49", ("ab" * 32,))
    result = runner.invoke(app, ["store", "verify", "--data-dir", str(seeded), "--chain-only"])
    assert result.exit_code == 1
    assert "checkpoint at seq 49: signature wrong" in result.stderr


def test_store_verify_checks_the_signatures_with_the_secret_given(seeded: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    other.write_text("not-the-secret-this-node-signed-with\n")
    result = runner.invoke(app, ["store", "verify", "--data-dir", str(seeded), "--chain-only",
                                 "--checkpoint-secret-file", str(other)])
    assert result.exit_code == 1
    assert "signature wrong (not made with this node's key)" in result.stderr


def test_store_verify_needs_a_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "verify", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no store at" in result.stderr
    result = runner.invoke(app, ["store", "verify"])
    assert result.exit_code == 2 and "exactly one of --config FILE, --data-dir DIR or --database-url URL" in result.stderr


def test_store_migrate_creates_and_upgrades_a_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "migrate", "--data-dir", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("  applied 0001: first schema")  # each step as it ran
    last = result.stdout.splitlines()[-1]
    assert last.startswith("ok: schema at revision ") and "from an empty store" in last
    assert (tmp_path / "new" / "takt.sqlite").is_file()
    again = runner.invoke(app, ["store", "migrate", "--database-url", f"sqlite:///{tmp_path / 'new' / 'takt.sqlite'}"])
    assert again.exit_code == 0
    assert again.stdout == last.split(" (")[0] + " (nothing to do)\n"


def test_journal_tail_shows_the_newest_events(seeded: Path) -> None:
    result = takt("journal", "tail", "-n", "3", "--data-dir", str(seeded))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for header in ("seq", "recorded_at", "type", "subject", "actor", "origin"):
        assert header in out
    assert "LotReceived" in out and "lot:R-7781" in out and "seed" in out and "erp" in out
    assert "StockMoved" in out and "wim" in out and "edge" in out
    assert "lot:H-2231" not in out  # only the newest 3
    everything = runner.invoke(app, ["journal", "tail", "-n", "100", "--data-dir", str(seeded)])
    assert "ItemDefined" in everything.stdout and "item:PUMP-100" in everything.stdout


# --- the demo node ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def start_demo(port: int, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    command = [str(TAKT)] if TAKT.exists() else [sys.executable, "-m", "takt"]
    # Without the simulated machines: their states would be journaled too (tests/integration/test_demo_plant.py).
    proc = subprocess.Popen([*command, "demo", "--port", str(port), "--data-dir", str(data_dir), "--no-plant", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"takt demo exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            status, _ = http("GET", f"http://127.0.0.1:{port}/health")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("takt demo did not answer /health within 30 s")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    return proc.returncode, out


@pytest.mark.slow
def test_demo_serves_the_seeded_site_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    pytest.importorskip("takt.api.app", reason="the HTTP API (takt.api.app) is not there yet")
    port, data_dir = free_port(), tmp_path / "demo"
    base = f"http://127.0.0.1:{port}"
    proc = start_demo(port, data_dir, "--no-erp")  # without the central side's changes: the sequence is exact
    try:
        status, health = http("GET", f"{base}/health", None, ADMIN)
        assert status == 200 and health["node_id"] == "demo-eindhoven-assembly-1"
        seeded_seq = health["store"]["last_seq"]
        assert seeded_seq == 48
        operator = {"Authorization": "Bearer demo-operator-token-000000"}
        status, body = http("POST", f"{base}/api/v1/work-orders/WO-1001/issues",
                            {"lot": "L123", "bin": "LS-20", "quantity": 1}, {**operator, "Idempotency-Key": "t-1"})
        assert status == 409
        assert body["code"] == "LOT_EXPIRED" and "FEFO pick is L118 in bin A-02-3" in body["message"]
        status, body = http("POST", f"{base}/api/v1/stock/moves",
                            {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LS-20", "quantity": 5},
                            {"Authorization": "Bearer demo-warehouse-token-00000", "Idempotency-Key": "t-2"})
        assert status == 201, body
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "demo-admin-token-0000000000" in out and f"{base}/docs" in out

    proc = start_demo(port, data_dir, "--no-erp")  # same folder: the data is still there and nothing is seeded twice
    try:
        _, health = http("GET", f"{base}/health", None, ADMIN)
        assert health["store"]["last_seq"] == seeded_seq + 1
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "0 recorded, 47 already there" in out
    assert takt("store", "verify", "--data-dir", str(data_dir)).returncode == 0


@pytest.mark.slow
def test_the_demo_syncs_with_its_central_erp_simulator(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "demo"
    base = f"http://127.0.0.1:{port}"
    proc = start_demo(port, data_dir)
    operator = {"Authorization": "Bearer demo-operator-token-000000"}
    try:
        status, body = http("POST", f"{base}/api/v1/work-orders/WO-1001/operations/10/start", {},
                            {**operator, "Idempotency-Key": "sync-1"})
        assert status == 201, body
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, sync = http("GET", f"{base}/api/v1/sync/status", headers=operator)
            if sync["daemon"]["connected"] and sync["lag_events"] == 0 and sync["acknowledged"] >= body["events"][0]["seq"]:
                break
            time.sleep(0.2)
        assert sync["lag_events"] == 0 and sync["open_exceptions"] == 0, sync  # the ERP has it, and knew the order
        assert sync["pull_cursor"] > 0  # and the node read what the ERP released
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "Central ERP simulator http://127.0.0.1:" in out
