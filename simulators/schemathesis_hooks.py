"""Schemathesis hooks for reviewing a Takt node (SCHEMATHESIS_HOOKS=simulators.schemathesis_hooks).

A command's Idempotency-Key names one action: a fuzzer that sends the same key with another body is told 422
IDEMPOTENCY_KEY_REUSED, rightly. Each request gets a fresh key of the documented form unless the case sends a
malformed one on purpose (a negative case), so that every answer is about the request, not about an earlier one.

A command's ``occurred_at`` must not lie ahead of the node's clock (FUTURE_TIME) nor far behind it (the site's
backdating limit): a rule about the clock that a schema cannot state. A generated time outside the last hour becomes
a minute ago; every other value (null, a malformed one in a negative case) goes as generated.
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers
    if headers is not None and "Idempotency-Key" in headers and _VALID_KEY.match(str(headers["Idempotency-Key"])):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("occurred_at"), str):
        try:
            at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        except ValueError:
            return
        now = datetime.now(UTC)
        if at.tzinfo is not None and not now - timedelta(hours=1) <= at <= now:
            body["occurred_at"] = (now - timedelta(minutes=1)).isoformat()
