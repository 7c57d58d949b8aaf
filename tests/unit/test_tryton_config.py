"""The ``sync.erp`` section that names a Tryton ERP as the central side, and how the daemon picks the adapter."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.store import Store
from erp_sync.client import CentralClient
from erp_sync.daemon import central_for, central_name
from erp_sync.tryton import TrytonCentral, from_stamp_us, stamp_us
from takt.config import load_config
from tests.unit.test_config import demo_with, refused


def tryton(data: dict[str, Any]) -> None:
    data["sync"] = {"erp": {"kind": "tryton", "url": "http://erp.example.com:8000", "database": "plant",
                            "user": "takt", "password_file": "tryton.password"}}


def test_an_erp_section_names_tryton_and_its_password_file_relative_to_the_site_file(tmp_path: Path) -> None:
    (tmp_path / "tryton.password").write_text("s3cret\n")
    cfg = load_config(demo_with(tmp_path, edit=tryton))
    assert cfg.sync is not None and cfg.sync.erp is not None
    assert cfg.sync.erp.password_file == (tmp_path / "tryton.password").resolve()
    assert cfg.sync.erp.warehouse == "WH" and cfg.sync.central_url is None
    store = Store(f"sqlite:///{tmp_path}/edge.sqlite")
    store.migrate()
    central = central_for(cfg.sync, "n1", store)
    assert isinstance(central, TrytonCentral) and central.rpc.password == "s3cret"
    assert central_name(cfg.sync) == "tryton http://erp.example.com:8000/plant"


def test_an_erp_section_with_a_central_url_or_a_wrong_kind_is_refused_by_name(tmp_path: Path) -> None:
    def both(data: dict[str, Any]) -> None:
        tryton(data)
        data["sync"]["central_url"] = "https://central.example.com"

    def odoo(data: dict[str, Any]) -> None:
        tryton(data)
        data["sync"]["erp"]["kind"] = "odoo"
        data["sync"]["erp"]["url"] = "erp.example.com"

    assert "leave out central_url" in refused(demo_with(tmp_path, edit=both)).problems[0].reason
    assert {p.path for p in refused(demo_with(tmp_path, edit=odoo)).problems} == {"sync.erp.kind", "sync.erp.url"}

    def nothing(data: dict[str, Any]) -> None:
        data["sync"] = {"token": "x" * 20}

    assert "central_url (with a token), or an erp" in refused(demo_with(tmp_path, edit=nothing)).problems[0].reason


def test_without_an_erp_section_the_daemon_keeps_the_takt_sync_client(tmp_path: Path) -> None:
    def central(data: dict[str, Any]) -> None:
        data["sync"] = {"central_url": "https://central.example.com", "token": "t" * 24}

    cfg = load_config(demo_with(tmp_path, edit=central))
    assert cfg.sync is not None
    store = Store(f"sqlite:///{tmp_path}/edge.sqlite")
    store.migrate()
    assert isinstance(central_for(cfg.sync, "n1", store), CentralClient)


def test_the_pull_cursor_is_the_tryton_stamp_in_microseconds() -> None:
    from datetime import datetime

    stamp = datetime(2026, 11, 26, 3, 4, 5, 678901)
    assert stamp_us(stamp) == 1_795_662_245_678_901
    assert from_stamp_us(stamp_us(stamp)) == stamp
    assert stamp_us(stamp) < 2**63 - 1  # fits the ledger's BIGINT
