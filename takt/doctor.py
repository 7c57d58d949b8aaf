"""``takt doctor``: checks of a node's set-up, each with what is wrong and how to fix it.

Every check reads only: it opens the store read-only (SQLite) and sends a GET to the ERP, a TCP connect to each
PLC and broker. It is safe to run beside a running node.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import ssl
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import text

from edge.store import Store
from edge.store.migrate import MIGRATIONS
from takt.config import ConfigError, TaktConfig, cleartext_secrets, load_config

CLOCK_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(config_file: Path, *, data_dir: Path | None = None, min_free_bytes: int = 500_000_000,
               timeout_s: float = 3.0) -> list[Check]:
    """Every check, in the order a person would fix them; stops after the config if it is not valid."""
    try:
        cfg = load_config(config_file)
    except ConfigError as err:
        return [Check("config", False, str(err), f"correct {config_file} (takt config check {config_file})")]
    except OSError as err:
        return [Check("config", False, f"cannot read {config_file}: {err}",
                      "pass --config FILE or set TAKT_CONFIG to the site file")]
    checks = [Check("config", True, f"{config_file} is valid (node {cfg.node.id})")]
    checks.append(_secrets(config_file))
    url = cfg.node.url() if data_dir is None else f"sqlite:///{data_dir / 'takt.sqlite'}"
    folder = data_dir if data_dir is not None else cfg.node.data_dir
    if url.startswith("sqlite"):
        checks += _data_dir(folder, min_free_bytes)
        checks += _sqlite_store(Path(url.split(":///", 1)[1]))
    else:
        checks += _postgres_store(url)
    checks.append(_reference(cfg, folder, config_file))
    checks += list(_network(cfg, timeout_s))
    return checks


def _reference(cfg: TaktConfig, data_dir: Path, config_file: Path) -> Check:
    """The pinned reference data (edge.reference) as this node finds it: the GS1 dictionary must be there (without
    it GS1 scans are checked by biip only), the B2MML schemas when the site has a b2mml section; an altered copy of
    any set is a problem. The OPC UA nodesets are only listed (the simulators use them, not the node)."""
    from edge import reference

    found = reference.statuses(reference.places(site_folder=cfg.reference, data_dir=data_dir))
    needed = {reference.GS1_SET} | ({reference.B2MML_SET} if cfg.b2mml is not None else set())
    problems = [s for s in found if s.altered_anywhere or (s.set.name in needed and not s.ok)]
    detail = "; ".join(s.describe() if not s.ok or s.passed_over or s.place is None
                       else f"{s.set.name} in {s.place.folder}" for s in found)
    if problems:
        return Check("reference data", False, detail, f"takt reference fetch --config {config_file} (add --mirror URL "
                     "where the node has no internet; takt reference status says what is where)")
    return Check("reference data", True, detail)


def _secrets(config_file: Path) -> Check:
    clear = cleartext_secrets(load_config(config_file, resolve_secrets=False))
    if clear:
        return Check("secrets", False, f"{len(clear)} secret{'s are' if len(clear) > 1 else ' is'} written in clear in "
                     f"{config_file}: {', '.join(clear)}",
                     "move each into an environment variable (token_env, password_env, ...) or a file only the "
                     "node's user may read (token_file, password_file, ...; chmod 600)")
    return Check("secrets", True, "no token, PIN or password is written in clear in the site file")


# --- the data dir and the store ------------------------------------------------------------------


def _data_dir(folder: Path, min_free_bytes: int) -> list[Check]:
    if not folder.is_dir():
        return [Check("data dir", False, f"{folder} does not exist",
                      f"create it for the node's user: install -d -o takt -g takt {folder}")]
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".takt-doctor-") as probe:
            probe.write(b"x" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return [Check("data dir", False, f"{folder} is not writable: {exc.strerror}",
                      f"give the node's user write access: chown -R takt: {folder}")]
    usage = shutil.disk_usage(folder)
    detail = f"{folder} is writable; {usage.free / 1e9:.2f} GB free of {usage.total / 1e9:.2f} GB"
    if usage.free < min_free_bytes:
        return [Check("data dir", True, f"{folder} is writable"),
                Check("free space", False, f"only {usage.free / 1e6:.0f} MB free in {folder} "
                      f"(less than {min_free_bytes / 1e6:.0f} MB)",
                      "free space on that file system or move data_dir to a larger one; a full disk stops recording")]
    return [Check("data dir", True, detail)]


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def _sqlite_store(path: Path) -> list[Check]:
    if not path.is_file():
        return [Check("store", False, f"no store at {path}", "start the node once (takt run) or restore a backup "
                      "(takt store restore BACKUP)")]
    try:
        with _read_only(path) as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
            if rows != ["ok"]:
                return [Check("store integrity", False, f"{path} fails SQLite's quick_check: {'; '.join(rows[:3])}",
                              "stop the node and restore the latest backup (takt store restore BACKUP)")]
            checks = [Check("store integrity", True, f"{path} passes quick_check")]
            checks.append(_migrations(_sqlite_revision(conn)))
            checks.append(_clock(_last_recorded(conn)))
            if _sqlite_revision(conn) is not None:
                checks.append(_clock_jumps(lambda sql: conn.execute(sql).fetchone()))
    except sqlite3.DatabaseError as exc:
        return [Check("store integrity", False, f"{path} cannot be read: {exc}",
                      "stop the node and restore the latest backup (takt store restore BACKUP)")]
    return checks


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _last_recorded(conn: sqlite3.Connection) -> datetime | None:
    try:
        row = conn.execute("SELECT recorded_at FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    if row is None or row[0] is None:
        return None
    value = row[0]
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


RECENT_JUMP = timedelta(days=7)


JUMPS_SQL = "SELECT count(*), max(seq) FROM journal WHERE subject = 'node:clock' AND type = 'ClockJumped'"
JUMP_SQL = "SELECT payload, recorded_at FROM journal WHERE seq = {seq}"


def _clock_jumps(query: Callable[[str], Any]) -> Check:
    """The wall-clock jumps the node recorded (``ClockJumped`` in the journal, see ``edge.clock``); ``query(sql)``
    returns the first row of ``sql``."""
    count, last_seq = query(JUMPS_SQL)
    if not count:
        return Check("clock jumps", True, "the node's clock never jumped while it recorded")
    payload, recorded = query(JUMP_SQL.format(seq=int(last_seq)))
    jump = json.loads(payload)
    when = recorded if isinstance(recorded, datetime) else datetime.fromisoformat(str(recorded))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    detail = (f"{count} jump{'s' if count > 1 else ''} of the wall clock recorded; the last {float(jump['jump_s']):+.1f} s "
              f"at {when:%Y-%m-%d %H:%M:%S} UTC (seq {last_seq}); labour, operation and machine-state durations across "
              f"it were kept true, times recorded around it are on two time lines")
    if datetime.now(UTC) - when < RECENT_JUMP:
        return Check("clock jumps", False, detail, "keep the time with NTP (timedatectl set-ntp true) and check the RTC "
                     "battery; an OEE or a report over the jump's hour is off by the jump")
    return Check("clock jumps", True, detail)


def _postgres_store(url: str) -> list[Check]:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
            except Exception:
                revision = None
            conn.rollback()
            last = conn.execute(text("SELECT max(recorded_at) FROM journal")).scalar() if revision else None
            jumps = _clock_jumps(lambda sql: conn.execute(text(sql)).one()) if revision else None
    except Exception as exc:
        return [Check("store", False, f"cannot reach the PostgreSQL store: {exc}",
                      "check node.database_url, that the server runs and that the node's role may connect")]
    finally:
        store.close()
    return [Check("store", True, "the PostgreSQL store answers"), _migrations(revision), _clock(last),
            *([jumps] if jumps else [])]


def _migrations(revision: str | None) -> Check:
    from alembic.config import Config  # imported when used: alembic alone takes a good part of a second
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if revision == head:
        return Check("migrations", True, f"the store's schema is current ({head})")
    if revision is None:
        return Check("migrations", False, "the store has no schema version", "takt store migrate --config FILE")
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision not in known:
        return Check("migrations", False, f"the store is at {revision}, which this Takt does not know (newer Takt?)",
                     "run the Takt version that wrote this store, or restore a backup made by this version")
    return Check("migrations", False, f"the store is at {revision}, this Takt at {head}",
                 "takt store migrate --config FILE (the node also migrates when it starts)")


def _clock(last_recorded: datetime | None) -> Check:
    now = datetime.now(UTC)
    if last_recorded is None:
        return Check("clock", True, f"{now:%Y-%m-%d %H:%M:%S} UTC; nothing recorded yet to compare with")
    if last_recorded.tzinfo is None:
        last_recorded = last_recorded.replace(tzinfo=UTC)
    if now + CLOCK_TOLERANCE < last_recorded:
        return Check("clock", False, f"the clock says {now:%Y-%m-%d %H:%M:%S} UTC, but the store recorded an event "
                     f"at {last_recorded:%Y-%m-%d %H:%M:%S} UTC: the clock went back",
                     "set the time and keep it with NTP (timedatectl set-ntp true); check the RTC battery")
    return Check("clock", True, f"{now:%Y-%m-%d %H:%M:%S} UTC, after the store's last event "
                 f"({last_recorded:%Y-%m-%d %H:%M:%S} UTC)")


# --- the network -----------------------------------------------------------------------------------


def _tcp(name: str, host: str, port: int, timeout_s: float, fix: str) -> Check:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Check(name, True, f"{host}:{port} accepts connections")
    except OSError as exc:
        return Check(name, False, f"{host}:{port} cannot be reached: {exc.strerror or exc}", fix)


def _network(cfg: TaktConfig, timeout_s: float) -> Iterator[Check]:
    if cfg.sync is not None and cfg.sync.enabled:
        yield from _erp(cfg, timeout_s)
    conn = cfg.connectivity
    for server in conn.opcua:
        where = urlparse(server.url)
        yield _tcp(f"OPC UA {server.name}", where.hostname or "", where.port or 4840, timeout_s,
                   f"check the PLC is on, the address {server.url} and the firewall (TCP {where.port or 4840})")
    for device in conn.modbus:
        if device.host is not None:
            yield _tcp(f"Modbus {device.name}", device.host, device.port, timeout_s,
                       f"check the PLC is on, its address {device.host}:{device.port} and the firewall")
        elif device.serial is not None:
            yield _device_file(f"Modbus {device.name}", device.serial.port)
    for plc in conn.s7:
        yield _tcp(f"S7 {plc.name}", plc.host, plc.port, timeout_s,
                   f"check the PLC is on, its address {plc.host}:{plc.port} (ISO-on-TCP) and the firewall")
    for controller in conn.logix:
        yield _tcp(f"Logix {controller.name}", controller.host, controller.port, timeout_s,
                   f"check the controller is on, its address {controller.host}:{controller.port} (EtherNet/IP) "
                   "and the firewall")
    if conn.mqtt is not None:
        yield _tcp("MQTT broker", conn.mqtt.host, conn.mqtt.port, timeout_s,
                   "check the broker runs and connectivity.mqtt.host/port")
    for source in conn.mqtt_sources:
        yield _tcp(f"MQTT source {source.name}", source.host, source.port, timeout_s,
                   "check the broker runs and the source's host/port")
    for spb in conn.sparkplug_sources:
        yield _tcp(f"Sparkplug source {spb.name}", spb.host, spb.port, timeout_s,
                   "check the broker runs and the source's host/port")
    for scanner in cfg.scanning.devices:
        if scanner.serial is not None:
            yield _device_file(f"scanner {scanner.device}", scanner.serial.port)


def _device_file(name: str, port: str) -> Check:
    if os.path.exists(port):
        if os.access(port, os.R_OK | os.W_OK):
            return Check(name, True, f"{port} is present")
        return Check(name, False, f"{port} is present but the node's user may not open it",
                     "add the node's user to the dialout group (usermod -aG dialout takt)")
    return Check(name, False, f"{port} does not exist", "plug the device in, or correct the port in the site file")


def _erp(cfg: TaktConfig, timeout_s: float) -> Iterator[Check]:
    import httpx  # imported when the site syncs: the takt command starts without it

    sync = cfg.sync
    assert sync is not None
    if sync.central_url is None:  # a real ERP (sync.erp): is its server there at all
        assert sync.erp is not None
        try:
            httpx.get(sync.erp.url, timeout=timeout_s)
        except httpx.HTTPError as exc:
            yield Check("ERP", False, f"{sync.erp.kind} at {sync.erp.url} cannot be reached: {exc}",
                        "check sync.erp.url, the network route and the firewall")
            return
        yield Check("ERP", True, f"{sync.erp.kind} at {sync.erp.url} answers")
        return
    url = f"{sync.central_url.rstrip('/')}/sync/v1/nodes/{cfg.node.id}/cursor"
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(sync.ca_file)) if sync.ca_file else True
    try:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {sync.token}"}, timeout=timeout_s, verify=verify)
    except httpx.HTTPError as exc:
        yield Check("ERP", False, f"{sync.central_url} cannot be reached: {exc}",
                    "check sync.central_url, the network route and the firewall")
        return
    if answer.status_code in (401, 403):
        yield Check("ERP", False, f"{sync.central_url} refuses the node's token ({answer.status_code})",
                    "put the token the ERP issued for this node in the file/variable sync.token_file/token_env names")
        return
    if answer.status_code != 200:
        yield Check("ERP", False, f"{url} answered {answer.status_code}",
                    "check sync.central_url points at the central side's sync API")
        return
    acknowledged = answer.json().get("acknowledged")
    yield Check("ERP", True, f"{sync.central_url} answers and accepts the token (acknowledged up to seq {acknowledged})")
    date = answer.headers.get("date")
    if date:
        theirs = parsedate_to_datetime(date)
        skew = (datetime.now(UTC) - theirs).total_seconds()
        if abs(skew) > CLOCK_TOLERANCE.total_seconds():
            yield Check("clock vs ERP", False, f"this clock is {skew:+.0f} s off the ERP's",
                        "set the time and keep it with NTP (timedatectl set-ntp true)")
