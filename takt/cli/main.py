"""The ``takt`` command: run the demo or a real site, check a configuration, verify the store, read the journal."""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.panel import Panel
from rich.table import Table

from connectors.config import ConnectivitySection
from edge.logs import setup_logging
from edge.store import trace as tracing
from edge.store.migrate import current_revision
from edge.store.verify import verify
from simulators.cli import sim_app
from takt.cli.audit import audit_app
from takt.cli.b2mml import b2mml_app
from takt.cli.certs import certs
from takt.cli.fleet import fleet_app
from takt.cli.logix import logix_app
from takt.cli.opcua import opcua_app
from takt.cli.ops import register as register_operations
from takt.cli.reference import reference_app
from takt.cli.scan import scan_app
from takt.cli.support import ConfigOption, DataDirOption, UrlOption, chain_result, checkpoint_key
from takt.cli.support import console as _console
from takt.cli.support import fail as _fail
from takt.cli.support import load_site as _load
from takt.cli.support import open_store as _open
from takt.cli.support import store_url as _store_url
from takt.cli.sync import sync_app
from takt.cli.users import users_app
from takt.config import ConfigError, cleartext_secrets, demo_config_path
from takt.demo_erp import start_demo_erp

if TYPE_CHECKING:
    from simulators.erp.runner import RunningErpSim
    from simulators.plant import DemoPlant
    from takt.runtime import Node

# Imported by the commands that use them, so that every other command starts without them: the running node
# (takt.runtime: its scanning, connectors and writer) and the simulated plant (asyncua, pymodbus).

app = typer.Typer(
    name="takt", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    help="Takt: shop-floor MES + WMS edge node. Start with `takt demo`.",
)
config_app = typer.Typer(no_args_is_help=True, help="Check site configuration files.")
store_app = typer.Typer(no_args_is_help=True, help="The node's local store: schema, replay check, backup and restore.")
journal_app = typer.Typer(no_args_is_help=True, help="Read the journal (every event the node recorded).")
app.add_typer(config_app, name="config")
app.add_typer(store_app, name="store")
app.add_typer(journal_app, name="journal")
app.add_typer(sim_app, name="sim")
app.add_typer(opcua_app, name="opcua")
app.add_typer(logix_app, name="logix")
app.add_typer(scan_app, name="scan")
app.add_typer(b2mml_app, name="b2mml")
app.add_typer(sync_app, name="sync")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(fleet_app, name="fleet")
app.command("certs")(certs)
app.add_typer(reference_app, name="reference")
register_operations(app, store_app)  # store backup/restore, doctor, service

LOG_LEVELS = ("debug", "info", "warning", "error")


def _logging(level: str) -> None:
    if level.lower() not in LOG_LEVELS:
        raise _fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}", 2)
    setup_logging(level)
    if level.lower() != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)


# --- serving ---------------------------------------------------------------------------------------


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0 for the whole network)")] = "127.0.0.1",
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="keep the node's data here (kept across restarts); default: a fresh temporary folder")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="site configuration; default: the demo site (config/demo.yaml)")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "warning",
    erp: Annotated[bool, typer.Option(
        "--erp/--no-erp", help="run the central ERP simulator beside the node and sync with it")] = True,
    plant: Annotated[bool, typer.Option(
        help="run the demo line's simulated machines (OPC UA, Modbus) and connect the node to them")] = True,
) -> None:
    """Run a demo node: a pump assembly line with items, bins, lots, work orders and users, on embedded SQLite,
    its machines simulated over OPC UA and Modbus, syncing with a simulated central ERP."""
    _logging(log_level)
    config_file = config or demo_config_path()
    cfg = _load(config_file)
    temporary = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="takt-demo-")) if data_dir is None else data_dir
    from takt.runtime import Node, serve

    simulated: DemoPlant | None = None
    central: RunningErpSim | None = None

    def banner(started: Node) -> None:
        _demo_banner(started, host, port, folder, temporary, config_file)
        if central is not None:
            _console().print(f"Central ERP simulator {central.url} (the node syncs with it; planner token "
                             f"{central.admin_token}; see {central.url}/docs)", soft_wrap=True, highlight=False)

    try:
        if plant and config is None:  # the demo site's machines, simulated in this process on free ports
            from simulators.plant import DemoPlant

            simulated = DemoPlant().start()
            cfg = cfg.model_copy(update={"connectivity": ConnectivitySection.model_validate(simulated.connectivity())})
        if erp and cfg.sync is None:  # the central systems, simulated beside the node
            folder.mkdir(parents=True, exist_ok=True)
            central, cfg = start_demo_erp(cfg, folder.resolve() / "central-erp.sqlite")
        node = Node(cfg, data_dir=folder, config_file=config_file)  # SQLite in the folder unless the file names a URL
        serve(node, host=host, port=port, on_started=banner)
    except ConfigError as err:
        raise _fail(str(err)) from None
    finally:
        if central is not None:
            central.stop()
        if simulated is not None:
            simulated.stop()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


def _url(host: str, port: int, tls: bool = False) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def _demo_banner(node: Node, host: str, port: int, folder: Path, temporary: bool, config_file: Path) -> None:
    cfg = node.config
    url = _url(host, port)
    console = _console()
    where = f"{cfg.site.enterprise} / {cfg.site.site} / {cfg.site.area} / {cfg.site.line}"
    keep = " (temporary: deleted on exit; use --data-dir DIR to keep it)" if temporary else ""
    report = node.seed_report.summary() if node.seed_report else "not seeded"
    machines = ", ".join(f"{m.equipment} ({m.device})" for m in cfg.connectivity.machines) or "none connected"
    console.print(Panel.fit(
        f"[bold]Takt demo node[/] {node.node_id} — {where}\n"
        f"{'Embedded SQLite' if node.store.dialect == 'sqlite' else 'PostgreSQL'} store. DEMO ONLY: the tokens below are public.\n\n"
        f"API        {url}/api/v1\n"
        f"API docs   {url}/docs\n"
        f"Health     {url}/health\n"
        f"Data       {folder}{keep}\n"
        f"Config     {config_file}\n"
        f"Seeded     {report}\n"
        f"Machines   {machines}: live state on /health and /metrics; start an operation to book their counts",
        title="takt demo", border_style="cyan"))
    table = Table(title="Demo users (API: Authorization: Bearer <token>; pages: scan or type the badge, then the PIN)")
    table.add_column("user")
    table.add_column("name")
    table.add_column("roles")
    table.add_column("token", no_wrap=True)
    table.add_column("badge", no_wrap=True)
    table.add_column("PIN")
    prefix = "BADGE:" if cfg.scanning.label_patterns.get("badge", "").startswith("BADGE:") else ""  # the label
    for u in cfg.users:
        table.add_row(u.user, u.name, ", ".join(u.roles), u.token or "", f"{prefix}{u.badge}" if u.badge else "",
                      u.pin or "")
    console.print(table)
    if not any(lot.lot == "L123" for lot in cfg.master_data.opening_stock):
        console.print("Press Ctrl+C to stop.")
        return
    console.print("Try it: issue the expired lot L123 to work order WO-1001 (refused: FEFO pick is L118):")
    console.print(
        f"  curl -s -X POST {url}/api/v1/work-orders/WO-1001/issues \\\n"
        f"    -H 'Authorization: Bearer demo-operator-token-000000' -H 'Idempotency-Key: try-1' \\\n"
        f"    -H 'Content-Type: application/json' -d '{{\"lot\": \"L123\", \"bin\": \"LS-20\", \"quantity\": 1}}'",
        soft_wrap=True, highlight=False)
    console.print("Press Ctrl+C to stop.")


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="the site configuration file")],
    host: Annotated[str | None, typer.Option(help="override api.host")] = None,
    port: Annotated[int | None, typer.Option(help="override api.port")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="override node.data_dir")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the node of a real site from its configuration file."""
    _logging(log_level)
    cfg = _load(config)
    clear = cleartext_secrets(_load(config, resolve_secrets=False))
    if clear:  # only where they are, never the values
        logging.getLogger("takt.config").warning(
            "secrets written in clear in %s (use the *_env or *_file form): %s", config, ", ".join(clear),
            extra={"cleartext_secrets": clear})
    from takt.runtime import Node, serve

    node = Node(cfg, data_dir=data_dir, config_file=config)
    shown_host = host or cfg.api.host
    shown_port = cfg.api.port if port is None else port

    def banner(started: Node) -> None:
        url = _url(shown_host, shown_port, cfg.api.tls is not None)
        typer.echo(f"takt node {started.node_id} serving {url} (API docs {url}/docs); "
                   f"store {started.store.dialect}; seeded: "
                   f"{started.seed_report.summary() if started.seed_report else 'no'}")

    try:
        serve(node, host=host, port=port, on_started=banner)
    except ConfigError as err:
        raise _fail(str(err)) from None


# --- configuration ---------------------------------------------------------------------------------


@config_app.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="the site configuration file")],
    secrets: Annotated[bool, typer.Option(
        "--secrets/--no-secrets", help="also read tokens from their environment variables and files")] = True,
) -> None:
    """Validate a configuration file: exit 0 and a summary, or exit 1 naming the file, the path inside it and why."""
    cfg = _load(file, resolve_secrets=secrets)
    md = cfg.master_data
    s = cfg.site
    database = "PostgreSQL" if (cfg.node.database_url or "").startswith("postgresql") else "SQLite"
    typer.echo(f"ok: {file}")
    typer.echo(f"  node {cfg.node.id} at {s.enterprise}/{s.site}/{s.area}/{s.line}, {database} store, "
               f"API {cfg.api.host}:{cfg.api.port}")
    typer.echo(f"  {len(s.workstations)} workstations, {len(cfg.users)} users, {len(md.items)} items, "
               f"{len(md.bins)} bins, {len(md.equipment)} machines, {len(md.work_orders)} work orders, "
               f"{len(md.dispatch_lists)} dispatch lists, {len(md.inspection_plans)} inspection plans, "
               f"{len(md.opening_stock)} opening lots")
    clear = cleartext_secrets(_load(file, resolve_secrets=False))
    if clear:
        typer.echo(f"warning: secrets written in clear in the file (use the *_env or *_file form): {', '.join(clear)}")


# --- the store -------------------------------------------------------------------------------------

@store_app.command("verify")
def store_verify(config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
                 chain_only: Annotated[bool, typer.Option(
                     "--chain-only", help="check the hash chain and its checkpoints only (fast), not the replay")] = False,
                 secret_file: Annotated[Path | None, typer.Option(
                     "--checkpoint-secret-file", help="check the checkpoints' signatures with the secret in this file "
                     "(default: the site file's journal: section, or the data folder's key)")] = None,
                 ) -> None:
    """Check the journal's hash chain and signed checkpoints (naming the first event whose content, order or
    deletion breaks it), then replay the journal into an empty store and compare with the live tables; exit 1 on
    any break or difference."""
    store = _open(_store_url(config, data_dir, database_url, must_exist=True))
    try:
        key = checkpoint_key(config, data_dir, secret_file)
        started = time.perf_counter()
        report = verify(store, key, replay=not chain_only)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    chain = report.chain
    assert chain is not None
    problems, lines = chain_result(chain, key)
    for line in lines:
        typer.echo(line, err=bool(problems))
    if chain_only:
        if problems:
            raise typer.Exit(1)
        typer.echo(f"checked in {seconds:.2f} s")
        return
    if not report.differences and not problems:
        typer.echo(f"ok: replayed {report.events} events in {seconds:.2f} s; every projection matches the journal")
        return
    if report.differences:
        typer.echo(f"DIFFERENT: replaying {report.events} events does not give the live state "
                   f"({len(report.differences)} differences shown):", err=True)
        for line in report.differences:
            typer.echo(f"  {line}", err=True)
    raise typer.Exit(1)


@store_app.command("migrate")
def store_migrate(config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None) -> None:
    """Bring the store's schema to this version of Takt (creates a new store if there is none)."""
    url = _store_url(config, data_dir, database_url, must_exist=False)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    store = _open(url)
    before: str | None = None
    try:
        logging.getLogger("alembic").setLevel(logging.WARNING)
        before = current_revision(store.engine)

        def step(revision: str, description: str) -> None:
            typer.echo(f"  applied {revision}: {description.splitlines()[0] if description else ''}")

        store.migrate(on_step=step)
        revision = current_revision(store.engine)
    except Exception as exc:
        raise _fail(f"migration failed, the store is as it was (at revision {before}): {exc}") from None
    finally:
        store.close()
    if revision == before:
        typer.echo(f"ok: schema at revision {revision} (nothing to do)")
    else:
        typer.echo(f"ok: schema at revision {revision} (from {before or 'an empty store'}; all steps committed "
                   f"together)")


# --- the journal -----------------------------------------------------------------------------------


def _journal_table(header: bool) -> Table:
    table = Table(show_header=header, pad_edge=False, box=box.HEAVY_HEAD if header else None)
    table.add_column("seq", justify="right", min_width=6)
    table.add_column("recorded_at", min_width=26, no_wrap=True)
    table.add_column("type", min_width=22, no_wrap=True)
    table.add_column("subject", min_width=16, no_wrap=True)
    table.add_column("actor", min_width=10, no_wrap=True)
    table.add_column("recorded_by", no_wrap=True)
    table.add_column("on_behalf_of", no_wrap=True)
    table.add_column("device", no_wrap=True)
    table.add_column("origin", min_width=6)
    return table


def _journal_row(entry: Any) -> tuple[str, ...]:
    """One journal event as `takt journal tail` prints it: who sent it, for whom, from which device."""
    return (str(entry.seq), entry.recorded_at.isoformat(sep=" ", timespec="milliseconds"), entry.type, entry.subject,
            entry.actor, entry.recorded_by or "", entry.on_behalf_of or "", entry.source_device or "", entry.origin)


@journal_app.command("tail")
def journal_tail(
    n: Annotated[int, typer.Option("-n", "--lines", help="how many of the newest events")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new events (Ctrl+C stops)")] = False,
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
) -> None:
    """The newest journal events: seq, recorded_at, type, subject, actor, who sent it (recorded_by), on whose behalf
    (on_behalf_of), the device, origin."""
    store = _open(_store_url(config, data_dir, database_url, must_exist=True))
    console = _console()
    try:
        last = store.last_seq()
        after = max(0, last - max(n, 0))
        table = _journal_table(True)
        for entry in store.journal(after=after):
            table.add_row(*_journal_row(entry))
            after = entry.seq
        console.print(table)
        while follow:
            time.sleep(0.5)
            batch = _journal_table(False)
            for entry in store.journal(after=after):
                batch.add_row(*_journal_row(entry))
                after = entry.seq
            if batch.row_count:
                console.print(batch)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


@app.command("trace")
def trace_lot(
    lot: Annotated[str, typer.Argument(help="the lot to trace (with --pallet: a pallet's SSCC)")],
    backward: Annotated[bool, typer.Option("--backward", help="what went into the lot, down to the supplier lots")] = False,
    recall: Annotated[bool, typer.Option("--recall", help="a recall report: where every affected lot is now")] = False,
    pallet: Annotated[bool, typer.Option("--pallet", help="backward from a pallet (GS1 SSCC): its lots, down to the "
                                                          "supplier lots")] = False,
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
) -> None:
    """Trace a lot forward (the orders it went into, the lots they made, the pallets and customer orders) or
    backward; or a pallet (SSCC) backward."""
    store = _open(_store_url(config, data_dir, database_url, must_exist=True))
    try:
        with store.engine.connect() as conn:
            if pallet:
                found = tracing.trace_pallet(conn, lot)
            elif recall:
                found = tracing.recall(conn, lot)
            else:
                found = tracing.trace(conn, lot, "backward" if backward else "forward")
    except (tracing.UnknownLot, tracing.UnknownPallet) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    console = _console()
    if pallet:
        where = (f"shipped to {found['customer']} on sales order {found['sales_order']}" if found["status"] == "shipped"
                 else f"open in bin {found['bin']}")
        console.print(f"[bold]pallet {lot}[/] ({where})", highlight=False)
        for line in found["content"]:
            console.print(f"  holds lot {line['lot']} ({line['item']}): {line['quantity']}", highlight=False)
        for x in found["lots"]:
            console.print(f"{'  ' * x['depth']}<- lot {x['lot']} ({x.get('item')}"
                          f"{', supplier lot ' + x['supplier_lot'] if x.get('supplier_lot') else ''})", highlight=False)
        console.print(f"supplier lots: {', '.join(found['supplier_lots']) or 'none'}", highlight=False)
        return
    arrow = "<-" if backward else "->"
    console.print(f"[bold]{'recall of' if recall else 'trace of'} lot {lot}[/] ({found['direction']})")
    for x in found["lots"][1:]:
        console.print(f"{'  ' * x['depth']}{arrow} {x['via']} {arrow} lot {x['lot']} ({x.get('item')} rev "
                      f"{x.get('item_revision')}, {x['quantity']})", highlight=False)
    for o in found["work_orders"]:
        inputs = ", ".join(f"{k} {v}" for k, v in o["inputs"].items())
        outputs = ", ".join(f"{k} {v}" for k, v in o["outputs"].items()) or "none yet"
        console.print(f"work order {o['work_order']} ({o.get('item')}, {o.get('status')}"
                      f"{', customer order ' + o['customer_order'] if o.get('customer_order') else ''}): "
                      f"in {inputs or '-'}; out {outputs}", highlight=False)
    for p in found.get("pallets", []):
        lots = ", ".join(f"{x['lot']} {x['quantity']}" for x in p["lots"])
        where = (f"shipped to {p['customer']} on sales order {p['sales_order']}" if p["status"] == "shipped"
                 else f"open in bin {p['bin']}")
        console.print(f"pallet {p['sscc']} ({where}): {lots}", highlight=False)
    console.print(f"customer orders: {', '.join(found['customer_orders']) or 'none'}", highlight=False)
    if recall:
        origin = found["origin"] or {}
        console.print(f"came from: {', '.join(f'{k} {v}' for k, v in origin.items() if v) or 'opening stock'}",
                      highlight=False)
        for row in found["in_stock"]:
            console.print(f"in stock: lot {row['lot']} in bin {row['bin']}: {row['quantity']}", highlight=False)


def main() -> None:
    app(prog_name="takt")


if __name__ == "__main__":
    main()
