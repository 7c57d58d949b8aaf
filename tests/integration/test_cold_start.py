"""Starting on a large store: the state loads fast and in the background, and nothing is decided before it is there."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from edge.domain import commands as c
from edge.domain.plant import STATE_TABLES
from edge.service import Service
from edge.store import Store, schema, sqlite_url
from takt.config import load_config
from takt.runtime import Node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
ROLES = frozenset({"admin", "warehouse"})


def _through_sqlalchemy(store: Store) -> dict[str, dict[Any, Any]]:
    """The state tables read the plain SQLAlchemy way (rows → mappings → entities)."""
    tables: dict[str, dict[Any, Any]] = {}
    with store.engine.connect() as conn:
        for name in STATE_TABLES:
            spec = schema.ENTITY_TABLES[name]
            tables[name] = {spec.key_of(e): e for e in (spec.entity(r) for r in conn.execute(select(spec.table)))}
    return tables


def test_the_fast_loader_gives_the_entities_sqlalchemy_gives(tmp_path: Path) -> None:
    with Node(load_config(DEMO), data_dir=tmp_path) as node:
        node.service.handle(c.MoveStock(idempotency_key="m1", actor="admin1", actor_roles=ROLES, lot="H-2231",
                                        from_bin="A-01-1", to_bin="A-01-2", quantity=Decimal("1.5")))
        loaded = node.store.load_state()
        expected = _through_sqlalchemy(node.store)
    assert sum(len(t) for t in expected.values()) > 30  # items, bins, lots, stock, orders, operations, plans ...
    for name in STATE_TABLES:
        assert getattr(loaded, name) == expected[name], name
    assert loaded.stock[("H-2231", "A-01-2")].quantity == Decimal("1.5")


def test_a_background_load_answers_commands_sent_before_it_ran(tmp_path: Path) -> None:
    Node(load_config(DEMO), data_dir=tmp_path).start().stop()
    store = Store(sqlite_url(tmp_path))
    seeded = store.last_seq()
    service = Service(store, "demo-eindhoven-assembly-1").start(load_in_background=True)
    try:
        assert not service.state_loaded  # nothing asked for it yet: the API would be serving by now
        # A command that needs the loaded state (the lot, its bin and stock): decided only after the load.
        moved = service.handle(c.MoveStock(idempotency_key="m1", actor="admin1", actor_roles=ROLES,
                                           lot="H-2231", from_bin="A-01-1", to_bin="A-01-2", quantity=Decimal(2)))
        assert service.state_loaded and service.load_seconds is not None
        assert [e["type"] for e in moved.events] == ["StockMoved"]
        assert seeded > 30 and moved.events[0]["seq"] == seeded + 1  # after the seeded events: the sequence was loaded
    finally:
        service.stop()
        store.close()


def test_a_restart_finds_its_seeds_in_the_command_log_without_waiting_for_the_state(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    with Node(cfg, data_dir=tmp_path) as first:
        assert first.seed_report is not None
        seeds = len(first.seed_report.recorded)
    with Node(cfg, data_dir=tmp_path, load_in_background=True) as node:
        assert node.seed_report is not None
        assert seeds > 30 and (len(node.seed_report.recorded), len(node.seed_report.unchanged)) == (0, seeds)
        assert not node.service.state_loaded  # the seeds were checked against the command log
        node.service.request_load()
        assert node.service.wait_loaded(30)
        assert node.service.state.lots["L123"].item == "GREASE-LT2"


def test_a_node_stopped_before_it_loaded_stops_cleanly(tmp_path: Path) -> None:
    Node(load_config(DEMO), data_dir=tmp_path).start().stop()
    store = Store(sqlite_url(tmp_path))
    service = Service(store, "n").start(load_in_background=True)
    service.stop()
    assert not service.state_loaded and not service.running
    store.close()


def test_a_store_at_the_newest_schema_is_recognised_without_alembic(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from edge.store.migrate import MIGRATIONS, at_head, shipped_head, upgrade

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert shipped_head() == head
    store = Store(sqlite_url(tmp_path))
    try:
        assert not at_head(store.engine)  # a new store: alembic creates the schema
        upgrade(store.engine, "0012")
        assert not at_head(store.engine)  # an older one: alembic brings it up
        store.migrate()
        assert at_head(store.engine)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
            conn.execute(text("SELECT count(*) FROM journal_archives")).scalar_one()  # 0013's table is there
    finally:
        store.close()
