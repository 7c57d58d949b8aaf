"""`takt b2mml ...`: check ISA-95 B2MML documents, import a production schedule into a node's store, export the
journal as production performance."""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from edge.service import Service, StoreUnavailable
from edge.store import Store
from takt.cli.support import ConfigOption, DataDirOption, UrlOption, load_site, open_store, store_url
from takt.cli.support import console as _console
from takt.cli.support import fail as _fail

if TYPE_CHECKING:
    from erp_sync.b2mml import Schemas

# erp_sync.b2mml (the MESA schemas' validator, xmlschema) is imported by the commands that use it: the takt command
# starts without it.

b2mml_app = typer.Typer(no_args_is_help=True, help="ISA-95 B2MML: check documents, import production schedules, "
                                                    "export production performance.")

SchemasOption = Annotated[Path | None, typer.Option(
    "--schemas", help="folder holding the MESA schemas (V0401/, V0600/, V0700/); "
                      "default: $TAKT_B2MML_SCHEMAS or the installed ones, see takt reference status")]

def _schemas(folder: Path | None) -> Schemas:
    from erp_sync.b2mml import SchemasMissing, schemas

    try:
        return schemas(str(folder) if folder is not None else None)
    except SchemasMissing as err:
        raise _fail(str(err), 2) from None


def _open_store(config: Path | None, data_dir: Path | None, database_url: str | None) -> object:
    return open_store(store_url(config, data_dir, database_url, must_exist=True))


@b2mml_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="a B2MML document (V0401, V0600 or V0700, told by its namespace)")],
    schemas_dir: SchemasOption = None,
) -> None:
    """Say whether a B2MML document is valid: exit 0, or exit 1 with where and the schema's reason."""
    if not file.is_file():
        raise _fail(f"{file}: no such file", 2)
    checker = _schemas(schemas_dir)
    started = time.perf_counter()
    verdict, _ = checker.validate(file)
    seconds = time.perf_counter() - started
    if verdict.ok:
        typer.echo(f"ok: {file}: {verdict.describe()} ({seconds:.2f} s)")
        return
    raise _fail(f"INVALID: {file}: {verdict.describe()}")


@b2mml_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a production schedule or master data (B2MML V0600; V0401 too)")],
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
    schemas_dir: SchemasOption = None,
    actor: Annotated[str, typer.Option(help="the service account the work orders are released as")] = "erp-sync",
    dispatch: Annotated[bool, typer.Option(
        "--dispatch/--no-dispatch", help="also set each workstation's dispatch list to the schedule's order "
                                         "(replaces the list)")] = False,
) -> None:
    """Apply a production schedule to a node's store, whole or not at all: exit 0 with what was released, or exit 1
    with the reason (schema, mapping, or the request the node refuses and why). Importing it again records nothing.
    Run it while the node is stopped; a running node takes schedules from its B2MML inbox folder."""
    from erp_sync.b2mml import ScheduleRefused, import_document

    if not file.is_file():
        raise _fail(f"{file}: no such file", 2)
    checker = _schemas(schemas_dir)
    workstations: set[str] | None = None
    locations: dict[str, str] | None = None
    classes: dict[str, str] | None = None
    if config is not None:  # the site's workstations (a schedule naming another one is refused), its locations
        site = load_site(config, resolve_secrets=False)
        workstations = {w.workstation for w in site.site.workstations} or None
        locations = dict(site.b2mml.locations) if site.b2mml is not None else None
        classes = dict(site.b2mml.personnel_classes) if site.b2mml is not None else None
    store = _open_store(config, data_dir, database_url)
    assert isinstance(store, Store)
    logging.getLogger("takt").setLevel(logging.WARNING)
    try:
        service = Service(store, store.node_id()).start()
        try:
            report = import_document(service, file, schemas_=checker, actor=actor, dispatch=dispatch,
                                     workstations=workstations, locations=locations, personnel_classes=classes)
        finally:
            service.stop()
    except ScheduleRefused as refused:
        what = (refused.reason if len(refused.problems) == 1
                else f"{len(refused.problems)} problems:\n" + "\n".join(f"  - {p}" for p in refused.problems))
        raise _fail(f"REFUSED: {file}: {what}\nnothing was applied") from None
    except StoreUnavailable as err:
        raise _fail(f"not applied: the store is unavailable: {err}") from None
    finally:
        store.close()
    console = _console()
    console.print(f"ok: {file}: {report.summary()}", highlight=False)
    if report.released or report.already_imported or report.defined or report.changed or report.cancelled:
        table = Table(show_header=True)
        table.add_column("work order" if not report.defined else "record")
        table.add_column("outcome")
        for wo in report.released:
            table.add_row(wo, "released")
        for wo in report.changed:
            table.add_row(wo, "changed")
        for wo in report.cancelled:
            table.add_row(wo, "cancelled")
        for record in report.defined:
            table.add_row(record, "defined")
        for wo in report.already_imported:
            table.add_row(wo, "imported before: nothing recorded")
        console.print(table)


@b2mml_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="the file to write the production performance "
                                                                  "(the journal's edge events) to")] = None,
    after: Annotated[int, typer.Option(help="export journal events after this sequence number")] = 0,
    limit: Annotated[int, typer.Option(help="at most this many journal entries")] = 100_000,
    materials: Annotated[Path | None, typer.Option(
        "--materials", help="also write lot receipts, status changes and moves as MaterialInformation here")] = None,
    oee: Annotated[Path | None, typer.Option(
        "--oee", help="write the shift OEE per workstation (--from to --to) as ProductionPerformance here")] = None,
    start: Annotated[datetime | None, typer.Option(
        "--from", help="OEE period start, with its time zone (default: 24 h before --to)")] = None,
    end: Annotated[datetime | None, typer.Option(
        "--to", help="OEE period end, with its time zone (default: now)")] = None,
    specifications: Annotated[Path | None, typer.Option(
        "--specifications", help="write the inspection plans as a V0700 SyncTestSpecification here")] = None,
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
    schemas_dir: SchemasOption = None,
) -> None:
    """Write B2MML documents of the node, each validated against the schema before it is written: the edge-origin
    production events after --after as one V0600 SyncProductionPerformance (--out), lot events as
    SyncMaterialInformation (--materials), the shift OEE as SyncProductionPerformance (--oee) and the inspection
    plans as a V0700 SyncTestSpecification (--specifications)."""
    from zoneinfo import ZoneInfo

    from erp_sync.b2mml import RenderedDocument, render_material_information, render_production_performance
    from erp_sync.b2mml.exports import render_shift_oee, render_test_specifications
    from erp_sync.b2mml_filedrop import write_atomically
    from takt.downtime import node_oee
    from takt.shift_close import shift_calendar, workstations

    if out is None and materials is None and oee is None and specifications is None:
        raise _fail("name what to export: --out, --materials, --oee or --specifications", 2)
    for name, value in (("--from", start), ("--to", end)):
        if value is not None and value.tzinfo is None:
            raise _fail(f"{name} needs a time zone (e.g. 2026-11-25T06:00:00+00:00)", 2)
    now = datetime.now(UTC)
    end = (end or now).astimezone(UTC)
    start = (start or end - timedelta(days=1)).astimezone(UTC)
    if oee is not None and start >= end:
        raise _fail("--from must be before --to", 2)
    checker = _schemas(schemas_dir)
    site = load_site(config, resolve_secrets=False) if config is not None else None
    store = _open_store(config, data_dir, database_url)
    assert isinstance(store, Store)
    try:
        node_id = store.node_id()
        entries = list(store.journal(after=after, limit=limit)) if out is not None or materials is not None else []
        state = store.load_state()
        zone_name, shifts = shift_calendar(site)
        report = None
        if oee is not None:
            with store.engine.connect() as conn:
                report = node_oee(conn, site, workstations(conn, site), shifts, ZoneInfo(zone_name), start, end)
    finally:
        store.close()
    wanted: list[tuple[str, Path, RenderedDocument | None, str]] = []
    if out is not None:
        wanted.append(("production performance", out,
                       render_production_performance(entries, node_id=node_id, state=state, created=now),
                       f"after journal sequence {after}"))
    if materials is not None:
        wanted.append(("material information", materials,
                       render_material_information(entries, node_id=node_id, state=state, created=now),
                       f"after journal sequence {after}"))
    if oee is not None and report is not None:
        wanted.append(("shift OEE", oee, render_shift_oee(report, node_id=node_id, start=start, end=end,
                                                          timezone=zone_name, created=now),
                       f"from {start.isoformat()} to {end.isoformat()}"))
    if specifications is not None:
        wanted.append(("test specifications", specifications,
                       render_test_specifications(state, node_id=node_id, created=now), "(no inspection plan)"))
    for what, path, doc, when in wanted:
        if doc is None:
            typer.echo(f"no {what} {when}: {path} not written", err=True)
            continue
        verdict, _ = checker.validate(doc.xml)
        if not verdict.ok:
            raise _fail(f"the rendered {what} is not valid ({verdict.describe()}); nothing written")
        write_atomically(path, doc.xml)
        version = "V0700" if doc.kind == "TestSpecification" else "V0600"
        span = f", journal {doc.first_seq}-{doc.last_seq}" if doc.last_seq else ""
        typer.echo(f"ok: {path}: {doc.kind} {doc.document_id}, {doc.events} "
                   f"{'events' if span else 'records'}{span}, valid B2MML {version}")
