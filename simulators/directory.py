"""A throwaway OpenLDAP directory (Debian's ``slapd``) with TLS on free ports, for tests and benchmarks.

It stands in for the plant's directory (Active Directory or OpenLDAP): a real ``slapd`` in a temporary folder, its
configuration made with ``slapadd -n0`` (schemas core, cosine, inetorgperson; the ``ppolicy`` module, whose
``pwdAccountLockedTime`` marks a locked account), its entries loaded from LDIF with ``slapadd -n1`` before it
starts. It listens on ``ldap://`` (for StartTLS) and ``ldaps://`` on 127.0.0.1 with a self-signed certificate
(``ca.pem`` is the certificate a client trusts). :meth:`Directory.stop` and :meth:`Directory.start` take it down and
up again on the same ports, as a directory that goes away and comes back.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulators.ports import free_port

SUFFIX = "dc=plant,dc=example"
ADMIN_DN = f"cn=admin,{SUFFIX}"
MODULES = Path("/usr/lib/ldap")
SCHEMAS = Path("/etc/ldap/schema")


def _self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed server certificate for ``host`` (it is its own CA): (certificate, key) as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Takt test directory")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "ca.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _config_ldif(folder: Path, cert: Path, key: Path, admin_password: str) -> str:
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {folder}/slapd.pid
olcTLSCACertificateFile: {cert}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULES}
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{SCHEMAS}/core.ldif

include: file://{SCHEMAS}/cosine.ldif

include: file://{SCHEMAS}/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {folder}/data
olcRootDN: {ADMIN_DN}
olcRootPW: {admin_password}
olcAccess: {{0}}to attrs=userPassword by self read by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"""


class Directory:
    """One throwaway ``slapd`` in ``folder`` with the entries of ``ldif`` (below :data:`SUFFIX`)."""

    def __init__(self, folder: Path, ldif: str, admin_password: str = "directory-admin-secret") -> None:
        if shutil.which("slapd") is None and not Path("/usr/sbin/slapd").exists():
            raise RuntimeError("slapd is not installed (Debian: apt-get install slapd ldap-utils)")
        self.folder = folder
        self.admin_password = admin_password
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        (folder / "slapd.d").mkdir(exist_ok=True)
        self.ca_file, key = _self_signed(folder)
        (folder / "config.ldif").write_text(_config_ldif(folder, self.ca_file, key, admin_password))
        (folder / "data.ldif").write_text(ldif)
        self._slapadd("-n0", "-l", str(folder / "config.ldif"))
        self._slapadd("-n1", "-l", str(folder / "data.ldif"))
        self.port, self.tls_port = free_port(), free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The plain port, for StartTLS."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def _slapadd(self, *args: str) -> None:
        done = subprocess.run(["/usr/sbin/slapadd", "-F", str(self.folder / "slapd.d"), *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd {' '.join(args)}: {done.stderr.strip()}")

    def start(self, timeout_s: float = 15.0) -> None:
        """Start slapd (in the foreground, as a child) and wait until both ports take connections."""
        self._process = subprocess.Popen(
            ["/usr/sbin/slapd", "-d", "0", "-F", str(self.folder / "slapd.d"),
             "-h", f"{self.url}/ {self.tls_url}/"],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "slapd.log").open("ab"))
        deadline = time.monotonic() + timeout_s
        for port in (self.port, self.tls_port):
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"slapd ended at start: {(self.folder / 'slapd.log').read_text()[-2000:]}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"slapd did not open port {port} within {timeout_s} s") from None
                    time.sleep(0.05)

    def stop(self) -> None:
        """Stop slapd (the directory is down until :meth:`start`)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> Directory:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
