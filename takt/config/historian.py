"""The site file's historian section: how the node writes machines' process values (connectors.process_values)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from takt.config.section import Section


class HistorianSection(Section):
    """How the historian writes process values. Receiving never waits on the disk: values go to a queue of at most
    ``queue_values`` that the historian's writer thread writes every ``flush_s`` as compressed chunks.
    ``synchronous``: FULL makes each write survive a power cut; NORMAL (the default) may lose the last writes on a
    power cut, never on a crash of the node alone; values still queued (at most ``flush_s`` old while the writer
    keeps up) are lost on a power cut or a kill -9 either way. ``overflow`` when the writer falls behind: ``block``
    makes the sources wait (an OPC UA server then drops changes of queue-1 items), ``drop`` drops values that moved
    less than ``overflow_deadband_percent`` once the queue is three quarters full and every new value once it is
    full; both are counted on /health and /metrics."""

    synchronous: Literal["FULL", "NORMAL"] = "NORMAL"
    queue_values: int = Field(default=400_000, ge=100, le=10_000_000, description="values the queue holds at most")
    overflow: Literal["block", "drop"] = "block"
    overflow_deadband_percent: float = Field(default=1.0, ge=0, le=100,
                                             description="with overflow: drop, values moving less than this percent "
                                                         "are dropped first")
    flush_s: float = Field(default=10.0, gt=0, le=60, description="seconds between the writer's writes (longer: "
                                                                  "fewer bytes written per value)")
