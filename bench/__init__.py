"""Benchmarks: ``python -m bench.<name>`` from the project root prints ``FIGURE <name> <value> <unit>`` lines.

Like the tests, benchmarks may read the reference data mirror beside the checkout (``../shared/data``): it is named
here as ``$TAKT_SHARED_DATA``, the last place edge.reference looks, unless that is set (set but empty: no mirror)."""
from __future__ import annotations

import os
from pathlib import Path

_BESIDE = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "TAKT_SHARED_DATA" not in os.environ and _BESIDE.is_dir():
    os.environ["TAKT_SHARED_DATA"] = str(_BESIDE)
