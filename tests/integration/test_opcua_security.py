"""OPC UA security over the wire: Basic256Sha256 Sign and SignAndEncrypt with certificates, user name and password.

The simulated machine offers only the secure endpoint under test, trusts only the node's certificate and knows
one user; the connector's certificate and key come from its configuration, made here with ``cryptography``."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import Backoff, Sample
from connectors.config import OpcUaSecurity, OpcUaServer, OpcUaTag
from connectors.opcua import OpcUaConnector
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
    """The node's certificate and key, and a stranger's (not trusted by the machine)."""
    cert, key = application_certificate(tmp_path / "node", "takt-node", NODE_URI)
    other, other_key = application_certificate(tmp_path / "stranger", "stranger", "urn:someone:else")
    return {"cert": cert, "key": key, "other": other, "other_key": other_key, "folder": tmp_path}


async def secure_machine(pki: dict[str, Path], policy: str, users: dict[str, str] | None = None) -> OpcUaMachine:
    sim = OpcUaMachine(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02,
                       security=(policy,), trusted_certificates=[pki["cert"]], users=users,
                       certificate_folder=pki["folder"] / "server")
    await sim.start()
    return sim


@pytest.fixture
async def machines() -> AsyncIterator[list[OpcUaMachine]]:
    started: list[OpcUaMachine] = []
    yield started
    for sim in started:
        await sim.stop()


def config(sim: OpcUaMachine, security: OpcUaSecurity | None, **login: str) -> OpcUaServer:
    tags = [OpcUaTag(name=v, node_id=sim.node_id(v), sampling_interval_ms=20) for v in ("State", "GoodCount")]
    return OpcUaServer(name="M-ASSY", url=sim.url, publishing_interval_ms=20, watchdog_s=0.5, timeout_s=2,
                       security=security, tags=tags, **login)  # type: ignore[arg-type]


def backoff() -> Backoff:
    return Backoff(initial=0.1, maximum=0.4)


@pytest.mark.parametrize("mode", ["Sign", "SignAndEncrypt"])
async def test_a_secure_channel_with_the_configured_certificate_and_a_password_carries_values(
        pki: dict[str, Path], machines: list[OpcUaMachine], mode: str) -> None:
    sim = await secure_machine(pki, f"Basic256Sha256_{mode}", users={"line-1": "s3cret"})
    machines.append(sim)
    endpoints = await sim._server.get_endpoints()  # type: ignore[union-attr]
    assert {(e.SecurityPolicyUri.rsplit("#", 1)[1], e.SecurityMode.name) for e in endpoints} == {
        ("Basic256Sha256", mode)}  # the machine offers nothing else
    security = OpcUaSecurity(mode=mode, certificate=pki["cert"], private_key=pki["key"],  # type: ignore[arg-type]
                             server_certificate=sim.certificate)
    connector, sink = OpcUaConnector(config(sim, security, username="line-1", password="s3cret")), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.connected and sink.values("GoodCount") != [], 15, "first values")
        sim.machine.start()
        sim.machine.produce(5)
        await sim.publish_now()
        await wait_for(lambda: sink.values("GoodCount")[-1:] == [5], 5, "GoodCount 5 over the secure channel")
    assert connector.health.restarts == 0
    assert sim.users is not None and sim.users.refused == 0
    assert sim.trust_list is not None and sim.trust_list.refused == 0


async def test_a_certificate_the_machine_does_not_trust_is_refused_and_retried_until_trusted(
        pki: dict[str, Path], machines: list[OpcUaMachine]) -> None:
    sim = await secure_machine(pki, "Basic256Sha256_SignAndEncrypt")
    machines.append(sim)
    security = OpcUaSecurity(certificate=pki["other"], private_key=pki["other_key"], server_certificate=sim.certificate)
    connector, sink = OpcUaConnector(config(sim, security)), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.restarts >= 2, 15, "two refused attempts")
        error = connector.health.last_error or ""
        assert "M-ASSY" in error and "does not trust the node's certificate" in error
        assert "BadCertificateUntrusted" in error and str(pki["other"]) in error
        assert not connector.health.connected and sink.samples == []
        # The operator adds the certificate to the machine's trust list: the connector gets in by itself.
        assert sim.trust_list is not None
        sim.trust_list.trusted.add(pki["other"].read_bytes())
        await wait_for(lambda: connector.health.connected and sink.values("State") != [], 15, "connected once trusted")


async def test_a_client_without_security_is_refused_by_a_machine_that_requires_it(
        pki: dict[str, Path], machines: list[OpcUaMachine]) -> None:
    sim = await secure_machine(pki, "Basic256Sha256_Sign")
    machines.append(sim)
    connector, sink = OpcUaConnector(config(sim, None)), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 15, "a refused attempt")
    error = connector.health.last_error or ""
    assert "M-ASSY" in error and "no security" in error and "offers no endpoint" in error
    assert sink.samples == []


async def test_a_wrong_password_is_a_clear_error_and_the_connector_keeps_trying_with_backoff(
        pki: dict[str, Path], machines: list[OpcUaMachine], caplog: pytest.LogCaptureFixture) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02, users={"line-1": "s3cret"})
    await sim.start()
    machines.append(sim)
    connector, sink = OpcUaConnector(config(sim, None, username="line-1", password="guess")), Collected()
    caplog.set_level(logging.WARNING, logger="takt.connectors")
    async with supervised(connector, sink, backoff()):
        await asyncio.sleep(1.6)
        error = connector.health.last_error or ""
        assert "M-ASSY" in error and "refused user 'line-1': wrong user name or password" in error
        assert "BadUserAccessDenied" in error
        # backoff 0.1, 0.2, 0.4, 0.4 ... (jittered): a handful of attempts in 1.6 s, never a busy loop
        assert 2 <= connector.health.restarts <= 10
        assert sim.users is not None and sim.users.refused >= 2  # the machine itself checked the password
        assert not connector.health.connected and sink.samples == []
        logged = [r.getMessage() for r in caplog.records if r.name == "takt.connectors"]
        assert any("M-ASSY" in m and "wrong user name or password" in m for m in logged)
        # Anonymous is not allowed either: the right password is needed. The machine's password is changed to
        # the one the node has: the next attempt gets in.
        sim.users.users["line-1"] = "guess"
        await wait_for(lambda: connector.health.connected and sink.values("State") != [], 10, "connected")
        assert connector.health.last_error is None


def test_security_files_and_credentials_are_checked_when_the_configuration_is_read(pki: dict[str, Path]) -> None:
    tags = [OpcUaTag(name="State", node_id="ns=2;s=M.State")]
    with pytest.raises(ValidationError) as missing:
        OpcUaServer(name="M", url="opc.tcp://plc:4840/", tags=tags, security={  # type: ignore[arg-type]
            "mode": "Sign", "certificate": str(pki["folder"] / "nope.der"), "private_key": str(pki["key"])})
    assert "security.certificate" in str(missing.value) and "no such file" in str(missing.value)
    with pytest.raises(ValidationError) as mode:
        OpcUaServer(name="M", url="opc.tcp://plc:4840/", tags=tags, security={  # type: ignore[arg-type]
            "mode": "Encrypt", "certificate": str(pki["cert"]), "private_key": str(pki["key"])})
    assert "security.mode" in str(mode.value)
    with pytest.raises(ValidationError, match="username and password .* go together"):
        OpcUaServer(name="M", url="opc.tcp://plc:4840/", tags=tags, username="line-1")
