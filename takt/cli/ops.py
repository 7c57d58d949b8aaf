"""The operations commands of ``takt``: ``store backup`` / ``store restore``, ``doctor`` and ``service``.

What a plant's IT needs to keep a node running for years beside a line; registered on the ``takt`` command by
:func:`register` (``takt.cli`` calls it), so ``takt/cli/main.py`` stays the map of the command.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from edge.store.backup import BackupError, backup, restore, sqlite_file
from edge.store.retention import archive_folders
from edge.units import UnitSettings, takt_executable, unit_status, write_units
from takt.cli.support import ConfigOption, DataDirOption, UrlOption, fail, load_site, open_store, store_url
from takt.config import RetentionSection
from takt.doctor import run_checks
from takt.upkeep import SAMPLE_FILE, run_retention


def store_backup(
    destination: Annotated[Path, typer.Argument(help="the backup file to write (or a folder: a dated file in it)")],
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
    pages_per_step: Annotated[int, typer.Option(help="SQLite pages copied per step (smaller: shorter pauses)")] = 256,
    pause_ms: Annotated[float, typer.Option(min=0, help="SQLite: sleep between steps (leaves the disk to the node)")] = 0,
) -> None:
    """Back the store up while the node runs and records (SQLite online backup; pg_dump for PostgreSQL)."""
    url = store_url(config, data_dir, database_url, must_exist=True)
    try:
        report = backup(url, destination, pages_per_step=pages_per_step, pause_s=pause_ms / 1000)
    except BackupError as exc:
        raise fail(f"backup failed: {exc}") from None
    typer.echo(f"ok: backup {report.destination} ({report.bytes / 1e6:.1f} MB, journal up to seq {report.last_seq}) "
               f"in {report.seconds:.2f} s")
    store = open_store(url)
    try:
        folders = archive_folders(store)
    finally:
        store.close()
    for folder in folders:
        typer.echo(f"note: archived journal events are in {folder}, not in the backup file: back that folder up too")


def store_restore(
    source: Annotated[Path, typer.Argument(help="a backup made by `takt store backup`")],
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
) -> None:
    """Restore a backup into a stopped node's store and verify it (refused while a node records into it)."""
    url = store_url(config, data_dir, database_url, must_exist=False)
    try:
        report = restore(source, url)
    except BackupError as exc:
        raise fail(f"restore refused: {exc}") from None
    kept = f"; the store it replaced is kept as {report.replaced}" if report.replaced else ""
    typer.echo(f"ok: restored {source} (journal up to seq {report.last_seq}); verified: replaying "
               f"{report.events} events gives the restored state{kept}")


def store_compact(
    older_than_days: Annotated[float | None, typer.Option(
        help="archive delivered journal events recorded more than this long ago (default: the site file's "
             "retention.journal_age_days; without either the journal is kept whole)")] = None,
    archive_dir: Annotated[Path | None, typer.Option(
        help="where the archive files go (default: retention.archive_dir, else archive/ in the data folder; "
             "required for PostgreSQL without --config)")] = None,
    batch: Annotated[int | None, typer.Option(min=1, max=100_000, help="events per archive file and transaction "
                                                                    "(default: retention.batch_size)")] = None,
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
) -> None:
    """Run the retention the site file's `retention:` asks (as the node's timer does): archive acknowledged journal
    events older than its age, fold old process values into per-minute summaries and drop old summaries."""
    url = store_url(config, data_dir, database_url, must_exist=True)
    settings = RetentionSection()
    folder: Path | None = data_dir
    samples_folder: Path | None = None
    if config is not None:
        site = load_site(config, resolve_secrets=False)
        settings, folder = site.retention, site.node.data_dir
        samples_folder = site.historian.folder  # the historian's own volume, if it has one
    elif url.startswith("sqlite"):
        folder = sqlite_file(url).parent
    if older_than_days is not None and older_than_days < 0:
        raise fail("--older-than-days must be 0 or more", 2)
    update: dict[str, object] = {}
    if older_than_days is not None:
        update["journal_age_days"] = older_than_days
    if batch is not None:
        update["batch_size"] = batch
    if archive_dir is not None:
        update["archive_dir"] = archive_dir
    settings = settings.model_copy(update=update)
    if folder is None and settings.journal_age_days is not None and settings.archive_dir is None:
        raise fail("--archive-dir is required for a PostgreSQL store", 2)
    samples_folder = samples_folder or folder  # the node's process values, beside its store unless elsewhere
    samples = samples_folder / SAMPLE_FILE if samples_folder is not None else None
    folder = folder or Path(".")
    store = open_store(url)
    try:
        run = run_retention(store, settings, folder, sample_file=samples)
    finally:
        store.close()
    archives = settings.archive_folder(folder)
    if settings.journal_age_days is None:
        typer.echo("ok: journal kept whole (no --older-than-days and no retention.journal_age_days)")
    elif not run.journal_archived:
        typer.echo("ok: nothing to archive (events not yet acknowledged by the ERP, or younger, stay)")
    else:
        typer.echo(f"ok: archived {run.journal_archived} events up to seq {run.journal_up_to_seq} in "
                   f"{run.journal_files} files in {archives}; keep that folder with the store: takt store verify "
                   f"replays it")
    if run.samples_folded or run.minutes_dropped:
        typer.echo(f"ok: {run.samples_folded} process values older than {settings.samples_raw_age_days:g} days "
                   f"folded into per-minute summaries; {run.minutes_dropped} summaries older than "
                   f"{settings.samples_aggregate_age_days:g} days dropped")


DEFAULT_CONFIG = Path("/etc/takt/site.yaml")


def doctor(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="the site configuration (default: $TAKT_CONFIG, else /etc/takt/site.yaml)")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="override node.data_dir")] = None,
    min_free_mb: Annotated[int, typer.Option(help="less free space than this in the data dir is a problem")] = 500,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each network check")] = 3.0,
) -> None:
    """Check the node's set-up and say what is wrong and how to fix it; exit 1 when anything is."""
    path = config or Path(os.environ.get("TAKT_CONFIG") or DEFAULT_CONFIG)
    checks = run_checks(path, data_dir=data_dir, min_free_bytes=min_free_mb * 1_000_000, timeout_s=timeout)
    problems = 0
    for check in checks:
        mark = "ok     " if check.ok else "PROBLEM"
        typer.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok:
            problems += 1
            if check.fix:
                typer.echo(f"        fix: {check.fix}")
    if problems:
        typer.echo(f"{problems} problem{'s' if problems != 1 else ''} found", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {len(checks)} checks passed")


service_app = typer.Typer(no_args_is_help=True, help="Run the node as a systemd service.")


@service_app.command("install")
def service_install(
    unit_dir: Annotated[Path, typer.Option(help="where the unit files go")] = Path("/etc/systemd/system"),
    user: Annotated[str, typer.Option(help="the dedicated system user the node runs as")] = "takt",
    data_dir: Annotated[Path, typer.Option(help="the node's data (its store): the only folder it writes")] = Path(
        "/var/lib/takt"),
    config_dir: Annotated[Path, typer.Option(help="the site file (site.yaml) and secret files")] = Path("/etc/takt"),
    takt: Annotated[Path | None, typer.Option(help="the takt executable (default: the one running now)")] = None,
) -> None:
    """Write the systemd units for the node (`takt run`) and the headless sync (`takt sync run`); print them."""
    settings = UnitSettings(user=user, data_dir=data_dir, config_dir=config_dir,
                            executable=takt or takt_executable())
    try:
        written = write_units(settings, unit_dir)
    except OSError as exc:
        raise fail(f"cannot write the units into {unit_dir}: {exc}") from None
    for path, content in written:
        typer.echo(f"# --- {path}")
        typer.echo(content)
    typer.echo(settings.next_steps(unit_dir))


@service_app.command("status")
def service_status() -> None:
    """Whether the node's and the sync's units are active (asks systemctl when systemd runs)."""
    lines, ok = unit_status()
    for line in lines:
        typer.echo(line)
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer, store_app: typer.Typer) -> None:
    """Add the operations commands to the ``takt`` command."""
    store_app.command("backup")(store_backup)
    store_app.command("restore")(store_restore)
    store_app.command("compact")(store_compact)
    app.command("doctor")(doctor)
    app.add_typer(service_app, name="service")
