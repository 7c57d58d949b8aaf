"""The journal's hash chain and its signed checkpoints: what makes a rewritten journal show.

Each journal row carries ``chain_hash`` = SHA-256 over the previous row's ``chain_hash`` and a canonical encoding
of the row (:func:`link`): seq, event_id, type, subject, the payload JSON text as stored, actor, recorded_by,
on_behalf_of, source_device, occurred_at, recorded_at (UTC, microseconds) and origin. Each field is written as
``<length>:<text>`` (``~`` for none), so no two rows encode alike. The writer computes it in its group commit
(:mod:`edge.service`); ``takt store verify`` recomputes it (:func:`check_chain`).

A hash chain alone does not stop someone who can write the store: they can recompute every hash after an edit.
Two things do: **checkpoints**, an HMAC-SHA256 over (node, seq, chain hash) made with a secret that is not in the
store (:class:`CheckpointKey`), written every N events and when the node stops; and the **central side**, which
receives the chain head with each sync batch and refuses a batch whose chain does not continue from the head it
holds (:mod:`erp_sync.push`, ``simulators/erp``).

Stores from before the chain (migration 0020) got their hashes computed by that migration over the rows they
held then (table ``journal_chain`` says up to which seq): those rows are only as trustworthy as the
store was at that moment. Rows retention had archived before it carry no hash and are checked by their archive
file's SHA-256 only; the chain starts at ``journal_chain.chained_from``.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first chained event
CHECKPOINT_EVERY = 1000  # events between two interval checkpoints (the site file's journal.checkpoint_every)

_sha256 = hashlib.sha256


def _field(value: str | None) -> str:
    return "~" if value is None else f"{len(value)}:{value}"


def timestamp_text(value: datetime) -> str:
    """A stored timestamp as the chain encodes it: UTC, microseconds, the same before and after the database."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S.%f}Z"


def link(prev: str, seq: int, event_id: str, type_: str, subject: str, payload: str, actor: str,
         recorded_by: str | None, on_behalf_of: str | None, source_device: str | None, occurred_at: str,
         recorded_at: str, origin: str) -> str:
    """The chain hash of one row (hex), from the previous row's and the row's fields (times already as
    :func:`timestamp_text` gives them). Each field as :func:`_field` writes it, inlined: verify runs this a million
    times."""
    text = (f"{prev}|{seq}|{len(event_id)}:{event_id}{len(type_)}:{type_}{len(subject)}:{subject}"
            f"{len(payload)}:{payload}{len(actor)}:{actor}"
            f"{'~' if recorded_by is None else f'{len(recorded_by)}:{recorded_by}'}"
            f"{'~' if on_behalf_of is None else f'{len(on_behalf_of)}:{on_behalf_of}'}"
            f"{'~' if source_device is None else f'{len(source_device)}:{source_device}'}"
            f"{occurred_at}|{recorded_at}|{len(origin)}:{origin}")
    return _sha256(text.encode()).hexdigest()


def row_hash(prev: str, row: Any) -> str:
    """:func:`link` for a journal row (a SQLAlchemy row, a :class:`~edge.store.store.JournalEntry`)."""
    return link(prev, row.seq, row.event_id, row.type, row.subject, row.payload, row.actor, row.recorded_by,
                row.on_behalf_of, row.source_device, stored_time_text(row.occurred_at),
                stored_time_text(row.recorded_at), row.origin)


class TimeTexts:
    """:func:`timestamp_text` remembering its last few arguments by identity: the rows of a group commit share
    their ``recorded_at`` object and mostly their ``occurred_at``."""

    def __init__(self) -> None:
        self._last: list[Any] = [None, "", None, ""]

    def __call__(self, value: datetime) -> str:
        last = self._last
        if value is last[0]:
            return str(last[1])
        if value is last[2]:
            return str(last[3])
        text = timestamp_text(value)
        last[2], last[3] = last[0], last[1]
        last[0], last[1] = value, text
        return text


# --- checkpoints ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointKey:
    """The HMAC secret that signs checkpoints, and where it came from (shown by ``takt store verify``)."""

    secret: bytes
    source: str
    in_store: bool = False  # kept beside the store: whoever takes the store takes the key too

    def sign(self, node_id: str, seq: int, chain_hash: str) -> str:
        message = f"takt-checkpoint/1|{node_id}|{seq}|{chain_hash}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def signed(self, node_id: str, seq: int, chain_hash: str, signature: str | None) -> bool:
        return signature is not None and hmac.compare_digest(self.sign(node_id, seq, chain_hash), signature)


KEY_FILE = "journal-checkpoint.key"
MIN_SECRET_BYTES = 16


def key_from_text(text: str, source: str, *, in_store: bool = False) -> CheckpointKey:
    secret = text.strip().encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the checkpoint secret from {source} is shorter than {MIN_SECRET_BYTES} characters")
    return CheckpointKey(secret, source, in_store)


def data_dir_key(data_dir: Path, *, create: bool) -> CheckpointKey | None:
    """The key kept in the node's data folder (``journal-checkpoint.key``, mode 0600), made at first start when
    ``create``. A fallback only: a thief of the data folder has it too; prefer a secret outside it."""
    path = data_dir / KEY_FILE
    if not path.exists():
        if not create:
            return None
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    return key_from_text(path.read_text(), str(path), in_store=True)


# --- checking ---------------------------------------------------------------------------------------------------


@dataclass
class ChainReport:
    """What :func:`check_chain` found: the events it checked and the first break, if any."""

    events: int = 0
    chained_from: int = 1
    chained_since: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    breaks: list[str] = field(default_factory=list)
    checkpoints: int = 0
    checkpoint_problems: list[str] = field(default_factory=list)
    unsigned_tail: int = 0  # events after the last checkpoint (the chain covers them; no signature yet)
    key_source: str | None = None

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.checkpoint_problems


#: The columns :func:`check_rows` reads, in this order.
CHAIN_COLUMNS = ("seq", "event_id", "type", "subject", "payload", "actor", "recorded_by", "on_behalf_of",
                 "source_device", "occurred_at", "recorded_at", "origin", "chain_hash")


def stored_time_text(value: datetime | str) -> str:
    """:func:`timestamp_text` of a timestamp as a driver returns it: a datetime, or SQLite's stored text
    (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC, as SQLAlchemy writes it) read without parsing."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    return timestamp_text(value)


def check_rows(rows: Iterable[tuple[Any, ...]], report: ChainReport, prev: str = GENESIS,
               last_seq: int | None = None, wanted: set[int] | None = None, hashes: dict[int, str] | None = None
               ) -> tuple[str, int | None]:
    """Recompute the chain over ``rows`` (tuples in :data:`CHAIN_COLUMNS` order, in seq order) and name the first
    row that breaks it in ``report.breaks``: its content changed (its hash does not match), a row is missing (a seq
    gap), moved (out of order) or added without its hash. Rows before ``report.chained_from`` are passed over.
    Keeps the chain hash of the seqs in ``wanted`` in ``hashes``. Returns the chain's head (hash, seq) after them."""
    chain_from = report.chained_from
    wanted = wanted or set()
    hashes = hashes if hashes is not None else {}
    last_id = ""
    count = 0
    suspect: tuple[int, str] | None = None  # the first row whose hash did not match: is it a reorder? (next row)
    for (seq, event_id, type_, subject, payload, actor, recorded_by, on_behalf_of, source_device, occurred_at,
         recorded_at, origin, stored) in rows:
        count += 1
        if suspect is not None:
            if event_id < suspect[1]:
                report.breaks.append(f"seq {suspect[0]}: out of its recorded order (its event was recorded after "
                                     f"seq {seq}'s; rows were reordered)")
            else:
                report.breaks.append(f"seq {suspect[0]}: its content does not match its hash (changed after it was "
                                     f"recorded, or an event before it was)")
            suspect = None
            break
        if seq < chain_from:
            last_seq, last_id = seq, event_id
            continue
        if last_seq is not None and seq != last_seq + 1:
            if seq <= last_seq:
                report.breaks.append(f"seq {seq}: out of order after seq {last_seq} (rows were moved)")
            else:
                missing = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seq {last_seq + 1}..{seq - 1}"
                report.breaks.append(f"{missing}: missing from the journal (deleted) before seq {seq}")
            break
        recorded_text = stored_time_text(recorded_at)
        computed = link(prev, seq, event_id, type_, subject, payload, actor, recorded_by, on_behalf_of, source_device,
                        recorded_text if occurred_at == recorded_at else stored_time_text(occurred_at), recorded_text,
                        origin)
        if stored != computed:
            if stored is None:
                report.breaks.append(f"seq {seq}: has no chain hash (added to the journal outside the writer)")
            elif last_id and event_id < last_id:
                report.breaks.append(f"seq {seq}: out of its recorded order (its event was recorded before seq "
                                     f"{last_seq}'s; rows were reordered)")
                break
            else:
                suspect = (seq, event_id)
                continue
            break
        if seq in wanted:
            hashes[seq] = computed
        prev = computed
        last_seq, last_id = seq, event_id
    if suspect is not None:
        report.breaks.append(f"seq {suspect[0]}: its content does not match its hash (changed after it was "
                             f"recorded, or an event before it was)")
    report.events += count
    if last_seq is not None and not report.breaks:
        report.head_seq, report.head_hash = last_seq, prev
    return prev, last_seq


def check_checkpoints(report: ChainReport, checkpoints: list[Any], hashes: dict[int, str], node_id: str,
                      key: CheckpointKey | None, checked_through: int) -> None:
    """Each checkpoint's hash must be the chain's at its seq and its signature good (when ``key`` is known); interval
    checkpoints follow each other at most ``every`` events apart (a deleted one shows as a longer gap). The chain was
    recomputed through ``checked_through`` (the journal's last seq, or the seq before the first break)."""
    report.checkpoints = len(checkpoints)
    report.key_source = key.source if key is not None else None
    problems = report.checkpoint_problems
    previous = report.chained_from - 1
    for cp in checkpoints:
        seq = int(cp.seq)
        if seq > checked_through:
            if not report.breaks:
                problems.append(f"checkpoint at seq {seq}: beyond the journal's last event {checked_through} "
                                f"(events after seq {checked_through} were deleted)")
            continue
        if hashes.get(seq) != cp.chain_hash:
            problems.append(f"checkpoint at seq {seq}: the chain hash there is not the one signed: events at or "
                            f"before seq {seq} (after seq {previous}) were rewritten")
        if not cp.signature:
            problems.append(f"checkpoint at seq {seq}: signature missing")
        elif key is not None and not key.signed(node_id, seq, cp.chain_hash, cp.signature):
            problems.append(f"checkpoint at seq {seq}: signature wrong (not made with this node's key)")
        if cp.reason == "interval" and previous >= report.chained_from and seq - previous > int(cp.every):
            problems.append(f"checkpoint before seq {seq}: missing (the one before it is at seq {previous}, "
                            f"{seq - previous} events earlier; checkpoints are every {cp.every})")
        previous = max(previous, seq)
    report.unsigned_tail = max(0, checked_through - max(previous, report.chained_from - 1))
