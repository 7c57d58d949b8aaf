"""The site file's historian section: how the node writes machines' process values (connectors.process_values)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from takt.config.section import Section


class HistorianSection(Section):
    """How the historian writes process values. Receiving never waits on the disk: values go to a queue of at most
    ``queue_values`` that the historian's writer thread writes every ``flush_s`` as compressed chunks.
    ``synchronous``: FULL makes each write survive a power cut; NORMAL (the default) may lose the last writes on a
    power cut, never on a crash of the node alone; values still queued (at most ``flush_s`` old while the writer
    keeps up) are lost on a power cut or a kill -9 either way. ``overflow`` when the writer falls behind: ``block``
    makes the sources wait (an OPC UA server then drops changes of queue-1 items), ``drop`` drops values that moved
    less than ``overflow_deadband_percent`` once the queue is three quarters full and every new value once it is
    full; both are counted on /health and /metrics. A full disk: the writer keeps what it holds and tries again
    every second, new values are refused and counted (``refused``, state ``disk_full`` on /health) so that sources
    and the recording of commands never wait on it; ``folder`` puts the file on a volume of its own (a full
    historian volume then never touches the journal's).

    ``postgresql_url_env`` or ``postgresql_url_file`` (an environment variable or a file holding a
    ``postgresql://`` URL, never the URL itself, never logged) adds the plant's PostgreSQL server as a target: every
    value is forwarded exactly once into the schema ``postgresql_schema`` (connectors.historian_pg), and kept in the
    local file until the server has it."""

    synchronous: Literal["FULL", "NORMAL"] = "NORMAL"
    queue_values: int = Field(default=400_000, ge=100, le=10_000_000, description="values the queue holds at most")
    overflow: Literal["block", "drop"] = "block"
    overflow_deadband_percent: float = Field(default=1.0, ge=0, le=100,
                                             description="with overflow: drop, values moving less than this percent "
                                                         "are dropped first")
    flush_s: float = Field(default=10.0, gt=0, le=60, description="seconds between the writer's writes (longer: "
                                                                  "fewer bytes written per value)")
    folder: Path | None = Field(default=None, description="folder of process-values.sqlite (default: the node's "
                                                            "data folder)")
    postgresql_url_env: str | None = Field(default=None, description="environment variable holding the URL of "
                                                                     "a PostgreSQL historian target")
    postgresql_url_file: Path | None = Field(default=None, description="file holding the URL of a PostgreSQL "
                                                                       "historian target")
    postgresql_schema: str = Field(default="takt_historian", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                   description="schema of the PostgreSQL target (lower-case letters, digits, _)")
    consolidate_s: float = Field(default=120.0, ge=5, le=3600,
                                 description="seconds between consolidations of the landed chunks into the series' "
                                             "chunks (longer: fewer bytes written per value, a longer landing table)")
    forward_batch_chunks: int = Field(default=2000, ge=1, le=100_000,
                                      description="landed chunks per PostgreSQL transaction")

    @model_validator(mode="after")
    def _one_url(self) -> HistorianSection:
        if self.postgresql_url_env and self.postgresql_url_file:
            raise ValueError("give postgresql_url_env or postgresql_url_file, not both")
        return self
