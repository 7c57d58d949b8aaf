"""Retention: journal events the ERP has acknowledged and that are older than a given age move to archive files.

What may go: a prefix of the journal (seq 1..N, never a gap), every event of it at or below the sync's
acknowledged push cursor (delivered), recorded before the cut-off, and below any event a push exception keeps
back (a parked or refused event is sent again from the journal). The newest event always stays (the journal's
sequence continues from it).

How: in batches (``batch`` events): the batch is written to ``<archive>/journal-<first>-<last>.jsonl.gz`` (one JSON
object per event, every journal column), fsynced, then one short transaction records the file in
``journal_archives`` (with its SHA-256) and deletes the batch from the journal. Each transaction holds the write
lock for a few milliseconds, so recording goes on between batches. A crash between the file and the transaction
leaves a file that is written again by the next run; a crash after it leaves both consistent.

The choice for ``takt store verify``: it replays the archive files (checked against their SHA-256) and then the
journal, so the replay check still covers the whole history; archives are part of the record and are kept with
the store (and its backups). Each archived event keeps its chain hash (edge.store.chain) and ``journal_archives``
records the hash the file ends with, which the live journal's chain continues from: the chain stays verifiable
across retention. The projections and the command log (idempotency) are not touched.

Who runs it: the node's retention timer and ``takt store compact``, with the site file's ``retention:`` settings
(:mod:`takt.upkeep`), together with the compaction of process values.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select

from edge.store import schema
from edge.store.store import JournalEntry, Store
from edge.store.sync import OPEN_STATUSES

PUSH = "push"


class ArchiveProblem(RuntimeError):
    """An archive file the store lists is missing or not what was written."""


@dataclass(frozen=True)
class CompactReport:
    archived: int
    files: list[Path]
    up_to_seq: int  # the last archived seq (0: nothing archived yet)


def archivable_up_to(store: Store, older_than: timedelta, now: datetime | None = None) -> int:
    """The highest seq N such that every journal event up to N may be archived (see the module)."""
    cutoff = (now or datetime.now(UTC)) - older_than
    j = schema.journal
    with store.engine.connect() as conn:
        last = int(conn.execute(select(func.coalesce(func.max(j.c.seq), 0))).scalar_one())
        cursor = conn.execute(select(schema.sync_cursors.c.value).where(
            schema.sync_cursors.c.name == PUSH)).scalar_one_or_none() or 0
        first_young = conn.execute(select(func.min(j.c.seq)).where(j.c.recorded_at >= cutoff)).scalar_one_or_none()
        parked = conn.execute(select(func.min(schema.sync_parked.c.seq))).scalar_one_or_none()
        e = schema.sync_exceptions
        refused = conn.execute(select(func.min(e.c.seq)).where(
            e.c.direction == PUSH, e.c.status.in_(OPEN_STATUSES))).scalar_one_or_none()
    limits = [last - 1, int(cursor)]
    limits += [int(v) - 1 for v in (first_young, parked, refused) if v is not None]
    return max(0, min(limits))


def _row(entry: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in entry._mapping.items()}


def compact(store: Store, archive_dir: Path, older_than: timedelta, *, batch: int = 1000,
            now: datetime | None = None, pause_s: float = 0.0) -> CompactReport:
    """Move what may go (see the module) to ``archive_dir`` in batches of ``batch`` events, ``pause_s`` apart."""
    limit = archivable_up_to(store, older_than, now)
    archive_dir = archive_dir.resolve()
    archive_dir.mkdir(parents=True, exist_ok=True)
    j = schema.journal
    archived = 0
    files: list[Path] = []
    up_to = 0
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(select(j).where(j.c.seq <= limit).order_by(j.c.seq).limit(batch)).all()
        if not rows:
            break
        first, last = int(rows[0].seq), int(rows[-1].seq)
        path = archive_dir / f"journal-{first:012d}-{last:012d}.jsonl.gz"
        body = "".join(json.dumps(_row(r), separators=(",", ":")) + "\n" for r in rows).encode()
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(body)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with store.writing() as conn:
            conn.execute(insert(schema.journal_archives).values(
                first_seq=first, last_seq=last, events=len(rows), path=str(path), sha256=digest,
                archived_at=datetime.now(UTC), last_hash=rows[-1].chain_hash))
            conn.execute(delete(j).where(j.c.seq >= first, j.c.seq <= last))
        archived += len(rows)
        files.append(path)
        up_to = last
        if pause_s:
            time.sleep(pause_s)  # leave the store to the recording between batches
    return CompactReport(archived, files, up_to)


_COLUMNS = {f.name for f in fields(JournalEntry)}
_TIMES = ("occurred_at", "recorded_at")


def archived_entries(store: Store) -> Iterator[JournalEntry]:
    """Every archived event in seq order, each file checked against the SHA-256 recorded for it."""
    a = schema.journal_archives
    with store.engine.connect() as conn:
        archives = conn.execute(select(a).order_by(a.c.first_seq)).all()
    expected = 1
    for archive in archives:
        path = Path(archive.path)
        if archive.first_seq != expected:
            raise ArchiveProblem(f"the archives leave out seq {expected}..{archive.first_seq - 1}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArchiveProblem(f"archive {path} (seq {archive.first_seq}..{archive.last_seq}) cannot be read: "
                                 f"{exc.strerror}; put it back where it was archived") from None
        if hashlib.sha256(data).hexdigest() != archive.sha256:
            raise ArchiveProblem(f"archive {path} is not the file that was written (SHA-256 differs)")
        for line in gzip.decompress(data).decode().splitlines():
            raw = json.loads(line)
            for key in _TIMES:
                raw[key] = datetime.fromisoformat(raw[key])
            yield JournalEntry(**{k: v for k, v in raw.items() if k in _COLUMNS})
        expected = archive.last_seq + 1


def archive_folders(store: Store) -> list[Path]:
    """The folders holding this store's archive files (a backup of the store must take them along)."""
    a = schema.journal_archives
    with store.engine.connect() as conn:
        paths = conn.execute(select(a.c.path)).scalars().all()
    return sorted({Path(p).parent for p in paths})
