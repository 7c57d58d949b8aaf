"""`takt doctor` against real things: a running ERP simulator, a listening and a closed port, a sound and a
damaged store."""
from __future__ import annotations

import socket
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge import reference
from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from simulators.erp import RunningErpSim, running_erp_sim
from takt.cli import app
from tests.integration.conftest import free_port

TOKEN = "token-doctor-node-00000"


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {TOKEN: "doctor-node"}) as running:
        yield running


@pytest.fixture
def listening() -> Iterator[int]:
    """A TCP port something listens on (stands for a PLC or a broker: the doctor only connects)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def _site(tmp_path: Path, central_url: str, *, token: str = TOKEN, opcua_port: int, mqtt_port: int) -> Path:
    path = tmp_path / "site.yaml"
    (tmp_path / "admin.token").write_text("admin-token-000000000000\n")  # secrets in files: none in clear in the site
    (tmp_path / "sync.token").write_text(token + "\n")
    path.write_text(textwrap.dedent(f"""
        node:
          id: doctor-node
          data_dir: data
        site: {{enterprise: acme, site: eindhoven, area: a1, line: l1}}
        users:
          - {{user: admin, name: Admin, roles: [admin], token_file: admin.token}}
        sync:
          central_url: {central_url}
          token_file: sync.token
        connectivity:
          opcua:
            - name: press-1
              url: opc.tcp://127.0.0.1:{opcua_port}
              tags: [{{name: count, node_id: "ns=2;s=Count"}}]
          s7:
            - {{name: press-2, host: 127.0.0.1, port: {opcua_port}, groups: [{{tags: [{{name: count, db: 1, offset: 4}}]}}]}}
          logix:
            - {{name: screw-3, host: 127.0.0.1, port: {mqtt_port}, groups: [{{tags: [{{name: count, tag: Good}}]}}]}}
          mqtt: {{host: 127.0.0.1, port: {mqtt_port}}}
        """))
    return path


def _store(folder: Path, events: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    with Service(store, store.node_id("doctor-node")) as service:
        for n in range(events):
            service.handle(c.DefineItem(idempotency_key=f"k{n}", actor="admin1", actor_roles=frozenset({"admin"}),
                                        item=f"I-{n}", description="d" * 150, unit="pcs", revision="A"))
    store.close()
    return folder / "takt.sqlite"


def _doctor(site: Path, *args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, ["doctor", "--config", str(site), "--timeout", "2", *args])
    return out.exit_code, out.output


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.split(" ", 1)[-1].strip().startswith(f"{name}:"))


# Without the GS1 dictionary the doctor rightly counts one problem more (the "reference data" check)
needs_gs1 = pytest.mark.skipif(not reference.status(reference.GS1_SET).ok, reason="GS1 syntax dictionary not "
                               "installed: takt reference fetch (scripts/test fetches it when it can)")


@needs_gs1
def test_a_sound_node_passes_every_check(tmp_path: Path, erp: RunningErpSim, listening: int) -> None:
    _store(tmp_path / "data")
    site = _site(tmp_path, erp.url, opcua_port=listening, mqtt_port=listening)
    code, output = _doctor(site)
    assert code == 0, output
    for name in ("config", "data dir", "store integrity", "migrations", "clock", "ERP", "OPC UA press-1",
                 "S7 press-2", "Logix screw-3", "MQTT broker"):
        assert _line(output, name).startswith("ok"), output
    assert "accepts the token" in _line(output, "ERP")
    assert "never jumped" in _line(output, "clock jumps")
    assert "all 13 checks passed" in output


@needs_gs1
def test_problems_are_named_with_a_fix_and_exit_non_zero(tmp_path: Path, erp: RunningErpSim, listening: int) -> None:
    _store(tmp_path / "data")
    closed = free_port()  # nothing listens there
    site = _site(tmp_path, erp.url, token="token-the-erp-never-gave", opcua_port=closed, mqtt_port=listening)
    code, output = _doctor(site)
    assert code == 1
    assert _line(output, "ERP").startswith("PROBLEM") and "refuses the node's token (401)" in output
    assert _line(output, "OPC UA press-1").startswith("PROBLEM") and f"127.0.0.1:{closed}" in output
    assert _line(output, "S7 press-2").startswith("PROBLEM") and "(ISO-on-TCP)" in output
    assert _line(output, "Logix screw-3").startswith("ok")
    assert _line(output, "MQTT broker").startswith("ok")
    assert "fix: check the PLC is on" in output
    assert "3 problems found" in output


def test_an_unreachable_erp_and_a_missing_store(tmp_path: Path, listening: int) -> None:
    site = _site(tmp_path, f"http://127.0.0.1:{free_port()}", opcua_port=listening, mqtt_port=listening)
    code, output = _doctor(site)
    assert code == 1
    assert "cannot be reached" in _line(output, "ERP")
    assert _line(output, "store").startswith("PROBLEM") and "no store at" in output


def test_a_damaged_store_fails_the_integrity_check(tmp_path: Path, erp: RunningErpSim, listening: int) -> None:
    path = _store(tmp_path / "data", events=400)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(path.read_bytes())
    for at in range(4096 * 4, len(data) - 4096, 4096 * 3):  # scribble over pages past the schema
        data[at + 8:at + 200] = b"\x5a" * 192
    path.write_bytes(bytes(data))
    site = _site(tmp_path, erp.url, opcua_port=listening, mqtt_port=listening)
    code, output = _doctor(site)
    assert code == 1
    line = _line(output, "store integrity")
    assert line.startswith("PROBLEM"), output
    assert "takt store restore" in output


def test_an_old_schema_and_a_clock_behind_the_store(tmp_path: Path, erp: RunningErpSim, listening: int) -> None:
    path = _store(tmp_path / "data")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE journal SET recorded_at = '2999-01-01 00:00:00.000000' WHERE seq = "
                     "(SELECT max(seq) FROM journal)")
        conn.execute("UPDATE alembic_version SET version_num = '0007'")
    site = _site(tmp_path, erp.url, opcua_port=listening, mqtt_port=listening)
    code, output = _doctor(site)
    assert code == 1
    assert _line(output, "migrations").startswith("PROBLEM") and "takt store migrate" in output
    assert _line(output, "clock").startswith("PROBLEM") and "the clock went back" in output


def test_an_invalid_config_is_named_and_stops_there(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("node: {id: x}\nsite: {enterprise: acme}\n")
    code, output = _doctor(site)
    assert code == 1
    assert _line(output, "config").startswith("PROBLEM") and "site.site" in output
    assert "takt config check" in output
