"""How ``takt-rev0001.sql`` was made: the demo node of the commit before migration 0002 (c1ed36d, schema
revision 0001) recording a shift's worth of work over its HTTP API, dumped with ``sqlite3``'s ``iterdump``.

Run against a checkout of that commit (``git archive c1ed36d | tar -x -C OLD``), not against this one:
``PYTHONPATH=OLD python tests/data/stores/make_rev0001.py OLD OUT.sql``. Kept for the record; the test reads the
dump only (tests/integration/test_upgrades.py).
"""
from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ADMIN = {"Authorization": "Bearer demo-admin-token-0000000000"}
OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}
WAREHOUSE = {"Authorization": "Bearer demo-warehouse-token-00000"}


def main(old: Path, out: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="takt-rev0001-"))
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "demo", "--port", str(port), "--data-dir", str(data)],
                            cwd=old)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            time.sleep(0.1)
        n = 0

        def post(method: str, path: str, body: dict[str, object], auth: dict[str, str]) -> None:
            nonlocal n
            n += 1
            r = httpx.request(method, base + path, json=body, headers={**auth, "Idempotency-Key": f"rev0001-{n}"})
            assert r.status_code < 300, (path, r.status_code, r.text)

        op = "/work-orders/WO-1001/operations/10"
        post("POST", op + "/start", {}, OPERATOR)
        post("POST", op + "/clock-on", {}, OPERATOR)
        post("PUT", "/equipment/PRESS-10/state", {"state": "running"}, ADMIN)
        post("POST", "/work-orders/WO-1001/issues", {"lot": "H-2232", "bin": "LS-20", "quantity": 5}, OPERATOR)
        post("POST", "/work-orders/WO-1001/issues", {"lot": "MOT-8812", "bin": "LS-10", "quantity": 5}, OPERATOR)
        for i in range(20):
            post("POST", "/stock/moves", {"lot": "BLT-0907", "from_bin": "A-01-2", "to_bin": "LS-20",
                                          "quantity": 10}, WAREHOUSE)
            post("POST", op + "/production", {"good": 1, "scrap": 1 if i % 10 == 0 else 0,
                                              **({"scrap_reason": "bent shaft"} if i % 10 == 0 else {})}, OPERATOR)
            if i % 8 == 3:
                post("PUT", "/equipment/PRESS-10/state", {"state": "down", "reason": "jam"}, ADMIN)
                post("PUT", "/equipment/PRESS-10/state", {"state": "running"}, ADMIN)
        post("POST", op + "/pause", {"reason": "break"}, OPERATOR)
        post("POST", op + "/resume", {}, OPERATOR)
        post("POST", "/lots", {"lot": "H-9001", "item": "HOUSING-20", "quantity": 30, "bin": "REC-01",
                               "supplier_lot": "GJ-60001"}, WAREHOUSE)
        post("POST", "/lots/H-9001/hold", {"reason": "incoming inspection"}, WAREHOUSE)
        post("POST", "/nonconformances", {"ncr": "NCR-1", "description": "scratched housing", "lot": "H-2231"},
             OPERATOR)
        post("POST", "/stock/scrap", {"lot": "SK-3301", "bin": "A-02-4", "quantity": 2, "reason": "torn"}, WAREHOUSE)
        post("POST", op + "/clock-off", {}, OPERATOR)
        post("POST", op + "/complete", {}, OPERATOR)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    with contextlib.closing(sqlite3.connect(data / "takt.sqlite")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out.write_text("\n".join(conn.iterdump()) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
