"""``takt sim ...``: start a protocol-true simulator in the foreground until Ctrl+C."""
from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

sim_app = typer.Typer(no_args_is_help=True, help="Run simulated devices (machines, PLCs) that speak the real protocol.")

CycleOption = Annotated[float, typer.Option("--cycle-time", help="Seconds per part while running.")]
ScrapOption = Annotated[float, typer.Option("--scrap-rate", help="Share of parts that are scrap (0..1).")]
AlarmOption = Annotated[float, typer.Option("--alarm-rate", help="Chance per cycle of a random alarm (0..1).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (runs with the same seed are identical).")]


def _run(coro: object) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        pass


@sim_app.command("opcua")
def sim_opcua(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 4840,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    name: Annotated[str, typer.Option(help="Machine name (the object under Objects, the node id prefix).")] = "M-ASSY",
    cycle_time: CycleOption = 2.0, scrap_rate: ScrapOption = 0.03, alarm_rate: AlarmOption = 0.01,
    seed: SeedOption = 1,
    security: Annotated[list[str] | None, typer.Option(
        help="Endpoint to offer (repeatable): None, Basic256Sha256_Sign, Basic256Sha256_SignAndEncrypt.")] = None,
    trust: Annotated[list[str] | None, typer.Option(help="A client certificate to trust (repeatable).")] = None,
    user: Annotated[list[str] | None, typer.Option(
        help="NAME:PASSWORD of a user allowed in (repeatable); any --user turns anonymous access off.")] = None,
    certificate_folder: Annotated[str | None, typer.Option(
        help="Where the server writes its own certificate (secure endpoints).")] = None,
    nodeset: Annotated[list[str] | None, typer.Option(
        help="A NodeSet2 XML file to import (repeatable, in dependency order); with PackML the machine is also "
             "a PackML object.")] = None,
) -> None:
    """An OPC UA machine (asyncua server): PackML state, good/scrap counters, alarm code, temperature, pressure."""
    from pathlib import Path

    from simulators.machine import Machine
    from simulators.opcua_machine import OpcUaMachine, serve

    users: dict[str, str] | None = None
    for spec in user or []:
        login, sep, password = spec.partition(":")
        if not sep or not login:
            typer.echo(f"--user {spec!r}: expected NAME:PASSWORD", err=True)
            raise typer.Exit(2)
        users = {**(users or {}), login: password}
    try:
        sim = OpcUaMachine(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed),
                           name=name, host=host, port=port, security=tuple(security or ("None",)),
                           trusted_certificates=[Path(p) for p in trust or []], users=users,
                           certificate_folder=Path(certificate_folder) if certificate_folder else None,
                           nodesets=[Path(p) for p in nodeset or []])
    except (ValueError, OSError) as exc:
        typer.echo(f"--security/--trust/--nodeset: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"OPC UA machine {name} at {sim.url} (node ids ns=2;s={name}.State, .GoodCount, ...); Ctrl+C stops")
    _run(serve(sim))


@sim_app.command("modbus")
def sim_modbus(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 5020,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    unit: Annotated[list[int] | None, typer.Option(
        help="Modbus unit (device) id; repeat it with --serial for several PLCs on one line.")] = None,
    cycle_time: CycleOption = 2.0, scrap_rate: ScrapOption = 0.03, alarm_rate: AlarmOption = 0.01,
    seed: SeedOption = 1,
    serial: Annotated[str | None, typer.Option(
        help="Serve Modbus RTU on this serial port instead of TCP (e.g. one end of a socat pty pair).")] = None,
    baudrate: Annotated[int, typer.Option(help="RTU: the line's baud rate.")] = 19200,
    parity: Annotated[str, typer.Option(help="RTU: N, E or O.")] = "N",
) -> None:
    """A Modbus TCP PLC (pymodbus server) with the same machine model; register map in simulators/modbus_plc.py."""
    from simulators.machine import Machine
    from simulators.modbus_plc import ModbusPlc, RtuBus, serve

    units = unit or [1]
    if serial is not None:
        if parity not in ("N", "E", "O"):
            typer.echo(f"--parity: {parity!r} is not N, E or O", err=True)
            raise typer.Exit(2)
        try:
            bus = RtuBus(serial, [ModbusPlc(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate,
                                                    alarm_rate=alarm_rate, seed=seed + i), unit=u)
                                  for i, u in enumerate(units)], baudrate=baudrate, parity=parity)
        except ValueError as exc:
            typer.echo(f"--unit: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"Modbus RTU PLCs (units {', '.join(map(str, units))}) on {serial} at {baudrate} baud; Ctrl+C stops")
        _run(_serve_bus(bus))
        return
    if len(units) > 1:
        typer.echo("--unit: several units share a serial line (--serial); over TCP give one", err=True)
        raise typer.Exit(2)
    unit_id = units[0]
    plc = ModbusPlc(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed),
                    host=host, port=port, unit=unit_id)
    typer.echo(f"Modbus PLC at {host}:{port} unit {unit_id} (HR 0 state, 2-3 good, 4-5 scrap, 6-7 temperature); "
               "Ctrl+C stops")
    _run(serve(plc))


@sim_app.command("s7")
def sim_s7(
    port: Annotated[int, typer.Option(help="TCP port to listen on (102 is the PLCs' own; it needs root).")] = 10102,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    name: Annotated[str, typer.Option(help="Machine name (DB1.DBB26, a STRING[16]).")] = "M-ASSY",
    cycle_time: CycleOption = 2.0, scrap_rate: ScrapOption = 0.03, alarm_rate: AlarmOption = 0.01,
    seed: SeedOption = 1,
) -> None:
    """A Siemens S7 PLC (python-snap7's server, PUT/GET) with the machine model in DB1; map in simulators/s7_plc.py."""
    from simulators.machine import Machine
    from simulators.s7_plc import S7Plc, serve

    plc = S7Plc(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed),
                name=name, host=host, port=port)
    typer.echo(f"S7 PLC at {host}:{port}, any rack/slot (DB1.DBW0 state, DBD4 good, DBD8 scrap, DBD12 "
               "temperature; DB2 optimised: refused); Ctrl+C stops")
    _run(serve(plc))


@sim_app.command("logix")
def sim_logix(
    port: Annotated[int, typer.Option(help="TCP port to listen on (EtherNet/IP's is 44818).")] = 44818,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    cycle_time: CycleOption = 2.0, scrap_rate: ScrapOption = 0.03, alarm_rate: AlarmOption = 0.0,
    seed: SeedOption = 1,
) -> None:
    """A Rockwell Logix controller (cpppo's EtherNet/IP server) with the machine model's tags; list in
    simulators/logix_plc.py."""
    from simulators.logix_plc import TAGS, run

    try:
        import cpppo  # noqa: F401  (a dev extra: the simulator's server)
    except ImportError:
        typer.echo("takt sim logix needs cpppo, a development extra: pip install 'takt[dev]'", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Logix controller at {host}:{port} (tags {', '.join(TAGS)}); no tag list service; Ctrl+C stops")
    try:
        run(host, port, cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed,
            running=True)
    except KeyboardInterrupt:
        pass


async def _serve_bus(bus: object) -> None:
    from simulators.modbus_plc import RtuBus

    assert isinstance(bus, RtuBus)
    for plc in bus.plcs:
        plc.machine.start()
    await bus.start()
    try:
        await asyncio.Event().wait()
    finally:
        await bus.stop()


@sim_app.command("scanner")
def sim_scanner(
    link: Annotated[str, typer.Option(help="Path of the port to create (a symlink to the pty), for the reader.")]
    = "/tmp/takt-scanner",
    suffix: Annotated[str, typer.Option(help="CR, LF, CRLF or TAB after every label.")] = "CR",
    symbology: Annotated[str, typer.Option(help="AIM identifier sent before every label, e.g. ]C1 or ]d2.")] = "",
) -> None:
    """A serial barcode scanner on a pty: every line typed on stdin is sent as one read (type GS as <GS>)."""
    import sys
    from pathlib import Path

    from simulators.serial_scanner import PtyScanner

    suffixes = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t"}
    if suffix.upper() not in suffixes:
        typer.echo(f"--suffix: {suffix!r} is not one of CR, LF, CRLF, TAB", err=True)
        raise typer.Exit(2)
    scanner = PtyScanner(Path(link), suffix=suffixes[suffix.upper()])
    typer.echo(f"scanner at {link}; type a label and Enter to scan it (<GS> for the GS separator); Ctrl+D stops",
               err=True)
    try:
        for line in sys.stdin:
            label = line.rstrip("\r\n").replace("<GS>", "\x1d")
            if label:
                scanner.send(label, symbology=symbology)
    except KeyboardInterrupt:
        pass
    finally:
        scanner.close()


@sim_app.command("camera")
def sim_camera(
    out: Annotated[str, typer.Argument(help="Video file to write (.avi, Motion JPEG): a camera reader's source.")],
    label: Annotated[list[str], typer.Option(help="FORMAT:TEXT per scene, e.g. DataMatrix-GS1:(01)0950...(10)L1 "
                                                  "or Code128:WO-1001 (repeatable).")],
    frames: Annotated[int, typer.Option(help="Frames per label.")] = 10,
    blur: Annotated[int, typer.Option(help="Gaussian blur kernel (0: none).")] = 0,
    noise: Annotated[float, typer.Option(help="Gaussian noise sigma (0: none).")] = 0.0,
    rotation: Annotated[float, typer.Option(help="Random rotation up to this many degrees.")] = 0.0,
) -> None:
    """A camera filming labels: writes 640x480 frames with real barcodes, one scene per --label."""
    from pathlib import Path

    from simulators.camera import Camera, Scene, label_image, write_video

    scenes = []
    for spec in label:
        symbology, _, text = spec.partition(":")
        gs1 = symbology.endswith("-GS1")
        try:
            image = label_image(text, symbology.removesuffix("-GS1"), gs1=gs1, scale=4)
        except (AttributeError, ValueError, RuntimeError) as exc:
            typer.echo(f"--label {spec!r}: {exc}", err=True)
            raise typer.Exit(2) from None
        scenes.append(Scene([(image, (100, 80))], frames=frames))
    path = write_video(Path(out), Camera(blur=blur, noise=noise, rotation=rotation).frames(scenes))
    typer.echo(f"{path}: {len(scenes) * frames} frames")


@sim_app.command("erp")
def sim_erp(
    database_url: Annotated[str, typer.Option("--database-url", help="SQLAlchemy URL of the simulator's own "
                                              "database (postgresql+psycopg://... or sqlite:///FILE).")]
    = "sqlite:///takt-erp-sim.db",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    node_token: Annotated[list[str] | None, typer.Option(
        "--node-token", help="NODE=TOKEN: the bearer token node NODE pushes and pulls with (repeatable).")] = None,
    admin_token: Annotated[str, typer.Option("--admin-token", help="Bearer token of the planner/admin routes.")]
    = "",
    max_body_bytes: Annotated[int, typer.Option(help="Largest push body accepted (after gunzip).")]
    = 64 * 1024 * 1024,
    max_ingest: Annotated[int | None, typer.Option(
        "--max-ingest", min=1, help="At most this many pushed batches stored at once (a plant of many nodes); "
        "past it, 503 BUSY with Retry-After at once. Default: no limit.")] = None,
) -> None:
    """The central ERP/MRP/APS/PLM/SRM/CRM backend: the sync protocol, planner routes and fault switches."""
    import gc

    import uvicorn

    from simulators.erp import ErpSimConfig, create_app

    tokens: dict[str, str] = {}
    for spec in node_token or []:
        node, sep, token = spec.partition("=")
        if not sep or not node or not token:
            typer.echo(f"--node-token: {spec!r} is not NODE=TOKEN", err=True)
            raise typer.Exit(2)
        if token in tokens:
            typer.echo(f"--node-token: the token of {node} is already the token of {tokens[token]}", err=True)
            raise typer.Exit(2)
        tokens[token] = node
    if not admin_token or admin_token in tokens:
        typer.echo("--admin-token: give a token of its own for the planner routes", err=True)
        raise typer.Exit(2)
    app = create_app(ErpSimConfig(database_url=database_url, node_tokens=tokens, admin_token=admin_token,
                                  max_body_bytes=max_body_bytes, max_ingest=max_ingest))
    nodes = ", ".join(sorted(tokens.values())) or "no nodes"
    typer.echo(f"ERP simulator at http://{host}:{port} (sync /sync/v1 for {nodes}; planner /central/v1; "
               f"faults /sim/v1/faults); Ctrl+C stops", )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The libraries' objects, made once, are left out of garbage collection: a full collection would otherwise
    # walk them all, again and again, while a batch's thousands of short-lived objects come and go.
    gc.freeze()
    # Connections kept open longer than a busy node is told to wait (at most 30 s), so that its next batch does not
    # meet a connection the server is closing that very moment (uvicorn's default keeps them 5 s).
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=75)


@sim_app.command("printer")
def sim_printer(
    port: Annotated[int, typer.Option(help="TCP port to listen on (a label printer's raw port is 9100).")] = 9100,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    folder: Annotated[str | None, typer.Option(help="Write every label received there as NNNN.zpl.")] = None,
) -> None:
    """A network label printer: stores the ZPL labels it receives on raw TCP."""
    from pathlib import Path

    from simulators.label_printer import LabelPrinter

    typer.echo(f"label printer at {host}:{port}" + (f", labels into {folder}" if folder else "") + "; Ctrl+C stops")
    _run(LabelPrinter(host, port, Path(folder) if folder else None).serve_forever())
