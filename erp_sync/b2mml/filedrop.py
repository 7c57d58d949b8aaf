"""B2MML file drop: an outbox folder the node writes production performance and material lots to, and an inbox
folder it takes production schedules (and master data) from, for ERPs that exchange ISA-95 documents as files.

``write_outbox`` and ``read_inbox`` do one round each; ``outbox_task`` and ``inbox_task`` run them in a loop, as
asyncio tasks a supervisor can start and cancel. How files are named, written atomically, moved to ``done/`` or
``rejected/`` and what a crash in between does: docs/b2mml.md ("File drop").
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from erp_sync.b2mml.apply import ImportReport
from erp_sync.b2mml.master import import_document
from erp_sync.b2mml.reader import DEFAULT_ACTOR, ScheduleRefused
from erp_sync.b2mml.render import render
from erp_sync.b2mml.schemas import Schemas, schemas

if TYPE_CHECKING:
    from edge.service import Service
    from edge.store import Store

log = logging.getLogger("takt.b2mml.filedrop")

CURSOR_FILE = ".takt-b2mml-cursor"
DONE = "done"
REJECTED = "rejected"


class InvalidOutgoingDocument(Exception):
    """A rendered document failed its own schema: a bug in the renderer; nothing was written."""


# --- outbox ----------------------------------------------------------------------------------------


def read_cursor(folder: Path) -> int:
    try:
        text = (folder / CURSOR_FILE).read_text().strip()
    except FileNotFoundError:
        return 0
    return int(text) if text else 0


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either nothing or the whole file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class OutboxRound:
    files: tuple[Path, ...]
    cursor: int  # the last journal sequence now covered
    entries: int  # journal entries read this round
    events: int  # events rendered into the files


def write_outbox(store: Store, node_id: str, folder: str | os.PathLike[str], *, limit: int = 5000,
                 schemas_: Schemas | None = None, validate: bool = True) -> OutboxRound:
    """One round: render up to ``limit`` journal entries after the cursor into the folder; returns what was written.

    The current state (read once per round) adds item units and work-order
    items that the events do not carry."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    after = read_cursor(out)
    entries = list(store.journal(after=after, limit=limit))
    if not entries:
        return OutboxRound((), after, 0, 0)
    state = store.load_state()
    documents = render(entries, node_id=node_id, state=state, created=datetime.now(UTC))
    if validate:
        check = schemas_ or schemas()
        for doc in documents:
            verdict, _ = check.validate(doc.xml)
            if not verdict.ok:
                raise InvalidOutgoingDocument(f"{doc.kind} {doc.document_id}: {verdict.describe()}")
    written = []
    for doc in documents:
        path = out / doc.file_name(node_id)
        write_atomically(path, doc.xml)
        written.append(path)
    last = entries[-1].seq
    write_atomically(out / CURSOR_FILE, f"{last}\n".encode())
    if written:
        log.info("wrote %d B2MML documents for journal %d-%d", len(written), entries[0].seq, last)
    return OutboxRound(tuple(written), last, len(entries), sum(d.events for d in documents))


async def outbox_task(store: Store, node_id: str, folder: str | os.PathLike[str], *, interval: float = 2.0,
                      limit: int = 5000, schemas_: Schemas | None = None) -> None:
    """Write the outbox forever: a round, then (when it caught up) a pause of ``interval`` seconds."""
    while True:
        done = await asyncio.to_thread(write_outbox, store, node_id, folder, limit=limit, schemas_=schemas_)
        if done.entries < limit:  # caught up; a full page means more is waiting
            await asyncio.sleep(interval)


# --- inbox -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxOutcome:
    file: Path  # where the file is now
    report: ImportReport | None  # None when rejected
    reason: str | None = None


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return folder / f"{Path(name).stem}.{stamp}{Path(name).suffix}"


def read_inbox(service: Service, folder: str | os.PathLike[str], *, schemas_: Schemas | None = None,
               actor: str = DEFAULT_ACTOR, dispatch: bool = False, workstations: Collection[str] | None = None,
               locations: Mapping[str, str] | None = None,
               personnel_classes: Mapping[str, str] | None = None) -> list[InboxOutcome]:
    """One round: apply each file in the folder (a production schedule or master data, ``import_document``) and
    move it to ``done/`` or ``rejected/``.
    ``workstations``: the site's (``config.site.workstations``), to refuse a schedule naming another one;
    ``locations``: the site's table of material locations (``b2mml.locations``); ``personnel_classes``: its table of
    personnel classes to roles (``b2mml.personnel_classes``)."""
    inbox = Path(folder)
    outcomes: list[InboxOutcome] = []
    if not inbox.is_dir():
        return outcomes
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".xml"
                       and not p.name.startswith(".")):
        try:
            report = import_document(service, path, schemas_=schemas_, actor=actor, dispatch=dispatch,
                                     workstations=workstations, locations=locations,
                                     personnel_classes=personnel_classes)
        except ScheduleRefused as refused:
            target_dir = inbox / REJECTED
            target_dir.mkdir(exist_ok=True)
            target = _free_name(target_dir, path.name)
            write_atomically(target.with_name(target.name + ".reason.txt"), f"{refused.reason}\n".encode())
            os.replace(path, target)
            log.warning("rejected %s: %s", path.name, refused.reason)
            outcomes.append(InboxOutcome(target, None, refused.reason))
            continue
        target_dir = inbox / DONE
        target_dir.mkdir(exist_ok=True)
        target = _free_name(target_dir, path.name)
        os.replace(path, target)
        outcomes.append(InboxOutcome(target, report))
    return outcomes


async def inbox_task(service: Service, folder: str | os.PathLike[str], *, interval: float = 2.0,
                     schemas_: Schemas | None = None, actor: str = DEFAULT_ACTOR, dispatch: bool = False,
                     workstations: Collection[str] | None = None, locations: Mapping[str, str] | None = None,
                     personnel_classes: Mapping[str, str] | None = None
                     ) -> None:
    """Watch the inbox forever (a round every ``interval`` seconds). A file the node cannot apply for its own
    reasons (store unavailable) stays and is tried again in the next round."""
    while True:
        try:
            await asyncio.to_thread(read_inbox, service, folder, schemas_=schemas_, actor=actor, dispatch=dispatch,
                                    workstations=workstations, locations=locations,
                                    personnel_classes=personnel_classes)
        except Exception:  # the node's problem, not the file's: keep the file and try again
            log.exception("B2MML inbox round failed; retrying in %.1f s", interval)
        await asyncio.sleep(interval)
