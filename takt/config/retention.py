"""The site file's retention section: what the node keeps and for how long."""
from __future__ import annotations

from datetime import time as dt_time
from pathlib import Path

from pydantic import Field, model_validator

from takt.config.section import Section


class RetentionSection(Section):
    """What the node keeps and for how long (a node runs beside a line for years). A timer in the node runs the
    compaction every ``every_minutes`` (or daily at ``at``, site time); ``takt store compact`` runs it by hand.
    Journal events go to gzip archive files only when the ERP has acknowledged them and they are older than
    ``journal_age_days`` (never otherwise; edge.store.retention); process values are folded into per-minute
    summaries after ``samples_raw_age_days`` and those are dropped after ``samples_aggregate_age_days``
    (connectors.process_values). Everything goes in batches of ``batch_size`` with ``pause_ms`` between them."""

    enabled: bool = True
    journal_age_days: float | None = Field(default=None, ge=0, description="archive acknowledged journal events "
                                                                          "older than this; none: keep them all")
    samples_raw_age_days: float = Field(default=7, gt=0, description="process values older than this are folded "
                                                                     "into per-minute summaries")
    samples_aggregate_age_days: float = Field(default=365, gt=0, description="per-minute summaries older than this "
                                                                             "are dropped")
    archive_dir: Path | None = Field(default=None, description="where journal archives go; default: archive/ in "
                                                               "the node's data_dir")
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="rows per archive file and transaction")
    pause_ms: float = Field(default=20, ge=0, le=10_000, description="pause between batches (leaves the store to "
                                                                     "the recording)")
    every_minutes: float = Field(default=60, ge=1, le=7 * 24 * 60, description="how often the timer runs")
    at: dt_time | None = Field(default=None, description="run daily at this site time (HH:MM) instead")

    @model_validator(mode="after")
    def _aggregates_outlive_raw(self) -> RetentionSection:
        if self.samples_aggregate_age_days < self.samples_raw_age_days:
            raise ValueError(f"samples_aggregate_age_days ({self.samples_aggregate_age_days:g}) must be at least "
                             f"samples_raw_age_days ({self.samples_raw_age_days:g}): the summaries are made from "
                             f"the raw values")
        return self

    def archive_folder(self, data_dir: Path) -> Path:
        return self.archive_dir if self.archive_dir is not None else data_dir / "archive"
