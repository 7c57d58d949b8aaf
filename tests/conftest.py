"""Fixtures shared by every test directory: empty, migrated SQLite stores without paying for a migration each."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.store import Store, sqlite_url

# Tests and CI read the reference data mirror (../shared/data beside the checkout) through $TAKT_SHARED_DATA, the last
# place edge.reference looks; set but empty, it means "no mirror" (a clone as a public user has it).
_BESIDE = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "TAKT_SHARED_DATA" not in os.environ and _BESIDE.is_dir():
    os.environ["TAKT_SHARED_DATA"] = str(_BESIDE)

StoreFactory = Callable[..., Store]


def store_file(store: Store) -> Path:
    """The SQLite file behind a store made by ``store_factory``."""
    return Path(store.url.removeprefix("sqlite:///"))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store with the newest schema, migrated once per session. Copy it; never open it for writing."""
    folder = tmp_path_factory.mktemp("migrated")
    store = Store(sqlite_url(folder))
    store.migrate()
    store.close()
    return folder / "takt.sqlite"


@pytest.fixture(scope="session")
def store_factory(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreFactory]:
    """``store_factory(template=None)``: a new store in its own folder, a copy of ``template`` (a closed
    store's SQLite file) or of the empty migrated store. Session-scoped so property tests may call it
    once per example; every store it made is closed at the end of the session."""
    made: list[Store] = []

    def make(template: Path | None = None) -> Store:
        source = template or migrated_sqlite
        folder = tmp_path_factory.mktemp("store")
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", folder / f"takt.sqlite{suffix}")
        store = Store(sqlite_url(folder))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


# Test files that take minutes (servers set up, many restarts), longest first: a parallel run (scripts/test: xdist,
# one file per worker, --no-loadscope-reorder) starts them before the many short files, so that no long file starts
# last and keeps one worker busy after the others ran out of work. From the durations of a full run on this kind of
# machine; a file missing here only runs later.
LONGEST_FIRST = (
    "tests/integration/test_tryton_postgres.py",
    "tests/integration/test_tryton.py",
    "tests/integration/test_power_loss.py",
    "tests/integration/test_api_contract.py",
    "tests/integration/test_tryton_outbound.py",
    "tests/integration/test_plant_sync.py",
    "tests/integration/test_kill9.py",
    "tests/integration/test_replay_property.py",
    "tests/integration/test_secrets_audit.py",
    "tests/integration/test_opcua_trust.py",
    "tests/integration/test_sync.py",
    "tests/integration/test_historian.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = Path(str(config.rootpath))
    items.sort(key=lambda item: rank.get(Path(str(item.path)).relative_to(root).as_posix(), len(rank)))
