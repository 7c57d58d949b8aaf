"""``takt users sync|list|check``: what the node believes about the people who may log on, and why.

``sync`` asks the directory (the site file's ``identity`` section) about everyone under its ``users_base`` and keeps
the answers in the store (the cache a line logs on from while the directory is away); people the node had cached who
are gone from the directory or disabled there are marked inactive. ``list`` shows the store's users: from the site
file or from the directory, their roles, whether they are active, have a badge and a second factor, and how old the
directory's last word on them is. ``check USER`` puts the store's view beside the directory's live answer: the entry,
its groups and which of them give which roles, the disabled rule and what it found, and whether the user can log on.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from edge.store import Store, schema
from edge.store.directory import CachedEntry, all_cached, cached
from edge.store.users import PRIVILEGED_ROLES, user_by_name
from takt.cli.support import ConfigOption, DataDirOption, UrlOption, fail, load_site, open_store, store_url
from takt.config import TaktConfig
from takt.identity import Directory, DirectoryDown

users_app = typer.Typer(help="People: the site file's users and the directory's, as the node sees them",
                        no_args_is_help=True)
SiteOption = Annotated[Path, typer.Option("--config", "-c", help="the site file (with its identity section)")]


def _directory(path: Path) -> tuple[TaktConfig, Directory]:
    cfg = load_site(path)
    if cfg.identity is None:
        raise fail(f"{path}: there is no identity section (the directory's url, bind_dn, users_base, roles)")
    return cfg, Directory(cfg.identity)


def _store(cfg: TaktConfig) -> Store:
    url = cfg.node.url()
    if url.startswith("sqlite:///") and not Path(url.split(":///", 1)[1]).is_file():
        raise fail(f"no store at {url.split(':///', 1)[1]}: start the node once first")
    store = open_store(url)
    store.migrate()
    return store


def _age(entry: CachedEntry | None) -> str:
    if entry is None:
        return "-"
    seconds = entry.age_s(datetime.now(UTC))
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"


@users_app.command("sync")
def sync(config: SiteOption) -> None:
    """Ask the directory about everyone and keep the answers; those gone or disabled there become inactive."""
    cfg, directory = _directory(config)
    store = _store(cfg)
    try:
        synced = directory.sync_everyone(store)
    except DirectoryDown as exc:
        raise fail(f"the directory {directory.config.url} cannot be reached: {exc}") from None
    gone, kept = synced.gone, synced.site_file_users
    typer.echo(f"{synced.people} people from {directory.config.url} ({synced.people - len(synced.refused)} may log "
               f"on, {len(synced.refused)} disabled or without a Takt role); {len(gone)} gone from the directory "
               "marked inactive" + (f" ({', '.join(gone)})" if gone else "")
               + (f"; site-file users kept: {', '.join(kept)}" if kept else ""))
    store.close()


@users_app.command("list")
def list_users(config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None) -> None:
    """The users the node knows, where each comes from, and whether they may log on at a page."""
    store = open_store(store_url(config, data_dir, database_url, must_exist=True))
    t = schema.users
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.user, t.c.name, t.c.roles, t.c.active, t.c.badge_hash, t.c.pin_hash)
                            .order_by(t.c.user)).all()
    from_directory = {c.user: c for c in all_cached(store)}
    typer.echo(f"{'user':<16} {'source':<10} {'active':<7} {'badge':<6} {'2nd factor':<11} {'confirmed':<10} roles")
    for row in rows:
        entry = from_directory.get(row.user)
        source = "directory" if entry is not None else "site file"
        second = ("password" if entry is not None else "PIN") if row.pin_hash else "-"
        typer.echo(f"{row.user:<16} {source:<10} {'yes' if row.active else 'no':<7} "
                   f"{'yes' if row.badge_hash else 'no':<6} {second:<11} {_age(entry) + ' ago' if entry else '-':<10} "
                   f"{', '.join(row.roles) or '-'}")
    store.close()


@users_app.command("check")
def check(user: str, config: SiteOption) -> None:
    """The store's view of USER beside the directory's live answer, and whether USER can log on."""
    cfg, directory = _directory(config)
    store = _store(cfg)
    known, entry = user_by_name(store, user), cached(store, user)
    if known is None:
        typer.echo(f"store: {user} is not known to this node")
    else:
        source = "directory" if entry is not None else "site file"
        typer.echo(f"store: {known.name} ({source}), roles {', '.join(sorted(known.roles)) or '-'}, "
                   f"{'active' if known.active else 'inactive'}"
                   + (f", confirmed by the directory {_age(entry)} ago (cache {cfg.identity.cache_hours:g} h)"
                      if entry is not None and cfg.identity is not None else ""))
    try:
        live = directory.by_user(user)
    except DirectoryDown as exc:
        typer.echo(f"directory: cannot be reached ({exc})")
        fresh = entry is not None and entry.age_s() <= directory.cache_seconds
        verdict = ("can log on from the cache" if known is not None and known.active and fresh and entry is not None
                   and not entry.disabled else "cannot log on while the directory is away")
        typer.echo(f"verdict: {verdict}")
        raise typer.Exit(0 if "can log" in verdict else 1) from None
    if not live:
        typer.echo(f"directory: no entry with {directory.config.name_of_user_attribute()}={user} under "
                   f"{directory.config.users_base}")
        local = known is not None and entry is None and known.active
        typer.echo(f"verdict: {'a site-file user: logs on as the site file says' if local else 'cannot log on'}")
        raise typer.Exit(0 if local else 1)
    found = live[0]
    typer.echo(f"directory: {found.dn} ({found.name}), badge {'set' if found.badge else 'not set'} "
               f"({directory.config.badge_attribute})")
    _, by_group = directory.roles_of(list(found.groups))
    for group in found.groups:
        gives = by_group.get(group)
        typer.echo(f"  group {group}: " + (f"gives {', '.join(gives)}" if gives else "no Takt role"))
    rule = directory.config.disabled_rule()
    typer.echo(f"  disabled: {'yes' if found.disabled else 'no'}"
               + (f" (rule: {rule.attribute}" + (f" bit {rule.bit}" if rule.bit else "")
                  + (f" in {rule.values}" if rule.values else "" if rule.bit else " present") + ")" if rule else ""))
    if len(live) > 1:
        typer.echo(f"verdict: cannot log on: {len(live)} entries have this user name")
        raise typer.Exit(1)
    if entry is None and known is not None:
        typer.echo("verdict: a site-file user: the site file's entry is used, not the directory's")
        raise typer.Exit(0)
    reasons = [why for why, bad in (("disabled in the directory", found.disabled),
                                    ("in no group that gives a Takt role", not found.roles),
                                    ("no badge in the directory", not found.badge)) if bad]
    password = bool(found.roles & PRIVILEGED_ROLES) or directory.config.password_for == "everyone"
    typer.echo("verdict: " + (f"cannot log on: {'; '.join(reasons)}" if reasons else
                              f"can log on with badge{' and directory password' if password else ''} as "
                              f"{', '.join(sorted(found.roles))}"))
    store.close()
    raise typer.Exit(1 if reasons else 0)
