"""Configuration of the sync with the central systems (the ``sync`` section of a site file).

```yaml
sync:
  central_url: https://erp.example.com        # the central side of the takt-sync/1 protocol
  token_env: TAKT_SYNC_TOKEN                  # this node's bearer token (or token_file; token for demos)
  batch_events: 5000                          # at most this many events per push request ...
  batch_bytes: 4000000                        # ... and about this many bytes of JSON before compression
  push_interval_s: 1                          # a quiet node still looks this often
  pull_interval_s: 10                         # how often the change feed is read
```
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SyncSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    central_url: str = Field(pattern=r"^https?://", description="base URL of the central side")
    ca_file: Path | None = Field(default=None, description="the CA certificates (PEM) that sign the central side's "
                                                          "HTTPS certificate, e.g. the plant's own CA; default: "
                                                          "the system's")
    token: str | None = Field(default=None, repr=False)
    token_env: str | None = None
    token_file: Path | None = None
    batch_events: int = Field(default=5000, ge=1, le=50_000)
    batch_bytes: int = Field(default=4_000_000, ge=10_000, le=64_000_000)
    push_interval_s: float = Field(default=1.0, gt=0, le=3600)
    pull_interval_s: float = Field(default=10.0, gt=0, le=86_400)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    pull_page: int = Field(default=1000, ge=1, le=10_000)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_token(self) -> SyncSection:
        given = [k for k in ("token", "token_env", "token_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of token_env, token_file or (demo only) token"
                             + (f"; got {', '.join(given)}" if given else ""))
        return self


class B2mmlSection(BaseModel):
    """ISA-95 B2MML file drop (the ``b2mml`` section of a site file), for ERPs that exchange documents as files:

    ```yaml
    b2mml:
      inbox: /srv/erp/to-mes       # production schedules are taken from here (applied, then moved to done/)
      outbox: /srv/erp/from-mes    # production performance and material lots are written here
    ```
    Relative folders are taken from the configuration file's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path | None = None
    outbox: Path | None = None
    interval_s: float = Field(default=2.0, gt=0, le=3600)
    dispatch: bool = Field(default=False, description="also set the dispatch lists a schedule implies")

    @model_validator(mode="after")
    def _a_folder(self) -> B2mmlSection:
        if self.inbox is None and self.outbox is None:
            raise ValueError("name an inbox, an outbox or both")
        return self
