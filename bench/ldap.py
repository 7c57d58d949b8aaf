"""Directory logon benchmark: a page logon (``POST /api/v1/sessions``) of a person from a real OpenLDAP (Debian's
``slapd`` over ldaps://, started here), and with the directory down, from the store's cache.
``python -m bench.ldap [--logons N] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``ldap_logon_p95_ms`` (goal <= 200 ms): a quality inspector's badge and directory password, HTTP round trip on
  the loopback: the badge's scrypt hash, the directory search for the badge and for the groups, a bind as the
  person to check the password, the password's scrypt hash kept for the cache, the session written.
- ``ldap_logon_operator_p95_ms``: an operator's badge alone (no bind as them, no password hash).
- ``ldap_logon_cached_p95_ms``: the inspector with the directory down: a refused connection, then the cache (the
  badge's and the password's scrypt).
- ``local_logon_p95_ms``: the baseline, a site-file user's badge and PIN (two scrypts, no directory).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from simulators.directory import SUFFIX, Directory
from simulators.ports import free_port

PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
LDIF = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: plant
o: Plant

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: cn=takt-node,{SUFFIX}
objectClass: simpleSecurityObject
objectClass: organizationalRole
cn: takt-node
userPassword: node-bind-secret

dn: uid=quinn,{PEOPLE}
objectClass: inetOrgPerson
uid: quinn
cn: Quinn de Vries
sn: de Vries
employeeNumber: 7002
userPassword: quinn-dir-pw

dn: uid=anna,{PEOPLE}
objectClass: inetOrgPerson
uid: anna
cn: Anna Jansen
sn: Jansen
employeeNumber: 7001
userPassword: anna-dir-pw

dn: cn=takt-quality,{GROUPS}
objectClass: groupOfNames
cn: takt-quality
member: uid=quinn,{PEOPLE}

dn: cn=takt-operators,{GROUPS}
objectClass: groupOfNames
cn: takt-operators
member: uid=anna,{PEOPLE}
"""
FIGURES: list[tuple[str, float, str]] = []


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 2), unit))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def serve(folder: Path, directory: Directory) -> tuple[Any, Any, Any, threading.Thread, str]:
    """A bare node on a SQLite store with the directory configured, served on a free port."""
    import uvicorn

    from edge.service import Service
    from edge.store import Store
    from edge.store.users import save_user
    from takt.api.app import create_app
    from takt.config.identity import IdentitySection
    from takt.identity import Directory as DirectoryClient

    store = Store(f"sqlite:///{folder}/store.sqlite")
    store.migrate()
    node_id = store.node_id("bench-ldap")
    save_user(store, "priya", "Priya (site file)", ["quality"], "bench-token-quality-0000", badge="8002",
              pin="246813")
    service = Service(store, node_id).start()

    class _Node:
        pass

    node: Any = _Node()
    node.store, node.service, node.node_id = store, service, node_id
    app = create_app(node)
    os.environ["TAKT_BENCH_LDAP_BIND"] = "node-bind-secret"
    app.state.directory = DirectoryClient(IdentitySection.model_validate({
        "url": directory.tls_url, "ca_file": directory.ca_file, "bind_dn": f"cn=takt-node,{SUFFIX}",
        "bind_password_env": "TAKT_BENCH_LDAP_BIND", "users_base": PEOPLE, "groups_base": GROUPS,
        "roles": {"takt-quality": ["quality"], "takt-operators": ["operator"]}}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return store, service, server, thread, f"http://127.0.0.1:{port}"


def timed_logons(client: httpx.Client, n: int, body: dict[str, str], expected: int = 201) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.post("/api/v1/sessions", json=body)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != expected:
            raise SystemExit(f"logon {body['badge']}: {answer.status_code} {answer.text}")
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--logons", type=int, default=60, help="logons per figure")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        directory = Directory(folder / "slapd", LDIF)
        directory.start()
        store, service, server, thread, url = serve(folder, directory)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                timed_logons(client, 3, {"badge": "7002", "pin": "quinn-dir-pw"})  # warm-up: TLS, imports
                figure("ldap_logon_p95_ms", p95(timed_logons(client, args.logons,
                                                             {"badge": "7002", "pin": "quinn-dir-pw"})), "ms")
                figure("ldap_logon_operator_p95_ms", p95(timed_logons(client, args.logons, {"badge": "7001"})), "ms")
                figure("local_logon_p95_ms", p95(timed_logons(client, args.logons,
                                                              {"badge": "8002", "pin": "246813"})), "ms")
                directory.stop()
                figure("ldap_logon_cached_p95_ms", p95(timed_logons(client, args.logons,
                                                                    {"badge": "7002", "pin": "quinn-dir-pw"})), "ms")
        finally:
            directory.stop()
            server.should_exit = True
            thread.join(10)
            service.stop()
            store.close()
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json is not None:
        args.json.write_text(json.dumps({name: value for name, value, _ in FIGURES}, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
