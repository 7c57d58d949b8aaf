"""Upgrading a store made by the first schema revision (0001) to this version, and a failed upgrade changing nothing.

The old store is real: ``tests/data/stores/takt-rev0001.sql`` is the dump of a store the demo node of the commit
before migration 0002 recorded over its HTTP API (``make_rev0001.py`` beside it says how). Its rows are loaded into
a store that alembic brought to revision 0001, on SQLite and on the test PostgreSQL server, then ``takt store
migrate`` brings it to head.
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.migrate import MIGRATIONS, alembic_config, current_revision
from edge.store.verify import verify
from takt.cli import app
from tests.integration.old_stores import REV0001_EVENTS, rows_of, store_at_rev0001


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("postgres_url"))


def _tables(store: Store) -> dict[str, list[str]]:
    found = inspect(store.engine)
    return {t: sorted(c["name"] for c in found.get_columns(t)) for t in sorted(found.get_table_names())}


def test_a_store_of_the_first_revision_upgrades_to_head_with_all_its_data(store_url: str, tmp_path: Path) -> None:
    store, old = store_at_rev0001(store_url, tmp_path)
    assert len(old["journal"][1]) == REV0001_EVENTS
    assert {n for n, (_, rows) in old.items() if rows} >= {"journal", "command_log", "lots", "stock", "operations",
                                                            "labour_records", "machine_states", "users"}
    store.close()

    out = CliRunner().invoke(app, ["store", "migrate", "--database-url", store_url])
    assert out.exit_code == 0, out.output
    assert "applied 0002" in out.output and "applied 0013" in out.output
    assert "from 0001" in out.output

    store = Store(store_url)
    try:
        head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
        assert current_revision(store.engine) == head
        # every row of the old store is there, every old column as it was
        now = rows_of(store, old)
        for name, (_, rows) in old.items():
            assert now[name] == sorted(rows, key=repr), f"{name} changed in the upgrade"
        # the history replays to the upgraded state (new projections included)
        report = verify(store)
        assert report.ok, report.differences[:5]
        assert report.events == REV0001_EVENTS
        # the old command log still answers idempotent repeats, and the node records on after the old journal
        with store.engine.connect() as conn:
            assert set(store.lookup_commands(conn, ["rev0001-1", "rev0001-30"])) == {"rev0001-1", "rev0001-30"}
        with Service(store, store.node_id()) as service:
            recorded = service.handle(c.DefineItem(idempotency_key="after-upgrade", actor="admin",
                                                   actor_roles=frozenset({"admin"}), item="NEW-1", description="new",
                                                   unit="pcs", revision="A"))
            assert recorded.last_seq == REV0001_EVENTS + 1
        assert verify(store).ok
    finally:
        store.close()
    again = CliRunner().invoke(app, ["store", "migrate", "--database-url", store_url])
    assert again.exit_code == 0 and "nothing to do" in again.output


FAILING = '''\
"""a step that fails halfway (test only)"""
from alembic import op
import sqlalchemy as sa

revision = "0999_fails"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lots") as batch:
        batch.add_column(sa.Column("half_done", sa.Integer(), nullable=True))
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("UPDATE lots SET quantity = 0")
    op.execute("DELETE FROM journal")
    raise RuntimeError("this step fails halfway")


def downgrade() -> None:
    raise NotImplementedError
'''


def test_a_failed_upgrade_leaves_the_store_as_it_was(store_url: str, tmp_path: Path) -> None:
    """Every step from 0002 to head runs, then a test-only last step changes schema and data and fails: the
    store must be at 0001 with its tables and rows as before (one transaction for the whole upgrade)."""
    store, old = store_at_rev0001(store_url, tmp_path)
    try:
        before_tables, before_rows = _tables(store), rows_of(store, old)
        scripts = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
        (scripts / "versions" / "0999_fails.py").write_text(textwrap.dedent(FAILING.format(down=head)))
        applied: list[str] = []
        with pytest.raises(RuntimeError, match="fails halfway"):
            command.upgrade(alembic_config(store.engine, script_location=scripts,
                                           on_step=lambda rev, _doc: applied.append(rev)), "head")
        assert applied[0] == "0002" and applied[-1] == head, "the steps before the failing one did run"
        assert current_revision(store.engine) == "0001"
        assert _tables(store) == before_tables, "a table or column of the failed upgrade stayed"
        assert rows_of(store, old) == before_rows, "rows changed by the failed upgrade stayed"
    finally:
        store.close()
    # the store is usable: the real upgrade then succeeds
    store = Store(store_url)
    try:
        store.migrate()
        assert verify(store).ok
    finally:
        store.close()


def test_a_failed_upgrade_through_a_plain_sqlite_engine_changes_nothing_either(tmp_path: Path) -> None:
    """``alembic_config`` on an engine of SQLAlchemy's defaults (not the store's, which issues BEGIN itself): the
    sqlite3 module would commit each DDL statement on its own; the migration environment must still make the whole
    upgrade one transaction."""
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    try:
        command.upgrade(alembic_config(engine), "0001")
        before = sorted(inspect(engine).get_table_names())
        scripts = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        (scripts / "versions" / "0999_fails.py").write_text(textwrap.dedent(FAILING.format(down=head)))
        with pytest.raises(RuntimeError, match="fails halfway"):
            command.upgrade(alembic_config(engine, script_location=scripts), "head")
        assert current_revision(engine) == "0001"
        assert sorted(inspect(engine).get_table_names()) == before
        command.upgrade(alembic_config(engine), "head")  # and the real upgrade goes through
        assert current_revision(engine) == head
    finally:
        engine.dispose()
