"""What every part of the ``takt`` command shares: the console, failing with a message and an exit code, the
site file, and naming a store (``--config`` / ``--data-dir`` / ``--database-url``).

The adapters' command groups (``takt sync``, ``takt b2mml``, ...) use these too, so a store or a site is named,
loaded and refused the same way everywhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from edge.store import Store, sqlite_url
from edge.store.chain import ChainReport, CheckpointKey, data_dir_key, key_from_text
from takt.config import ConfigError, TaktConfig, load_config

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="take the store from this configuration")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="the SQLite store in this folder")]
UrlOption = Annotated[str | None, typer.Option("--database-url", help="a database URL (sqlite:/// or postgresql+psycopg://)")]


def console() -> Console:
    found = Console()
    return found if found.is_terminal else Console(width=200)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr; raise the result to end the command with ``code``."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_site(path: Path, *, resolve_secrets: bool = True) -> TaktConfig:
    try:
        return load_config(path, resolve_secrets=resolve_secrets)
    except ConfigError as err:
        raise fail(str(err)) from None


def store_url(config: Path | None, data_dir: Path | None, database_url: str | None, *, must_exist: bool) -> str:
    """The store named by exactly one of the three options."""
    given = [n for n, v in (("--config", config), ("--data-dir", data_dir), ("--database-url", database_url)) if v]
    if len(given) != 1:
        raise fail("name the store with exactly one of --config FILE, --data-dir DIR or --database-url URL", 2)
    if database_url:
        return database_url
    if config is not None:
        url = load_site(config, resolve_secrets=False).node.url()
    else:
        assert data_dir is not None
        url = sqlite_url(data_dir)
    if must_exist and url.startswith("sqlite:///"):
        file = Path(url.split(":///", 1)[1])
        if not file.is_file():
            raise fail(f"no store at {file.parent}: {file.name} does not exist")
    return url


def open_store(url: str) -> Store:
    try:
        return Store(url)
    except Exception as exc:
        raise fail(f"cannot open the store {shown_url(url)}: {exc}") from None


def shown_url(url: str) -> str:
    """A database URL fit to print: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show only its scheme
        return url.split(":", 1)[0] + ":..."


def checkpoint_key(config: Path | None, data_dir: Path | None, secret_file: Path | None) -> CheckpointKey | None:
    """The key the checkpoints are checked with: the file given, the site file's journal secret, or the data folder's
    key file."""
    try:
        if secret_file is not None:
            return key_from_text(secret_file.read_text(), str(secret_file))
        if config is not None:
            site = load_site(config, resolve_secrets=False)
            return site.journal.checkpoint_key(site.node.data_dir, create=False)
        return data_dir_key(data_dir, create=False) if data_dir is not None else None
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read the journal's checkpoint secret: {exc}") from None


def chain_result(chain: ChainReport, key: CheckpointKey | None) -> tuple[list[str], list[str]]:
    """What the hash chain check found (edge.store.verify.verify_chain), as ``takt store verify`` and the audit
    export show it: the problems (none when intact), and the lines that say so."""
    problems = chain.breaks + chain.checkpoint_problems
    if problems:
        return problems, [f"TAMPERED: the journal's hash chain is broken ({len(problems)} problems; the first names "
                          "the first event that breaks it):", *(f"  {line}" for line in problems)]
    signed = (f"{chain.checkpoints} checkpoints, signatures checked with {chain.key_source}" if key is not None
              else f"{chain.checkpoints} checkpoints, signatures NOT checked: no key, give --config or "
                   f"--checkpoint-secret-file")
    tail = f"; {chain.unsigned_tail} events after the last checkpoint" if chain.unsigned_tail else ""
    since = (f"; events {chain.chained_from}..{chain.chained_since} were chained when the store was upgraded "
             f"(as trustworthy as the store was then)" if chain.chained_since >= chain.chained_from else "")
    return [], [f"ok: hash chain intact through seq {chain.head_seq} ({chain.events} events; {signed}{tail}{since})"]
