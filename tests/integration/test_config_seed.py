"""Seeding a node from its configuration: through the write path, once, and harmless on every restart."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from edge.store.users import user_by_token
from edge.store.verify import verify
from takt.config import ConfigError, TaktConfig, load_config
from takt.runtime import Node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def changed(cfg: TaktConfig, section: str, index: int, **fields: object) -> TaktConfig:
    md = cfg.master_data
    entries = list(getattr(md, section))
    entries[index] = entries[index].model_copy(update=fields)
    return cfg.model_copy(update={"master_data": md.model_copy(update={section: entries})})


def test_seeding_goes_through_the_journal_once_and_restarts_record_nothing(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    with Node(cfg, data_dir=tmp_path) as node:
        assert node.seed_report is not None and len(node.seed_report.recorded) == 47
        entries = list(node.store.journal())
        assert {e.idempotency_key for e in entries} >= {"seed:item:PUMP-100", "seed:lot:L123", "seed:work-order:WO-1001"}
        assert {(e.actor, e.origin) for e in entries} == {("seed", "erp")}
        admin = user_by_token(node.store, "demo-admin-token-0000000000")
        assert admin is not None and admin.roles == frozenset({"admin"})
        assert node.node_id == "demo-eindhoven-assembly-1"
    with Node(cfg, data_dir=tmp_path) as node:
        assert node.seed_report is not None
        assert (len(node.seed_report.recorded), len(node.seed_report.unchanged)) == (0, 47)
        assert node.store.last_seq() == 48  # R-7781 opens its incoming inspection task too
        assert verify(node.store).ok


def test_a_changed_definition_is_recorded_once_and_a_changed_fact_is_kept(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    Node(cfg, data_dir=tmp_path).start().stop()
    edited = changed(changed(cfg, "items", 0, description="Centrifugal pump 0.75 kW, IE4 motor"),
                     "work_orders", 0, quantity=Decimal(25))
    for _ in range(2):
        with Node(edited, data_dir=tmp_path) as node:
            state = node.store.load_state()
            assert state.items["PUMP-100"].description == "Centrifugal pump 0.75 kW, IE4 motor"
            assert state.work_orders["WO-1001"].quantity == 20  # a released order changes through the ERP
            assert node.store.last_seq() == 49
    assert node.seed_report is not None and node.seed_report.kept == ["seed:work-order:WO-1001"]


def test_a_refused_seed_names_the_place_in_the_file(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    # cross_check catches this in a file; a config built in code reaches the domain, which refuses it
    bad = changed(cfg, "work_orders", 0, operations=[
        cfg.master_data.work_orders[0].operations[0], cfg.master_data.work_orders[0].operations[0]])
    with pytest.raises(ConfigError) as caught:
        Node(bad, data_dir=tmp_path, config_file="demo.yaml").start()
    assert str(caught.value).startswith("demo.yaml: master_data.work_orders[0].operations[1].operation: refused")
    assert "DUPLICATE_OPERATION" in str(caught.value)
