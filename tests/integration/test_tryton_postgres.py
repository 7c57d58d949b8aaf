"""The Tryton round trips of test_tryton.py with Tryton on PostgreSQL, as plants run it. A file of their own so that
a parallel test run sets this Tryton up (trytond-admin takes a minute or more on PostgreSQL) on another worker
than the SQLite one (scripts/test keeps a file on one worker)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.tryton import TrytonServer, set_up_plant
from tests.integration.conftest import RunningNode
from tests.integration.test_tryton import Tryton, _n, edge, round_trip, shipping_round_trip

__all__ = ["edge"]  # the node fixture, shared with test_tryton.py

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def tryton_pg(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[Tryton]:
    """The same plant in a Tryton on the test run's PostgreSQL (trytond-admin takes about a minute there)."""
    uri = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/"
    server = TrytonServer(tmp_path_factory.mktemp("tryton-pg"), database=f"tryton_{next(_n)}", db_uri=uri)
    server.create()
    server.start()
    try:
        session = server.session()
        yield Tryton(server, session, set_up_plant(session))
    finally:
        server.stop()


def test_the_same_with_tryton_on_postgresql(tryton_pg: Tryton, edge: RunningNode) -> None:
    round_trip(tryton_pg, edge)


def test_the_same_shipment_with_tryton_on_postgresql(tryton_pg: Tryton, edge: RunningNode) -> None:
    shipping_round_trip(tryton_pg, edge)
