"""The node over HTTPS, as a plant runs it: ``takt certs`` makes a CA and a server certificate (the key encrypted, its
password in a file), ``takt run`` serves the demo site with them, clients check the certificate against that CA,
the pages load in Chromium, a request head of 32 MB is answered 431, and SIGHUP takes a renewed certificate for the
next connections without a restart."""
from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from takt.config import demo_config_path
from tests.integration.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}
CHROMIUM = os.environ.get("TAKT_CHROMIUM", "/usr/bin/chromium")


@dataclass
class HttpsNode:
    url: str
    port: int
    certs: Path
    proc: subprocess.Popen[str]

    @property
    def ca(self) -> str:
        return str(self.certs / "ca.pem")


def takt(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "takt", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def make_certs(folder: Path, password_file: Path, *extra: str) -> None:
    done = takt("certs", str(folder), "--key-password-file", str(password_file), *extra)
    assert done.returncode == 0, done.stderr
    assert "password_file:" in done.stdout


@pytest.fixture(scope="module")
def https_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsNode]:
    folder = tmp_path_factory.mktemp("https")
    certs = folder / "certs"
    password_file = folder / "key-password"
    password_file.write_text("correct horse battery staple\n")
    make_certs(certs, password_file)
    assert b"ENCRYPTED" in (certs / "server-key.pem").read_bytes()
    assert (certs / "server-key.pem").stat().st_mode & 0o077 == 0
    port = free_port()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    site["node"]["data_dir"] = str(folder / "data")
    site["api"] = {"host": "127.0.0.1", "port": port,
                   "tls": {"cert_file": "certs/server.pem", "key_file": "certs/server-key.pem",
                           "password_file": "key-password"}}
    (folder / "site.yaml").write_text(yaml.safe_dump(site))
    proc = subprocess.Popen([sys.executable, "-m", "takt", "run", "-c", str(folder / "site.yaml"),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT)
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        try:
            if httpx.get(f"{url}/health", verify=ssl.create_default_context(cafile=certs / "ca.pem"), timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the node did not answer over https within 60 s"
        time.sleep(0.2)
    yield HttpsNode(url, port, certs, proc)
    proc.send_signal(signal.SIGTERM)
    try:
        out = proc.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, out[-3000:]


def test_the_api_answers_over_https_with_a_certificate_the_clients_check(https_node: HttpsNode) -> None:
    with httpx.Client(base_url=https_node.url, verify=ssl.create_default_context(cafile=https_node.ca), timeout=10) as client:
        health = client.get("/health", headers=OPERATOR)
        assert health.status_code == 200 and health.json()["node_id"] == "demo-eindhoven-assembly-1"
        assert health.headers["strict-transport-security"] == "max-age=31536000"
        issued = client.post("/api/v1/work-orders/WO-1001/issues", json={"lot": "L118", "bin": "LS-20", "quantity": 1},
                             headers={**OPERATOR, "Idempotency-Key": "https-1"})
        assert issued.status_code in (201, 409), issued.text  # over TLS the write path answers as over plain HTTP
        assert issued.headers["cache-control"] == "no-store"
    with pytest.raises(httpx.ConnectError):  # the system's trust store does not know the site's own CA
        httpx.get(f"{https_node.url}/health", timeout=5)
    with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
        httpx.get(f"http://127.0.0.1:{https_node.port}/health", timeout=5).raise_for_status()


def test_a_32_mb_request_head_is_refused_with_431(https_node: HttpsNode) -> None:
    context = ssl.create_default_context(cafile=https_node.ca)
    with socket.create_connection(("127.0.0.1", https_node.port), timeout=20) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: ")
        chunk, sent = b"a" * 65_536, 0
        started = time.monotonic()
        try:
            while sent < 32 * 1024 * 1024:
                tls.sendall(chunk)
                sent += len(chunk)
            tls.sendall(b"\r\n\r\n")
        except OSError:
            pass  # the node may stop reading early: what matters is its answer
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = tls.recv(65_536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"HEADERS_TOO_LARGE" in answer or b"content-length" in answer
    assert time.monotonic() - started < 20
    with httpx.Client(base_url=https_node.url, verify=ssl.create_default_context(cafile=https_node.ca), timeout=10) as client:  # and it serves on
        assert client.get("/health", headers={"X-Normal": "a" * 4000}).status_code == 200


def _spki_sha256(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_the_pages_load_in_chromium_over_https_under_the_content_security_policy(https_node: HttpsNode) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    # Headless Chromium takes no CA file; it is told to accept exactly the node's key (the SPKI hash of the
    # certificate `takt certs` made), never "any certificate": a different key would still be refused.
    pin = f"--ignore-certificate-errors-spki-list={_spki_sha256(https_node.certs / 'server.pem')}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, pin])
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(20_000)
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            for path in ("/pages/terminal/WS-20", "/pages/handheld", "/pages/line"):
                answer = page.goto(f"{https_node.url}{path}", wait_until="load")
                assert answer is not None and answer.status == 200, path
                assert answer.headers["strict-transport-security"].startswith("max-age="), path
                if path != "/pages/line":  # the line view is ready once a supervisor has logged on
                    page.wait_for_selector("body[data-ready=true]")  # its scripts ran and read the node over TLS
                assert page.evaluate("location.protocol") == "https:"
            page.goto(f"{https_node.url}/docs")
            page.wait_for_selector(".swagger-ui .info .title")
            assert "Takt edge node" in page.inner_text(".swagger-ui .info .title")
            assert violations == [], violations
            context.close()
        finally:
            browser.close()


def test_sighup_takes_a_renewed_certificate_for_new_connections(https_node: HttpsNode, tmp_path: Path) -> None:
    old_ca = tmp_path / "old-ca.pem"
    old_ca.write_bytes((https_node.certs / "ca.pem").read_bytes())
    with httpx.Client(base_url=https_node.url, verify=ssl.create_default_context(cafile=old_ca), timeout=10) as old:
        assert old.get("/health").status_code == 200
    renewed = tmp_path / "renewed"
    make_certs(renewed, https_node.certs.parent / "key-password")
    for name in ("server.pem", "server-key.pem", "ca.pem"):
        (https_node.certs / name).write_bytes((renewed / name).read_bytes())
    https_node.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:  # new connections now meet the renewed certificate, signed by the new CA only
        try:
            if httpx.get(f"{https_node.url}/health", verify=ssl.create_default_context(cafile=renewed / "ca.pem"), timeout=5).status_code == 200:
                break
        except httpx.ConnectError:
            pass
        assert time.monotonic() < deadline, "SIGHUP did not load the renewed certificate"
        time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{https_node.url}/health", verify=ssl.create_default_context(cafile=old_ca), timeout=5)
    assert https_node.proc.poll() is None  # the same process: no restart
    # A broken file on the next SIGHUP: the node says so in its log and keeps the certificate it has.
    (https_node.certs / "server.pem").write_text("not a certificate\n")
    https_node.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert httpx.get(f"{https_node.url}/health", verify=ssl.create_default_context(cafile=renewed / "ca.pem"), timeout=5).status_code == 200
    assert https_node.proc.poll() is None


def test_a_key_password_that_is_wrong_stops_the_node_naming_the_setting(tmp_path: Path) -> None:
    password_file = tmp_path / "key-password"
    password_file.write_text("right\n")
    make_certs(tmp_path / "certs", password_file)
    password_file.write_text("wrong\n")
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    site["node"]["data_dir"] = str(tmp_path / "data")
    site["api"] = {"host": "127.0.0.1", "port": free_port(),
                   "tls": {"cert_file": "certs/server.pem", "key_file": "certs/server-key.pem",
                           "password_file": "key-password"}}
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    done = takt("run", "-c", str(tmp_path / "site.yaml"))
    assert done.returncode != 0
    assert "api.tls" in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_takt_certs_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    first = takt("certs", str(tmp_path), "--name", "node-20.plant.local", "--name", "10.0.0.5")
    assert first.returncode == 0, first.stderr
    cert = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["node-20.plant.local"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    again = takt("certs", str(tmp_path))
    assert again.returncode == 1 and "--force" in again.stderr
    assert takt("certs", str(tmp_path), "--force").returncode == 0
