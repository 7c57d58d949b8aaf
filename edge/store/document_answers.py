"""The answers ``POST /api/v1/b2mml`` gave, kept in the store by the request's Idempotency-Key, so that a retry gets
the first answer again also after the node restarted, and the same key with another document is refused.

Bookkeeping of a door, not a plant fact: not journaled, not replayed. Answers older than ``KEPT`` are dropped when a
new one is kept (a sender retries within minutes, not weeks; the document's own keys make any later resend record
nothing anyway).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from edge.store import schema
from edge.store.store import Store

KEPT = timedelta(days=30)


@dataclass(frozen=True)
class DocumentAnswer:
    document_sha256: str
    user: str
    answer: dict[str, Any]
    answered_at: datetime


def answer_for(store: Store, key: str) -> DocumentAnswer | None:
    """The answer given to ``key`` before, if it was (and is not older than ``KEPT``)."""
    t = schema.b2mml_answers
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.idempotency_key == key)).first()
    if row is None or row.answered_at < datetime.now(UTC) - KEPT:
        return None
    return DocumentAnswer(row.document_sha256, row.user, json.loads(row.answer), row.answered_at)


def keep_answer(store: Store, key: str, document_sha256: str, user: str, answer: dict[str, Any]) -> DocumentAnswer:
    """Keep the answer to ``key``; when another request with that key was answered in between, that first answer is
    kept and returned (and the caller answers with it)."""
    t = schema.b2mml_answers
    now = datetime.now(UTC)
    try:
        with store.writing() as conn:
            conn.execute(delete(t).where(t.c.answered_at < now - KEPT))
            conn.execute(t.insert().values(idempotency_key=key, document_sha256=document_sha256, user=user,
                                           answer=json.dumps(answer, sort_keys=True), answered_at=now))
    except IntegrityError:
        first = answer_for(store, key)
        if first is not None:
            return first
        raise
    return DocumentAnswer(document_sha256, user, answer, now)
