"""The OPC UA connector against an independent server, node-opcua: Basic256Sha256 Sign and SignAndEncrypt, user
and password, and trust both ways with the refusals such a server really gives.

node-opcua is installed by the test command (``scripts/test``) into ``.venv/node-opcua`` (or the folder named by
``TAKT_NODE_OPCUA``); the server script is ``tests/interop/node_opcua_server.js``. It keeps the client
certificates it refused in ``<pki>/rejected`` and trusts those in ``<pki>/trusted/certs``, as a plant's
node-opcua based server does."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from connectors.base import Backoff, Sample
from connectors.config import OpcUaSecurity, OpcUaServer, OpcUaTag
from connectors.opcua import OpcUaConnector
from connectors.opcua_trust import der_of, thumbprint
from simulators.certificates import application_certificate
from tests.integration.conftest import supervised
from tests.integration.wire import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / "tests" / "interop" / "node_opcua_server.js"
NODE_MODULES = Path(os.environ.get("TAKT_NODE_OPCUA", ROOT / ".venv" / "node-opcua")) / "node_modules"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_MODULES / "node-opcua").is_dir(),
    reason=f"node-opcua is not installed in {NODE_MODULES} (scripts/test installs it)")


class Collected:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.samples.extend(batch)

    def values(self, tag: str) -> list[object]:
        return [s.value for s in self.samples if s.tag == tag]


class NodeOpcUaServer:
    def __init__(self, pki: Path, port: int, url: str, certificate: Path) -> None:
        self.pki, self.port, self.url, self.certificate = pki, port, url, certificate


@pytest.fixture
async def node_opcua(tmp_path: Path) -> AsyncIterator[NodeOpcUaServer]:
    port, pki = free_port(), tmp_path / "node-opcua-pki"
    proc = await asyncio.create_subprocess_exec(
        "node", str(SERVER_SCRIPT), str(port), str(pki), "line-1", "s3cret", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert proc.stdout is not None
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            if not line:
                _, err = await proc.communicate()
                pytest.fail(f"node-opcua did not start: {err.decode()[-2000:]}")
            if line.startswith("READY "):
                break
        yield NodeOpcUaServer(pki, port, f"opc.tcp://127.0.0.1:{port}", Path(line.split(" ", 1)[1].strip()))
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def config(server: NodeOpcUaServer, security: OpcUaSecurity, **login: str) -> OpcUaServer:
    tags = [OpcUaTag(name="GoodCount", node_id="ns=1;s=M-NODE.GoodCount", sampling_interval_ms=100)]
    return OpcUaServer(name="M-NODE", url=server.url, publishing_interval_ms=100, watchdog_s=2, timeout_s=4,
                       security=security, tags=tags, **login)  # type: ignore[arg-type]


def backoff() -> Backoff:
    return Backoff(initial=0.1, maximum=0.5)


async def test_node_opcua_trust_both_ways_sign_and_encrypt_and_user_logon(
        node_opcua: NodeOpcUaServer, tmp_path: Path) -> None:
    cert, key = application_certificate(tmp_path / "node", "takt-node", "urn:takt:node:line-1")
    ours = thumbprint(cert.read_bytes())
    data_dir = tmp_path / "data"

    def secured(mode: str, **trust: object) -> OpcUaSecurity:
        return OpcUaSecurity(mode=mode, certificate=cert, private_key=key, **trust)  # type: ignore[arg-type]

    # 1. The node trusts the server on first use (recorded), but the server does not trust the node yet: the
    # refusal says so, names the node's certificate and where node-opcua keeps it.
    connector, sink = OpcUaConnector(config(node_opcua, secured("SignAndEncrypt", trust_on_first_use=True),
                                            username="line-1", password="s3cret"), data_dir=data_dir), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 20, "a refused attempt")
        error = connector.health.last_error or ""
        assert "the server does not trust the node's certificate" in error and ours in error, error
        assert str(cert) in error and "rejected/" in error and "connection lost" not in error
        assert connector.health.as_dict()["trust"]["refused"] == "node_untrusted"
        rejected = [p for p in (node_opcua.pki / "rejected").iterdir() if ours in p.name]
        assert len(rejected) == 1  # node-opcua names it by the same thumbprint
        # The server's operator moves it into the trusted certificates: the connector gets in by itself.
        rejected[0].rename(node_opcua.pki / "trusted" / "certs" / rejected[0].name)
        await wait_for(lambda: connector.health.connected and len(set(sink.values("GoodCount"))) >= 2, 20,
                       "values over SignAndEncrypt")
    trust = connector.health.as_dict()["trust"]
    assert trust["trusted_by"] == "first use" and trust["refused"] is None
    assert trust["server_certificate"] == thumbprint(der_of(node_opcua.certificate.read_bytes()))

    # 2. Sign, without a user: node-opcua has no anonymous logon.
    connector = OpcUaConnector(config(node_opcua, secured("Sign", trust_on_first_use=True)), data_dir=data_dir)
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 20, "a refused attempt")
    assert "does not allow anonymous logon" in (connector.health.last_error or "")
    assert connector.health.as_dict()["trust"]["refused"] == "anonymous_refused"

    # 3. Sign with a wrong password, then the right one, the server's certificate pinned.
    connector = OpcUaConnector(config(node_opcua, secured("Sign", server_certificate=node_opcua.certificate),
                                      username="line-1", password="guess"))
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 20, "a refused attempt")
    assert "refused user 'line-1': wrong user name or password" in (connector.health.last_error or "")
    connector, sink = OpcUaConnector(config(node_opcua, secured("Sign", server_certificate=node_opcua.certificate),
                                            username="line-1", password="s3cret")), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.connected and len(set(sink.values("GoodCount"))) >= 2, 20,
                       "values over Sign")
    assert connector.health.as_dict()["trust"]["trusted_by"] == "pinned"

    # 4. A wrong pinned certificate: both thumbprints, not BadTcpInternalError.
    connector = OpcUaConnector(config(node_opcua, secured("Sign", server_certificate=cert),
                                      username="line-1", password="s3cret"))
    async with supervised(connector, Collected(), backoff()):
        await wait_for(lambda: connector.health.restarts >= 1, 20, "a refused attempt")
    error = connector.health.last_error or ""
    assert f"pinned thumbprint {ours}" in error and "BadTcpInternalError" not in error
