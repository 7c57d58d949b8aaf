"""Refusals in the API's one format: ``{"code", "message", "field"}`` (plus ``errors`` for schema errors)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import JSONResponse


def refusal(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "field": field, **extra}, status_code=status)


def field_name(loc: Iterable[Any]) -> str:
    """``("body", "operations", 0, "workstation")`` -> ``operations[0].workstation``."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (isinstance(part, str) and (part.startswith("function-") or "[" in part)):
            out += ("." if out else "") + str(part)
    return out or "body"


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    """422 for a request that does not fit the schema, naming the first field at fault."""
    listed = [{"field": field_name(err.get("loc", ())), "reason": str(err.get("msg", ""))} for err in errors]
    first = listed[0] if listed else {"field": "body", "reason": "invalid request"}
    if first["field"] == "body" and "JSON" in first["reason"]:
        first = {"field": "body", "reason": "the body is not valid JSON"}
    return refusal(422, "INVALID_REQUEST", f"{first['field']}: {first['reason']}", first["field"], errors=listed)
