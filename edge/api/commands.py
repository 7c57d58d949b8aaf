"""Mutating routes: one per use case. Each turns a request into a domain command and records it
through the one write path; the response says what was recorded (or why not)."""
from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from edge.api import models as m
from edge.api.auth import requires
from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import IdempotencyKeyReused, Service, StoreUnavailable
from edge.store.users import User

router = APIRouter(prefix="/api/v1")

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")

REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.Refusal, "description": "Idempotency-Key header missing or malformed"},
    401: {"model": m.Refusal, "description": "No valid bearer token"},
    403: {"model": m.Refusal, "description": "The user's roles do not allow this"},
    409: {"model": m.Refusal, "description": "Refused by the plant's rules (code and message say why); nothing recorded"},
    422: {"model": m.Refusal, "description": "The request is malformed (field names the input); nothing recorded"},
    503: {"model": m.Refusal, "description": "The store cannot record right now; nothing recorded, retry with the same key"},
}


def refusal(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "field": field, **extra}, status_code=status)


def _meta(request: Request, user: User, body: m.Request) -> dict[str, Any] | JSONResponse:
    key = request.headers.get("idempotency-key")
    if key is None:
        return refusal(400, "IDEMPOTENCY_KEY_MISSING",
                       "send an Idempotency-Key header: one fresh value per action, the same value on a retry",
                       "Idempotency-Key")
    key = key.strip().strip('"')
    if not KEY_PATTERN.match(key):
        return refusal(400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-200 visible ASCII characters",
                       "Idempotency-Key")
    origin = "erp" if request.headers.get("x-takt-origin") == "erp" and user.roles & {"service", "admin"} else "edge"
    return {
        "idempotency_key": key, "actor": user.user, "actor_roles": user.roles,
        "source_device": (request.headers.get("x-takt-device") or None), "origin": origin,
        "occurred_at": body.occurred_at,
    }


async def record(request: Request, user: User, body: m.Request, build: Any, **fields: Any) -> JSONResponse:
    meta = _meta(request, user, body)
    if isinstance(meta, JSONResponse):
        return meta
    service: Service = request.app.state.service
    metrics = request.app.state.metrics
    name = build.__name__
    started = time.perf_counter()
    try:
        command = build(**meta, **fields)
        recorded = await service.execute(command)
    except DomainError as err:
        metrics.command(name, "refused", time.perf_counter() - started)
        return refusal(422 if err.invalid else 409, err.code, err.message, err.field)
    except IdempotencyKeyReused as err:
        metrics.command(name, "key_reused", time.perf_counter() - started)
        return refusal(422, "IDEMPOTENCY_KEY_REUSED", str(err), "Idempotency-Key")
    except StoreUnavailable as err:
        metrics.command(name, "unavailable", time.perf_counter() - started)
        return refusal(503, "STORE_UNAVAILABLE", str(err))
    metrics.command(name, "replayed" if recorded.replayed else "recorded", time.perf_counter() - started)
    headers = {"Idempotent-Replayed": "true"} if recorded.replayed else None
    return JSONResponse(
        {"idempotency_key": recorded.idempotency_key, "command": recorded.command, "events": recorded.events,
         "replayed": recorded.replayed},
        status_code=201, headers=headers,
    )


def _fields(body: m.Request, *exclude: str) -> dict[str, Any]:
    return {k: getattr(body, k) for k in type(body).model_fields if k != "occurred_at" and k not in exclude}


ROUTE: dict[str, Any] = {"status_code": 201, "response_model": m.CommandAccepted, "responses": REFUSALS}
MASTER_DATA = ("service", "supervisor")
FLOOR = ("operator", "supervisor")
WAREHOUSE = ("warehouse", "supervisor")

# --- master data ---------------------------------------------------------------------------------


@router.post("/items", tags=["master data"], summary="Define or revise an item", **ROUTE)
async def define_item(request: Request, body: m.ItemRequest, user: User = Depends(requires(*MASTER_DATA))) -> Any:
    return await record(request, user, body, c.DefineItem, **_fields(body))


@router.post("/bins", tags=["master data"], summary="Define a bin (location)", **ROUTE)
async def define_bin(request: Request, body: m.BinRequest, user: User = Depends(requires(*MASTER_DATA))) -> Any:
    fields = _fields(body)
    fields["allowed_items"] = tuple(body.allowed_items)
    return await record(request, user, body, c.DefineBin, **fields)


@router.post("/equipment", tags=["master data"], summary="Define a machine and its workstation", **ROUTE)
async def define_equipment(request: Request, body: m.EquipmentRequest,
                           user: User = Depends(requires(*MASTER_DATA))) -> Any:
    return await record(request, user, body, c.DefineEquipment, **_fields(body))


@router.post("/work-orders", tags=["work orders"], summary="Release a work order to the floor", **ROUTE)
async def release_work_order(request: Request, body: m.WorkOrderRequest,
                             user: User = Depends(requires(*MASTER_DATA))) -> Any:
    fields = _fields(body, "operations", "bom")
    fields["operations"] = tuple(c.OperationSpec(**o.model_dump()) for o in body.operations)
    fields["bom"] = tuple(c.BomLineSpec(**b.model_dump()) for b in body.bom)
    return await record(request, user, body, c.ReleaseWorkOrder, **fields)


@router.put("/workstations/{workstation}/dispatch-list", tags=["work orders"],
            summary="Set a workstation's dispatch list (APS sequence)", **ROUTE)
async def set_dispatch_list(request: Request, workstation: str, body: m.DispatchListRequest,
                            user: User = Depends(requires(*MASTER_DATA))) -> Any:
    sequence = tuple(c.DispatchSlot(work_order=s.work_order, operation=s.operation) for s in body.sequence)
    return await record(request, user, body, c.SetDispatchList, workstation=workstation, sequence=sequence)


@router.post("/inspection-plans", tags=["quality"], summary="Define an inspection plan", **ROUTE)
async def define_inspection_plan(request: Request, body: m.InspectionPlanRequest,
                                 user: User = Depends(requires("quality", *MASTER_DATA))) -> Any:
    fields = _fields(body, "characteristics")
    fields["characteristics"] = tuple(c.CharacteristicSpec(**ch.model_dump()) for ch in body.characteristics)
    return await record(request, user, body, c.DefineInspectionPlan, **fields)


# --- operations and labour -----------------------------------------------------------------------

OPERATION = "/work-orders/{work_order}/operations/{operation}"


@router.post(OPERATION + "/start", tags=["work orders"], summary="Start an operation", **ROUTE)
async def start_operation(request: Request, work_order: str, operation: int, body: m.OperationActionRequest,
                          user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.StartOperation, work_order=work_order, operation=operation)


@router.post(OPERATION + "/pause", tags=["work orders"], summary="Pause an operation, with a reason", **ROUTE)
async def pause_operation(request: Request, work_order: str, operation: int, body: m.PauseRequest,
                          user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.PauseOperation, work_order=work_order, operation=operation,
                        reason=body.reason)


@router.post(OPERATION + "/resume", tags=["work orders"], summary="Resume a paused operation", **ROUTE)
async def resume_operation(request: Request, work_order: str, operation: int, body: m.OperationActionRequest,
                           user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.ResumeOperation, work_order=work_order, operation=operation)


@router.post(OPERATION + "/complete", tags=["work orders"], summary="Complete an operation", **ROUTE)
async def complete_operation(request: Request, work_order: str, operation: int, body: m.OperationActionRequest,
                             user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.CompleteOperation, work_order=work_order, operation=operation)


@router.post(OPERATION + "/production", tags=["work orders"], summary="Report good and scrap quantities", **ROUTE)
async def report_production(request: Request, work_order: str, operation: int, body: m.ProductionRequest,
                            user: User = Depends(requires("service", *FLOOR))) -> Any:
    return await record(request, user, body, c.ReportProduction, work_order=work_order, operation=operation,
                        **_fields(body))


@router.post(OPERATION + "/clock-on", tags=["labour"], summary="Clock an operator on to an operation", **ROUTE)
async def clock_on(request: Request, work_order: str, operation: int, body: m.LabourRequest,
                   user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.ClockOnLabour, work_order=work_order, operation=operation,
                        operator=body.operator or user.user)


@router.post(OPERATION + "/clock-off", tags=["labour"], summary="Clock an operator off an operation", **ROUTE)
async def clock_off(request: Request, work_order: str, operation: int, body: m.LabourRequest,
                    user: User = Depends(requires(*FLOOR))) -> Any:
    return await record(request, user, body, c.ClockOffLabour, work_order=work_order, operation=operation,
                        operator=body.operator or user.user)


# --- inventory -----------------------------------------------------------------------------------


@router.post("/lots", tags=["inventory"], summary="Receive a lot into a bin", **ROUTE)
async def receive_lot(request: Request, body: m.ReceiveRequest, user: User = Depends(requires(*WAREHOUSE))) -> Any:
    return await record(request, user, body, c.ReceiveLot, **_fields(body))


@router.post("/stock/moves", tags=["inventory"], summary="Move stock of a lot from bin to bin (or put it away)",
             **ROUTE)
async def move_stock(request: Request, body: m.MoveRequest,
                     user: User = Depends(requires("operator", *WAREHOUSE))) -> Any:
    return await record(request, user, body, c.MoveStock, **_fields(body))


@router.post("/work-orders/{work_order}/issues", tags=["inventory"],
             summary="Issue (consume) a lot to a work order", **ROUTE)
async def issue_to_work_order(request: Request, work_order: str, body: m.IssueRequest,
                              user: User = Depends(requires("operator", *WAREHOUSE))) -> Any:
    return await record(request, user, body, c.IssueToWorkOrder, work_order=work_order, **_fields(body))


@router.post("/work-orders/{work_order}/returns", tags=["inventory"],
             summary="Return unused material from a work order to a bin", **ROUTE)
async def return_from_work_order(request: Request, work_order: str, body: m.IssueRequest,
                                 user: User = Depends(requires("operator", *WAREHOUSE))) -> Any:
    return await record(request, user, body, c.ReturnFromWorkOrder, work_order=work_order, **_fields(body))


@router.post("/stock/adjustments", tags=["inventory"], summary="Correct a bin's stock of a lot to what was counted",
             **ROUTE)
async def adjust_stock(request: Request, body: m.AdjustRequest, user: User = Depends(requires(*WAREHOUSE))) -> Any:
    return await record(request, user, body, c.AdjustStock, **_fields(body))


@router.post("/stock/scrap", tags=["inventory"], summary="Scrap stock of a lot, with a reason", **ROUTE)
async def scrap_stock(request: Request, body: m.ScrapRequest,
                      user: User = Depends(requires("quality", *WAREHOUSE))) -> Any:
    return await record(request, user, body, c.ScrapStock, **_fields(body))


@router.post("/lots/{lot}/hold", tags=["quality"], summary="Put a lot on hold", **ROUTE)
async def hold_lot(request: Request, lot: str, body: m.LotStatusRequest,
                   user: User = Depends(requires("quality", "operator", *WAREHOUSE))) -> Any:
    return await record(request, user, body, c.HoldLot, lot=lot, reason=body.reason)


@router.post("/lots/{lot}/release", tags=["quality"], summary="Release a lot from hold or quarantine", **ROUTE)
async def release_lot(request: Request, lot: str, body: m.LotStatusRequest,
                      user: User = Depends(requires("quality"))) -> Any:
    return await record(request, user, body, c.ReleaseLot, lot=lot, reason=body.reason)


# --- quality and machines ------------------------------------------------------------------------


@router.post("/inspections", tags=["quality"], summary="Record an inspection's results; the verdict follows", **ROUTE)
async def record_inspection(request: Request, body: m.InspectionRequest,
                            user: User = Depends(requires("quality", *FLOOR))) -> Any:
    fields = _fields(body, "measurements")
    fields["measurements"] = tuple(c.Measurement(**x.model_dump()) for x in body.measurements)
    return await record(request, user, body, c.RecordInspection, **fields)


@router.post("/nonconformances", tags=["quality"], summary="Raise a nonconformance (and hold the lot)", **ROUTE)
async def raise_nonconformance(request: Request, body: m.NonconformanceRequest,
                               user: User = Depends(requires("quality", *FLOOR))) -> Any:
    return await record(request, user, body, c.RaiseNonconformance, **_fields(body))


@router.post("/nonconformances/{ncr}/disposition", tags=["quality"],
             summary="Disposition a nonconformance: scrap, rework, use as is, return to supplier", **ROUTE)
async def disposition(request: Request, ncr: str, body: m.DispositionRequest,
                      user: User = Depends(requires("quality"))) -> Any:
    return await record(request, user, body, c.DispositionNonconformance, ncr=ncr, **_fields(body))


@router.put("/equipment/{equipment}/state", tags=["machines"], summary="Set a machine's state and reason", **ROUTE)
async def set_machine_state(request: Request, equipment: str, body: m.MachineStateRequest,
                            user: User = Depends(requires("service", *FLOOR))) -> Any:
    return await record(request, user, body, c.SetMachineState, equipment=equipment, **_fields(body))
