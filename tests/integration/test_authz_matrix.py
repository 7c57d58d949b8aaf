"""The authorization matrix (issue 15): every mutating route of the running node × every role × no token × a wrong
token, against the reviewed table in tests/integration/authz_matrix.csv (simulators.api_review walks it).

The routes come from the app itself, so a new POST, PUT, PATCH or DELETE route without a row in the table fails
here, and so does a row whose route is gone. Each request carries a body of the route's documented shape (built
from the node's own OpenAPI document), so an allowed role's answer is about the command, never about the shape.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.api_review import DEMO_TOKENS, MATRIX, mutating_routes, read_matrix, walk_matrix
from tests.e2e.conftest import demo_node
from tests.integration.conftest import RunningNode


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    site, running = demo_node(tmp_path_factory.mktemp("authz") / "data")
    yield running
    running.stop()
    site.stop()


def test_every_mutating_route_has_a_reviewed_row(demo: RunningNode) -> None:
    served = mutating_routes(demo.server.config.app)
    table = set(read_matrix())
    assert not served - table, f"routes without a row in {MATRIX.name}: {sorted(served - table)}"
    assert not table - served, f"rows in {MATRIX.name} for routes the node no longer serves: {sorted(table - served)}"


def test_every_role_no_token_and_a_wrong_token_get_what_the_table_says(demo: RunningNode) -> None:
    walk = walk_matrix(demo.url, DEMO_TOKENS, read_matrix())
    assert walk.routes == len(read_matrix()) and walk.requests == walk.routes * (len(DEMO_TOKENS) + 2)
    assert not walk.wrong, "\n".join(walk.wrong)
