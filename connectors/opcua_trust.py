"""OPC UA trust both ways: the node's trust list for server certificates, and refusals that name their cause.

The node checks a server's application certificate before it opens a secure channel with it:

- a pinned ``server_certificate`` must be the one the server presents (else both thumbprints are named);
- otherwise the certificate must be in the node's trust list: the site's folder ``trusted_server_certificates``
  (default ``<data_dir>/opcua-pki/trusted``), every DER or PEM certificate in it, read again on every attempt so an
  operator can add one without a restart;
- otherwise, only where the site says ``trust_on_first_use``, the first certificate a server presents is accepted,
  recorded in ``<data_dir>/opcua-pki/first-use/<server>.der`` (with ``.json`` saying when and which) and logged;
  later a different certificate from that server is refused.

A certificate refused here is kept in ``<data_dir>/opcua-pki/rejected/`` (named by its thumbprint, as node-opcua
and other OPC UA stacks keep theirs): moving it into the trusted folder, after comparing its thumbprint with the
machine's, trusts it.

The other way round, a server that does not trust the node's certificate answers the OpenSecureChannel request
with a ServiceFault (node-opcua sends BadSecurityChecksFailed or BadCertificateUntrusted in an OPN chunk), which
asyncua 2.1 parses as an OpenSecureChannelResponse and fails on with a bare AssertionError after closing the
socket. ``FaultReadingProtocol`` reads the fault's status code instead, so the refusal can say what happened.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.ua_client import UASocketProtocol
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.ua_binary import nodeid_from_binary, struct_from_binary
from cryptography import x509
from cryptography.hazmat.primitives import serialization

log = logging.getLogger("takt.connectors.opcua")

PKI_FOLDER = "opcua-pki"  # in the node's data dir
CERTIFICATE_SUFFIXES = (".der", ".pem", ".crt", ".cer")


class ServerRefused(ConnectionError):
    """The link would not be made for a reason of trust or logon (certificate, security policy, user or password);
    ``cause`` is a stable word for it: ``server_untrusted``, ``node_untrusted``, ``pinned_differs``,
    ``anonymous_refused``, ``user_refused``, ``policy``, ``certificate``."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def der_of(raw: bytes) -> bytes:
    """A certificate's DER bytes from DER or PEM."""
    if raw.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(raw).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(raw).public_bytes(serialization.Encoding.DER)


def thumbprint(der: bytes) -> str:
    """The certificate's OPC UA thumbprint: SHA-1 of its DER bytes, in hex (as servers name rejected files)."""
    return hashlib.sha1(der).hexdigest()  # noqa: S324 - OPC UA's thumbprint is SHA-1 by definition (Part 6)


def subject_of(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def described(der: bytes) -> str:
    """``CN=...,O=... (thumbprint ...)``, for messages."""
    return f"{subject_of(der)} (thumbprint {thumbprint(der)})"


def certificates_in(folder: Path) -> dict[bytes, Path]:
    """Every readable certificate in ``folder`` (DER or PEM; keys and other files are passed over)."""
    found: dict[bytes, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in CERTIFICATE_SUFFIXES:
            continue
        try:
            found[der_of(path.read_bytes())] = path
        except (OSError, ValueError):
            continue  # a private key in PEM, or not a certificate at all
    return found


@dataclass(frozen=True)
class TrustDecision:
    """Why the node trusts a server's certificate, for health and ``takt opcua``."""

    thumbprint: str
    subject: str
    trusted_by: str  # "pinned", "trust list", "first use"
    where: str  # the file that holds the certificate
    since: str | None = None  # for first use: when it was recorded

    def as_dict(self) -> dict[str, str | None]:
        return {"server_certificate": self.thumbprint, "subject": self.subject, "trusted_by": self.trusted_by,
                "where": self.where, "since": self.since}


class ServerTrust:
    """The node's trust in one server's certificate: pinned, the trust list, or trust on first use."""

    def __init__(self, server: str, url: str, *, pinned: Path | None = None, trusted_folder: Path | None = None,
                 trust_on_first_use: bool = False, data_dir: Path | None = None) -> None:
        self.server = server
        self.url = url
        self.pinned = pinned
        pki = data_dir / PKI_FOLDER if data_dir is not None else None
        self.trusted_folder = trusted_folder or (pki / "trusted" if pki is not None else None)
        self.rejected_folder = pki / "rejected" if pki is not None else None
        self.first_use_folder = pki / "first-use" if pki is not None else None
        self.trust_on_first_use = trust_on_first_use and self.first_use_folder is not None

    def first_use_record(self) -> tuple[Path, dict[str, Any]] | None:
        """The certificate recorded on first use and its record, or None."""
        if self.first_use_folder is None:
            return None
        cert = self.first_use_folder / f"{_file_name(self.server)}.der"
        if not cert.is_file():
            return None
        try:
            record = json.loads(cert.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        return cert, record

    def check(self, presented: bytes) -> TrustDecision:
        """Accept ``presented`` (the server's certificate, DER) or raise ``ServerRefused`` naming the cause."""
        der = der_of(presented)
        print_, subject = thumbprint(der), subject_of(der)
        if self.pinned is not None:
            pinned = der_of(self.pinned.read_bytes())
            if pinned == der:
                return TrustDecision(print_, subject, "pinned", str(self.pinned))
            self._reject(der)
            raise ServerRefused(
                f"the server presents a certificate that differs from the pinned server_certificate {self.pinned}: "
                f"pinned thumbprint {thumbprint(pinned)}, presented {print_} ({subject}){self._kept(der)}",
                "pinned_differs")
        if self.trusted_folder is not None:
            listed = certificates_in(self.trusted_folder)
            if der in listed:
                return TrustDecision(print_, subject, "trust list", str(listed[der]))
        if self.trust_on_first_use:
            return self._first_use(der)
        self._reject(der)
        folder = self.trusted_folder if self.trusted_folder is not None else "trusted_server_certificates"
        raise ServerRefused(
            f"the node does not trust the server's certificate {subject} (thumbprint {print_}): not in the trust "
            f"list {folder}{self._kept(der)}; compare the thumbprint with the machine's and put the certificate "
            f"into {folder}, or pin it with server_certificate", "server_untrusted")

    def _first_use(self, der: bytes) -> TrustDecision:
        assert self.first_use_folder is not None
        recorded = self.first_use_record()
        print_, subject = thumbprint(der), subject_of(der)
        if recorded is not None:
            path, record = recorded
            if der_of(path.read_bytes()) == der:
                return TrustDecision(print_, subject, "first use", str(path), record.get("since"))
            self._reject(der)
            raise ServerRefused(
                f"the server presents a certificate that differs from the one trusted on first use "
                f"({record.get('since', '?')}, {path}): trusted thumbprint {thumbprint(der_of(path.read_bytes()))}, "
                f"presented {print_} ({subject}){self._kept(der)}; if the machine's certificate was renewed on "
                f"purpose, delete {path} to trust the new one", "pinned_differs")
        self.first_use_folder.mkdir(parents=True, exist_ok=True)
        path = self.first_use_folder / f"{_file_name(self.server)}.der"
        since = datetime.now(UTC).isoformat(timespec="seconds")
        path.write_bytes(der)
        path.with_suffix(".json").write_text(json.dumps(
            {"server": self.server, "url": self.url, "thumbprint": print_, "subject": subject, "since": since},
            indent=2) + "\n", encoding="utf-8")
        log.warning("%s (%s): trusted the server's certificate %s (thumbprint %s) on first use; recorded in %s",
                    self.server, self.url, subject, print_, path)
        return TrustDecision(print_, subject, "first use", str(path), since)

    def _reject(self, der: bytes) -> None:
        if self.rejected_folder is None:
            return
        self.rejected_folder.mkdir(parents=True, exist_ok=True)
        (self.rejected_folder / f"{_file_name(self.server)}[{thumbprint(der)}].der").write_bytes(der)

    def _kept(self, der: bytes) -> str:
        if self.rejected_folder is None:
            return ""
        return f"; kept in {self.rejected_folder / f'{_file_name(self.server)}[{thumbprint(der)}].der'}"


def first_use_records(data_dir: Path) -> list[dict[str, Any]]:
    """Every server certificate trusted on first use in ``data_dir`` (``takt opcua trusted``)."""
    folder = data_dir / PKI_FOLDER / "first-use"
    records: list[dict[str, Any]] = []
    if folder.is_dir():
        for cert in sorted(folder.glob("*.der")):
            try:
                record = json.loads(cert.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                der = cert.read_bytes()
                record = {"server": cert.stem, "thumbprint": thumbprint(der), "subject": subject_of(der)}
            records.append({**record, "file": str(cert)})
    return records


def _file_name(server: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in server)


class FaultReadingProtocol(UASocketProtocol):
    """asyncua's socket protocol that reads a ServiceFault answered to OpenSecureChannel as the status it is."""

    def _process_received_message(self, msg: Any) -> None:
        opened: Any = msg  # asyncua's Message is not typed
        if isinstance(msg, ua.Message) and isinstance(opened.SecurityHeader(), ua.AsymmetricAlgorithmHeader):
            body = opened.body()
            type_id = nodeid_from_binary(body.copy())
            if type_id == ua.NodeId(ua.Int32(ObjectIds.ServiceFault_Encoding_DefaultBinary)):
                fault = struct_from_binary(ua.ServiceFault, body)
                fault.ResponseHeader.ServiceResult.check()  # raises UaStatusCodeError: the pending request fails
        super()._process_received_message(msg)


def read_open_faults(client: Any) -> None:
    """Make ``client`` (an asyncua Client) read OpenSecureChannel faults (see ``FaultReadingProtocol``)."""
    uaclient = client.uaclient
    made = uaclient._make_protocol  # asyncua's own, with all it sets up

    def make_protocol() -> UASocketProtocol:
        protocol = made()
        protocol.__class__ = FaultReadingProtocol  # the same object, reading one more kind of answer
        return protocol  # type: ignore[no-any-return]

    uaclient._make_protocol = make_protocol
