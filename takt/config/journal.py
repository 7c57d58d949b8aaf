"""The site file's journal section: the secret that signs the journal's chain checkpoints, and how often."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator

from edge.store.chain import CHECKPOINT_EVERY, CheckpointKey, data_dir_key, key_from_text
from takt.config.section import Section


class JournalSection(Section):
    """The journal's hash chain is signed every ``checkpoint_every`` events and when the node stops, with an HMAC
    secret (edge.store.chain). Keep the secret outside the store: ``checkpoint_secret_env`` (an environment
    variable) or ``checkpoint_secret_file`` (a file, e.g. a systemd credential). Without either the node makes one
    in its data folder (``journal-checkpoint.key``, mode 0600) at first start: then whoever takes the data folder
    takes the key too, and a rewritten journal with fresh checkpoints would pass; only the central side's chain head
    still catches it."""

    checkpoint_secret_env: str | None = Field(default=None, description="environment variable holding the secret")
    checkpoint_secret_file: Path | None = Field(default=None, description="file holding the secret")
    checkpoint_every: int = Field(default=CHECKPOINT_EVERY, ge=10, le=1_000_000,
                                  description="events between two signed checkpoints")

    @model_validator(mode="after")
    def _one_secret(self) -> JournalSection:
        if self.checkpoint_secret_env and self.checkpoint_secret_file:
            raise ValueError("give checkpoint_secret_env or checkpoint_secret_file, not both")
        return self

    def checkpoint_key(self, data_dir: Path, *, create: bool = True) -> CheckpointKey | None:
        """The key: from the environment or the file, else the data folder's (made when ``create``)."""
        if self.checkpoint_secret_env:
            value = os.environ.get(self.checkpoint_secret_env)
            if not value:
                raise ValueError(f"journal.checkpoint_secret_env: the environment variable "
                                 f"{self.checkpoint_secret_env} is not set")
            return key_from_text(value, f"${self.checkpoint_secret_env}")
        if self.checkpoint_secret_file is not None:
            return key_from_text(self.checkpoint_secret_file.read_text(), str(self.checkpoint_secret_file))
        return data_dir_key(data_dir, create=create)
