"""``takt logix ...``: look at a Rockwell Logix controller before mapping its tags (EtherNet/IP CIP, pylogix).

``browse`` uploads the controller's tag list (controller and program scope) where the controller offers it:
ControlLogix and CompactLogix do; a Micro800 lists controller tags only; cpppo's simulator (``takt sim logix``)
has no tag list service, and ``browse`` says so instead of guessing.
"""
from __future__ import annotations

import json
import struct
from typing import Annotated, Any

import typer

from takt.cli.support import fail

logix_app = typer.Typer(no_args_is_help=True,
                        help="Look at Rockwell Logix controllers (candidate tags for the site file).")


def tag_list(host: str, port: int, slot: int, micro800: bool, timeout_s: float) -> list[dict[str, Any]]:
    """The controller's tags (name, data type, array dimensions, structure or not); raises ``LookupError`` with
    the reason when the controller does not give its list."""
    from pylogix import PLC

    with PLC(host, slot=slot, timeout=timeout_s, Micro800=micro800, port=port) as plc:
        ok, status = plc.conn.connect()
        if not ok:
            raise ConnectionError(f"cannot connect to {host}:{port}: {status}")
        try:
            answer = plc.GetTagList(not micro800)
        except (OSError, ValueError, IndexError, KeyError, struct.error) as exc:
            answer = None
            status = f"{type(exc).__name__}: {exc}"
        if answer is None or answer.Status != "Success" or not isinstance(answer.Value, list):
            why = status if answer is None else answer.Status
            raise LookupError(f"the controller at {host}:{port} does not give its tag list ({why}); an "
                              "EtherNet/IP server that is not a Logix controller (cpppo's, the simulator's) has no "
                              "tag list service: take the tag names from the controller's program instead")
        return [{"tag": t.TagName, "type": t.DataType or f"0x{t.DataTypeValue:X}", "array": int(t.Array),
                 "structure": bool(t.Struct)} for t in answer.Value]


@logix_app.command("browse")
def logix_browse(
    host: Annotated[str, typer.Argument(help="The controller's address, e.g. 10.0.0.9")],
    port: Annotated[int, typer.Option(help="EtherNet/IP port.")] = 44818,
    slot: Annotated[int, typer.Option(help="The controller's slot in its chassis.")] = 0,
    micro800: Annotated[bool, typer.Option("--micro800", help="A Micro800 (controller tags only).")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of columns.")] = False,
) -> None:
    """List the controller's tags (controller and program scope) with their data types."""
    try:
        tags = tag_list(host, port, slot, micro800, timeout)
    except (LookupError, ConnectionError, OSError) as exc:
        raise fail(f"error: {exc}") from None
    for t in tags:
        if as_json:
            typer.echo(json.dumps(t))
        else:
            typer.echo(f"{t['tag']:<48} {t['type']:<16} {'[' + str(t['array']) + ']' if t['array'] else ''}")
