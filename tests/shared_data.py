"""The tests' view of reference data: the mirror of ``../shared/data`` they may read (``$TAKT_SHARED_DATA``, which
tests/conftest.py points at ``shared/data`` beside the checkout when it is there), and a module-level skip for tests
whose pinned reference data (edge.reference) is not installed anywhere the product looks.

The product itself never looks beside the checkout (DESIGN.md, principle 9): it finds the mirror only through
``$TAKT_SHARED_DATA``, last in its lookup order."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge import reference

ROOT = Path(__file__).resolve().parents[1]
BESIDE_THE_CHECKOUT = ROOT.parent / "shared" / "data"

#: The mirror: test inputs that are not product data (barcode images, B2MML examples, biip's vectors, Sparkplug).
SHARED_DATA = Path(os.environ["TAKT_SHARED_DATA"]) if os.environ.get("TAKT_SHARED_DATA") else BESIDE_THE_CHECKOUT
MIRROR_HINT = "the reference data mirror is not here: set TAKT_SHARED_DATA to a copy of shared/data (scripts/test does)"


def require_reference(name: str) -> None:
    """Skip the calling test module unless reference set ``name`` is installed whole and unaltered."""
    found = reference.status(name)
    if not found.ok:
        pytest.skip(f"{found.describe()}; scripts/test fetches it when it can", allow_module_level=True)


def require_mirror(relative: str) -> Path:
    """``SHARED_DATA / relative``, or skip the calling test module when the mirror does not hold it."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{relative}: {MIRROR_HINT}", allow_module_level=True)
    return path
