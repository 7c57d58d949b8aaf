"""Electronic signatures (21 CFR Part 11 §11.50 manifestation, §11.70 signature/record linking): a signature is a
journal event (``RecordsSigned``) naming the signer (user id and full name), the time, the meaning and the events it
signs by their journal sequence numbers and chain hashes.

A signature is given two ways, both through the one write path:

- with the command whose events it signs (``Command.signature``: a disposition, a verdict of a signed inspection
  plan, ...): ``sealed`` appends the signature to the command's events, and the write path fills in their sequence
  numbers and hashes as it journals them (edge.service);
- afterwards, over events already recorded (``SignRecords``: ``POST /api/v1/signatures``), which the door looks up in
  the journal by sequence number.

Either way the door checked the signer's second factor (the PIN again) just before; the domain checks what the
signature says. A signed record is never changed: a command that would redefine a subject whose definition is
signed (an inspection plan, an item, a disposition proposal, ...) is refused unless it is itself signed and names the
signature it supersedes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.errors import DomainError, invalid
from edge.domain.model import RecordSignature
from edge.domain.state import Decider, Evolver, PlantState

# Events that (re)define their subject: once such an event is signed, another one on the same subject would change
# the signed record, so it needs a signature that supersedes the first.
RECORD_DEFINITIONS = frozenset({
    "InspectionPlanDefined", "ItemDefined", "BinDefined", "EquipmentDefined", "DispositionProposed",
    "PurchaseOrderDefined", "CustomerDefined", "SalesOrderDefined",
})
MAX_RECORDS = 100  # events one signature signs


def signature_id(idempotency_key: str) -> str:
    """The id of the signature given with the command of this idempotency key (a retry gets the same id)."""
    return "SIG-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16].upper()


def _spec(state: PlantState, cmd: c.Command) -> c.SignatureSpec:
    spec = cmd.signature
    if spec is None:
        raise invalid("SIGNATURE_REQUIRED", "a signature needs the signer's PIN again", "X-Takt-Pin")
    if spec.meaning not in spec.meanings:
        raise invalid("INVALID_MEANING", f"meaning must be one of {', '.join(spec.meanings)}, got {spec.meaning!r}",
                      "meaning")
    checks.text("signer_name", spec.signer_name)
    checks.free_text("comment", spec.comment)
    if spec.signature in state.signatures:
        raise DomainError("DUPLICATE_SIGNATURE", f"signature {spec.signature} is already recorded", field="signature")
    if spec.supersedes is not None:
        if spec.supersedes not in state.signatures:
            raise DomainError("UNKNOWN_SIGNATURE", f"signature {spec.supersedes} is not known here",
                              field="supersedes")
        if spec.supersedes in state.superseded:
            raise DomainError("SIGNATURE_SUPERSEDED", f"signature {spec.supersedes} was already superseded by "
                              f"{state.superseded[spec.supersedes]}: supersede that one", field="supersedes")
    return spec


def _supersedes_these(state: PlantState, spec: c.SignatureSpec, subjects: Iterable[str]) -> None:
    """A superseding signature signs (some of) the records of the signature it supersedes."""
    if spec.supersedes is not None and not set(subjects) & set(state.signatures[spec.supersedes]):
        raise DomainError("SUPERSEDES_OTHER_RECORDS", f"signature {spec.supersedes} signed "
                          f"{', '.join(state.signatures[spec.supersedes])}, not what this signature signs",
                          field="supersedes")


def _signed_already(state: PlantState, subject: str) -> str:
    cur = state.signed[subject]
    return (f"{subject} was signed ({cur.meaning}) by {cur.signer_name} ({cur.signer}) at "
            f"{cur.at.isoformat(timespec='seconds')}, signature {cur.signature}")


def _sign_records(state: PlantState, cmd: c.SignRecords, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "quality", "supervisor", "admin", action="signing records")
    spec = _spec(state, cmd)
    if not cmd.records:
        raise invalid("MISSING_VALUE", "name the events to sign by their sequence numbers", "events")
    if len(cmd.records) > MAX_RECORDS:
        raise invalid("TOO_MANY_RECORDS", f"one signature signs at most {MAX_RECORDS} events", "events")
    seen: set[int] = set()
    for i, ref in enumerate(cmd.records):
        where = f"events[{i}]"
        if ref.seq in seen:
            raise invalid("DUPLICATE_RECORD", f"event {ref.seq} is named twice", f"{where}.seq")
        seen.add(ref.seq)
        if not ref.found:
            raise DomainError("UNKNOWN_RECORD", f"no event {ref.seq} in this node's journal", field=f"{where}.seq")
        if ref.expected_hash is not None and ref.expected_hash != ref.hash:
            raise DomainError("RECORD_CHANGED", f"event {ref.seq} has chain hash {ref.hash}, not the "
                              f"{ref.expected_hash} you signed for: look at it again", field=f"{where}.hash")
        cur = state.signed.get(ref.subject)
        if cur is not None and cur.meaning == spec.meaning and spec.supersedes != cur.signature:
            raise DomainError("RECORD_SIGNED", f"{_signed_already(state, ref.subject)}: a signature of the same "
                              f"meaning supersedes it (name {cur.signature} in supersedes)", field="supersedes")
    _supersedes_these(state, spec, (ref.subject for ref in cmd.records))
    return [e.RecordsSigned(
        signature=spec.signature, signer=cmd.actor, signer_name=spec.signer_name, meaning=spec.meaning,
        records=tuple(e.SignedRecord(seq=r.seq, hash=r.hash, type=r.type, subject=r.subject) for r in cmd.records),
        at=now, supersedes=spec.supersedes, comment=spec.comment)]


def _needs_signature(state: PlantState, events: list[e.Event]) -> str | None:
    """Why these events need their signer's signature (a verdict of a signed inspection plan), or None."""
    for ev in events:
        if isinstance(ev, e.SupplierLotVerdict | e.FinalInspectionVerdict):
            plan = state.inspection_plans.get(ev.plan)
            if plan is not None and plan.signed:
                return f"the verdict of inspection plan {plan.plan}"
        elif isinstance(ev, e.InspectionRecorded) and ev.task is None:
            plan = state.inspection_plans.get(ev.plan)
            if plan is not None and plan.signed:
                return f"an inspection by plan {plan.plan}"
    return None


def sealed(state: PlantState, cmd: c.Command, events: list[e.Event], now: datetime) -> list[e.Event]:
    """A command's events as recorded: refused when they need a signature the command lacks or would change a
    signed record; with the command's signature appended when it carries one."""
    if isinstance(cmd, c.SignRecords):
        return events
    needed = _needs_signature(state, events)
    if needed is not None and cmd.signature is None:
        raise invalid("SIGNATURE_REQUIRED", f"{needed} is electronically signed: enter your PIN again "
                      "(X-Takt-Pin) to sign it", "X-Takt-Pin")
    spec = _spec(state, cmd) if cmd.signature is not None else None
    supersedes = spec.supersedes if spec is not None else None
    for ev in events if state.signed else ():  # (the write path's hot loop: nothing to look up while none is signed)
        cur = state.signed.get(ev.subject)
        name = type(ev).__name__
        if cur is not None and name in RECORD_DEFINITIONS and name in cur.types and supersedes != cur.signature:
            raise DomainError("RECORD_SIGNED", f"{_signed_already(state, ev.subject)}: a signed record is not "
                              f"changed, only superseded by a new signed record that names {cur.signature} in "
                              "supersedes", field="supersedes")
    if spec is None:
        return events
    _supersedes_these(state, spec, (ev.subject for ev in events))
    return [*events, e.RecordsSigned(
        signature=spec.signature, signer=cmd.actor, signer_name=spec.signer_name, meaning=spec.meaning,
        records=tuple(e.SignedRecord(seq=0, hash="", type=type(ev).__name__, subject=ev.subject) for ev in events),
        at=now, supersedes=spec.supersedes, comment=spec.comment, inline=True)]


def apply_signature(state: PlantState, signature: str, signer: str, signer_name: str, meaning: str, at: datetime,
                    records: Iterable[tuple[str, str]], supersedes: str | None) -> None:
    """A signature's effect on the state (from its event, or from its history row when the store loads):
    ``records`` are the signed events' (type, subject)."""
    types: dict[str, set[str]] = {}
    for kind, subject in records:
        types.setdefault(subject, set()).add(kind)
    for subject, kinds in types.items():
        cur = state.signed.get(subject)
        before = cur.types if cur is not None else frozenset()
        state.signed[subject] = RecordSignature(signature=signature, meaning=meaning, signer=signer,
                                                signer_name=signer_name, at=at, types=frozenset(kinds) | before)
    state.signatures[signature] = tuple(types)
    if supersedes is not None:
        state.superseded[supersedes] = signature


def _records_signed(state: PlantState, ev: e.RecordsSigned) -> None:
    apply_signature(state, ev.signature, ev.signer, ev.signer_name, ev.meaning, ev.at,
                    ((r.type, r.subject) for r in ev.records), ev.supersedes)


DECIDERS: dict[type[c.Command], Decider] = {
    c.SignRecords: _sign_records,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.RecordsSigned: _records_signed,
}
