"""The node's HTTP client for the central side of the takt-sync/1 protocol (``erp_sync.protocol``).

Errors come in two kinds the daemon treats differently: :class:`CentralUnavailable` (down, timed out, a 5xx,
the connection dropped mid-batch: try again later with backoff, nothing is lost because nothing was
acknowledged) and :class:`CentralRefused` (a 4xx that says the request itself is wrong: a wrong token, a
protocol mismatch; retrying the same request cannot help, so it is reported loudly and retried slowly).
A 409 ``SEQUENCE_GAP`` is :class:`SequenceGap`: the central side holds less than this node thought. A 429 or 503
with ``Retry-After`` is :class:`CentralBusy` (a kind of unavailable): the central side is fine but full, and says
when to come back; the pusher waits that long, with jitter, and sends the same batch again.
"""
from __future__ import annotations

import email.utils
import os
import ssl
import zlib
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import ValidationError

from erp_sync.protocol import PREFIX, BatchAck, ChangeFeed, Cursor, SyncRefusal


class CentralUnavailable(Exception):
    """The central side cannot be reached or failed: retry later."""


class CentralBusy(CentralUnavailable):
    """429 or 503 with ``Retry-After``: the central side is alive but takes no more now (a plant's other nodes hold
    its slots); come back after ``retry_after_s``. Nothing of the request was stored."""

    def __init__(self, status: int, retry_after_s: float, text: str) -> None:
        super().__init__(f"the central side answered {status}, retry after {retry_after_s:.2f} s: {text}")
        self.status, self.retry_after_s = status, retry_after_s


MAX_RETRY_AFTER_S = 300.0  # a Retry-After past this is read as this: a node looks again within five minutes


def retry_after(headers: httpx.Headers) -> float | None:
    """The wait a 429/503 asks for, in seconds: ``Retry-After-Ms`` when sent, else ``Retry-After`` (seconds or an
    HTTP date); None when neither is there or readable. Bounded to [0, MAX_RETRY_AFTER_S]."""
    ms = headers.get("retry-after-ms", "").strip()
    if ms.isdigit():
        return min(MAX_RETRY_AFTER_S, int(ms) / 1000)
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(MAX_RETRY_AFTER_S, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, (when - datetime.now(UTC)).total_seconds()))


class CentralRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class SequenceGap(Exception):
    def __init__(self, acknowledged: int) -> None:
        super().__init__(f"the central side has this node's events only up to {acknowledged}")
        self.acknowledged = acknowledged


def gzip_bytes(body: bytes, level: int = 1) -> bytes:
    """gzip at a low level: the JSON of events compresses about 8:1 even at level 1, at a few ms per MB."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(body) + c.flush()


class Central(Protocol):
    """What the pusher and the puller need of the central side: this HTTP client, or an ERP adapter
    (``erp_sync.tryton.TrytonCentral``)."""

    async def push(self, body: bytes) -> BatchAck: ...

    async def cursor(self) -> int: ...

    async def changes(self, after: int, limit: int) -> ChangeFeed: ...

    async def close(self) -> None: ...


class CentralClient:
    def __init__(self, base_url: str, token: str, node: str, *, timeout_s: float = 30.0,
                 ca_file: str | os.PathLike[str] | None = None) -> None:
        self.node = node
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + PREFIX, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "takt-sync/1"}, verify=verify)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> CentralClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # refused, reset, timed out, dropped mid-batch
            raise CentralUnavailable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
        if response.status_code in (429, 503):
            wait = retry_after(response.headers)
            if wait is not None:
                raise CentralBusy(response.status_code, wait, response.text[:200])
        if response.status_code >= 500 or response.status_code == 429:
            raise CentralUnavailable(f"the central side answered {response.status_code}: {response.text[:200]}")
        if response.status_code >= 400:
            try:
                refusal = SyncRefusal.model_validate_json(response.content)
            except ValidationError:
                raise CentralRefused(response.status_code, "HTTP_ERROR", response.text[:300]) from None
            if refusal.code == "SEQUENCE_GAP" and refusal.acknowledged is not None:
                raise SequenceGap(refusal.acknowledged)
            raise CentralRefused(response.status_code, refusal.code, refusal.message)
        return response

    async def push(self, body: bytes) -> BatchAck:
        """Send one :class:`~erp_sync.protocol.EventBatch` already serialised as JSON ``body``."""
        response = await self._request("POST", f"/nodes/{self.node}/events", content=gzip_bytes(body),
                                       headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        try:
            return BatchAck.model_validate_json(response.content)
        except ValidationError as exc:
            raise CentralUnavailable(f"the central side's answer is not a batch acknowledgement: {exc}") from None

    async def cursor(self) -> int:
        response = await self._request("GET", f"/nodes/{self.node}/cursor")
        return Cursor.model_validate_json(response.content).acknowledged

    async def changes(self, after: int, limit: int) -> ChangeFeed:
        response = await self._request("GET", f"/nodes/{self.node}/changes", params={"after": after, "limit": limit})
        try:
            return ChangeFeed.model_validate_json(response.content)
        except ValidationError as exc:
            raise CentralUnavailable(f"the central side's change feed is malformed: {exc}") from None
