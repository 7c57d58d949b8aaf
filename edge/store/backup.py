"""Online backup of a node's store while it records, and restoring one into a stopped node.

SQLite: SQLite's online backup API (the ``sqlite3`` module's ``Connection.backup``) copies the store page by
page in small steps. The copying connection first opens a read transaction and keeps it for the whole copy:
in WAL mode that pins one snapshot, so every step reads the same consistent state (without it, SQLite would
restart the copy each time the node commits, and under steady recording it would never finish), while the
node's writer goes on committing into the WAL undisturbed (readers never block the WAL writer). The cost is
that the WAL cannot be checkpointed past the snapshot until the copy ends, so it grows for the copy's
duration. The copy is written to ``DEST.partial``, checked (``PRAGMA quick_check``), fsynced and only then
renamed to ``DEST``: a crash mid-backup never leaves a file that looks like a finished backup.

PostgreSQL: ``pg_dump --format=custom`` (one repeatable-read snapshot) and ``pg_restore --clean``.

Restore replaces the store of a **stopped** node: it holds the store's writer lock (so a node cannot start
meanwhile, and a running node makes it refuse), checks the backup (``quick_check`` and the replay check of
``takt store verify``, its hash chain included) on a copy beside the store before touching the store, keeps the replaced store as
``takt.sqlite.replaced-<time>`` and moves the checked copy into place.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from edge.store.store import Store, WriterBusy
from edge.store.verify import verify

PARTIAL = ".partial"  # a backup being written; renamed to its name only once checked and fsynced
PAGES_PER_STEP = 256  # 1 MiB per step with 4 KiB pages: each step holds the GIL and the file briefly


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why. Nothing was replaced."""


@dataclass(frozen=True)
class BackupReport:
    destination: Path
    bytes: int
    seconds: float
    last_seq: int  # the newest journal event in the backup
    dialect: str


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    events: int  # journal events replayed by the verify
    last_seq: int
    replaced: Path | None  # where the store that was there before was kept (SQLite)


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:":
        raise BackupError(f"{url} is not a SQLite store in a file")
    return Path(database)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _quick_check(path: Path) -> str:
    """``ok`` or what SQLite's quick_check found wrong (read-only: the file is not changed)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "ok" if rows == ["ok"] else "; ".join(str(r) for r in rows[:5])


def _last_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


# --- backup ------------------------------------------------------------------------------------------


def backup(url: str, destination: Path, *, pages_per_step: int = PAGES_PER_STEP, pause_s: float = 0.0,
           on_started: Callable[[int], None] | None = None) -> BackupReport:
    """Copy the store at ``url`` to ``destination`` while the node may be recording.

    ``on_started(last_seq)`` is called once the snapshot is fixed: every event committed before that call is
    in the backup. ``pause_s`` sleeps between steps (gives a slow disk's bandwidth back to the node)."""
    if url.startswith("postgresql"):
        return _pg_backup(url, destination, on_started)
    return _sqlite_backup(sqlite_file(url), destination, pages_per_step, pause_s, on_started)


def _sqlite_backup(source: Path, destination: Path, pages_per_step: int, pause_s: float,
                   on_started: Callable[[int], None] | None) -> BackupReport:
    if not source.is_file():
        raise BackupError(f"no store at {source}")
    destination = destination.resolve()
    if destination.is_dir():
        destination = destination / f"takt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.sqlite"
    if destination == source.resolve():
        raise BackupError("the backup cannot be the store itself")
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent} is not a folder")
    partial = destination.with_name(destination.name + PARTIAL)
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # what a backup cut off before (kill -9, power loss) left: never continued, made anew
    started = time.perf_counter()
    try:
        with contextlib.closing(sqlite3.connect(source, isolation_level=None, timeout=10)) as src, \
                contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as dst:
            src.execute("PRAGMA busy_timeout=10000")
            # the copy is a new file checked and fsynced once at the end (a crash leaves only .partial): no journal
            # and no syncs while it is written, so its I/O competes less with the node's own fsyncs
            dst.execute("PRAGMA journal_mode=OFF")
            dst.execute("PRAGMA synchronous=OFF")
            src.execute("BEGIN")
            last_seq = _last_seq(src)  # the read opens the snapshot the whole copy reads
            if on_started is not None:
                on_started(last_seq)

            def progress(status: int, remaining: int, total: int) -> None:
                if pause_s:
                    time.sleep(pause_s)

            src.backup(dst, pages=max(1, pages_per_step), progress=progress)
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problem = _quick_check(partial)
        if problem != "ok":
            raise BackupError(f"the copy fails SQLite's quick_check: {problem}")
        _fsync_file(partial)
        os.replace(partial, destination)
        _fsync_dir(destination.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(destination, destination.stat().st_size, time.perf_counter() - started, last_seq, "sqlite")


def postgres_tool(name: str) -> str | None:
    """``pg_dump`` / ``pg_restore`` on the PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return candidates[-1] if candidates else None


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (without ``+driver``)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_backup(url: str, destination: Path, on_started: Callable[[int], None] | None) -> BackupReport:
    tool = postgres_tool("pg_dump")
    if tool is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    destination = destination.resolve()
    if destination.is_dir():
        destination = destination / f"takt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.pgdump"
    partial = destination.with_name(destination.name + PARTIAL)
    store = Store(url)
    try:
        last_seq = store.last_seq()
    finally:
        store.close()
    if on_started is not None:
        on_started(last_seq)  # pg_dump's snapshot is taken after this: it holds at least these events
    started = time.perf_counter()
    try:
        done = subprocess.run([tool, "--format=custom", "--no-owner", f"--file={partial}", "--dbname",
                               libpq_url(url)], capture_output=True, text=True, timeout=24 * 3600)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        _fsync_file(partial)
        os.replace(partial, destination)
        _fsync_dir(destination.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(destination, destination.stat().st_size, time.perf_counter() - started, last_seq,
                        "postgresql")


# --- restore -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _stopped_node(store: Store) -> Iterator[None]:
    """Hold the store's writer lock: refused while a node (or ``takt sync run``) records into it."""
    try:
        store.claim_writer()
    except WriterBusy as exc:
        raise BackupError(f"{exc}: stop the node before restoring (systemctl stop takt-node)") from None
    try:
        yield
    finally:
        store.release_writer()


def _verify(url: str) -> tuple[int, int]:
    """(events replayed, last seq) of the store at ``url``, or BackupError naming the first differences."""
    store = Store(url)
    try:
        store.migrate()  # a backup from an older Takt is brought to this version's schema, like a start would
        report = verify(store)
        last = store.last_seq()
    finally:
        store.close()
    chain = report.chain
    if chain is not None and not chain.ok:
        shown = "; ".join((chain.breaks + chain.checkpoint_problems)[:3])
        raise BackupError(f"the backup's journal hash chain is broken: {shown}")
    if not report.ok:
        shown = "; ".join(report.differences[:3])
        raise BackupError(f"the backup does not pass the replay check ({len(report.differences)} differences: "
                          f"{shown})")
    return report.events, last


def restore(source: Path, url: str) -> RestoreReport:
    """Restore the backup ``source`` into the store at ``url`` of a stopped node, then verify it."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    if source.name.endswith(PARTIAL):
        raise BackupError(f"{source} is an unfinished backup (the copy was cut off before it was checked and "
                          f"renamed); restore a finished one")
    if url.startswith("postgresql"):
        return _pg_restore(source, url)
    target = sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() == target.resolve():
        raise BackupError("the backup is the store itself")
    problem = _quick_check(source)
    if problem != "ok":
        raise BackupError(f"{source} is not a sound SQLite store: {problem}")
    incoming = target.with_name(target.name + ".restoring")
    for leftover in (incoming, Path(f"{incoming}-wal"), Path(f"{incoming}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    holder = Store(url)
    replaced: Path | None = None
    try:
        with _stopped_node(holder):
            shutil.copyfile(source, incoming)
            try:
                events, last = _verify(f"sqlite:///{incoming}")
                with contextlib.closing(sqlite3.connect(incoming, isolation_level=None)) as conn:
                    conn.execute("PRAGMA journal_mode=DELETE")  # fold the verify's WAL into the file
                _fsync_file(incoming)
                if target.exists():
                    with contextlib.closing(sqlite3.connect(target, isolation_level=None)) as old:
                        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old store whole in one file
                        old.execute("PRAGMA journal_mode=DELETE")
                    replaced = target.with_name(f"{target.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
                    os.replace(target, replaced)
                for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):  # never apply an old WAL to the new file
                    with contextlib.suppress(FileNotFoundError):
                        stale.unlink()
                os.replace(incoming, target)
                _fsync_dir(target.parent)
            finally:
                for leftover in (incoming, Path(f"{incoming}-wal"), Path(f"{incoming}-shm")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()
    finally:
        holder.close()
    return RestoreReport(source, events, last, replaced)


def _pg_restore(source: Path, url: str) -> RestoreReport:
    tool = postgres_tool("pg_restore")
    if tool is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    holder = Store(url)
    try:
        with _stopped_node(holder):
            done = subprocess.run([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                   "--exit-on-error", "--dbname", libpq_url(url), str(source)],
                                  capture_output=True, text=True, timeout=24 * 3600)
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed (the database is as it was): {done.stderr.strip()}")
            events, last = _verify(url)
    finally:
        holder.close()
    return RestoreReport(source, events, last, None)
