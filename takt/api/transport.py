"""How the node's HTTP server meets the network: its TLS context (reloaded in place on SIGHUP) and the limit on a
request's head (request line and headers), answered with 431.

TLS: one ``ssl.SSLContext`` serves every connection. ``load_cert_chain`` on that same object replaces the
certificate and key for the connections accepted after it (OpenSSL copies them into each new connection), so a
renewed certificate is taken by ``kill -HUP`` without dropping open connections or restarting the writer. A
reload that fails (a half-copied file, a wrong password) is logged and the old certificate stays in service.

Head limit: uvicorn's httptools protocol reads a request's head whole, however big (a 32 MB header included).
:class:`HeadLimitedProtocol` counts the head as it arrives and answers ``431 Request Header Fields Too Large``
(and closes the connection) as soon as it passes the limit, before the application sees anything.
"""
from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any, Protocol

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("takt.api.transport")

DEFAULT_MAX_HEAD_BYTES = 65_536
LINGER_S = 5.0  # after a 431, how long the rest of the refused head is read and dropped


class TlsSettings(Protocol):
    """What the site file's ``api.tls`` gives (takt.config): the files and the key's password, resolved."""

    cert_file: Path
    key_file: Path
    password: str | None


def server_context(tls: TlsSettings) -> ssl.SSLContext:
    """A server context with the site's certificate: TLS 1.2 or newer, the library's default ciphers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    load_certificate(context, tls)
    return context


def load_certificate(context: ssl.SSLContext, tls: TlsSettings) -> None:
    """Load the certificate chain and key into ``context`` (raises ``ssl.SSLError`` / ``OSError`` naming the file)."""
    try:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file), password=tls.password)
    except ssl.SSLError as exc:
        raise ssl.SSLError(exc.errno, f"cannot use {tls.cert_file} with {tls.key_file}: {exc.reason or exc} "
                                      "(a key that does not match, a wrong key password or not PEM)") from None


def reload_certificate(context: ssl.SSLContext, tls: TlsSettings) -> bool:
    """SIGHUP: the files again into the same context. False (and the old certificate kept) if they cannot be used."""
    try:
        load_certificate(context, tls)
    except (OSError, ssl.SSLError) as exc:
        log.error("TLS certificate not reloaded, the previous one stays in service: %s", exc)
        return False
    log.info("TLS certificate reloaded from %s", tls.cert_file)
    return True


class _HeadTooLarge(Exception):
    pass


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a limit on the request head (``max_head_bytes``, set by ``limited``)."""

    max_head_bytes = DEFAULT_MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._began = False
        self._head_counted = 0  # the request line and complete headers of this request
        self._head_pending = 0  # bytes of reads that ended inside this request's head
        self._head_refused = False

    @classmethod
    def limited(cls, max_head_bytes: int) -> type[HeadLimitedProtocol]:
        return type("HeadLimitedProtocol", (cls,), {"max_head_bytes": max_head_bytes})

    def data_received(self, data: bytes) -> None:
        if self._head_refused:
            return
        self._began = False
        super().data_received(data)
        if self._head_refused or not self._in_head:
            return
        if not self._began:  # this whole read belongs to the head still being received
            self._head_pending += len(data)
        if self._head_pending > self.max_head_bytes:
            self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = self._began = True
        self._head_counted = self._head_pending = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_counted += size
        if self._head_counted > self.max_head_bytes:
            raise _HeadTooLarge()  # httptools stops parsing and raises HttpParserCallbackError

    def send_400_response(self, msg: str) -> None:
        if self._head_counted > self.max_head_bytes:
            self._refuse_head()
        else:
            super().send_400_response(msg)

    def _refuse_head(self) -> None:
        self._head_refused = True
        body = (f'{{"code":"HEADERS_TOO_LARGE","message":"the request line and headers are over '
                f'{self.max_head_bytes} bytes","field":null}}').encode()
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: " + str(len(body)).encode()
                    + b"\r\nconnection: close\r\n\r\n")
        log.warning("request head over %d bytes refused (431)", self.max_head_bytes,
                    extra={"client": self.client[0] if self.client else None})
        self.transport.write(b"".join(head) + body)
        # The client may still be sending its head: read and drop that for a moment before closing, or the
        # kernel answers the unread bytes with a reset that can destroy the 431 before the client reads it.
        self._unset_keepalive_if_required()
        self.loop.call_later(LINGER_S, self.transport.close)


