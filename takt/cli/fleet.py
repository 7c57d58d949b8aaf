"""``takt fleet``: the plant's nodes as the central side sees them (for an integrator with many lines).

``takt fleet status --central URL`` reads the central side's plant view (``GET /central/v1/nodes``: each node's last
sync, acknowledged sequence, backlog, refused events and busy answers) with the central side's admin token, read
from an environment variable (never a command line argument: those show in ``ps``).
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from takt.cli.support import console as _console
from takt.cli.support import fail as _fail

fleet_app = typer.Typer(no_args_is_help=True, help="The plant's nodes as the central system sees them.")

DEFAULT_TOKEN_ENV = "TAKT_CENTRAL_TOKEN"


def _age(text: str | None, now: datetime) -> str:
    if not text:
        return "never"
    try:
        then = datetime.fromisoformat(text)
    except ValueError:
        return text
    seconds = max(0, int((now - (then if then.tzinfo else then.replace(tzinfo=UTC))).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def read_nodes(central: str, token: str, timeout_s: float) -> list[dict[str, Any]]:
    """The central side's plant view, or a one-line error (typer.Exit) that says why not."""
    import httpx

    url = central.rstrip("/") + "/central/v1/nodes"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the central side at {central}: {type(exc).__name__}"
                    + (f": {exc}" if str(exc) else "")) from None
    if response.status_code in (401, 403):
        raise _fail(f"the central side at {central} refused the token ({response.status_code}): "
                    f"{_message(response)}")
    if response.status_code != 200:
        raise _fail(f"the central side at {central} answered {response.status_code} to GET /central/v1/nodes: "
                    f"{_message(response)}")
    try:
        nodes = response.json()
    except ValueError:
        nodes = None
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and "node" in n for n in nodes):
        raise _fail(f"{url} is not a Takt central side's plant view (no list of nodes in the answer)")
    return nodes


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.text[:200]).strip() or "(no body)"
    if isinstance(body, dict) and "message" in body:
        return f"{body.get('code', '')} {body['message']}".strip()
    return str(body)[:200]


@fleet_app.command("status")
def status(
    central: Annotated[str, typer.Option("--central", help="the central side's base URL, e.g. http://erp:8700")],
    token_env: Annotated[str, typer.Option(
        "--token-env", help="the environment variable holding the central side's admin token")] = DEFAULT_TOKEN_ENV,
    timeout_s: Annotated[float, typer.Option("--timeout", min=0.1, max=300, help="seconds to wait for an answer")]
    = 10.0,
) -> None:
    """Every node that syncs to the central side: last sync, acknowledged sequence, backlog, refused events."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise _fail(f"--token-env: the environment variable {token_env} is not set; put the central side's admin "
                    f"token there")
    nodes = read_nodes(central, token, timeout_s)
    now = datetime.now(UTC)
    table = Table(title=f"{len(nodes)} node(s) syncing to {central}")
    for name, justify in (("node", "left"), ("last sync", "left"), ("acknowledged", "right"),
                          ("backlog", "right"), ("events stored", "right"), ("refused", "right"),
                          ("held", "right"), ("busy answers", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for n in nodes:
        backlog = n.get("backlog")
        table.add_row(str(n["node"]), _age(n.get("last_sync_at"), now), str(n.get("acknowledged", "?")),
                      "not reported" if backlog is None else str(backlog), str(n.get("events", "?")),
                      str(n.get("rejected", 0)), str(n.get("held", 0)), str(n.get("busy", 0)))
    _console().print(table)
