"""A full disk: recording refuses with a clear 503, /health says so, nothing acknowledged is damaged, and recording
resumes by itself when space returns. On a real, small tmpfs mounted for the test."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge.service import DISK_FULL
from edge.store import Store, sqlite_url
from edge.store.verify import verify
from tests.integration.conftest import TOKENS, RunningNode, start_node

SIZE = "3m"


def _mount_reason() -> str | None:
    """None when this process may mount a tmpfs (root with CAP_SYS_ADMIN, not blocked by a seccomp profile), else
    why not: the test is then skipped with that reason, since a full disk cannot be made without a file system of
    its own (filling the machine's own /tmp would disturb every other test)."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root (CAP_SYS_ADMIN); tests run as an ordinary user here"
    folder = tempfile.mkdtemp(prefix="takt-mount-probe-")
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder], capture_output=True,
                              text=True, timeout=10)
        if done.returncode != 0:
            return f"`mount -t tmpfs` is refused in this sandbox: {done.stderr.strip()}"
        subprocess.run(["umount", folder], check=True, timeout=10)
        return None
    except FileNotFoundError:
        return "there is no mount command on this machine"
    finally:
        os.rmdir(folder)


MOUNT_REFUSED = _mount_reason()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="takt-small-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)], check=True, timeout=10)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=10)
        folder.rmdir()


def _item(node: RunningNode, key: str) -> httpx.Response:
    return node.post("admin", "/items", {"item": key.upper(), "description": "d" * 150, "unit": "pcs",
                                         "revision": "A"}, key=key)


def _fill(folder: Path) -> Path:
    """Write a filler file until the file system is full."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)
    return filler


@pytest.mark.skipif(MOUNT_REFUSED is not None, reason=MOUNT_REFUSED or "")
def test_a_full_disk_refuses_commands_clearly_and_recovers_by_itself(small_disk: Path) -> None:
    data = small_disk / "node"
    data.mkdir()
    node = start_node(sqlite_url(data), "disk-node")
    acknowledged: list[str] = []
    try:
        for n in range(30):
            r = _item(node, f"before-{n}")
            assert r.status_code == 201, r.text
            acknowledged.append(f"before-{n}")
        filler = _fill(small_disk)
        refused = None
        for n in range(2000):  # the WAL may still have room for a few commits
            r = _item(node, f"full-{n}")
            if r.status_code == 201:
                acknowledged.append(f"full-{n}")
                continue
            refused = r
            break
        assert refused is not None, "the disk never filled up"
        assert refused.status_code == 503, refused.text
        body = refused.json()
        assert body["code"] == "STORE_UNAVAILABLE"
        assert DISK_FULL in body["message"] and "free space" in body["message"]
        assert "INSERT" not in body["message"], "the refusal shows SQL, not what is wrong"
        health = httpx.get(f"{node.url}/health", timeout=10, headers={"Authorization": f"Bearer {TOKENS['admin']}"})
        assert health.status_code == 503
        assert DISK_FULL in health.json()["components"]["writer"]["last_error"]
        again = _item(node, "full-again")  # still full: refused again, the node still answers
        assert again.status_code == 503

        filler.unlink()  # space returns: no restart, the next command is recorded
        after = _item(node, "after-space")
        assert after.status_code == 201, after.text
        acknowledged.append("after-space")
        assert _item(node, "full-again").status_code == 201  # the refused key was not remembered: recorded now
        acknowledged.append("full-again")
        assert httpx.get(f"{node.url}/health", timeout=10).status_code == 200
    finally:
        node.stop()
    path = data / "takt.sqlite"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    store = Store(sqlite_url(data))
    try:
        keys = {e.idempotency_key for e in store.journal()}
        assert set(acknowledged) <= keys, f"acknowledged but lost: {sorted(set(acknowledged) - keys)[:5]}"
        assert verify(store).ok
    finally:
        store.close()
