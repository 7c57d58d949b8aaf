"""Secrets are never logged or shown: an audit over everything a node and its commands print.

A site whose secrets all come from environment variables or files (users' API tokens and a PIN, the sync's ERP
token, the MQTT password, the OPC UA password) runs as a real ``takt run --log-level debug`` against a real
Mosquitto with password auth, a real OPC UA machine simulator with a user list and the central ERP simulator, in
JSON and in text log format; the audit then collects the logs, ``/health``, ``/metrics``, API answers, ``takt
doctor``, ``takt config check`` and the errors of bad configurations, and asserts that no secret value (nor the
session token a PIN log-on hands out) appears in any of them. It also checks the secrets were really used (the
broker and the OPC UA server accepted them, the ERP took the token), so a silent node cannot pass.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.erp import RunningErpSim, running_erp_sim
from takt.config import cleartext_secrets, load_config
from tests.integration.conftest import free_port
from tests.integration.test_mqtt import MOSQUITTO, Broker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(MOSQUITTO is None or shutil.which("mosquitto_passwd") is None,
                                reason="mosquitto (Debian package) is not installed")


class Secrets:
    def __init__(self) -> None:
        self.admin_token = "adm-" + secrets.token_hex(12)
        self.anna_token = "ann-" + secrets.token_hex(12)
        self.anna_pin = "Pn" + secrets.token_hex(4)
        self.anna_badge = "Bd" + secrets.token_hex(6)  # her card number: stored hashed, never shown
        self.sync_token = "syn-" + secrets.token_hex(12)
        self.mqtt_password = "mq-" + secrets.token_hex(10)
        self.opcua_password = "ua-" + secrets.token_hex(10)
        self.session_token = ""  # handed out by a PIN log-on
        self.reversed_sync_token = ""  # a wrong token the ERP refuses

    def env(self) -> dict[str, str]:
        return {"AUDIT_ANNA_TOKEN": self.anna_token, "AUDIT_ANNA_PIN": self.anna_pin, "AUDIT_ANNA_BADGE": self.anna_badge,
                "AUDIT_SYNC_TOKEN": self.sync_token, "AUDIT_OPCUA_PASSWORD": self.opcua_password}

    def values(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if isinstance(v, str) and v}


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[tuple[Secrets, Path, int, RunningErpSim]]:
    """The secrets, the site file, the node's port, and the ERP; broker and OPC UA machine running."""
    s = Secrets()
    (tmp_path / "broker").mkdir()
    broker = Broker(tmp_path / "broker", free_port(), password=("edge", s.mqtt_password))
    broker.start()
    ua_port = free_port()
    sim = subprocess.Popen([sys.executable, "-m", "takt.cli", "sim", "opcua", "--port", str(ua_port), "--user",
                            f"line-1:{s.opcua_password}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    (tmp_path / "admin.token").write_text(s.admin_token + "\n")
    (tmp_path / "mqtt.password").write_text(s.mqtt_password + "\n")
    port = free_port()
    try:
        with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {s.sync_token: "audit-node"}) as erp:
            site = tmp_path / "site.yaml"
            site.write_text(textwrap.dedent(f"""
                node: {{id: audit-node, data_dir: data}}
                site: {{enterprise: acme, site: eindhoven, area: a1, line: l1}}
                api: {{host: 127.0.0.1, port: {port}}}
                users:
                  - {{user: admin, name: Admin, roles: [admin], token_file: admin.token}}
                  - {{user: anna, name: Anna, roles: [operator], token_env: AUDIT_ANNA_TOKEN, pin_env: AUDIT_ANNA_PIN,
                     badge_env: AUDIT_ANNA_BADGE}}
                sync:
                  central_url: {erp.url}
                  token_env: AUDIT_SYNC_TOKEN
                  push_interval_s: 0.2
                connectivity:
                  opcua:
                    - name: press-1
                      url: opc.tcp://127.0.0.1:{ua_port}/takt/
                      username: line-1
                      password_env: AUDIT_OPCUA_PASSWORD
                      tags: [{{name: good, node_id: "ns=2;s=M-ASSY.GoodCount"}}]
                  mqtt: {{host: 127.0.0.1, port: {broker.port}, username: edge, password_file: mqtt.password}}
                """))
            yield s, site, port, erp
    finally:
        sim.terminate()
        sim.wait(10)
        broker.stop()


def _run_node(site: Path, port: int, s: Secrets, log_format: str, log: Path) -> list[str]:
    """Run ``takt run`` at DEBUG, drive it, stop it; return the answers it gave (its log is in ``log``)."""
    answers: list[str] = []
    env = {**os.environ, **s.env(), "TAKT_LOG_FORMAT": log_format, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        node = subprocess.Popen([sys.executable, "-m", "takt.cli", "run", "--config", str(site), "--log-level",
                                 "debug"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert node.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the node did not start"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        admin = {"Authorization": f"Bearer {s.admin_token}"}
        r = httpx.post(f"{base}/api/v1/items", headers={**admin, "Idempotency-Key": f"audit-{log_format}"},
                       json={"item": f"AUDIT-{log_format}", "unit": "pcs", "revision": "A"})
        assert r.status_code == 201, r.text
        answers.append(r.text)
        for pin in (s.anna_pin, "wrong-pin-0"):
            r = httpx.post(f"{base}/api/v1/sessions", json={"badge": s.anna_badge, "pin": pin})
            answers.append(r.text)
        assert r.status_code == 401 and "PIN_WRONG" in r.text
        session = httpx.post(f"{base}/api/v1/sessions", json={"badge": s.anna_badge, "pin": s.anna_pin})
        assert session.status_code == 201, session.text
        s.session_token = session.json()["token"]  # a secret too from here on
        r = httpx.get(f"{base}/api/v1/journal", params={"limit": 5}, headers={"Authorization": f"Bearer {s.anna_token}"})
        assert r.status_code == 200
        answers.append(httpx.get(f"{base}/api/v1/journal", headers={"Authorization": "Bearer not-a-token-x"}).text)
        # the secrets were really used: the OPC UA server and the broker let the node in, the ERP took its pushes
        deadline = time.monotonic() + 30
        while True:
            health = httpx.get(f"{base}/health", headers=admin).json()
            conns = health.get("connectivity", {})
            sync = health.get("sync", {})
            if conns.get("press-1", {}).get("connected") and conns.get("mqtt", {}).get("connected") \
                    and sync.get("connected") and sync.get("pushed", 0) >= 1:
                break
            assert time.monotonic() < deadline, f"the node did not connect with its secrets: {health}"
            time.sleep(0.3)
        answers.append(httpx.get(f"{base}/health", headers=admin).text)
        answers.append(httpx.get(f"{base}/metrics").text)
    finally:
        node.terminate()
        node.wait(30)
    return answers


def _takt(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "takt.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)
    return done.stdout + done.stderr


def test_no_secret_appears_in_logs_answers_or_diagnostics(plant: tuple[Secrets, Path, int, RunningErpSim],
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, site, port, erp = plant
    outputs: dict[str, str] = {}
    for fmt in ("json", "text"):
        answers = _run_node(site, port, s, fmt, tmp_path / f"node-{fmt}.log")
        outputs[f"node log ({fmt})"] = (tmp_path / f"node-{fmt}.log").read_text()
        outputs[f"answers ({fmt})"] = "\n".join(answers)
    assert '"level": "debug"' in outputs["node log (json)"], "the JSON run did not log at DEBUG"
    assert " DEBUG " in outputs["node log (text)"], "the text run did not log at DEBUG"

    outputs["doctor"] = _takt("doctor", "--config", str(site), "--timeout", "2", env=s.env())
    assert "accepts the token" in outputs["doctor"]
    outputs["config check"] = _takt("config", "check", str(site), env=s.env())
    assert outputs["config check"].startswith("ok:")
    for name, value in s.env().items():
        monkeypatch.setenv(name, value)
    cfg = load_config(site)  # resolved: the secrets are in it; its repr/str (a config dump) must not show them
    assert cfg.connectivity.mqtt is not None and cfg.connectivity.mqtt.password == s.mqtt_password
    assert cfg.connectivity.opcua[0].password == s.opcua_password and cfg.sync is not None
    outputs["config repr"] = repr(cfg) + str(cfg)

    # bad configurations: a secret too short, the ERP refusing the token, a wrong type where a secret goes
    short = {**s.env(), "AUDIT_ANNA_TOKEN": s.anna_token[:8]}
    outputs["short token"] = _takt("config", "check", str(site), env=short)
    assert "at least" in outputs["short token"]
    refused = {**s.env(), "AUDIT_SYNC_TOKEN": s.sync_token[::-1]}
    outputs["refused token"] = _takt("doctor", "--config", str(site), "--timeout", "2", env=refused)
    assert "refuses the node's token" in outputs["refused token"]
    s.reversed_sync_token = s.sync_token[::-1]
    bad = tmp_path / "bad.yaml"
    bad.write_text(site.read_text().replace("password_file: mqtt.password",
                                            f"password: {{value: {s.mqtt_password}}}"))
    outputs["bad type"] = _takt("config", "check", str(bad), env=s.env())
    assert "connectivity.mqtt.password" in outputs["bad type"]

    for name, value in s.values().items():
        for where, text in outputs.items():
            assert value not in text, f"the secret {name} appears in {where}"


def test_a_secret_written_in_clear_is_warned_about_by_place_never_by_value(tmp_path: Path) -> None:
    """The decision: a clear secret in the site file is accepted (the demo's public tokens are written there), but
    ``takt config check`` warns, ``takt run`` logs a warning and ``takt doctor`` counts it as a problem; each names
    where it is written, never the value."""
    token, password = "clear-" + secrets.token_hex(12), "pw-" + secrets.token_hex(8)
    site = tmp_path / "site.yaml"
    site.write_text(textwrap.dedent(f"""
        node: {{id: clear-node, data_dir: data}}
        site: {{enterprise: acme, site: eindhoven, area: a1, line: l1}}
        users:
          - {{user: admin, name: Admin, roles: [admin], token: {token}}}
        connectivity:
          mqtt: {{host: 127.0.0.1, port: {free_port()}, username: edge, password: {password}}}
        """))
    assert cleartext_secrets(load_config(site, resolve_secrets=False)) == ["users[0].token",
                                                                           "connectivity.mqtt.password"]
    check = _takt("config", "check", str(site), env={})
    assert "warning: secrets written in clear" in check and "users[0].token, connectivity.mqtt.password" in check
    doctor = _takt("doctor", "--config", str(site), "--timeout", "1", env={})
    assert "PROBLEM secrets: 2 secrets are written in clear" in doctor
    for text in (check, doctor):
        assert token not in text and password not in text
