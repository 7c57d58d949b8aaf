"""`takt reference fetch|status` against a real HTTP mirror on this machine, served from the reference data mirror
(../shared/data) with one file altered: the altered file is refused by its hash and not installed, the rest is;
`takt doctor` and `/health` report what is missing or altered."""
from __future__ import annotations

import functools
import http.server
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge import reference
from takt.cli import app
from tests.integration.conftest import free_port, start_node
from tests.shared_data import SHARED_DATA, require_mirror

require_mirror("b2mml/V0600")
ALTERED = "b2mml/V0600/B2MML-V0600-Common.xsd"
SETS = ["--set", "gs1-syntax-dictionary", "--set", "b2mml-schemas"]
FILES = len(reference.pinned()[reference.GS1_SET].files) + len(reference.pinned()[reference.B2MML_SET].files)


class _MirrorWithOneAlteredFile(http.server.SimpleHTTPRequestHandler):
    """Serves the mirror as it is, except ALTERED, whose bytes are changed (a tampered or corrupted mirror)."""

    def do_GET(self) -> None:
        if self.path.lstrip("/") == ALTERED:
            body = (SHARED_DATA / ALTERED).read_bytes().replace(b"<xsd:", b"<xsd:", 1) + b"<!-- changed -->"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[str]:
    handler = functools.partial(_MirrorWithOneAlteredFile, directory=str(SHARED_DATA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty user data dir and no test mirror for the product: as on a fresh machine. The process's default GS1
    parser (made once, by the first scan pipeline) is put back afterwards, so later tests keep theirs."""
    import scanners.gs1

    monkeypatch.setattr(scanners.gs1, "_default", scanners.gs1._default)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TAKT_SHARED_DATA", "")
    reference.configure(site_folder=None, data_dir=None)
    yield tmp_path / "xdg" / "takt" / "reference"
    reference.configure(site_folder=None, data_dir=None)


def takt(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, list(args))
    return out.exit_code, out.output


def test_an_altered_file_is_refused_and_not_installed(mirror: str, nowhere: Path) -> None:
    code, output = takt("reference", "fetch", "--mirror", mirror, *SETS)
    assert code == 1, output
    assert f"REFUSED {ALTERED}: sha256" in output
    assert f"{FILES - 1} installed, 0 already there, 1 refused" in output
    assert not (nowhere / ALTERED).exists()
    assert (nowhere / reference.GS1_DICTIONARY).is_file()
    code, output = takt("reference", "status", *SETS)
    assert code == 1
    assert output.startswith("ok      gs1-syntax-dictionary 2026-01-27")
    assert f"where: {nowhere} (user dir)" in output
    assert "INCOMPLETE b2mml-schemas" in output and f"e.g. {ALTERED}" in output
    # the same layout in a folder (a plant's copy on a share): only what is missing is fetched
    code, output = takt("reference", "fetch", "--mirror", str(SHARED_DATA), *SETS)
    assert code == 0, output
    assert f"1 installed, {FILES - 1} already there, 0 refused" in output
    assert takt("reference", "status", *SETS)[0] == 0


def test_a_copy_altered_after_installing_is_reported_and_replaced(nowhere: Path) -> None:
    assert takt("reference", "fetch", "--mirror", str(SHARED_DATA), "--set", "gs1-syntax-dictionary")[0] == 0
    dictionary = nowhere / reference.GS1_DICTIONARY
    dictionary.write_text(dictionary.read_text().replace("01 ", "01  ", 1))
    code, output = takt("reference", "status", "--quiet")
    assert code == 1 and "ALTERED gs1-syntax-dictionary" in output
    assert f"sha256 differs: {reference.GS1_DICTIONARY}" in output
    assert reference.gs1_syntax_dictionary() is None  # never used
    code, output = takt("reference", "fetch", "--mirror", str(SHARED_DATA), "--set", "gs1-syntax-dictionary")
    assert code == 0 and "1 installed, 1 already there" in output
    assert reference.gs1_syntax_dictionary() == dictionary


def test_an_unreachable_source_is_tried_once_and_named(nowhere: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    code, output = takt("reference", "fetch", "--mirror", closed, "--set", "b2mml-schemas", "--timeout", "5")
    assert code == 1
    assert output.count("cannot download") == 1 and "not tried: 127.0.0.1" in output
    assert "0 installed" in output and "reference data incomplete" in output
    assert not nowhere.exists() or not any(nowhere.rglob("*.xsd"))


def _site(tmp_path: Path, *extra: str) -> Path:
    site = tmp_path / "site.yaml"
    site.write_text(textwrap.dedent("""
        node: {id: ref-node, data_dir: data}
        site: {enterprise: acme, site: eindhoven, area: a1, line: l1}
        """) + "\n".join(extra) + "\n")
    return site


def test_fetch_for_a_site_installs_into_its_data_dir_and_the_doctor_sees_it(tmp_path: Path) -> None:
    from takt.doctor import run_checks

    site = _site(tmp_path)
    (tmp_path / "data").mkdir()

    def reference_check() -> tuple[bool, str]:
        check = next(c for c in run_checks(site, timeout_s=1) if c.name == "reference data")
        return check.ok, f"{check.detail} | {check.fix}"

    ok, detail = reference_check()
    assert not ok and "gs1-syntax-dictionary is not installed" in detail and f"--config {site}" in detail
    code, output = takt("reference", "fetch", "--config", str(site), "--mirror", str(SHARED_DATA),
                        "--set", "gs1-syntax-dictionary")
    assert code == 0, output
    assert f"into {tmp_path / 'data' / 'reference'}" in output
    ok, detail = reference_check()
    assert ok and f"gs1-syntax-dictionary in {tmp_path / 'data' / 'reference'}" in detail
    assert "b2mml-schemas is not installed" in detail  # listed, not a problem: the site has no b2mml section
    folder = tmp_path / "plant-reference"  # a site that points to its own folder: looked in first
    site = _site(tmp_path, f"reference: {folder}")
    assert takt("reference", "fetch", "--config", str(site), "--mirror", str(SHARED_DATA),
                "--set", "gs1-syntax-dictionary")[0] == 0
    assert (folder / reference.GS1_DICTIONARY).is_file()
    (folder / reference.GS1_DICTIONARY).write_text("altered\n")
    ok, detail = reference_check()
    assert not ok and f"passed over: site folder {folder}: altered" in detail


def test_health_shows_gs1_validation_degraded_without_the_dictionary(tmp_path: Path) -> None:
    reference.configure(site_folder=None, data_dir=tmp_path)
    node = start_node(f"sqlite:///{tmp_path}/takt.sqlite")
    try:
        body = node.client("operator").get("/health").json()
        assert body["status"] == "ok"  # the node records; the reference data is its own state
        assert body["reference"]["status"] == "degraded"
        assert body["reference"]["gs1_validation"].startswith("biip only")
        assert body["reference"]["sets"]["gs1-syntax-dictionary"]["status"] == "missing"
        assert takt("reference", "fetch", "--data-dir", str(tmp_path), "--mirror", str(SHARED_DATA),
                    "--set", "gs1-syntax-dictionary")[0] == 0
        body = node.client("operator").get("/health").json()
        assert body["reference"]["status"] == "ok"
        assert body["reference"]["gs1_validation"] == "syntax dictionary"
        assert body["reference"]["sets"]["gs1-syntax-dictionary"]["where"] == str(tmp_path / "reference")
    finally:
        node.stop()
