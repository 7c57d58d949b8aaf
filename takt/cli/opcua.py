"""``takt opcua ...``: look at an OPC UA server before mapping its tags."""
from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

opcua_app = typer.Typer(no_args_is_help=True, help="Look at OPC UA servers (candidate tags for the site file).")
# connectors.opcua (asyncua, a second to import) is imported by the command: the takt command starts without it.


@opcua_app.command("browse")
def opcua_browse(
    url: Annotated[str, typer.Argument(help="Server endpoint, e.g. opc.tcp://10.0.0.5:4840/")],
    depth: Annotated[int, typer.Option(help="How many object levels below Objects to descend.")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of columns.")] = False,
) -> None:
    """List every variable under Objects: node id, browse path and data type."""
    from connectors.opcua import browse

    try:
        rows = asyncio.run(browse(url, max_depth=depth))
    except (OSError, TimeoutError) as exc:
        typer.echo(f"error: cannot browse {url}: {exc}", err=True)
        raise typer.Exit(1) from None
    for row in rows:
        typer.echo(json.dumps(row) if as_json else f"{row['node_id']:<40} {row['type']:<10} {row['path']}")
