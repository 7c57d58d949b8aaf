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
) -> None:
    """An OPC UA machine (asyncua server): PackML state, good/scrap counters, alarm code, temperature, pressure."""
    from simulators.machine import Machine
    from simulators.opcua_machine import OpcUaMachine, serve

    sim = OpcUaMachine(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed),
                       name=name, host=host, port=port)
    typer.echo(f"OPC UA machine {name} at {sim.url} (node ids ns=2;s={name}.State, .GoodCount, ...); Ctrl+C stops")
    _run(serve(sim))


@sim_app.command("modbus")
def sim_modbus(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 5020,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    unit: Annotated[int, typer.Option(help="Modbus unit (device) id.")] = 1,
    cycle_time: CycleOption = 2.0, scrap_rate: ScrapOption = 0.03, alarm_rate: AlarmOption = 0.01,
    seed: SeedOption = 1,
) -> None:
    """A Modbus TCP PLC (pymodbus server) with the same machine model; register map in simulators/modbus_plc.py."""
    from simulators.machine import Machine
    from simulators.modbus_plc import ModbusPlc, serve

    plc = ModbusPlc(Machine(cycle_time_s=cycle_time, scrap_rate=scrap_rate, alarm_rate=alarm_rate, seed=seed),
                    host=host, port=port, unit=unit)
    typer.echo(f"Modbus PLC at {host}:{port} unit {unit} (HR 0 state, 2-3 good, 4-5 scrap, 6-7 temperature); "
               "Ctrl+C stops")
    _run(serve(plc))
