"""``takt opcua ...``: look at an OPC UA server before mapping its tags, with the trust and logon a site uses.

``browse`` takes the security, certificate, trust and credential settings of a site's ``connectivity.opcua``
entry, either as options or from the site file itself (``--config FILE --server NAME``); a refusal is answered
in one line naming its cause. ``trusted`` shows the server certificates a node trusted on first use.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from takt.cli.support import fail, load_site

opcua_app = typer.Typer(no_args_is_help=True, help="Look at OPC UA servers (candidate tags for the site file).")
# connectors.opcua (asyncua, a second to import) is imported by the command: the takt command starts without it.

def _read_secret(env: str | None, file: Path | None, what: str) -> str | None:
    if env is not None and file is not None:
        raise fail(f"error: give --{what}-env or --{what}-file, not both", 2)
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise fail(f"error: environment variable {env} (--{what}-env) is not set", 2)
        return value
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail(f"error: cannot read --{what}-file {file}: {exc.strerror}", 2) from None
    return None


def _site_server(config: Path, server: str | None) -> tuple[Any, Path]:
    """The site's OPC UA server entry named ``server`` (secrets read) and the node's data dir."""
    site = load_site(config)
    servers = site.connectivity.opcua
    names = ", ".join(s.name for s in servers) or "none"
    if server is None:
        if len(servers) != 1:
            raise fail(f"error: name the server with --server (the site has: {names})", 2)
        return servers[0], site.node.data_dir
    for entry in servers:
        if entry.name == server:
            return entry, site.node.data_dir
    raise fail(f"error: the site has no OPC UA server {server!r} (it has: {names})", 2)


@opcua_app.command("browse")
def opcua_browse(
    url: Annotated[str | None, typer.Argument(help="Server endpoint, e.g. opc.tcp://10.0.0.5:4840/ "
                                                   "(default: the site's, with --config)")] = None,
    depth: Annotated[int, typer.Option(help="How many object levels below Objects to descend.")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of columns.")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=(
        "Take security, certificates, trust and credentials from this site file's connectivity.opcua entry."))] = None,
    server: Annotated[str | None, typer.Option(help="With --config: the server entry's name.")] = None,
    mode: Annotated[str | None, typer.Option(help=(
        "Basic256Sha256 security mode: Sign or SignAndEncrypt (default with --certificate: SignAndEncrypt)."))] = None,
    certificate: Annotated[Path | None, typer.Option(help="The node's application certificate (DER or PEM).")] = None,
    private_key: Annotated[Path | None, typer.Option(help="Its private key (PEM or DER).")] = None,
    private_key_password_env: Annotated[str | None, typer.Option(help="Variable holding the key's password.")] = None,
    private_key_password_file: Annotated[Path | None, typer.Option(help="File holding the key's password.")] = None,
    server_certificate: Annotated[Path | None, typer.Option(help="The server's certificate, pinned.")] = None,
    trusted_server_certificates: Annotated[Path | None, typer.Option(help=(
        "Folder of trusted server certificates (default: <data dir>/opcua-pki/trusted)."))] = None,
    trust_on_first_use: Annotated[bool, typer.Option(help=(
        "Trust the server's certificate when it is not in the trust list, recorded in the data dir."))] = False,
    data_dir: Annotated[Path | None, typer.Option(help=(
        "The node's data dir: its trust list, refused and first-use certificates (default: the site's)."))] = None,
    username: Annotated[str | None, typer.Option(help="Log on as this user (else anonymous).")] = None,
    password_env: Annotated[str | None, typer.Option(help="Variable holding the user's password.")] = None,
    password_file: Annotated[Path | None, typer.Option(help="File holding the user's password.")] = None,
) -> None:
    """List every variable under Objects: node id, browse path and data type."""
    from connectors.config import OpcUaSecurity
    from connectors.opcua import browse
    from connectors.opcua_trust import ServerRefused

    security: OpcUaSecurity | None = None
    password: str | None = None
    name: str | None = None  # the trust-on-first-use record's: the site's server name, else the URL's host:port
    if config is not None:
        entry, site_data_dir = _site_server(config, server)
        url, name = url or entry.url, entry.name
        security, username, password = entry.security, entry.username, entry.password
        data_dir = data_dir or site_data_dir
    elif server is not None:
        raise fail("error: --server names an entry of a site file: give --config too", 2)
    if url is None:
        raise fail("error: give the server's URL, or --config with the site file", 2)
    if config is None:
        password = _read_secret(password_env, password_file, "password")
        if (username is None) != (password is None):
            raise fail("error: --username and --password-env (or --password-file) go together", 2)
        if certificate is not None or private_key is not None or mode is not None:
            try:
                security = OpcUaSecurity.model_validate({
                    "mode": mode or "SignAndEncrypt", "certificate": certificate, "private_key": private_key,
                    "private_key_password": _read_secret(private_key_password_env, private_key_password_file,
                                                         "private-key-password"),
                    "server_certificate": server_certificate,
                    "trusted_server_certificates": trusted_server_certificates,
                    "trust_on_first_use": trust_on_first_use})
            except ValidationError as exc:
                problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
                                     for e in exc.errors())
                raise fail(f"error: {problems}", 2) from None
        elif server_certificate or trusted_server_certificates or trust_on_first_use:
            raise fail("error: server certificates are checked on a secured link: give --certificate and "
                       "--private-key (and --mode)", 2)
    if security is not None and security.trust_on_first_use and data_dir is None:
        raise fail("error: trust on first use is recorded in the node's data dir: give --data-dir", 2)
    logging.getLogger("asyncua").setLevel(logging.CRITICAL + 1)  # its tracebacks are not the user's answer
    try:
        rows = asyncio.run(browse(url, max_depth=depth, security=security, username=username, password=password,
                                  data_dir=data_dir, name=name))
    except ServerRefused as exc:
        raise fail(f"error: refused: {exc}") from None
    except Exception as exc:  # the link could not be made: one line, not asyncua's traceback
        said = str(exc) or "no answer"
        raise fail(f"error: cannot browse {url}: {type(exc).__name__}: {said}") from None
    for row in rows:
        typer.echo(json.dumps(row) if as_json else f"{row['node_id']:<40} {row['type']:<10} {row['path']}")


@opcua_app.command("trusted")
def opcua_trusted(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="The site file (its node's data dir).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="The node's data dir.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of columns.")] = False,
) -> None:
    """Show the server certificates this node trusted on first use: server, since when, thumbprint, subject."""
    from connectors.opcua_trust import first_use_records

    if (config is None) == (data_dir is None):
        raise fail("error: name the node with exactly one of --config FILE or --data-dir DIR", 2)
    folder = load_site(config, resolve_secrets=False).node.data_dir if config is not None else data_dir
    assert folder is not None
    records = first_use_records(folder)
    if not records:
        typer.echo(f"no server certificate trusted on first use in {folder}")
        return
    for record in records:
        typer.echo(json.dumps(record) if as_json else
                   f"{record.get('server', '?'):<16} {record.get('since', '?'):<26} {record.get('thumbprint', '?')}  "
                   f"{record.get('subject', '?')}  {record.get('url', '')}")
