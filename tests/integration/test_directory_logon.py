"""Directory users (issue 17) against a real OpenLDAP (Debian's ``slapd``, started here on free ports with TLS, its
people and groups loaded from LDIF): a badge logon over ldaps:// and StartTLS, group -> role, the directory
password as second factor, a disabled account refused at once (and its open session ended), and with the
directory down, cached people log on within the cache time and are refused after; ``/health`` shows it all, and
``takt users sync|list|check`` says what the node believes."""
from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ldap3
import pytest
import yaml
from sqlalchemy import select

from edge.store import schema
from edge.store.directory import cached
from edge.store.users import save_user
from simulators.directory import ADMIN_DN, SUFFIX, Directory
from takt.config import load_config
from takt.config.identity import IdentitySection
from takt.identity import Directory as DirectoryClient
from tests.integration.conftest import TOKENS, RunningNode, start_node

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/slapd").exists(),
                                reason="no slapd (scripts/test installs Debian's slapd and ldap-utils)")
ROOT = Path(__file__).resolve().parents[2]
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"


def _person(uid: str, name: str, badge: str | None, password: str, *extra: str) -> str:
    lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {name}",
             f"sn: {name.split()[-1]}", f"userPassword: {password}", *extra]
    if badge is not None:
        lines.append(f"employeeNumber: {badge}")
    return "\n".join(lines) + "\n"


def _group(cn: str, *members: str) -> str:
    return "\n".join([f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}",
                      *(f"member: uid={m},{PEOPLE}" for m in members)]) + "\n"


LDIF = "\n".join([
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: plant\no: Plant\n",
    f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
    f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
    f"dn: cn=takt-node,{SUFFIX}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\n"
    "cn: takt-node\nuserPassword: node-bind-secret\n",
    _person("anna", "Anna Jansen", "7001", "anna-dir-pw", "preferredLanguage: nl"),
    _person("quinn", "Quinn de Vries", "7002", "quinn-dir-pw"),
    _person("dora", "Dora Locked", "7003", "dora-dir-pw", "pwdAccountLockedTime: 000001010000Z"),
    _person("olaf", "Olaf Office", "7004", "olaf-dir-pw"),
    _group("takt-operators", "anna", "dora"),
    _group("takt-quality", "quinn"),
    _group("office", "olaf", "anna"),
])
ROLES = {"takt-operators": ["operator"], f"cn=takt-quality,{GROUPS}": ["quality"]}


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    found = Directory(tmp_path_factory.mktemp("slapd"), LDIF)
    found.start()
    yield found
    found.stop()


def identity(directory: Directory, *, start_tls: bool = False, **more: Any) -> IdentitySection:
    os.environ["TAKT_TEST_LDAP_BIND"] = "node-bind-secret"
    return IdentitySection.model_validate({
        "url": directory.url if start_tls else directory.tls_url, "start_tls": start_tls,
        "ca_file": directory.ca_file, "bind_dn": f"cn=takt-node,{SUFFIX}", "bind_password_env": "TAKT_TEST_LDAP_BIND",
        "users_base": PEOPLE, "groups_base": GROUPS, "roles": ROLES, **more})


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/store.sqlite")
    yield running
    running.stop()


def use(node: RunningNode, config: IdentitySection) -> DirectoryClient:
    client = DirectoryClient(config)
    app: Any = node.server.config.app
    app.state.directory = client
    return client


def logon(node: RunningNode, **body: Any) -> httpx.Response:
    return httpx.post(f"{node.url}/api/v1/sessions", json=body, timeout=30)


def health(node: RunningNode) -> dict[str, Any]:
    answer = httpx.get(f"{node.url}/health", headers={"Authorization": f"Bearer {TOKENS['admin']}"}, timeout=30)
    directory: dict[str, Any] = answer.json()["directory"]
    return directory


def set_locked(directory: Directory, uid: str, locked: bool) -> None:
    with ldap3.Connection(ldap3.Server("127.0.0.1", port=directory.port), ADMIN_DN, directory.admin_password,
                          auto_bind=True) as conn:
        change = ([(ldap3.MODIFY_REPLACE, ["000001010000Z"])] if locked else [(ldap3.MODIFY_DELETE, [])])
        assert conn.modify(f"uid={uid},{PEOPLE}", {"pwdAccountLockedTime": change}), conn.result


@pytest.mark.parametrize("start_tls", [False, True], ids=["ldaps", "starttls"])
def test_a_directory_user_logs_on_with_the_roles_of_their_groups(directory: Directory, node: RunningNode,
                                                                 start_tls: bool) -> None:
    use(node, identity(directory, start_tls=start_tls))
    anna = logon(node, badge="7001")  # an operator: the badge alone, as for a site-file operator
    assert anna.status_code == 201, anna.text
    assert (anna.json()["user"], anna.json()["name"], anna.json()["roles"], anna.json()["language"]) == \
        ("anna", "Anna Jansen", ["operator"], "nl")  # "office" gives no Takt role
    me = httpx.get(f"{node.url}/api/v1/journal", headers={"Authorization": f"Bearer {anna.json()['token']}"})
    assert me.status_code in (200, 403)  # the session token is a bearer token of the node
    # quality is privileged: the directory password is the second factor, always
    assert logon(node, badge="7002").json()["code"] == "PIN_REQUIRED"
    assert logon(node, badge="7002", pin="not-her-password").json()["code"] == "PIN_WRONG"
    quinn = logon(node, badge="7002", pin="quinn-dir-pw")
    assert quinn.status_code == 201 and quinn.json()["roles"] == ["quality"], quinn.text
    # in no mapped group: not a Takt user, answered like an unknown badge
    assert logon(node, badge="7004").json()["code"] == "PIN_REQUIRED"
    assert logon(node, badge="7004", pin="olaf-dir-pw").json()["code"] == "PIN_WRONG"
    assert logon(node, badge="9999", pin="whatever").json()["code"] == "PIN_WRONG"
    assert logon(node, badge="anna").json()["code"] == "PIN_REQUIRED"  # a user name is no badge
    state = health(node)
    assert state["status"] == "up" and state["cache"]["users"] >= 2 and state["down_since"] is None


def test_a_disabled_account_is_refused_at_once(directory: Directory, node: RunningNode) -> None:
    client = use(node, identity(directory))
    assert logon(node, badge="7003", pin="dora-dir-pw").json()["code"] == "PIN_WRONG"  # locked in the directory
    assert logon(node, badge="7003").json()["code"] == "PIN_REQUIRED"  # told nothing more than for anyone unknown
    anna = logon(node, badge="7001")
    assert anna.status_code == 201
    session = {"Authorization": f"Bearer {anna.json()['token']}"}
    assert httpx.get(f"{node.url}/api/v1/journal", headers=session).status_code != 401
    try:
        set_locked(directory, "anna", True)
        assert logon(node, badge="7001").json()["code"] == "PIN_REQUIRED"  # the next scan: refused
        gone = httpx.get(f"{node.url}/api/v1/journal", headers=session)
        assert gone.status_code == 401  # and her open session ended with it
        kept = cached(node.store, "anna")
        assert kept is not None and kept.disabled
        set_locked(directory, "anna", False)
        assert logon(node, badge="7001").status_code == 201  # unlocked in the directory: back at once
        # locked while she is logged on and scans nothing: the node's periodic sync ends her session
        again = {"Authorization": f"Bearer {logon(node, badge='7001').json()['token']}"}
        set_locked(directory, "anna", True)
        synced = client.sync_everyone(node.store)
        assert "anna" in synced.refused and "dora" in synced.refused and synced.people == 3
        assert httpx.get(f"{node.url}/api/v1/journal", headers=again).status_code == 401
    finally:
        set_locked(directory, "anna", False)


def test_the_node_syncs_with_the_directory_while_it_runs(directory: Directory, node: RunningNode) -> None:
    client = use(node, identity(directory, refresh_minutes=0.01))  # every 0.6 s

    async def run_a_while() -> None:
        task = asyncio.create_task(client.refresh_forever(node.store))
        await asyncio.sleep(2.0)
        task.cancel()

    asyncio.run(run_a_while())
    state = health(node)
    assert state["status"] == "up" and state["cache"]["users"] == 3  # anna, quinn, dora (olaf has no Takt role)
    assert state["cache"]["newest_age_s"] < 2.0


def test_directory_down_cached_people_log_on_within_the_cache_time(directory: Directory, node: RunningNode) -> None:
    cache_s = 6.0
    use(node, identity(directory, cache_hours=cache_s / 3600, password_for="everyone", down_retry_s=1))
    assert logon(node, badge="7001", pin="anna-dir-pw").status_code == 201
    assert logon(node, badge="7002", pin="quinn-dir-pw").status_code == 201
    confirmed = time.monotonic()
    directory.stop()
    try:
        # the cache is in the store: a node restarted (a new directory client) logs on from it as well
        client = use(node, identity(directory, cache_hours=cache_s / 3600, password_for="everyone", down_retry_s=1))
        quinn = logon(node, badge="7002", pin="quinn-dir-pw")
        assert quinn.status_code == 201 and quinn.json()["roles"] == ["quality"], quinn.text
        assert logon(node, badge="7002", pin="wrong-password").json()["code"] == "PIN_WRONG"
        assert logon(node, badge="7001", pin="anna-dir-pw").status_code == 201
        unknown = logon(node, badge="7004", pin="olaf-dir-pw")  # never confirmed here: nobody can say
        assert (unknown.status_code, unknown.json()["code"]) == (503, "DIRECTORY_UNAVAILABLE")
        state = health(node)
        assert state["status"] == "down" and state["down_since"] and state["last_error"]
        assert state["cache"]["users"] == 2 and state["cache"]["newest_age_s"] < cache_s
        assert client.up is False
        time.sleep(max(0.0, cache_s + 0.5 - (time.monotonic() - confirmed)))
        late = logon(node, badge="7002", pin="quinn-dir-pw")  # the cache time is over
        assert (late.status_code, late.json()["code"]) == (503, "DIRECTORY_UNAVAILABLE")
    finally:
        directory.start()
    time.sleep(1.1)  # down_retry_s: logons ask the directory again
    back = logon(node, badge="7002", pin="quinn-dir-pw")
    assert back.status_code == 201, back.text
    assert health(node)["status"] == "up"


def test_takt_users_sync_list_and_check(directory: Directory, tmp_path: Path) -> None:
    site = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    password_file = tmp_path / "bind.secret"
    password_file.write_text("node-bind-secret\n")
    site["node"]["data_dir"] = str(tmp_path / "data")
    site["identity"] = {"url": directory.tls_url, "ca_file": str(directory.ca_file),
                        "bind_dn": f"cn=takt-node,{SUFFIX}", "bind_password_file": "bind.secret",
                        "users_base": PEOPLE, "groups_base": GROUPS, "roles": ROLES}
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    assert load_config(config).identity is not None
    takt = [sys.executable, "-m", "takt"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if shutil.which("takt") is None:
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    (tmp_path / "data").mkdir()
    from edge.store import Store, sqlite_url

    Store(sqlite_url(tmp_path / "data")).migrate()
    synced = subprocess.run([*takt, "users", "sync", "-c", str(config)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert synced.returncode == 0, synced.stderr
    assert "3 people" in synced.stdout and "2 may log on" in synced.stdout, synced.stdout
    listed = subprocess.run([*takt, "users", "list", "-c", str(config)], capture_output=True, text=True, env=env,
                            timeout=120).stdout
    rows = {line.split()[0]: line for line in listed.splitlines()[1:]}
    assert "directory" in rows["quinn"] and "quality" in rows["quinn"] and " yes " in rows["quinn"]
    assert "directory" in rows["dora"] and " no " in rows["dora"]
    assert "olaf" not in rows  # no Takt role and never known here
    checked = subprocess.run([*takt, "users", "check", "dora", "-c", str(config)], capture_output=True, text=True,
                             env=env, timeout=120)
    assert checked.returncode == 1 and "disabled: yes" in checked.stdout
    assert "cannot log on: disabled in the directory" in checked.stdout, checked.stdout
    checked = subprocess.run([*takt, "users", "check", "quinn", "-c", str(config)], capture_output=True, text=True,
                             env=env, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"group cn=takt-quality,{GROUPS}: gives quality" in checked.stdout
    assert "can log on with badge and directory password as quality" in checked.stdout


def set_badge(directory: Directory, uid: str, badge: str) -> None:
    with ldap3.Connection(ldap3.Server("127.0.0.1", port=directory.port), ADMIN_DN, directory.admin_password,
                          auto_bind=True) as conn:
        assert conn.modify(f"uid={uid},{PEOPLE}", {"employeeNumber": [(ldap3.MODIFY_REPLACE, [badge])]}), conn.result


def test_a_new_badge_in_the_directory_replaces_the_old_one(directory: Directory, node: RunningNode) -> None:
    use(node, identity(directory))
    assert logon(node, badge="7002", pin="quinn-dir-pw").status_code == 201
    try:
        set_badge(directory, "quinn", "7010")  # her card was lost and replaced
        assert logon(node, badge="7002", pin="quinn-dir-pw").json()["code"] == "PIN_WRONG"
        again = logon(node, badge="7010", pin="quinn-dir-pw")
        assert again.status_code == 201 and again.json()["user"] == "quinn"
    finally:
        set_badge(directory, "quinn", "7002")


def test_a_site_file_user_is_never_taken_over_by_the_directory(directory: Directory, node: RunningNode) -> None:
    save_user(node.store, "anna", "Anna (site file)", ["warehouse"], "anna-site-token-0000", badge="S-1")
    use(node, identity(directory))
    assert logon(node, badge="7001").json()["code"] == "PIN_REQUIRED"  # the directory's anna is not used
    local = logon(node, badge="S-1")  # the site file's anna logs on as the site file says
    assert local.status_code == 201 and local.json()["roles"] == ["warehouse"]
    assert cached(node.store, "anna") is None


def test_a_directory_user_signs_with_their_directory_password(directory: Directory, node: RunningNode) -> None:
    use(node, identity(directory))
    item = httpx.post(f"{node.url}/api/v1/items", json={"item": "SEAL-9", "unit": "pcs", "revision": "A"}, timeout=30,
                      headers={"Authorization": f"Bearer {TOKENS['supervisor']}", "Idempotency-Key": "item-seal-9"})
    assert item.status_code == 201, item.text
    token = logon(node, badge="7002", pin="quinn-dir-pw").json()["token"]

    def sign(password: str) -> httpx.Response:
        return httpx.post(f"{node.url}/api/v1/signatures", timeout=30, json={
            "events": [{"seq": item.json()["events"][0]["seq"]}], "meaning": "approved"}, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8), "X-Takt-Pin": password})

    assert sign("not-her-password").json()["code"] == "SIGNATURE_INVALID"
    signed = sign("quinn-dir-pw")
    assert signed.status_code == 201, signed.text
    with node.store.engine.connect() as conn:
        row = conn.execute(select(schema.record_signatures)).one()
    assert (row.signer, row.signer_name, row.meaning) == ("quinn", "Quinn de Vries", "approved")
