"""Schemathesis hooks for reviewing a Takt node (SCHEMATHESIS_HOOKS=simulators.schemathesis_hooks).

A command's Idempotency-Key names one action: a fuzzer that sends the same key with another body is told 422
IDEMPOTENCY_KEY_REUSED, rightly. Each request gets a fresh key of the documented form unless the case sends a
malformed one on purpose (a negative case), so that every answer is about the request, not about an earlier one.

A command's ``occurred_at`` (and a machine state's ``since``) must not lie ahead of the node's clock (FUTURE_TIME) nor
far behind it (the site's backdating limit): a rule about the clock that a schema cannot state. A generated time
outside the last hour becomes a minute ago; every other value (null, a malformed one in a negative case) goes as
generated.

A GTIN's last digit is a GS1 check digit (mod 10 over the others): arithmetic a schema cannot state. A generated
``gtin`` of the schema's form (8, 12, 13 or 14 digits) gets its right check digit, so that a valid case is about the
request rather than about a mistyped label; a malformed one in a negative case goes as generated.
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_GTIN = re.compile(r"[0-9]{8}|[0-9]{12,14}")


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for ``digits`` (weights 3, 1, 3 ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _with_check_digit(value: object) -> object:
    if isinstance(value, str) and _GTIN.fullmatch(value):
        return value[:-1] + str(gs1_check_digit(value[:-1]))
    return value


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers
    if headers is not None and "Idempotency-Key" in headers and _VALID_KEY.match(str(headers["Idempotency-Key"])):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    body = case.body
    if isinstance(body, dict) and "gtin" in body:
        body["gtin"] = _with_check_digit(body["gtin"])
    for name in ("occurred_at", "since"):
        if isinstance(body, dict) and isinstance(body.get(name), str):
            body[name] = _within_the_last_hour(body[name])


def _within_the_last_hour(text: str) -> str:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    now = datetime.now(UTC)
    if at.tzinfo is not None and not now - timedelta(hours=1) <= at <= now:
        return (now - timedelta(minutes=1)).isoformat()
    return text
