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
