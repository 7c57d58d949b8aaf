"""Where the reference data written by others lives (GS1 syntax dictionary, B2MML schemas, barcode images, OPC UA
nodesets, Sparkplug B): ``$TAKT_SHARED_DATA``, else ``shared/data`` beside the checkout.

Every default path to that data derives from :data:`SHARED_DATA`, so one setting moves all of it (``scripts/test``
sets it for a clone made away from ``shared/``; a site can point the GS1 dictionary and the B2MML schemas elsewhere
with their own settings too).
"""
from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = (Path(os.environ["TAKT_SHARED_DATA"]) if os.environ.get("TAKT_SHARED_DATA")
               else Path(__file__).resolve().parents[1].parent / "shared" / "data")
