"""``takt reference status|fetch``: the pinned reference data written by others (GS1 syntax dictionary, MESA B2MML
schemas, OPC UA nodesets): where each set is used from, and installing it from upstream or a plant's mirror.

The places looked in, in order (edge.reference): the site file's ``reference:`` folder, the node's data directory
(``<data_dir>/reference``), the user's data directory (``$XDG_DATA_HOME/takt/reference``) and, for tests and CI only,
``$TAKT_SHARED_DATA``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge import reference
from takt.cli.support import fail, load_site

reference_app = typer.Typer(no_args_is_help=True, help="Reference data written by others (GS1 dictionary, B2MML "
                                                      "schemas, OPC UA nodesets): status and fetch.")

SiteOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="the site file: look in (and fetch into) its reference folder and its node's data dir")]
NodeDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", help="the node's data directory (its reference data is in DIR/reference)")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", help="only this set (repeatable): gs1-syntax-dictionary, b2mml-schemas, opcua-nodesets")]


def _site_places(config: Path | None, data_dir: Path | None) -> tuple[Path | None, Path | None]:
    """The site's ``reference:`` folder and the node's data directory named by the options."""
    site_folder: Path | None = None
    if config is not None:
        site = load_site(config, resolve_secrets=False)
        site_folder = site.reference
        data_dir = data_dir if data_dir is not None else site.node.data_dir
    return site_folder, data_dir


def _sets(names: list[str] | None) -> list[str]:
    known = reference.pinned()
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise fail(f"no reference set {', '.join(unknown)} (known: {', '.join(known)})", 2)
    return list(names) if names else list(known)


@reference_app.command("status")
def status(config: SiteOption = None, data_dir: NodeDirOption = None, sets: SetOption = None,
           quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only what is not ok")] = False) -> None:
    """Each pinned set: present or missing, where, its version, whether its files match the pinned sha256, and what
    it is used for. Exits 1 when any set is missing, incomplete or altered."""
    site_folder, node_dir = _site_places(config, data_dir)
    where = reference.places(site_folder=site_folder, data_dir=node_dir)
    found = reference.statuses(where, _sets(sets))
    for entry in found:
        if quiet and entry.ok:
            continue
        mark = "ok     " if entry.ok else entry.state.upper().ljust(7)
        typer.echo(f"{mark} {entry.set.name} {entry.set.version}")
        if entry.place is not None:
            typer.echo(f"        where: {entry.place.folder} ({entry.place.name})")
        if entry.altered:
            typer.echo(f"        sha256 differs: {', '.join(entry.altered)}")
        if entry.missing:
            typer.echo(f"        missing: {len(entry.missing)} of {len(entry.set.files)} files, e.g. {entry.missing[0]}")
        for skipped in entry.passed_over if entry.ok else ():
            typer.echo(f"        passed over: {skipped}")
        if entry.state == "missing":
            typer.echo("        not installed in any place looked in")
        if not quiet:
            if entry.ok:
                typer.echo(f"        sha256: all {len(entry.set.files)} files as pinned")
            typer.echo(f"        used for: {entry.set.used_for}")
            typer.echo(f"        licence: {entry.set.licence}")
    if not quiet:
        typer.echo("looked in, in order: " + "; ".join(f"{p.name} {p.folder}" for p in where))
    problems = [entry for entry in found if not entry.ok]
    if problems:
        typer.echo(f"{len(problems)} set{'s' if len(problems) != 1 else ''} not usable: "
                   f"{', '.join(p.set.name for p in problems)}; install with `takt reference fetch` "
                   f"(--mirror URL where there is no internet)", err=True)
        raise typer.Exit(1)


@reference_app.command("fetch")
def fetch(
    mirror: Annotated[str | None, typer.Option(
        help="download from this mirror (http(s)://, file:// or a folder with the same layout) instead of upstream")
    ] = None,
    target: Annotated[Path | None, typer.Option(
        "--dir", help="install into this folder (default: the site's reference folder, else the node's data dir "
                      "with --config/--data-dir, else $XDG_DATA_HOME/takt/reference)")] = None,
    config: SiteOption = None, data_dir: NodeDirOption = None, sets: SetOption = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds to wait for each download")] = 60.0,
) -> None:
    """Download the pinned files, check each against its pinned sha256 (a file that differs is refused and not
    installed) and install them. Files already installed as pinned are kept. Exits 1 when any file is missing after."""
    from edge.reference.fetch import FileResult
    from edge.reference.fetch import fetch as fetch_files

    site_folder, node_dir = _site_places(config, data_dir)
    folder = target or site_folder or (reference.data_dir_folder(node_dir) if node_dir is not None
                                       else reference.user_dir())
    source = mirror or "upstream"
    typer.echo(f"fetching reference data from {source} into {folder}")

    def shown(result: FileResult) -> None:
        if result.outcome in ("refused", "failed"):
            typer.echo(f"{result.outcome.upper()} {result.file.path}: {result.reason} ({result.source})")

    try:
        report = fetch_files(folder, mirror=mirror, sets=_sets(sets), timeout_s=timeout, on_file=shown)
    except OSError as exc:
        raise fail(f"cannot install into {folder}: {exc}") from None
    typer.echo(f"{report.count('installed')} installed, {report.count('kept')} already there, "
               f"{report.count('refused')} refused (sha256 differs from the pin), "
               f"{report.count('failed')} not downloaded")
    if not report.ok:
        raise fail(f"reference data incomplete in {folder}: {len(report.problems())} files missing; "
                   f"try again, or use --mirror URL (a copy with the same layout)")
    typer.echo(f"ok: reference data in {folder}")
