"""The node's trust in OPC UA server certificates: pinned, the trust list folder, trust on first use recorded."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from connectors.config import OpcUaSecurity
from connectors.opcua_trust import ServerRefused, ServerTrust, first_use_records, thumbprint
from simulators.certificates import application_certificate


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    machine, machine_key = application_certificate(folder, "M-ASSY-server", "urn:takt:sim:M-ASSY", role="server",
                                                   key_size=1024)
    other, _ = application_certificate(folder, "impostor", "urn:someone:else", role="server", key_size=1024)
    return {"machine": machine, "machine_key": machine_key, "other": other}


def test_a_pinned_certificate_is_trusted_and_a_different_one_refused_naming_both_thumbprints(
        certificates: dict[str, Path], tmp_path: Path) -> None:
    machine, other = certificates["machine"].read_bytes(), certificates["other"].read_bytes()
    trust = ServerTrust("M-ASSY", "opc.tcp://plc:4840", pinned=certificates["machine"], data_dir=tmp_path)
    decision = trust.check(machine)
    assert decision.trusted_by == "pinned" and decision.thumbprint == thumbprint(machine)
    with pytest.raises(ServerRefused) as refused:
        trust.check(other)
    said = str(refused.value)
    assert refused.value.cause == "pinned_differs" and "differs from the pinned server_certificate" in said
    assert f"pinned thumbprint {thumbprint(machine)}, presented {thumbprint(other)}" in said
    kept = tmp_path / "opcua-pki" / "rejected" / f"M-ASSY[{thumbprint(other)}].der"
    assert kept.read_bytes() == other and str(kept) in said


def test_by_default_a_certificate_outside_the_trust_list_is_refused_and_kept_until_an_operator_trusts_it(
        certificates: dict[str, Path], tmp_path: Path) -> None:
    machine = certificates["machine"].read_bytes()
    trust = ServerTrust("M-ASSY", "opc.tcp://plc:4840", data_dir=tmp_path)
    with pytest.raises(ServerRefused) as refused:
        trust.check(machine)
    said = str(refused.value)
    assert refused.value.cause == "server_untrusted"
    assert "does not trust the server's certificate O=Takt,CN=M-ASSY-server" in said and thumbprint(machine) in said
    trusted = tmp_path / "opcua-pki" / "trusted"
    assert f"not in the trust list {trusted}" in said
    kept = tmp_path / "opcua-pki" / "rejected" / f"M-ASSY[{thumbprint(machine)}].der"
    assert kept.is_file()
    # The operator compares the thumbprint and moves the certificate into the trust list: trusted, no restart.
    trusted.mkdir(parents=True)
    kept.rename(trusted / kept.name)
    decision = trust.check(machine)
    assert decision.trusted_by == "trust list" and decision.where == str(trusted / kept.name)


def test_the_sites_trust_folder_takes_pem_and_der_and_passes_over_keys(
        certificates: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "trusted"
    folder.mkdir()
    der = certificates["machine"].read_bytes()
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    (folder / "machine.pem").write_bytes(pem)
    (folder / "machine-key.pem").write_bytes(certificates["machine_key"].read_bytes())  # a key: not a certificate
    (folder / "notes.txt").write_text("the press's certificate, checked 2026-12-01")
    trust = ServerTrust("M-ASSY", "opc.tcp://plc:4840", trusted_folder=folder)
    assert trust.check(der).trusted_by == "trust list"
    with pytest.raises(ServerRefused, match=f"not in the trust list {folder}"):
        trust.check(certificates["other"].read_bytes())


def test_trust_on_first_use_records_the_first_certificate_logs_it_and_refuses_a_different_one_later(
        certificates: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    machine, other = certificates["machine"].read_bytes(), certificates["other"].read_bytes()
    caplog.set_level(logging.WARNING, logger="takt.connectors")
    trust = ServerTrust("M-ASSY", "opc.tcp://plc:4840", trust_on_first_use=True, data_dir=tmp_path)
    first = trust.check(machine)
    record_file = tmp_path / "opcua-pki" / "first-use" / "M-ASSY.der"
    assert first.trusted_by == "first use" and first.where == str(record_file) and first.since is not None
    assert record_file.read_bytes() == machine
    record = json.loads(record_file.with_suffix(".json").read_text())
    assert record["thumbprint"] == thumbprint(machine) and record["url"] == "opc.tcp://plc:4840"
    assert any("trusted the server's certificate" in r.getMessage() and "on first use" in r.getMessage()
               and thumbprint(machine) in r.getMessage() for r in caplog.records)
    # A later connection (a new node process) finds the record: the same certificate, the same decision.
    again = ServerTrust("M-ASSY", "opc.tcp://plc:4840", trust_on_first_use=True, data_dir=tmp_path).check(machine)
    assert again == first
    with pytest.raises(ServerRefused) as refused:
        trust.check(other)
    said = str(refused.value)
    assert refused.value.cause == "pinned_differs" and "differs from the one trusted on first use" in said
    assert f"trusted thumbprint {thumbprint(machine)}, presented {thumbprint(other)}" in said
    assert [r["server"] for r in first_use_records(tmp_path)] == ["M-ASSY"]


def test_trust_on_first_use_needs_a_data_dir_to_record_in(certificates: dict[str, Path]) -> None:
    trust = ServerTrust("M-ASSY", "opc.tcp://plc:4840", trust_on_first_use=True)
    with pytest.raises(ServerRefused, match="does not trust the server's certificate"):
        trust.check(certificates["machine"].read_bytes())


def test_the_site_file_refuses_a_missing_trust_folder_and_a_pin_with_trust_on_first_use(
        certificates: dict[str, Path], tmp_path: Path) -> None:
    base = {"certificate": str(certificates["machine"]), "private_key": str(certificates["machine_key"])}
    with pytest.raises(ValidationError, match="no such folder"):
        OpcUaSecurity.model_validate({**base, "trusted_server_certificates": str(tmp_path / "nope")})
    with pytest.raises(ValidationError, match="trust_on_first_use would never apply"):
        OpcUaSecurity.model_validate({**base, "server_certificate": str(certificates["machine"]),
                                      "trust_on_first_use": True})
    assert OpcUaSecurity.model_validate(base).trust_on_first_use is False  # off unless the site says so
