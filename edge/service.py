"""The one write path: every command goes through ``Service.handle`` (or its async twin ``execute``).

How a command is recorded:

1. Its idempotency key is looked up in the command log. A key seen before returns the first
   outcome and writes nothing; the same key with a different command is refused
   (``IdempotencyKeyReused``), as the IETF Idempotency-Key draft asks.
2. The pure domain decides against the in-memory state (``edge.domain.decide``) or refuses with a
   ``DomainError``; a refused command writes nothing and is not remembered, so a retry with its
   key is decided afresh (the missing stock may have arrived since), in the same batch or later.
3. The events are applied to the in-memory state, given journal sequence numbers, and written,
   together with the command log row and every changed projection row, in one transaction.
4. Only after that transaction is durably committed is the caller answered.

Group commit: a single writer thread owns the database connection. Callers queue their commands;
the writer takes everything that queued up while the previous commit was being fsynced and
records it in one transaction, so many commands share one fsync and each is still acknowledged
only after its own data is durable. A thread (not an asyncio task) because SQLite's commit blocks.

The in-memory ``PlantState`` is a write-through cache of the current-state tables, owned by the
writer thread: loaded from the tables at start, changed only by ``evolve`` and written back in the
same transaction as the journal. ``start(load_in_background=True)`` (what ``takt run`` does) returns at
once; the writer thread loads the state when ``request_load`` is called (``serve`` calls it as soon as the
API listens) or the first command arrives, and before it takes that command: a node with a large store
answers reads (``/health``, the GET routes read the tables) while it loads, and commands sent meanwhile
wait in the queue and are decided against the whole state once it is there (``state_loaded``). If a transaction fails, the state is reloaded from the store and
the batch is retried one command at a time, so one bad command cannot take its neighbours down.
Readers (the API's GET routes) read the tables, never this cache.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from edge.clock import DEFAULT_THRESHOLD_S, ClockJump, ClockWatch, steady_seconds
from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain.commands import Command, RecordClockJump
from edge.domain.events import RecordsSigned, SignedRecord
from edge.retry import RetryPolicy
from edge.store import Store
from edge.store.chain import CHECKPOINT_EVERY, GENESIS, CheckpointKey, TimeTexts, link
from edge.store.codec import encode_event, fingerprint
from edge.store.history import history_row
from edge.store.store import WRITES, outcome_json
from edge.store.wal import WalCheckpointer, defer_autocheckpoint

log = logging.getLogger("takt.service")
CLOCK_ACTOR = "takt-node"  # who records what the node itself finds (a jump of its clock)


class IdempotencyKeyReused(Exception):
    """The idempotency key was already used for a different command."""

    def __init__(self, key: str, first_command: str) -> None:
        super().__init__(f"idempotency key {key} was already used for a different {first_command} request")
        self.key = key
        self.first_command = first_command


class StoreUnavailable(Exception):
    """The command could not be made durable (disk full, database gone). Nothing was recorded."""


@dataclass(frozen=True)
class Recorded:
    """What an accepted command did: its events (seq, type, subject, data). ``replayed`` is True
    when this is the answer to a repeated idempotency key."""

    idempotency_key: str
    command: str
    events: list[dict[str, Any]]
    replayed: bool = False

    @property
    def last_seq(self) -> int | None:
        return self.events[-1]["seq"] if self.events else None


DISK_FULL = "disk full"


def describe_failure(exc: BaseException) -> str:
    """What made a commit fail, in a line: ``disk full: ...`` when the store's file system has no room (SQLite's
    SQLITE_FULL, ENOSPC, PostgreSQL's 53100), else the driver's message without the SQL statement."""
    orig = getattr(exc, "orig", None) or exc
    message = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    full = (getattr(orig, "sqlite_errorcode", None) == 13 or getattr(orig, "errno", None) == 28  # SQLITE_FULL, ENOSPC
            or getattr(orig, "sqlstate", None) == "53100" or "disk is full" in message
            or "No space left on device" in message)
    if full:
        return f"{DISK_FULL}: the store's file system has no room left ({message}); free space and recording resumes"
    return f"{type(orig).__name__}: {message}"


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Pending:
    """A command waiting for the writer, and how to answer its caller.

    Its fingerprint is computed here, in the caller's thread: that work then overlaps with the
    writer's fsync instead of adding to the writer's share of the GIL."""

    __slots__ = ("command", "fingerprint", "future", "loop", "afuture", "outcome")

    def __init__(self, command: Command, future: concurrent.futures.Future[Recorded] | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, afuture: asyncio.Future[Recorded] | None = None
                 ) -> None:
        self.command = command
        self.fingerprint = fingerprint(command)
        self.future = future
        self.loop = loop
        self.afuture = afuture
        self.outcome: Recorded | BaseException | None = None


_STOP = object()

#: Reading the state back after a failed commit, while the database may be briefly away: 50 tries, 0.05 s after the
#: first, doubling up to 2 s (about 1.5 minutes in all) before the node says the store is unavailable.
_RELOAD_RETRY = RetryPolicy(attempts=50, initial_s=0.05, maximum_s=2.0)


class EventIds:
    """Event ids: UUIDv7 text (RFC 9562), made by the writer at the rate it records events.

    48 bits of Unix milliseconds, then a 12-bit counter in ``rand_a`` (RFC 9562 method 1) so the
    ids of one node sort in the order they were made, even within a millisecond, then 62 random
    bits from a generator seeded with 256 bits from ``os.urandom`` (ids must be unique, not secret;
    one system call per id would cost more than the rest of the id).
    """

    def __init__(self) -> None:
        self._ms = 0
        self._counter = 0
        self._prefix = ""
        self._random = random.Random(os.urandom(32)).getrandbits

    def start_batch(self) -> None:
        """Read the clock (once per batch: the ids of a batch share its millisecond and count on)."""
        ms = time.time_ns() // 1_000_000
        if ms > self._ms:
            self._set_ms(ms)

    def _set_ms(self, ms: int) -> None:
        self._ms, self._counter = ms, 0
        h = f"{ms:012x}"
        self._prefix = f"{h[:8]}-{h[8:]}-7"

    def next(self) -> str:
        counter = self._counter
        if counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
            self._set_ms(self._ms + 1)
            counter = 0
        self._counter = counter + 1
        tail = f"{self._random(62) | 0x8000000000000000:016x}"  # variant 0b10
        return f"{self._prefix}{counter:03x}-{tail[:4]}-{tail[4:]}"


class Service:
    def __init__(self, store: Store, node_id: str, *, clock: Callable[[], datetime] = utc_now,
                 max_batch: int = 1000, steady_clock: Callable[[], float] | None = None,
                 clock_jump_threshold_s: float = DEFAULT_THRESHOLD_S, checkpoint_key: CheckpointKey | None = None,
                 checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.store = store
        # the journal's hash chain (edge.store.chain): the head's hash, and who signs a checkpoint every N events
        self._chain = GENESIS
        self.checkpoint_key = checkpoint_key
        self.checkpoint_every = checkpoint_every
        self.node_id = node_id
        self.clock = clock  # wall time for the records; watched for jumps against steady_clock (edge.clock)
        if steady_clock is None:
            # The real wall clock is watched against the real steady clock. A clock of the caller's own (a test's,
            # a simulation's) is its own steady clock, so it never jumps, unless a steady clock is given with it.
            steady_clock = steady_seconds if clock is utc_now else (lambda: clock().timestamp())
        self.clock_watch = ClockWatch(steady_clock, clock_jump_threshold_s)
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._state = PlantState()
        self._seq = 0
        self._conn: Connection | None = None
        self.commands_recorded = 0
        self.commands_refused = 0
        self.commits = 0
        self.last_error: str | None = None
        self._listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        self._event_ids = EventIds()
        self._loaded = threading.Event()
        self._load_requested = threading.Event()
        self._stopping = False
        self.load_seconds: float | None = None  # how long loading the state took (None: not loaded yet)
        self._checkpointer: WalCheckpointer | None = None

    # --- life cycle -------------------------------------------------------------------------------

    def start(self, *, load_in_background: bool = False) -> Service:
        """Claim the store and start the writer. The state is loaded before this returns, or, with
        ``load_in_background``, by the writer thread before its first command (see the module)."""
        if self._thread is not None:
            return self
        self.store.claim_writer()  # raises WriterBusy when another process records into this store
        self._conn = self.store.engine.connect()
        self._conn.info[WRITES] = True
        defer_autocheckpoint(self._conn)  # checkpoints off the write path (edge.store.wal)
        self._checkpointer = WalCheckpointer(self.store.engine).start()
        self._loaded.clear()
        self._load_requested.clear()
        self._stopping = False
        if not load_in_background:
            self._load_requested.set()
            self._load()
        self.clock_watch.observe(self.clock())  # the first reading: jumps are found from here on
        self._thread = threading.Thread(target=self._run, args=(load_in_background,), name="takt-writer",
                                         daemon=True)
        self._thread.start()
        return self

    def _load(self) -> None:
        started = time.perf_counter()
        self._reload()
        self.load_seconds = time.perf_counter() - started
        self._loaded.set()
        log.info("state loaded in %.2f s (journal up to seq %d)", self.load_seconds, self._seq)

    def request_load(self) -> None:
        """Let the writer thread load the state now (background start; see the module)."""
        self._load_requested.set()

    @property
    def state_loaded(self) -> bool:
        """Whether the writer has its state (False while a background load runs)."""
        return self._loaded.is_set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping = True
        self._load_requested.set()  # a writer still waiting to load ends without loading
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._conn is not None:
            if self.checkpoint_key is not None and self._loaded.is_set():
                try:  # the shutdown checkpoint: the head the node stopped at, signed
                    self.store.checkpoint_at_stop(self._conn, self.node_id, self._seq, self._chain,
                                                  self.checkpoint_key, self.checkpoint_every, self.clock())
                except Exception:
                    log.exception("the journal's shutdown checkpoint could not be written")
            self._conn.close()
            self._conn = None
        self.store.release_writer()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> PlantState:
        """The writer's in-memory plant state, for lookups from other threads that tolerate a value a moment
        ahead of the commit (is this order known here?). Never change it: only the writer does. While a
        background load runs this waits for it (from a worker thread, never from the event loop)."""
        if not self._loaded.is_set() and self.running:
            self.request_load()
            self._loaded.wait(300)
        return self._state

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def on_recorded(self, listener: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call ``listener`` (from the writer thread) with the events of each durable commit: per event its
        ``seq``, ``type`` and ``subject``, and the ``command``, ``actor``, ``device`` and ``idempotency_key`` that
        recorded it. A listener must return quickly (hand the events on); it runs before the next commit."""
        self._listeners.append(listener)

    # --- submitting -------------------------------------------------------------------------------

    def submit(self, command: Command) -> concurrent.futures.Future[Recorded]:
        if not self.running:
            raise StoreUnavailable("the node's writer is not running")
        fut: concurrent.futures.Future[Recorded] = concurrent.futures.Future()
        self._queue.put(_Pending(command, future=fut))
        if not self._load_requested.is_set():
            self._load_requested.set()
        return fut

    def handle(self, command: Command, timeout: float | None = 60) -> Recorded:
        """Record ``command`` durably and return what it did; raises DomainError if refused."""
        return self.submit(command).result(timeout)

    async def execute(self, command: Command) -> Recorded:
        """``handle`` for asyncio callers: awaits the durable commit without blocking the loop."""
        if not self.running:
            raise StoreUnavailable("the node's writer is not running")
        loop = asyncio.get_running_loop()
        afut: asyncio.Future[Recorded] = loop.create_future()
        self._queue.put(_Pending(command, loop=loop, afuture=afut))
        if not self._load_requested.is_set():
            self._load_requested.set()
        return await afut

    # --- the writer -------------------------------------------------------------------------------

    def _reload(self) -> None:
        conn = self._conn
        assert conn is not None
        if conn.in_transaction():
            conn.rollback()
        # A read snapshot, not the write lock: loading a large store takes seconds, and the sync's bookkeeping
        # and user changes write beside the writer meanwhile. Only this thread changes the state tables.
        conn.info[WRITES] = False
        try:
            self._state = self.store.load_state(conn)
            self._seq = self.store.last_seq(conn)
            self._chain = self.store.chain_hash_at(conn, self._seq)
        finally:
            conn.rollback()
            conn.info[WRITES] = True

    def _load_first(self) -> bool:
        """The background load at start; on failure every queued command is answered StoreUnavailable and the
        writer ends (``running`` turns False, /health says so)."""
        self._load_requested.wait()
        try:
            if self._stopping:
                raise StoreUnavailable("the node stopped before its state was loaded")
            started = time.perf_counter()
            collecting = gc.isenabled()
            gc.disable()  # a million new objects that all live: the collector would walk them again and again
            try:
                self._reload_after_failure()
            finally:
                if collecting:
                    gc.enable()
            gc.freeze()  # and keep them out of its sight afterwards (as takt.runtime.tune_gc does at start)
            self.load_seconds = time.perf_counter() - started
            self._loaded.set()
            log.info("state loaded in %.2f s (journal up to seq %d)", self.load_seconds, self._seq)
            return True
        except BaseException as exc:
            if self._stopping:
                self.last_error = "the node stopped before its state was loaded"
            else:
                self.last_error = f"the state cannot be loaded: {describe_failure(exc)}"
                log.exception("loading the state failed")
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Pending):
                    item.outcome = StoreUnavailable(self.last_error)
                    self._answer([item])
            return False

    def _run(self, load_first: bool = False) -> None:
        if load_first and not self._load_first():
            return
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Pending] = [first]
            stop_after = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop_after = True
                    break
                batch.append(nxt)
            try:
                self._record(batch)
            except BaseException as exc:  # the writer must never die silently
                log.exception("writer failed")
                for p in batch:
                    if p.outcome is None:
                        p.outcome = StoreUnavailable(str(exc))
            self._answer(batch)
            if stop_after:
                return

    def _record(self, batch: list[_Pending]) -> None:
        conn = self._conn
        assert conn is not None
        now = self.clock()
        jump = self.clock_watch.observe(now)
        if jump is not None:
            batch.insert(0, self._clock_jumped(jump))
        recorded_at = now
        node_id = self.node_id
        event_ids = self._event_ids
        event_ids.start_batch()
        listening = bool(self._listeners)
        keys = [p.command.idempotency_key for p in batch]
        try:
            with self.store.write_mutex, conn.begin():  # in turn with the process's other writers (Store.write_mutex)
                known = self.store.lookup_commands(conn, keys)
                in_batch: dict[str, tuple[str, _Pending]] = {}
                journal_rows: list[tuple[Any, ...]] = []
                command_rows: list[tuple[Any, ...]] = []
                history: dict[str, list[dict[str, Any]]] = {}
                published: list[dict[str, Any]] = []
                state = self._state
                seq = self._seq
                chain = self._chain
                texts = TimeTexts()
                checkpoints: list[tuple[int, str]] = []
                every = self.checkpoint_every if self.checkpoint_key is not None else 0
                for p in batch:
                    cmd = p.command
                    key = cmd.idempotency_key
                    fp = p.fingerprint
                    row = known.get(key)
                    if row is not None:
                        if row.fingerprint != fp:
                            p.outcome = IdempotencyKeyReused(key, row.command)
                        else:
                            p.outcome = Recorded(key, row.command, json.loads(row.outcome)["events"], replayed=True)
                        continue
                    if key in in_batch:
                        first_fp, first = in_batch[key]
                        if first_fp != fp:
                            p.outcome = IdempotencyKeyReused(key, type(first.command).__name__)
                        else:
                            o = first.outcome
                            assert isinstance(o, Recorded)
                            p.outcome = Recorded(o.idempotency_key, o.command, o.events, replayed=True)
                        continue
                    try:
                        events = decide(state, cmd, now)
                    except DomainError as err:
                        p.outcome = err  # not remembered: a retry with this key is decided afresh
                        continue
                    in_batch[key] = (fp, p)
                    summaries: list[dict[str, Any]] = []
                    occurred_at = cmd.occurred_at or now
                    actor = cmd.actor
                    recorded_by = cmd.recorded_by or actor
                    # a signature given with the command signs its events by the seqs and hashes they get here
                    signing: list[SignedRecord] | None = [] if cmd.signature is not None else None
                    for part, ev in enumerate(events):
                        if signing is not None and type(ev) is RecordsSigned and ev.inline:
                            ev = replace(ev, records=tuple(signing))
                        evolve(state, ev)
                        seq += 1
                        event_type = type(ev).__name__
                        subject = ev.subject
                        event_id, payload = event_ids.next(), encode_event(ev)
                        chain = link(chain, seq, event_id, event_type, subject, payload, actor, recorded_by,
                                     cmd.on_behalf_of, cmd.source_device, texts(occurred_at), texts(recorded_at),
                                     cmd.origin)
                        if signing is not None:
                            signing.append(SignedRecord(seq=seq, hash=chain, type=event_type, subject=subject))
                        if every and seq % every == 0:
                            checkpoints.append((seq, chain))
                        # in JOURNAL_COLUMNS order
                        journal_rows.append((
                            seq, event_id, node_id, event_type, subject, payload, actor,
                            cmd.source_device, occurred_at, recorded_at, cmd.origin, key, part,
                            recorded_by, cmd.on_behalf_of, chain,
                        ))
                        hist = history_row(seq, actor, ev)
                        if hist is not None:
                            rows = history.get(hist[0])
                            if rows is None:
                                history[hist[0]] = [hist[1]]
                            else:
                                rows.append(hist[1])
                        summaries.append({"seq": seq, "type": event_type, "subject": subject})
                    name = type(cmd).__name__
                    # in COMMAND_LOG_COLUMNS order
                    command_rows.append((key, name, fp, actor, outcome_json(summaries), recorded_at))
                    p.outcome = Recorded(key, name, summaries)
                    if listening:  # listeners also learn who recorded it, from which device, by which command
                        device = cmd.source_device
                        published.extend({**s, "command": name, "actor": actor, "device": device,
                                          "recorded_by": recorded_by,
                                          "on_behalf_of": cmd.on_behalf_of, "idempotency_key": key}
                                         for s in summaries)
                self._seq, self._chain = seq, chain
                self.store.write_batch(conn, journal_rows, command_rows, history, state, state.take_dirty())
                if checkpoints:
                    assert self.checkpoint_key is not None
                    self.store.write_checkpoints(conn, self.node_id, checkpoints, self.checkpoint_key, every, now)
        except Exception as exc:
            self.last_error = describe_failure(exc)
            log.warning("commit of %d commands failed (%s); reloading state", len(batch), self.last_error)
            for p in batch:
                p.outcome = None
            self._reload_after_failure()
            if len(batch) > 1:
                for p in batch:  # isolate the command at fault: the others still get recorded
                    self._record([p])
            else:
                batch[0].outcome = StoreUnavailable(f"not recorded: {self.last_error}")
            return
        self.commits += 1
        self.last_error = None
        info = log.isEnabledFor(logging.INFO)
        for p in batch:
            outcome = p.outcome
            if isinstance(outcome, Recorded):
                if not outcome.replayed:
                    self.commands_recorded += 1
                if info:
                    what = "replayed" if outcome.replayed else "recorded"
                    log.info("%s %s key=%s", what, outcome.command, outcome.idempotency_key, extra={
                        "idempotency_key": outcome.idempotency_key, "command": outcome.command, "outcome": what,
                        "actor": p.command.actor, "events": len(outcome.events), "last_seq": outcome.last_seq})
            elif isinstance(outcome, DomainError | IdempotencyKeyReused):
                refused = isinstance(outcome, DomainError)
                if refused:
                    self.commands_refused += 1
                if info:
                    code = outcome.code if isinstance(outcome, DomainError) else "IDEMPOTENCY_KEY_REUSED"
                    what = "refused" if refused else "key_reused"
                    log.info("%s %s key=%s code=%s", what, type(p.command).__name__, p.command.idempotency_key, code,
                             extra={"idempotency_key": p.command.idempotency_key, "command": type(p.command).__name__,
                                    "outcome": what, "actor": p.command.actor, "code": code})
        if published:
            for listener in self._listeners:
                try:
                    listener(published)
                except Exception:  # a listener must not undo a durable commit
                    log.exception("event listener failed")

    def _clock_jumped(self, jump: ClockJump) -> _Pending:
        """Log a jump of the wall clock (once: this reading found it) and the command that records it first."""
        direction = "ahead" if jump.jump_s > 0 else "back"
        log.warning("the wall clock jumped %s by %s s (from %s to %s beyond the steady clock); recorded as ClockJumped, "
                    "open labour and machine-state durations are kept true", direction, abs(jump.jump_s),
                    jump.wall_before.isoformat(), jump.wall_after.isoformat(),
                    extra={"clock_jump_s": float(jump.jump_s), "wall_before": jump.wall_before.isoformat(),
                           "wall_after": jump.wall_after.isoformat()})
        key = f"clock-jump:{self.node_id}:{self._seq + 1}:{jump.wall_after:%Y%m%dT%H%M%S.%f}"
        return _Pending(RecordClockJump(idempotency_key=key, actor=CLOCK_ACTOR, actor_roles=frozenset({"service"}),
                                        jump_s=jump.jump_s, wall_before=jump.wall_before, wall_after=jump.wall_after))

    def _reload_after_failure(self) -> None:
        try:
            for attempt in _RELOAD_RETRY.retrying(Exception):
                with attempt:
                    self._reload_or_warn()
        except Exception as exc:
            raise StoreUnavailable("the store cannot be read back after a failed commit") from exc

    def _reload_or_warn(self) -> None:
        try:
            self._reload()
        except Exception as exc:  # the database may be briefly unreachable
            log.warning("reloading state failed (%s); retrying", exc)
            raise

    def _answer(self, batch: list[_Pending]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for p in batch:
            if p.future is not None:
                if isinstance(p.outcome, BaseException):
                    p.future.set_exception(p.outcome)
                else:
                    p.future.set_result(p.outcome)  # type: ignore[arg-type]
            elif p.loop is not None:
                by_loop.setdefault(p.loop, []).append(p)
        for loop, pending in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, pending)
            except RuntimeError:  # the caller's loop is gone; nothing to answer
                pass

    # --- reading the cache (tests and benchmarks; the API reads tables) --------------------------

    def snapshot_seq(self) -> int:
        """The last journal seq the writer knows (0 while a background load runs; never waits: /metrics calls it
        from the event loop)."""
        return self._seq


def _settle(pending: list[_Pending]) -> None:
    for p in pending:
        fut = p.afuture
        if fut is None or fut.done():
            continue
        if isinstance(p.outcome, BaseException):
            fut.set_exception(p.outcome)
        else:
            fut.set_result(p.outcome)  # type: ignore[arg-type]
