"""``takt certs``: a self-signed certificate authority and a server certificate signed by it, for a test site's TLS.

A plant with its own PKI gives the node a certificate from it; a test site or a pilot line uses this command and
installs ``ca.pem`` on the terminals and handhelds (the browsers' and clients' trust store), so that they check the
node's certificate instead of clicking a warning away. Keys are ECDSA P-256 (fast handshakes on a small node) and
written readable by their owner only; the server key can be encrypted with a password read from a file or an
environment variable, the same forms the site file takes (``api.tls.key_password_file`` / ``key_password_env``).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"


@dataclass(frozen=True)
class CertificateFiles:
    """Where ``make_certificates`` wrote the pair and its authority."""

    ca: Path
    ca_key: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Takt test site"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (created so, never world-readable for an instant)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def subject_alt_names(names: list[str]) -> list[x509.GeneralName]:
    """``localhost``, ``10.0.0.5``, ``node-20.plant.local`` as the certificate's DNS and IP names."""
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def make_certificates(folder: Path, names: list[str], *, days: int = 397, ca_days: int = 3650,
                      key_password: str | None = None, overwrite: bool = False) -> CertificateFiles:
    """A new CA and a server certificate for ``names`` (host names and IP addresses) signed by it, in ``folder``."""
    if not names:
        raise ValueError("give at least one host name or IP address for the server certificate")
    files = CertificateFiles(folder / CA_FILE, folder / CA_KEY_FILE, folder / CERT_FILE, folder / KEY_FILE)
    existing = [p.name for p in (files.ca, files.ca_key, files.cert, files.key) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{folder} already holds {', '.join(existing)}; give --force to replace them")
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Takt test site CA")
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=ca_days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_key_usage(ca=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(subject_alt_names(names)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(key_password.encode()) if key_password else serialization.NoEncryption())
    _write_private(files.ca_key, ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    _write_private(files.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                encryption))
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def _password(password_env: str | None, password_file: Path | None) -> str | None:
    if password_env and password_file:
        raise typer.BadParameter("give --key-password-env or --key-password-file, not both")
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise typer.BadParameter(f"environment variable {password_env} is not set", param_hint="--key-password-env")
        return value
    if password_file is not None:
        try:
            value = password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {password_file}: {exc.strerror or exc}",
                                     param_hint="--key-password-file") from None
        if not value:
            raise typer.BadParameter(f"{password_file} is empty", param_hint="--key-password-file")
        return value
    return None


def certs(
    folder: Annotated[Path, typer.Argument(help="where to write ca.pem, ca-key.pem, server.pem and server-key.pem")],
    name: Annotated[list[str] | None, typer.Option(
        "--name", "-n", help="a host name or IP address the node is reached by (repeat; default: localhost and "
                             "127.0.0.1)")] = None,
    days: Annotated[int, typer.Option(min=1, max=825, help="how long the server certificate is valid")] = 397,
    key_password_env: Annotated[str | None, typer.Option(
        help="encrypt the server key with the password in this environment variable")] = None,
    key_password_file: Annotated[Path | None, typer.Option(
        help="encrypt the server key with the password in this file")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace certificates already in the folder")] = False,
) -> None:
    """Make a self-signed CA and a server certificate signed by it, for a test site's HTTPS (api.tls)."""
    names = name or ["localhost", "127.0.0.1"]
    password = _password(key_password_env, key_password_file)
    try:
        files = make_certificates(folder, names, days=days, key_password=password, overwrite=force)
    except (FileExistsError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {files.cert} and {files.key} for {', '.join(names)}, signed by {files.ca}")
    typer.echo(f"keep {files.ca_key} offline; install {files.ca} in the clients' trust store")
    typer.echo("site file:\n  api:\n    tls:\n"
               f"      cert_file: {files.cert}\n      key_file: {files.key}"
               + (f"\n      password_env: {key_password_env}" if key_password_env else "")
               + (f"\n      password_file: {key_password_file.resolve()}" if key_password_file else ""))
