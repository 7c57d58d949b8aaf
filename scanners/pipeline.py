"""The scan pipeline every reader shares (serial, camera, handheld API): text → label → meaning in the device's
context → command through the one write path → an answer for the device (booked, context changed, or refused)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from edge.domain import DomainError
from edge.domain.commands import MoveStock
from edge.domain.putaway import PutawayRule
from edge.domain.scans import Label, LabelKind, LabelPatterns, ScanContext, interpret, with_task
from edge.service import IdempotencyKeyReused, Recorded, Service, StoreUnavailable
from scanners.gs1 import (
    AI_SYMBOLOGIES,
    GS,
    GTIN_SYMBOLOGIES,
    GS1Error,
    GS1Label,
    GS1Parser,
    default_parser,
    split_symbology_identifier,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The answer to one scan: what it was, what happened, and (if refused) the code, field and reason."""

    device: str
    text: str
    ok: bool
    message: str
    label: str | None = None  # the label kind
    code: str | None = None
    field: str | None = None
    command: str | None = None
    seq: int | None = None
    replayed: bool = False
    elapsed_ms: float = 0.0
    workstation: str | None = None  # the device's, when it is bound to one

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "workstation": self.workstation, "text": self.text, "ok": self.ok,
                "message": self.message, "label": self.label, "code": self.code, "field": self.field,
                "command": self.command, "seq": self.seq, "replayed": self.replayed}


def label_from_gs1(gs1: GS1Label) -> Label:
    quantity = Decimal(gs1.quantity) if gs1.quantity is not None else None
    kind: LabelKind
    if gs1.lot is not None:
        kind, value = "lot", gs1.lot
    elif gs1.sscc is not None:
        kind, value = "sscc", gs1.sscc
    else:
        kind, value = "product", gs1.gtin or gs1.hri()
    return Label(kind=kind, value=value, gtin=gs1.gtin, lot=gs1.lot, serial=gs1.serial, expiry=gs1.expiry,
                 quantity=quantity, gs1=True)


def _looks_gs1(text: str) -> bool:
    symbology, data = split_symbology_identifier(text)
    if symbology is not None:
        return symbology in AI_SYMBOLOGIES or symbology in GTIN_SYMBOLOGIES
    return data.startswith("(") or GS in data or data.lower().startswith(("http://", "https://"))


class ScanPipeline:
    """Interprets scans from the devices bound to this node. `contexts` holds each device's current context."""

    def __init__(self, service: Service, devices: Mapping[str, ScanContext], patterns: LabelPatterns, *,
                 gs1: GS1Parser | None = None) -> None:
        self.service = service
        self.contexts: dict[str, ScanContext] = {name: replace(ctx, device=name) for name, ctx in devices.items()}
        self.patterns = patterns
        self.gs1 = gs1 or default_parser()
        self._listeners: list[Callable[[ScanResult], None]] = []

    def on_result(self, listener: Callable[[ScanResult], None]) -> None:
        """Call `listener` (in the event loop) with the answer to every scan, booked or refused (live feedback)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def label(self, text: str) -> Label:
        """Classify a scanned text; raises DomainError (UNKNOWN_LABEL / GS1_INVALID) naming the reason."""
        if not _looks_gs1(text):
            _, data = split_symbology_identifier(text)  # in-house patterns see the data, not "]C0"/"]Q1"
            in_house = self.patterns.classify(data)
            if in_house is not None:
                return in_house
        try:
            return label_from_gs1(self.gs1.parse(text))
        except GS1Error as exc:
            if _looks_gs1(text):
                raise DomainError("GS1_INVALID", str(exc), field="scan", invalid=True) from None
        raise DomainError("UNKNOWN_LABEL", f"{text!r} is neither a GS1 label nor one of this site's labels "
                          f"({', '.join(self.patterns.patterns) or 'none configured'})", field="scan", invalid=True)

    async def scan(self, device: str, text: str, *, idempotency_key: str, actor: str | None = None,
                   actor_roles: frozenset[str] = frozenset(), handheld: bool = False,
                   task: str | None = None, purchase_order: str | None = None,
                   putaway_rules: tuple[PutawayRule, ...] | None = None,
                   override_reason: str | None = None) -> ScanResult:
        """Interpret one scan. A handheld (a signed-in user's device) gets a context of its own on first use;
        `task` (consume, receive, putaway, move, idle) says what the device is doing now, as its page chose, and
        `purchase_order` which order a receipt is booked against. With `putaway_rules` (the site's, for a device
        whose page can ask why) a putaway elsewhere than the first suggestion needs `override_reason`
        (edge.domain.putaway); a fixed scanner cannot give one and is not checked."""
        result = await self._scan(device, text, idempotency_key=idempotency_key, actor=actor,
                                  actor_roles=actor_roles, handheld=handheld, task=task,
                                  purchase_order=purchase_order, putaway_rules=putaway_rules,
                                  override_reason=override_reason)
        context = self.contexts.get(device)
        if context is not None and context.workstation is not None:
            result = replace(result, workstation=context.workstation)
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:  # feedback must not turn a booked scan into a failed one
                log.exception("scan result listener failed")
        return result

    async def _scan(self, device: str, text: str, *, idempotency_key: str, actor: str | None,
                    actor_roles: frozenset[str], handheld: bool, task: str | None,
                    purchase_order: str | None = None, putaway_rules: tuple[PutawayRule, ...] | None = None,
                    override_reason: str | None = None) -> ScanResult:
        started = time.perf_counter()
        label: Label | None = None
        context = self.contexts.get(device)
        if context is None and handheld:
            context = self.contexts[device] = ScanContext(device=device, operator=actor)
        try:
            if context is None:
                raise DomainError("UNKNOWN_DEVICE", f"device {device} is not bound to a workstation or user here",
                                  field="device", invalid=True)
            if task is not None:
                context = with_task(context, task)
            if purchase_order is not None:
                context = replace(context, purchase_order=purchase_order or None)
            label = self.label(text)
            outcome = interpret(context, label, idempotency_key=idempotency_key, actor=actor or device,
                                actor_roles=actor_roles)
            recorded: Recorded | None = None
            command = outcome.command
            if isinstance(command, MoveStock) and command.putaway and putaway_rules is not None:
                command = replace(command, putaway_rules=putaway_rules, override_reason=override_reason)
            if command is not None:
                recorded = await self.service.execute(command)
        except DomainError as err:
            log.info("scan refused", extra={"device": device, "idempotency_key": idempotency_key,
                                            "code": err.code, "reason": err.message})
            return ScanResult(device, text, False, err.message, label=label.kind if label else None, code=err.code,
                              field=err.field, elapsed_ms=(time.perf_counter() - started) * 1000)
        except IdempotencyKeyReused as err:
            return ScanResult(device, text, False, str(err), code="IDEMPOTENCY_KEY_REUSED", field="Idempotency-Key")
        except StoreUnavailable as err:  # nothing recorded: the reader answers "bad read", the operator scans again
            log.warning("scan not recorded: store unavailable", extra={"device": device, "reason": str(err)})
            return ScanResult(device, text, False, f"not recorded, scan again: {err}", code="STORE_UNAVAILABLE")
        self.contexts[device] = outcome.context
        return ScanResult(device, text, True, outcome.message, label=label.kind,
                          command=recorded.command if recorded else None,
                          seq=recorded.last_seq if recorded else None,
                          replayed=recorded.replayed if recorded else False,
                          elapsed_ms=(time.perf_counter() - started) * 1000)


def from_config(service: Service, scanning: Any) -> ScanPipeline:
    """The pipeline for a site's `scanning:` section (takt.config.ScanningSection)."""
    devices = {d.device: ScanContext(device=d.device, workstation=d.workstation, task=d.task, bin=d.bin,
                                     default_quantity=d.default_quantity) for d in scanning.devices}
    return ScanPipeline(service, devices, LabelPatterns(dict(scanning.label_patterns)))


def start_scanner_tasks(pipeline: ScanPipeline, scanning: Any) -> list[asyncio.Task[None]]:
    """One reader task per device with a `serial:` port or a `camera:` (call from inside the running loop)."""
    # imported when the readers start: numpy (a camera's frames) and pyserial are no part of interpreting scans
    from scanners.camera_reader import CameraConfig, CameraScanner
    from scanners.serial_reader import SerialScanner, SerialScannerConfig

    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    for device in scanning.devices:
        if device.camera is not None:
            cam = device.camera
            camera_config = CameraConfig(device=device.device, source=cam.source, decoder=cam.decoder,
                                         formats=cam.formats or None, roi=cam.roi, gap_frames=cam.gap_frames)

            async def on_camera_scan(text: str, key: str, name: str = device.device) -> None:
                await pipeline.scan(name, text, idempotency_key=key)

            camera = CameraScanner(camera_config, on_camera_scan)
            tasks.append(loop.create_task(camera.run(), name=f"camera-{device.device}"))
        if device.serial is None:
            continue
        port = device.serial
        config = SerialScannerConfig(device=device.device, port=port.port, baudrate=port.baudrate,
                                     suffix=port.suffix, prefix=port.prefix, max_length=port.max_length,
                                     double_read_window_s=port.double_read_window_s,
                                     good_feedback=port.good_feedback, bad_feedback=port.bad_feedback)

        async def on_scan(text: str, key: str, name: str = device.device) -> bool:
            return (await pipeline.scan(name, text, idempotency_key=key)).ok

        reader = SerialScanner(config, on_scan)
        tasks.append(loop.create_task(reader.run(), name=f"serial-scanner-{device.device}"))
    return tasks
