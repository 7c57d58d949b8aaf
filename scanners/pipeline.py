"""The scan pipeline every reader shares (serial, camera, handheld API): text → label → meaning in the device's
context → command through the one write path → an answer for the device (booked, context changed, or refused).

Who a scan books for (with the node's `ScanAuthorization`; a pipeline built without one trusts its caller, as the
pipeline's own tests and benchmarks do):

- Over the API the caller is the bearer of the token (a user's own token or a page session). A badge scan of someone
  else logs that person on at the device only with their PIN (`pin`) or while they hold an open page session (they
  logged on with badge and PIN); an unknown or inactive badge and a device account's are refused. A scan that books
  a command needs the caller's roles to allow that command (the same roles as its route), and, when an operator is
  logged on at the device, the operator's too.
- A fixed reader (a serial scanner or a camera wired to the node) has no token: its scans are sent by the device
  itself (`recorded_by` is the device) and book on behalf of the operator logged on at the station by badge. A
  badge read there is a physical card at the station: it logs a known, active person on without a PIN, except a
  privileged one (supervisor, quality, admin), or anyone when the site sets `scanning.badge_pin: always`; they must
  then hold an open page session (log on at the station's terminal with badge and PIN first). A booking at a reader
  needs an operator logged on whose roles allow the command.

The command carries `actor` (the operator, else the caller), `recorded_by` (the caller) and `on_behalf_of` (the
operator, when not the caller), and `source_device`; the journal keeps all four.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from edge.domain import DomainError
from edge.domain.commands import Command, MoveStock
from edge.domain.putaway import PutawayRule
from edge.domain.scans import Label, LabelKind, LabelPatterns, ScanContext, interpret, with_task
from edge.service import IdempotencyKeyReused, Recorded, Service, StoreUnavailable
from scanners.config import ScanningSection
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


PRIVILEGED_ROLES = frozenset({"supervisor", "quality", "admin"})  # a badge alone never logs these on


@dataclass(frozen=True, slots=True)
class BadgeHolder:
    """The person a badge names, as the node knows them now."""

    user: str
    roles: frozenset[str]
    active: bool = True
    has_session: bool = False  # logged on at a page (badge + PIN) and not logged off or expired


@dataclass(frozen=True)
class ScanAuthorization:
    """The node's rules for who may scan what: the roles each command needs (`command_roles`, by command name: the
    routes' roles; admin may book everything), the person a scanned badge code names (`badge_holder`, None for an
    unknown badge), a user as known now by name (`user`), and the PIN check (`pin_is_right(user, pin, device)`: a
    wrong PIN counts towards the failed-logon limits; `pin_locked_for(user, device)` the seconds left). `badge_pin` says when a badge read at
    a fixed reader needs an open page session: `privileged` (supervisor, quality, admin) or `always`."""

    command_roles: Mapping[str, frozenset[str]]
    badge_holder: Callable[[str], Awaitable[BadgeHolder | None]]
    user: Callable[[str], Awaitable[BadgeHolder | None]]
    pin_is_right: Callable[[str, str, str], Awaitable[bool]]
    pin_locked_for: Callable[[str, str], Awaitable[float]]
    badge_pin: Literal["privileged", "always"] = "privileged"

    def may_book(self, command: Command, roles: frozenset[str]) -> bool:
        return "admin" in roles or bool(roles & self.command_roles.get(type(command).__name__, frozenset()))

    def needs(self, command: Command) -> str:
        allowed = sorted(self.command_roles.get(type(command).__name__, frozenset()) | {"admin"})
        return " or ".join(allowed)


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
                 gs1: GS1Parser | None = None, authorization: ScanAuthorization | None = None) -> None:
        self.service = service
        self.authorization = authorization
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
                   override_reason: str | None = None, pin: str | None = None) -> ScanResult:
        """Interpret one scan. A handheld (a signed-in user's device) gets a context of its own on first use;
        `task` (consume, receive, putaway, move, idle) says what the device is doing now, as its page chose, and
        `purchase_order` which order a receipt is booked against. With `putaway_rules` (the site's, for a device
        whose page can ask why) a putaway elsewhere than the first suggestion needs `override_reason`
        (edge.domain.putaway); a fixed scanner cannot give one and is not checked.

        `actor` is the authenticated caller (API) with its `actor_roles`; None for a fixed reader, whose scans the
        device itself sends. `pin` is a badge holder's PIN sent with their badge scan (API)."""
        result = await self._scan(device, text, idempotency_key=idempotency_key, actor=actor,
                                  actor_roles=actor_roles, handheld=handheld, task=task,
                                  purchase_order=purchase_order, putaway_rules=putaway_rules,
                                  override_reason=override_reason, pin=pin)
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
                    override_reason: str | None = None, pin: str | None = None) -> ScanResult:
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
            auth = self.authorization
            if auth is not None and label.kind == "badge":  # the context holds the person, not the card's code
                label = replace(label, value=await self._check_badge(auth, label.value, device=device, actor=actor,
                                                                        pin=pin))
            booking_roles = actor_roles
            if auth is not None and actor is None and context.operator is not None:
                booking_roles = await self._operator_roles(auth, context.operator)  # a reader books as its operator
            outcome = interpret(context, label, idempotency_key=idempotency_key, actor=actor or device,
                                actor_roles=booking_roles)
            recorded: Recorded | None = None
            command = outcome.command
            if isinstance(command, MoveStock) and command.putaway and putaway_rules is not None:
                command = replace(command, putaway_rules=putaway_rules, override_reason=override_reason)
            if command is not None:
                caller = actor or device
                operator = context.operator
                command = replace(command, recorded_by=caller,
                                  on_behalf_of=operator if operator is not None and operator != caller else None)
                if auth is not None:
                    await self._check_booking(auth, command, device=device, actor=actor, roles=booking_roles,
                                              operator=operator)
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

    async def _check_badge(self, auth: ScanAuthorization, badge: str, *, device: str, actor: str | None,
                           pin: str | None) -> str:
        """The user a badge logs on (or off), when the module's rules let it; else DomainError, nothing changes."""
        holder = await auth.badge_holder(badge)
        if holder is None or not holder.active:
            raise DomainError("UNKNOWN_BADGE", f"badge {badge} does not belong to an active user here", field="scan")
        if not holder.roles - {"service"}:
            raise DomainError("FORBIDDEN", f"{holder.user} is a device account: it cannot log on at a device",
                              field="scan")
        if actor is None:  # a card read at a fixed reader
            if holder.has_session or (auth.badge_pin == "privileged" and not holder.roles & PRIVILEGED_ROLES):
                return holder.user
            raise DomainError("BADGE_PIN_REQUIRED", f"{holder.user}: log on at the station's terminal with badge and "
                              "PIN first, then scan your badge here", field="scan")
        if actor == holder.user or holder.has_session:
            return holder.user
        if pin is None:
            raise DomainError("BADGE_PIN_REQUIRED", f"the badge of {holder.user} logs them on here only with their "
                              "PIN (send `pin`) or while they are logged on at a page", field="pin")
        wait = await auth.pin_locked_for(holder.user, device)
        if wait > 0:
            raise DomainError("PIN_LOCKED", f"too many wrong PINs for {holder.user}: try again in {math.ceil(wait)} s",
                              field="pin")
        if not await auth.pin_is_right(holder.user, pin, device):
            raise DomainError("PIN_WRONG", "the PIN is not right", field="pin")
        return holder.user

    async def _operator_roles(self, auth: ScanAuthorization, operator: str) -> frozenset[str]:
        holder = await auth.user(operator)
        return holder.roles if holder is not None and holder.active else frozenset()

    async def _check_booking(self, auth: ScanAuthorization, command: Command, *, device: str, actor: str | None,
                             roles: frozenset[str], operator: str | None) -> None:
        """The command's roles, for the caller and for the operator it books on behalf of."""
        name = type(command).__name__
        if actor is None and operator is None:
            raise DomainError("OPERATOR_REQUIRED", f"{name} at {device} needs an operator: scan your badge first",
                              field="scan")
        if not auth.may_book(command, roles):
            who = actor or operator
            raise DomainError("FORBIDDEN", f"{who} has role(s) {', '.join(sorted(roles)) or 'none'}; {name} needs "
                              f"{auth.needs(command)}", field="scan")
        if actor is not None and operator is not None and operator != actor:
            operator_roles = await self._operator_roles(auth, operator)
            if not auth.may_book(command, operator_roles):
                raise DomainError("FORBIDDEN", f"{name} on behalf of {operator} at {device}: {operator} has role(s) "
                                  f"{', '.join(sorted(operator_roles)) or 'none'}; it needs {auth.needs(command)}",
                                  field="scan")


def from_config(service: Service, scanning: ScanningSection, authorization: ScanAuthorization | None = None) -> ScanPipeline:
    """The pipeline for a site's `scanning:` section (scanners.config.ScanningSection), with the node's authorization
    (`authorization`: who may book what, the badge holders and their PINs)."""
    devices = {d.device: ScanContext(device=d.device, workstation=d.workstation, task=d.task, bin=d.bin,
                                     default_quantity=d.default_quantity) for d in scanning.devices}
    patterns: dict[str, str] = {kind: pattern for kind, pattern in scanning.label_patterns.items()}
    gs1 = None
    if scanning.allow_zero_suppressed_gtin:
        gs1 = GS1Parser(default_parser().dictionary, allow_zero_suppressed_gtin=True)
    return ScanPipeline(service, devices, LabelPatterns(patterns), gs1=gs1, authorization=authorization)


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
