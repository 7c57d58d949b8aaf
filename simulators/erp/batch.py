"""What the central ERP simulator's sync routes share: a refused request, the UTC helpers, and a pushed batch read
and checked (well formed, for its node, sequences in order and inside their range) before it is stored."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from erp_sync.protocol import EventBatch

CHUNK = 500


class SyncRefused(Exception):
    """A refused request: HTTP status and the protocol's :class:`~erp_sync.protocol.SyncRefusal` fields."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 acknowledged: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.acknowledged = status, code, message, field, acknowledged
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.acknowledged is not None:
            out["acknowledged"] = self.acknowledged
        return out


def now_text() -> str:
    return datetime.now(UTC).isoformat()


def utc_day(t: datetime) -> date:
    return (t.astimezone(UTC) if t.tzinfo else t).date()


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def parse_batch(body: bytes, node: str) -> EventBatch:
    """The batch in ``body``, checked: well formed, for ``node``, sequences increasing and inside
    (after, through] unless it is a redelivery."""
    try:
        batch = EventBatch.model_validate_json(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SyncRefused(422, "INVALID_BATCH", f"{where}: {err['msg']}", field=where) from None
    if batch.node != node:
        raise SyncRefused(422, "INVALID_BATCH", f"the batch is for node {batch.node}, the route for {node}",
                          field="node")
    previous = -1
    for i, ev in enumerate(batch.events):
        if ev.seq <= previous:
            raise SyncRefused(422, "INVALID_BATCH", f"event seq {ev.seq} does not follow seq {previous}",
                              field=f"events.{i}.seq")
        previous = ev.seq
        if not batch.redelivery and not batch.after < ev.seq <= batch.through:
            raise SyncRefused(422, "INVALID_BATCH", f"event seq {ev.seq} lies outside the batch "
                              f"({batch.after}, {batch.through}]", field=f"events.{i}.seq")
    if not batch.redelivery and batch.through < batch.after:
        raise SyncRefused(422, "INVALID_BATCH", f"through {batch.through} is before after {batch.after}",
                          field="through")
    return batch
