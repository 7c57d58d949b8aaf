"""The audit trail's reads (21 CFR Part 11 §11.10(e)): who did what to a subject, in journal order, from which device
and for whom, with the electronic signatures that cover each event; the signatures by time; and the journal events a
new signature names (their chain hashes, to sign them by)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from edge.store import schema
from edge.store.store import Store

MAX_ENTRIES = 100_000  # events one audit answer or export holds at most


@dataclass(frozen=True)
class SignatureSeen:
    """A signature as the audit shows it: who (user id and full name), when, meaning what, over which events."""

    seq: int
    signature: str
    signer: str
    signer_name: str
    meaning: str
    at: datetime
    records: list[dict[str, Any]]
    supersedes: str | None
    superseded_by: str | None
    comment: str
    device: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "signature": self.signature, "signer": self.signer,
                "signer_name": self.signer_name, "meaning": self.meaning, "at": self.at.isoformat(),
                "records": self.records, "supersedes": self.supersedes, "superseded_by": self.superseded_by,
                "comment": self.comment, "device": self.device}


@dataclass
class AuditEntry:
    """One journal event with who recorded it and the signatures over it."""

    seq: int
    type: str
    subject: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    recorded_by: str | None
    on_behalf_of: str | None
    device: str | None
    origin: str
    chain_hash: str | None
    payload: str
    signatures: list[SignatureSeen] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "subject": self.subject,
                "occurred_at": self.occurred_at.isoformat(), "recorded_at": self.recorded_at.isoformat(),
                "actor": self.actor, "recorded_by": self.recorded_by or self.actor,
                "on_behalf_of": self.on_behalf_of, "device": self.device, "origin": self.origin,
                "chain_hash": self.chain_hash, "data": json.loads(self.payload),
                "signatures": [s.as_dict() for s in self.signatures]}


def records_by_seq(store: Store, seqs: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """The journal's (chain hash, type, subject) of each of ``seqs`` it holds (archived or unknown ones are left
    out)."""
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    j = schema.journal
    with store.engine.connect() as conn:
        rows = conn.execute(select(j.c.seq, j.c.chain_hash, j.c.type, j.c.subject).where(j.c.seq.in_(wanted)))
        return {int(r.seq): (r.chain_hash or "", r.type, r.subject) for r in rows}


def signatures(conn: Connection, *, since: datetime | None = None, until: datetime | None = None,
               after_seq: int = 0) -> list[SignatureSeen]:
    """The signatures recorded (``since`` <= at < ``until``; after journal seq ``after_seq``), oldest first, each with
    the signature that superseded it (if one did) and the device it was given from."""
    rs, j = schema.record_signatures, schema.journal
    query = (select(rs, j.c.source_device).select_from(rs.outerjoin(j, j.c.seq == rs.c.seq))
             .where(rs.c.seq > after_seq).order_by(rs.c.seq))
    if since is not None:
        query = query.where(rs.c.at >= since)
    if until is not None:
        query = query.where(rs.c.at < until)
    rows = conn.execute(query).all()
    superseding = {r.supersedes: r.signature for r in conn.execute(
        select(rs.c.signature, rs.c.supersedes).where(rs.c.supersedes.is_not(None)))}
    return [SignatureSeen(seq=int(r.seq), signature=r.signature, signer=r.signer, signer_name=r.signer_name,
                          meaning=r.meaning, at=r.at, records=list(r.records), supersedes=r.supersedes,
                          superseded_by=superseding.get(r.signature), comment=r.comment, device=r.source_device)
            for r in rows]


def audit_trail(store: Store, *, subject: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = MAX_ENTRIES) -> list[AuditEntry]:
    """The journal's events (of ``subject``; recorded ``since`` <= recorded_at < ``until``) in order, each with the
    signatures that cover it."""
    j = schema.journal
    query = select(j).order_by(j.c.seq).limit(limit)
    if subject is not None:
        query = query.where(j.c.subject == subject)
    if since is not None:
        query = query.where(j.c.recorded_at >= since)
    if until is not None:
        query = query.where(j.c.recorded_at < until)
    with store.engine.connect() as conn:
        entries = [AuditEntry(
            seq=int(r.seq), type=r.type, subject=r.subject, occurred_at=r.occurred_at, recorded_at=r.recorded_at,
            actor=r.actor, recorded_by=r.recorded_by, on_behalf_of=r.on_behalf_of, device=r.source_device,
            origin=r.origin, chain_hash=r.chain_hash, payload=r.payload) for r in conn.execute(query)]
        if entries:
            by_seq = {entry.seq: entry for entry in entries}
            for sig in signatures(conn, after_seq=entries[0].seq):  # a signature comes after what it signs
                for record in sig.records:
                    entry = by_seq.get(int(record["seq"]))
                    if entry is not None:
                        entry.signatures.append(sig)
    return entries
