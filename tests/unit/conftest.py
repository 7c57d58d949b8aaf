"""Fixtures for the pure-domain tests (the helpers live in plant_helpers.py)."""
from __future__ import annotations

import pytest

from tests.unit.plant_helpers import Plant, build_plant


@pytest.fixture
def plant() -> Plant:
    return build_plant()
