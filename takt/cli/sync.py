"""``takt sync``: the headless sync daemon, one round of push or pull, and where the sync stands.

``status`` and ``push`` only read the journal and write the sync's own bookkeeping, so they may run beside a
running node. ``pull`` and ``run`` record what the central systems decided through the one write path, so
they claim the store's writer: beside a running node they are refused (the node runs the sync itself).
"""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from edge.logs import setup_logging
from edge.store import Store, WriterBusy, sqlite_url
from edge.store.sync import SyncLedger
from erp_sync.config import SyncSection
from takt.cli.support import fail as _fail
from takt.cli.support import load_site
from takt.config import TaktConfig

if TYPE_CHECKING:  # see _node
    from takt.runtime import Node

# The ERP clients (erp_sync.daemon, .client, .push, .pull: httpx and the ERP adapters) are imported by the commands
# that talk to the central systems, so that the takt command and `takt sync status` start without them.

sync_app = typer.Typer(no_args_is_help=True, help="Sync with the central systems (ERP/MRP/APS/PLM/SRM/CRM).")

ConfigArg = Annotated[Path, typer.Option("--config", "-c", help="the site configuration (with its sync section)")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="the node's data folder, if not the configured one")]


def _config(path: Path) -> tuple[TaktConfig, SyncSection]:
    """The site file and its sync section (refused without one)."""
    cfg = load_site(path)
    if cfg.sync is None:
        raise _fail(f"{path}: there is no sync section (sync.central_url, sync.token_env) to sync with")
    return cfg, cfg.sync


def _store(cfg: TaktConfig, data_dir: Path | None) -> Store:
    url = sqlite_url(data_dir) if data_dir is not None else cfg.node.url()
    if url.startswith("sqlite:///") and not Path(url.split(":///", 1)[1]).is_file():
        raise _fail(f"no store at {url.split(':///', 1)[1]}: start the node once first")
    store = Store(url)
    store.migrate()
    return store


@sync_app.command("status")
def status(config: ConfigArg, data_dir: DataDirOption = None) -> None:
    """Where the sync stands: acknowledged sequence, lag in events and seconds, open sync exceptions."""
    cfg, sync = _config(config)
    store = _store(cfg, data_dir)
    try:
        ledger = SyncLedger(store)
        s = ledger.status()
        open_exceptions = ledger.exceptions(open_only=True)
    finally:
        store.close()
    console = Console()
    from erp_sync.daemon import central_name

    table = Table(title=f"sync of node {cfg.node.id} with {central_name(sync)}", show_header=False)
    for name, value in (("acknowledged", s["acknowledged"]), ("last seq", s["last_seq"]),
                        ("lag", f"{s['lag_events']} events, {s['lag_seconds']} s"),
                        ("last acknowledgement", s["last_ack_at"] or "never"),
                        ("parked events", s["parked_events"]), ("open exceptions", s["open_exceptions"]),
                        ("pull cursor", s["pull_cursor"]), ("last change applied", s["last_pull_at"] or "never")):
        table.add_row(name, str(value))
    console.print(table)
    for e in open_exceptions:
        where = f"event {e.seq}" if e.direction == "push" else f"change {e.change_cursor}"
        console.print(f"  #{e.id} {e.direction} {where} {e.subject}: {e.code} {e.message} "
                      f"({e.parked} waiting, {e.attempts} attempt(s), status {e.status})")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                    TimeRemainingColumn())


@sync_app.command("push")
def push(config: ConfigArg, data_dir: DataDirOption = None,
         max_batches: Annotated[int | None, typer.Option(help="stop after this many batches")] = None) -> None:
    """Push the journal's unacknowledged edge events once, until drained; a progress bar while catching up."""
    from erp_sync.client import CentralRefused, CentralUnavailable
    from erp_sync.daemon import central_for
    from erp_sync.push import Pusher, PushReport

    cfg, sync = _config(config)
    store = _store(cfg, data_dir)
    node_id = store.node_id(cfg.node.id)
    backlog = SyncLedger(store).status()["lag_events"]

    async def go() -> PushReport:
        client = central_for(sync, node_id, store)
        try:
            pusher = Pusher(store, node_id, client, batch_events=sync.batch_events, batch_bytes=sync.batch_bytes)
            with _progress() as bar:
                task = bar.add_task("push", total=max(backlog, 1), rate="")

                def seen(r: PushReport) -> None:
                    bar.update(task, completed=r.sent + r.parked, rate=f"batch {r.batches}")

                return await pusher.push(max_batches=max_batches, progress=seen)
        finally:
            await client.close()

    try:
        report = asyncio.run(go())
    except (CentralUnavailable, CentralRefused) as exc:
        raise _fail(f"push failed: {exc}; what was acknowledged stays acknowledged") from None
    finally:
        store.close()
    rate = report.sent / report.seconds if report.seconds else 0.0
    typer.echo(f"pushed {report.sent} events in {report.batches} batches ({rate:,.0f}/s): {report.stored} stored, "
               f"{report.without_booking} acknowledged without a booking, {report.duplicates} already there, {report.refused} refused, {report.parked} parked; "
               f"acknowledged up to {report.acknowledged}")


def _node(cfg: TaktConfig, data_dir: Path | None) -> Node:
    """The node, started without seeding, whose writer records what the central systems send."""
    from takt.runtime import Node  # imported when used: the node's parts (scanning, connectors) load with it

    node = Node(cfg, data_dir=data_dir, seed=False)
    try:
        node.start()
    except WriterBusy as exc:
        raise _fail(f"{exc}: the running node syncs by itself (see `takt sync status`)") from None
    return node


@sync_app.command("pull")
def pull(config: ConfigArg, data_dir: DataDirOption = None) -> None:
    """Read the central change feed once and apply it through the node's write path."""
    from erp_sync.client import CentralRefused, CentralUnavailable
    from erp_sync.daemon import central_for
    from erp_sync.pull import Puller, PullReport

    cfg, sync = _config(config)
    node = _node(cfg, data_dir)

    async def go() -> PullReport:
        client = central_for(sync, node.node_id, node.store)
        try:
            return await Puller(node.service, client, page=sync.pull_page,
                                replenish_ahead=cfg.warehouse.replenish_ahead_on_release).pull()
        finally:
            await client.close()

    try:
        report = asyncio.run(go())
    except (CentralUnavailable, CentralRefused) as exc:
        raise _fail(f"pull failed: {exc}") from None
    finally:
        node.stop()
    typer.echo(f"pulled {report.applied} changes ({report.replayed} already applied, {report.refused} refused) "
               f"in {report.pages} pages; cursor {report.cursor}")


@sync_app.command("run")
def run(config: ConfigArg, data_dir: DataDirOption = None,
        log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info") -> None:
    """Run the sync daemon headless (without the API) until stopped with Ctrl-C or SIGTERM."""
    from erp_sync.daemon import SyncDaemon

    setup_logging(log_level)
    cfg, sync = _config(config)
    node = _node(cfg, data_dir)

    async def go() -> None:
        daemon = SyncDaemon(node.service, sync, node.node_id)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        daemon.start()
        await stop.wait()
        await daemon.stop()

    try:
        asyncio.run(go())
    finally:
        node.stop()
