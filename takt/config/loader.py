"""Reading a site file: YAML that refuses a key given twice, validation with every problem located (path, line,
column), secrets resolved from the environment and files, and the checks across sections."""
from __future__ import annotations

import contextlib
import difflib
import os
import types
import typing
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from connectors.config import ConnectivitySection
from takt.config.errors import ConfigError, Problem, format_path
from takt.config.node import MIN_TOKEN_LENGTH, check_database_url
from takt.config.site_file import TaktConfig

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML would keep the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _node_at(root: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    """The YAML node at ``loc`` (or the deepest one on the way), for its line number."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found = value_node
                    break
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_node_at(root: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    parent = _node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(loc[-1]):
                return key_node
    return None


def _data_loc(data: Any, loc: Sequence[str | int], keep_last: bool) -> list[str | int]:
    """Pydantic's error location without its internal tags (union branches, validator names)."""
    out: list[str | int] = []
    for n, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
            out.append(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
            out.append(part)
        elif keep_last and n == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return out


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that the mapping at ``loc`` is validated against (for "allowed keys" hints)."""
    model: Any = TaktConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _unwrap(model.model_fields[part].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _reason(err: Any, loc: list[str | int], raw_input: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        key = str(loc[-1])
        if model is not None:
            allowed = list(model.model_fields)
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f"did you mean {hint[0]}? " if hint else ""
            return f"unknown key {key!r}: {suggestion}allowed here: {', '.join(allowed)}"
        return f"unknown key {key!r}"
    if kind == "missing":
        return "required but missing"
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind in ("literal_error", "enum"):
        return f"{message}; got {raw_input!r}"
    return message


def _problems_from(exc: ValidationError, data: Any, root: yaml.Node | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _data_loc(data, err["loc"], keep_last=err["type"] == "missing")
        raw: Any = data
        for part in loc:
            try:
                raw = raw[part]
            except (KeyError, IndexError, TypeError):
                raw = None
                break
        node = _key_node_at(root, loc) if err["type"] == "extra_forbidden" and loc else _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        column = node.start_mark.column + 1 if node is not None else None
        problems.append(Problem(format_path(loc), _reason(err, loc, raw), line, column))
    return problems


def _resolve_secret(base: Path, entry: Any, what: str, where: str) -> tuple[str | None, Problem | None]:
    literal = getattr(entry, what)
    env = getattr(entry, f"{what}_env")
    file = getattr(entry, f"{what}_file")
    if literal is not None:
        return str(literal), None
    if env is not None:
        value = os.environ.get(env)
        if not value:
            return None, Problem(f"{where}.{what}_env", f"environment variable {env} is not set")
        return value, None
    if file is not None:
        path = file if file.is_absolute() else base / file
        try:
            return path.read_text(encoding="utf-8").strip(), None
        except OSError as exc:
            return None, Problem(f"{where}.{what}_file", f"cannot read {path}: {exc.strerror or exc}")
    return None, None


def _resolve(cfg: TaktConfig, base: Path, resolve_secrets: bool) -> tuple[TaktConfig, list[Problem]]:
    problems: list[Problem] = []
    users = []
    for i, entry in enumerate(cfg.users):
        if not resolve_secrets:
            users.append(entry)
            continue
        token, problem = _resolve_secret(base, entry, "token", f"users[{i}]")
        if problem:
            problems.append(problem)
        elif token is not None and len(token) < MIN_TOKEN_LENGTH:
            source = "token" if entry.token is not None else ("token_env" if entry.token_env else "token_file")
            problems.append(Problem(f"users[{i}].{source}", f"a token needs at least {MIN_TOKEN_LENGTH} characters"))
        badge, problem = _resolve_secret(base, entry, "badge", f"users[{i}]")
        if problem:
            problems.append(problem)
        pin, problem = _resolve_secret(base, entry, "pin", f"users[{i}]")
        if problem:
            problems.append(problem)
        elif pin is not None and len(pin) < cfg.logon.pin_min_length:
            source = "pin" if entry.pin is not None else ("pin_env" if entry.pin_env else "pin_file")
            problems.append(Problem(f"users[{i}].{source}", f"a PIN needs at least {cfg.logon.pin_min_length} "
                                    "characters (logon.pin_min_length)"))
        users.append(entry.model_copy(update={"token": token, "badge": badge, "pin": pin}))
    node = cfg.node
    data_dir = node.data_dir.expanduser()
    if not data_dir.is_absolute():
        data_dir = (base / data_dir).resolve()
    url = node.database_url
    if node.database_url_env is not None:
        url = os.environ.get(node.database_url_env)
        if not url:  # the node cannot open its store without it
            problems.append(Problem("node.database_url_env", f"environment variable {node.database_url_env} is not set"))
        else:
            try:
                check_database_url(url)
            except ValueError as exc:
                problems.append(Problem("node.database_url_env", f"{node.database_url_env}: {exc}"))
                url = None
    node = node.model_copy(update={"data_dir": data_dir, "database_url": url})
    sync = cfg.sync
    if sync is not None and resolve_secrets:
        token, problem = _resolve_secret(base, sync, "token", "sync")
        if problem:
            problems.append(problem)
        sync = sync.model_copy(update={"token": token})
    if sync is not None and sync.ca_file is not None and not sync.ca_file.is_absolute():
        sync = sync.model_copy(update={"ca_file": (base / sync.ca_file).resolve()})
    if sync is not None and sync.erp is not None and not sync.erp.password_file.is_absolute():
        sync = sync.model_copy(update={"erp": sync.erp.model_copy(
            update={"password_file": (base / sync.erp.password_file).resolve()})})
    api = cfg.api
    if api.tls is not None:
        tls = api.tls.model_copy(update={name: (base / f).resolve() for name in ("cert_file", "key_file")
                                         if not (f := getattr(api.tls, name)).is_absolute()})
        if resolve_secrets:
            password, problem = _resolve_secret(base, tls, "password", "api.tls")
            if problem:
                problems.append(problem)
            tls = tls.model_copy(update={"password": password})
        api = api.model_copy(update={"tls": tls})
    historian = cfg.historian
    if historian.folder is not None and not historian.folder.is_absolute():
        historian = historian.model_copy(update={"folder": (base / historian.folder).resolve()})
    if historian.postgresql_url_file is not None and not historian.postgresql_url_file.is_absolute():
        historian = historian.model_copy(update={"postgresql_url_file": (base / historian.postgresql_url_file).resolve()})
    if resolve_secrets and historian.postgresql_url_env and not os.environ.get(historian.postgresql_url_env):
        problems.append(Problem("historian.postgresql_url_env",
                                f"environment variable {historian.postgresql_url_env} is not set"))
    if resolve_secrets and historian.postgresql_url_file is not None and not historian.postgresql_url_file.is_file():
        problems.append(Problem("historian.postgresql_url_file", f"{historian.postgresql_url_file} is not a file"))
    connectivity = cfg.connectivity
    if resolve_secrets:
        connectivity, found = _resolve_connectivity(cfg.connectivity, base)
        problems += found
    b2mml = cfg.b2mml
    if b2mml is not None:
        b2mml = b2mml.model_copy(update={
            name: (base / folder).resolve() for name in ("inbox", "outbox")
            if (folder := getattr(b2mml, name)) is not None and not folder.is_absolute()})
    retention = cfg.retention
    if retention.archive_dir is not None and not retention.archive_dir.expanduser().is_absolute():
        retention = retention.model_copy(update={"archive_dir": (base / retention.archive_dir).resolve()})
    reference = cfg.reference.expanduser() if cfg.reference is not None else None
    if reference is not None and not reference.is_absolute():
        reference = (base / reference).resolve()
    identity = cfg.identity  # its password file and CA file next to the site file (read when connecting)
    if identity is not None:
        identity = identity.model_copy(update={
            name: (base / f).expanduser().resolve() for name in ("bind_password_file", "ca_file")
            if (f := getattr(identity, name)) is not None and not f.expanduser().is_absolute()})
    instructions = cfg.instructions  # the site's instruction folder, next to the site file
    if instructions.folder is not None and not instructions.folder.expanduser().is_absolute():
        instructions = instructions.model_copy(update={"folder": (base / instructions.folder).expanduser().resolve()})
    if instructions.folder is not None and not instructions.folder.is_dir():
        problems.append(Problem("instructions.folder", f"{instructions.folder} is not a folder"))
    return cfg.model_copy(update={"users": users, "node": node, "api": api, "sync": sync, "b2mml": b2mml,
                                  "historian": historian, "instructions": instructions,
                                  "connectivity": connectivity, "retention": retention, "reference": reference,
                                  "identity": identity}), problems


def _resolve_connectivity(conn: ConnectivitySection, base: Path) -> tuple[ConnectivitySection, list[Problem]]:
    """The connectors' passwords read from their ``*_env`` variables / ``*_file`` files into ``password``."""
    problems: list[Problem] = []

    def resolved(entry: Any, what: str, where: str) -> Any:
        value, problem = _resolve_secret(base, entry, what, where)
        if problem:
            problems.append(problem)
        return entry.model_copy(update={what: value})

    opcua = []
    for i, server in enumerate(conn.opcua):
        server = resolved(server, "password", f"connectivity.opcua[{i}]")
        if server.security is not None:
            server = server.model_copy(update={"security": resolved(
                server.security, "private_key_password", f"connectivity.opcua[{i}].security")})
        opcua.append(server)
    mqtt = resolved(conn.mqtt, "password", "connectivity.mqtt") if conn.mqtt is not None else None
    sources = [resolved(src, "password", f"connectivity.mqtt_sources[{i}]") for i, src in enumerate(conn.mqtt_sources)]
    sparkplug = [resolved(src, "password", f"connectivity.sparkplug_sources[{i}]")
                 for i, src in enumerate(conn.sparkplug_sources)]
    return conn.model_copy(update={"opcua": opcua, "mqtt": mqtt, "mqtt_sources": sources,
                                   "sparkplug_sources": sparkplug}), problems


def cleartext_secrets(cfg: TaktConfig) -> list[str]:
    """Where the site file (loaded with ``resolve_secrets=False``) writes a secret in clear: a token, PIN or
    password itself instead of the environment variable (``*_env``) or file (``*_file``) holding it, or a
    database URL with a password in it. The values are never returned, only where they are.

    The choice: such a file is accepted (the demo's public tokens are written in it) but ``takt config check``
    and ``takt run`` warn and ``takt doctor`` counts it as a problem, naming the places."""
    found = [f"users[{i}].{what}" for i, u in enumerate(cfg.users) for what in ("token", "badge", "pin")
             if getattr(u, what) is not None]
    if cfg.sync is not None and cfg.sync.token is not None:
        found.append("sync.token")
    if cfg.api.tls is not None and cfg.api.tls.password is not None:
        found.append("api.tls.password")
    url = cfg.node.database_url
    if url and cfg.node.database_url_env is None:
        with contextlib.suppress(Exception):
            if make_url(url).password:
                found.append("node.database_url")
    conn = cfg.connectivity
    for i, server in enumerate(conn.opcua):
        if server.password is not None:
            found.append(f"connectivity.opcua[{i}].password")
        if server.security is not None and server.security.private_key_password is not None:
            found.append(f"connectivity.opcua[{i}].security.private_key_password")
    if conn.mqtt is not None and conn.mqtt.password is not None:
        found.append("connectivity.mqtt.password")
    found += [f"connectivity.mqtt_sources[{i}].password" for i, src in enumerate(conn.mqtt_sources)
              if src.password is not None]
    return found


def parse_config(text: str, file: str | os.PathLike[str] = "<config>", *, base_dir: Path | None = None,
                 resolve_secrets: bool = True, today: date | None = None) -> TaktConfig:
    """Validate configuration ``text``; ``file`` is only used in messages. Raises :class:`ConfigError`."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "not valid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise ConfigError(file, [Problem("", f"invalid YAML: {reason}", line, column)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, [Problem("", f"invalid YAML: {exc}")]) from None
    if data is None:
        raise ConfigError(file, [Problem("", "the file is empty; it needs at least node and site")])
    if not isinstance(data, dict):
        raise ConfigError(file, [Problem("", f"the file must be a mapping (key: value), not a {type(data).__name__}")])
    try:
        cfg = TaktConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(file, _problems_from(exc, data, root)) from None
    cfg, problems = _resolve(cfg, base_dir or Path.cwd(), resolve_secrets)
    problems += cfg.cross_check(today)
    if problems:
        located = []
        for p in problems:
            loc: list[str | int] = []
            for part in p.path.replace("]", "").replace("[", ".").split("."):
                loc.append(int(part) if part.isdigit() else part)
            node = _node_at(root, loc) if p.path else None
            located.append(Problem(p.path, p.reason, node.start_mark.line + 1 if node else None,
                                   node.start_mark.column + 1 if node else None))
        raise ConfigError(file, located)
    return cfg


def load_config(path: str | os.PathLike[str], *, resolve_secrets: bool = True, today: date | None = None) -> TaktConfig:
    """Read and validate a site configuration file. Relative paths in it (``data_dir``, token files)
    are relative to the file's folder. Raises :class:`ConfigError` naming the file, path and reason."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [Problem("", f"cannot read the file: {exc.strerror or exc}")]) from None
    return parse_config(text, file, base_dir=file.resolve().parent, resolve_secrets=resolve_secrets, today=today)


def demo_config_path() -> Path:
    """The demo site's configuration: ``config/demo.yaml`` of the checkout, or the copy inside the package."""
    if DEMO_CONFIG.is_file():
        return DEMO_CONFIG
    packaged = Path(__file__).resolve().parent / "demo.yaml"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError(f"the demo configuration is missing: looked for {DEMO_CONFIG} and {packaged}")
