"""Work instructions and serialised units over the API (issue 21): the instruction a terminal shows for an operation
(in the user's language, for the revision of the item the order builds), its media served from the site's
instruction folder (cacheable for offline use), photos from the terminal's camera, the units of a work order, and the
trace of a unit (backward) or of a component serial or lot (forward)."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from edge.fields import OperationNumber
from edge.store import schema
from edge.store.trace import UnknownUnit, trace_component, trace_unit
from edge.store.users import User
from takt.api.auth import allowed_roles, authorize, current_user
from takt.api.contract import ACTION_RESPONSES, BEARER, READ_RESPONSES
from takt.api.reads import _jsonable, _store

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES
MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png"}
PHOTOGRAPHERS = allowed_roles("operator", "quality", "supervisor")
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
               ".pdf": "application/pdf", ".webp": "image/webp"}


def _refuse(status: int, code: str, message: str, field: str | None) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field})


def text_in(texts: list[str], language: str) -> str:
    """A step's text in ``language``, else in English, else the first one given."""
    by = dict(t.split("=", 1) for t in texts if "=" in t)
    return by.get(language) or by.get("en") or next(iter(by.values()), "")


def instruction_view(conn: Connection, work_order: str, operation: int, language: str,
                     serial: str | None = None) -> dict[str, Any]:
    """The instruction a terminal shows for an operation of a work order: the latest revision written for the item
    revision the order builds, its steps in ``language`` with their media's URLs, and where the unit (or the
    order's lot-built output) stands in it."""
    wo_t, wi_t, st_t, run_t = (T["work_orders"].table, T["work_instructions"].table, T["instruction_steps"].table,
                               T["instruction_runs"].table)
    wo = conn.execute(select(wo_t.c.item, wo_t.c.item_revision).where(wo_t.c.work_order == work_order)).first()
    if wo is None:
        raise _refuse(404, "UNKNOWN_WORK_ORDER", f"work order {work_order} is not known here", "work_order")
    found = conn.execute(select(wi_t).where(wi_t.c.item == wo.item, wi_t.c.operation == operation)
                         .order_by(wi_t.c.defined_at.desc(), wi_t.c.revision.desc())).all()
    fits = [w for w in found if w.item_revision == wo.item_revision]
    if not fits:
        other = ", ".join(f"{w.revision} (item revision {w.item_revision})" for w in found)
        raise _refuse(404, "NO_INSTRUCTION", f"operation {operation} of {wo.item} revision {wo.item_revision} has no "
                      "work instruction" + (f"; there are only {other}" if other else ""), "operation")
    wi = fits[0]
    steps = []
    for s in conn.execute(select(st_t).where(st_t.c.item == wi.item, st_t.c.operation == wi.operation,
                                             st_t.c.revision == wi.revision).order_by(st_t.c.step)):
        row = _jsonable(dict(s._mapping))
        media = []
        for m in s.media:
            kind, _, rest = m.partition(":")
            name, _, page = rest.partition("#")
            media.append({"kind": kind, "name": name, "page": int(page) if page else None,
                          "url": f"/api/v1/work-instructions/media/{name}" + (f"#page={page}" if page else "")})
        row.update(text=text_in(list(s.texts), language), media=media)
        steps.append(row)
    run = conn.execute(select(run_t).where(run_t.c.work_order == work_order, run_t.c.operation == operation,
                                           run_t.c.serial == (serial or ""))).first()
    return {"work_order": work_order, "operation": operation, "item": wi.item, "item_revision": wi.item_revision,
            "revision": wi.revision, "title": wi.title, "language": language, "steps": steps,
            "run": _jsonable(dict(run._mapping)) if run is not None else None}


@router.get("/work-orders/{work_order}/operations/{operation}/instruction", tags=["work instructions"],
            summary="The work instruction of an operation for the item revision the order builds, in the user's "
                    "language, with where a unit (serial) stands in it")
def get_instruction(request: Request, work_order: str, operation: OperationNumber, serial: str | None = None,
                    language: str | None = Query(None, pattern="^[a-z]{2}$"),
                    user: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        return instruction_view(conn, work_order, operation, language or user.language or "en", serial)


@router.get("/work-instructions/media/{name}", tags=["work instructions"], response_model=None,
            summary="An image or PDF of the site's instruction folder (cacheable: terminals keep it for offline use)")
def get_medium(request: Request, name: str, _: User = Depends(current_user)) -> FileResponse:
    folder: Path | None = getattr(request.app.state, "instruction_folder", None)
    path = (folder / name) if folder is not None else None
    if (path is None or "/" in name or "\\" in name or name.startswith(".") or path.suffix.lower() not in MEDIA_TYPES
            or not path.is_file()):
        raise _refuse(404, "UNKNOWN_MEDIUM", f"{name} is no image or PDF of the site's instruction folder", "name")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()],
                        headers={"Cache-Control": "private, max-age=86400"})


def photo_folder(request: Request) -> Path:
    folder: Path | None = getattr(request.app.state, "photo_folder", None)
    if folder is None:
        folder = Path(tempfile.gettempdir()) / f"takt-photos-{id(request.app)}"
        request.app.state.photo_folder = folder
    return folder


@router.post("/photos", tags=["work instructions"], status_code=201, responses=ACTION_RESPONSES,
             summary="Keep a photo from the terminal's camera (JPEG or PNG body); its id goes with the photo step")
async def post_photo(request: Request) -> dict[str, Any]:
    await authorize(request, PHOTOGRAPHERS)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in PHOTO_TYPES:
        raise _refuse(422, "INVALID_PHOTO", "a photo is image/jpeg or image/png", "Content-Type")
    body = await request.body()
    if not body or len(body) > MAX_PHOTO_BYTES:
        raise _refuse(422, "INVALID_PHOTO", f"a photo is 1 byte to {MAX_PHOTO_BYTES} bytes", "body")
    name = f"{hashlib.sha256(body).hexdigest()}.{PHOTO_TYPES[kind]}"
    folder = photo_folder(request)

    def keep() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if not target.exists():
            partial = target.with_suffix(".part")
            partial.write_bytes(body)
            partial.replace(target)

    await run_in_threadpool(keep)
    return {"photo": name, "bytes": len(body)}


@router.get("/photos/{name}", tags=["work instructions"], response_model=None, summary="A photo a step took")
def get_photo(request: Request, name: str, _: User = Depends(current_user)) -> FileResponse:
    path = photo_folder(request) / name
    if "/" in name or name.startswith(".") or path.suffix not in (".jpg", ".png") or not path.is_file():
        raise _refuse(404, "UNKNOWN_PHOTO", f"photo {name} is not known here", "name")
    return FileResponse(path, media_type="image/png" if path.suffix == ".png" else "image/jpeg")


@router.get("/work-orders/{work_order}/units", tags=["work instructions"],
            summary="The serialised units of a work order: where each is and its status")
def get_units(request: Request, work_order: str, _: User = Depends(current_user)) -> dict[str, Any]:
    u = T["units"].table
    with _store(request).engine.connect() as conn:
        rows = [_jsonable(dict(r._mapping)) for r in conn.execute(
            select(u).where(u.c.work_order == work_order).order_by(u.c.started_at, u.c.serial))]
    return {"work_order": work_order, "units": rows}


@router.get("/units/{serial}", tags=["work instructions"],
            summary="A unit traced backward: its order, the instruction revisions followed, each step with its time, "
                    "the components fitted and the supplier lots they came from")
def get_unit(request: Request, serial: str, item: str | None = None,
             _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        try:
            found = trace_unit(conn, serial, item)
        except UnknownUnit as err:
            raise _refuse(404, "UNKNOWN_UNIT", str(err), "serial") from None
    answer: dict[str, Any] = _clean(found)
    return answer


@router.get("/trace/components/{key}", tags=["work instructions"],
            summary="Forward from a component serial or lot: every unit it went into, their lots, pallets and "
                    "customer shipments")
def get_component_trace(request: Request, key: str, component: str | None = None,
                        _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        try:
            found = trace_component(conn, key, component)
        except UnknownUnit as err:
            raise _refuse(404, "UNKNOWN_COMPONENT", str(err), "key") from None
    answer: dict[str, Any] = _clean(found)
    return answer


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in _jsonable(value).items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
