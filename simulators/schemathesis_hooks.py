"""Schemathesis hooks for reviewing a Takt node (SCHEMATHESIS_HOOKS=simulators.schemathesis_hooks).

A command's Idempotency-Key names one action: a fuzzer that sends the same key with another body is told 422
IDEMPOTENCY_KEY_REUSED, rightly. Each request gets a fresh key of the documented form unless the case sends a
malformed one on purpose (a negative case), so that every answer is about the request, not about an earlier one.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers
    if headers is None or "Idempotency-Key" not in headers:
        return
    if _VALID_KEY.match(str(headers["Idempotency-Key"])):
        headers["Idempotency-Key"] = uuid.uuid4().hex
