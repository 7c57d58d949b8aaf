"""OPC UA trust both ways over the wire, against the simulated machine with security on: the node checks the
machine's certificate (trust list by default, pinned, trust on first use recorded and shown), and every refusal
names its cause, in the connector's health and in one line of ``takt opcua browse``."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Backoff, Sample
from connectors.config import OpcUaSecurity, OpcUaServer, OpcUaTag
from connectors.opcua import OpcUaConnector
from connectors.opcua_trust import der_of, thumbprint
from simulators.certificates import application_certificate
from simulators.machine import Machine
from simulators.opcua_machine import OpcUaMachine
from tests.integration.conftest import supervised
from tests.integration.wire import free_port, wait_for

NODE_URI = "urn:takt:node:line-1"


class Collected:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.samples.extend(batch)

    def values(self, tag: str) -> list[object]:
        return [s.value for s in self.samples if s.tag == tag]


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    cert, key = application_certificate(tmp_path / "node", "takt-node", NODE_URI)
    return {"cert": cert, "key": key, "folder": tmp_path}


@pytest.fixture
async def machines() -> AsyncIterator[list[OpcUaMachine]]:
    started: list[OpcUaMachine] = []
    yield started
    for sim in started:
        await sim.stop()


async def secure_machine(pki: dict[str, Path], machines: list[OpcUaMachine], folder: str = "server",
                         users: dict[str, str] | None = None) -> OpcUaMachine:
    sim = OpcUaMachine(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02,
                       security=("Basic256Sha256_SignAndEncrypt",), trusted_certificates=[pki["cert"]], users=users,
                       certificate_folder=pki["folder"] / folder)
    await sim.start()
    machines.append(sim)
    return sim


def config(sim: OpcUaMachine, security: OpcUaSecurity | None, **login: Any) -> OpcUaServer:
    tags = [OpcUaTag(name=v, node_id=sim.node_id(v), sampling_interval_ms=20) for v in ("State", "GoodCount")]
    return OpcUaServer(name="M-ASSY", url=sim.url, publishing_interval_ms=20, watchdog_s=0.5, timeout_s=2,
                       security=security, tags=tags, **login)


def backoff() -> Backoff:
    return Backoff(initial=0.1, maximum=0.4)


def security(pki: dict[str, Path], **trust: Any) -> OpcUaSecurity:
    return OpcUaSecurity(certificate=pki["cert"], private_key=pki["key"], **trust)


async def test_by_default_the_machines_certificate_must_be_in_the_nodes_trust_list(
        pki: dict[str, Path], machines: list[OpcUaMachine], tmp_path: Path) -> None:
    sim = await secure_machine(pki, machines)
    assert sim.certificate is not None
    presented = thumbprint(der_of(sim.certificate.read_bytes()))
    data_dir = tmp_path / "data"
    connector, sink = OpcUaConnector(config(sim, security(pki)), data_dir=data_dir), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 15, "a refused attempt")
        error = connector.health.last_error or ""
        assert "M-ASSY" in error and "the node does not trust the server's certificate" in error
        assert presented in error and sim.machine is not None
        trust = connector.health.as_dict()["trust"]
        assert trust["refused"] == "server_untrusted" and error.endswith(trust["reason"])
        assert sink.samples == [] and sim.trust_list is not None and sim.trust_list.refused == 0  # never got in
        kept = data_dir / "opcua-pki" / "rejected" / f"M-ASSY[{presented}].der"
        assert kept.is_file() and str(kept) in error
        # The operator checks the thumbprint with the machine's and moves the certificate into the trust list.
        trusted = data_dir / "opcua-pki" / "trusted"
        trusted.mkdir(parents=True)
        kept.rename(trusted / "M-ASSY.der")
        await wait_for(lambda: connector.health.connected and sink.values("State") != [], 15, "connected once trusted")
    trust = connector.health.as_dict()["trust"]
    assert trust["refused"] is None and trust["trusted_by"] == "trust list"
    assert trust["server_certificate"] == presented and trust["where"] == str(trusted / "M-ASSY.der")


async def test_a_pinned_certificate_that_differs_names_both_thumbprints(
        pki: dict[str, Path], machines: list[OpcUaMachine]) -> None:
    sim = await secure_machine(pki, machines)
    impostor, _ = application_certificate(pki["folder"] / "other", "impostor", "urn:x", role="server")
    connector = OpcUaConnector(config(sim, security(pki, server_certificate=impostor)))
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 15, "a refused attempt")
    error = connector.health.last_error or ""
    assert sim.certificate is not None
    assert "differs from the pinned server_certificate" in error
    assert (f"pinned thumbprint {thumbprint(impostor.read_bytes())}, "
            f"presented {thumbprint(der_of(sim.certificate.read_bytes()))}") in error
    assert "BadTcpInternalError" not in error
    assert connector.health.as_dict()["trust"]["refused"] == "pinned_differs"


async def test_trust_on_first_use_is_recorded_logged_and_shown_and_a_new_certificate_later_is_refused(
        pki: dict[str, Path], machines: list[OpcUaMachine], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    first = await secure_machine(pki, machines)
    data_dir = tmp_path / "data"
    caplog.set_level(logging.WARNING, logger="takt.connectors")
    connector, sink = OpcUaConnector(config(first, security(pki, trust_on_first_use=True)), data_dir=data_dir), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.connected and sink.values("State") != [], 15, "connected")
    assert first.certificate is not None
    recorded = data_dir / "opcua-pki" / "first-use" / "M-ASSY.der"
    assert recorded.read_bytes() == der_of(first.certificate.read_bytes())
    trust = connector.health.as_dict()["trust"]
    assert trust["trusted_by"] == "first use" and trust["where"] == str(recorded) and trust["since"]
    assert any("on first use" in r.getMessage() and str(recorded) in r.getMessage() for r in caplog.records)
    # The same server name answers later with another certificate (the machine replaced, or someone in between).
    second = await secure_machine(pki, machines, folder="replaced")
    assert second.certificate is not None
    connector = OpcUaConnector(config(second, security(pki, trust_on_first_use=True)), data_dir=data_dir)
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 15, "a refused attempt")
    error = connector.health.last_error or ""
    assert "differs from the one trusted on first use" in error
    assert thumbprint(der_of(second.certificate.read_bytes())) in error and f"delete {recorded}" in error
    assert recorded.read_bytes() == der_of(first.certificate.read_bytes())  # the record stands


async def test_no_user_against_a_machine_without_anonymous_logon_says_so(
        pki: dict[str, Path], machines: list[OpcUaMachine]) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02, users={"line-1": "s3cret"})
    await sim.start()
    machines.append(sim)
    connector = OpcUaConnector(config(sim, None))
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 15, "a refused attempt")
    error = connector.health.last_error or ""
    assert "does not allow anonymous logon" in error and "None" not in error.split(":", 1)[1]
    assert connector.health.as_dict()["trust"]["refused"] == "anonymous_refused"


async def takt(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_takt_opcua_browse_takes_a_sites_security_and_answers_a_refusal_in_one_line(
        pki: dict[str, Path], machines: list[OpcUaMachine], tmp_path: Path) -> None:
    sim = await secure_machine(pki, machines, users={"line-1": "s3cret"})
    assert sim.certificate is not None
    secured = ["--certificate", str(pki["cert"]), "--private-key", str(pki["key"])]
    code, out, err = await takt("opcua", "browse", sim.url)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "offers no endpoint" in err and "Basic256Sha256 SignAndEncrypt" in err
    code, out, err = await takt("opcua", "browse", sim.url, *secured, "--data-dir", str(tmp_path / "data"))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "does not trust the server's certificate" in err
    code, out, err = await takt("opcua", "browse", sim.url, *secured, "--server-certificate", str(sim.certificate))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "does not allow anonymous logon" in err
    code, out, err = await takt("opcua", "browse", sim.url, *secured, "--server-certificate", str(sim.certificate),
                                "--username", "line-1", "--password-env", "LINE1_PW", env={"LINE1_PW": "guess"})
    assert code == 1 and len(err.strip().splitlines()) == 1 and "refused user 'line-1'" in err
    code, out, err = await takt("opcua", "browse", sim.url, *secured, "--server-certificate", str(sim.certificate),
                                "--username", "line-1", "--password-env", "LINE1_PW", "--json",
                                env={"LINE1_PW": "s3cret"})
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"node_id": sim.node_id("GoodCount"), "path": "Objects/M-ASSY/GoodCount", "type": "UInt32"} in rows


async def test_a_node_shows_the_first_use_decision_on_health_and_takt_opcua_trusted(
        pki: dict[str, Path], machines: list[OpcUaMachine], tmp_path: Path) -> None:
    import httpx
    import yaml

    from takt.config import demo_config_path

    operator = {"Authorization": "Bearer demo-operator-token-000000"}  # /health details need a token

    sim = await secure_machine(pki, machines)
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["connectivity"] = {"opcua": [{
        "name": "M-ASSY", "url": sim.url, "publishing_interval_ms": 50, "timeout_s": 2,
        "security": {"certificate": str(pki["cert"]), "private_key": str(pki["key"]), "trust_on_first_use": True},
        "tags": [{"name": "State", "node_id": sim.node_id("State")}]}]}
    site["node"]["data_dir"] = str(tmp_path / "data")
    config_file = tmp_path / "site.yaml"
    config_file.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config_file), "--log-level", "warning",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    part: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5) as client:
            async def connected() -> bool:
                nonlocal part
                try:
                    part = (await client.get("/health", headers=operator)).json().get("connectivity", {}).get(
                        "M-ASSY", {})
                except httpx.HTTPError:
                    return False
                return bool(part.get("connected"))

            await wait_for(connected, 30, "the node connected to the secured machine")
    finally:
        proc.terminate()
        logged, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert sim.certificate is not None
    presented = thumbprint(der_of(sim.certificate.read_bytes()))
    assert part["trust"]["trusted_by"] == "first use" and part["trust"]["server_certificate"] == presented
    assert any("on first use" in line and presented in line for line in logged.decode().splitlines())  # logged
    code, out, _ = await takt("opcua", "trusted", "--config", str(config_file))
    assert code == 0 and "M-ASSY" in out and presented in out and sim.url in out
    # browse with the site's own settings: the same certificate, the same record of trust.
    code, out, said = await takt("opcua", "browse", "--config", str(config_file), "--server", "M-ASSY")
    assert code == 0 and sim.node_id("State") in out and "on first use" not in said, said
