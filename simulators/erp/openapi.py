"""The sync protocol as an OpenAPI document, generated from the simulator's sync routes.

``python -m simulators.erp.openapi`` writes ``docs/sync-protocol.openapi.json``; ``--check`` exits 1 when the
committed file differs from what the routes say.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from erp_sync.protocol import CHANGE_PAYLOADS, EVENT_PAYLOADS, PROTOCOL, EventBatch, SyncRefusal
from simulators.erp.app import sync_router

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "sync-protocol.openapi.json"


def sync_protocol_openapi() -> dict[str, Any]:
    app = FastAPI(title="Takt sync protocol", version=PROTOCOL,
                  description=(sys.modules["erp_sync.protocol"].__doc__ or "").strip())
    app.include_router(sync_router(None))
    doc = app.openapi()
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    extra: list[type[BaseModel]] = [EventBatch, SyncRefusal, *CHANGE_PAYLOADS.values(), *EVENT_PAYLOADS.values()]
    for model in extra:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas.setdefault(model.__name__, schema)
    doc["components"]["securitySchemes"] = {"nodeToken": {"type": "http", "scheme": "bearer",
                                                          "description": "one token per node"}}
    doc["security"] = [{"nodeToken": []}]
    doc["info"]["x-change-payloads"] = {kind: {"$ref": f"#/components/schemas/{model.__name__}"}
                                        for kind, model in CHANGE_PAYLOADS.items()}
    doc["info"]["x-event-payloads"] = {kind: {"$ref": f"#/components/schemas/{model.__name__}"}
                                       for kind, model in EVENT_PAYLOADS.items()}
    return doc


def render() -> str:
    return json.dumps(sync_protocol_openapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is out of date: run python -m simulators.erp.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
