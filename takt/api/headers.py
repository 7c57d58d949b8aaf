"""The security headers on every answer of the node: Content-Security-Policy, nosniff, Referrer-Policy, no-store for
tokens and data, and Strict-Transport-Security when the request came over TLS.

The policy allows scripts only from the node itself (the pages load theirs from ``/pages/static``; Swagger UI is
served from ``/docs/static``, never from a CDN), no framing by other sites (``frame-ancestors 'none'``), images
from the node and ``data:`` URIs (Swagger UI's icons). Inline ``style=`` attributes stay allowed: the pages and
Swagger UI set layout with them, and a style cannot run code.

Answers are ``Cache-Control: no-store`` unless the route chose its own policy: a session token, a lot's stock or
a journal page must not sit in a shared terminal's browser cache or a proxy. Only the static files of the pages
and of the docs may be cached (they hold no data).
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
STATIC_PREFIXES = ("/pages/static/", "/docs/static/")
HSTS_MAX_AGE_S = 31_536_000  # one year, what browsers' preload rules ask for


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, hsts_max_age_s: int = HSTS_MAX_AGE_S) -> None:
        self.app = app
        self.always: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),  # browsers older than frame-ancestors
            (b"referrer-policy", b"no-referrer"),
        ]
        self.hsts = (b"strict-transport-security", f"max-age={hsts_max_age_s}".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(STATIC_PREFIXES)
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers += self.always
                if tls:
                    headers.append(self.hsts)
                if not static and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
