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

With a Tryton ERP instead of a takt-sync/1 central side, name it under ``erp`` and leave out ``central_url`` and
the token (the adapter is ``erp_sync.tryton``):

```yaml
sync:
  erp: {kind: tryton, url: http://erp:8000, database: plant, user: takt, password_file: tryton.password}
```
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ErpSection(BaseModel):
    """A real ERP as the central side (``sync.erp``). ``password_file`` relative to the configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["tryton"]
    url: str = Field(pattern=r"^https?://", description="base URL of trytond (without the database)")
    database: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password_file: Path
    warehouse: str = Field(default="WH", min_length=1, description="code of the Tryton warehouse this node is")
    overlap_s: float = Field(default=120.0, ge=0, le=86_400, description="how far back each pull reads again")
    retries: int = Field(default=4, ge=0, le=20, description="retries inside one call while Tryton is down")


class SyncSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    central_url: str | None = Field(default=None, pattern=r"^https?://", description="base URL of the central side")
    ca_file: Path | None = Field(default=None, description="the CA certificates (PEM) that sign the central side's "
                                                          "HTTPS certificate, e.g. the plant's own CA; default: "
                                                          "the system's")
    erp: ErpSection | None = None
    token: str | None = Field(default=None, repr=False)
    token_env: str | None = None
    token_file: Path | None = None
    batch_events: int = Field(default=5000, ge=1, le=50_000)
    batch_bytes: int = Field(default=4_000_000, ge=10_000, le=64_000_000)
    push_interval_s: float = Field(default=1.0, gt=0, le=3600)
    push_linger_s: float = Field(default=0.25, ge=0, le=60, description="after a round that pushed, wait this "
                                 "long before the next, so that a busy node pushes batches, not every commit")
    pull_interval_s: float = Field(default=10.0, gt=0, le=86_400)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    pull_page: int = Field(default=1000, ge=1, le=10_000)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_token(self) -> SyncSection:
        if self.erp is not None:
            if self.central_url is not None or self.token is not None or self.token_env or self.token_file:
                raise ValueError("with an erp, leave out central_url and the token (the ERP has its own login)")
            return self
        if self.central_url is None:
            raise ValueError("name the central side: central_url (with a token), or an erp")
        given = [k for k in ("token", "token_env", "token_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of token_env, token_file or (demo only) token"
                             + (f"; got {', '.join(given)}" if given else ""))
        return self


class B2mmlSection(BaseModel):
    """ISA-95 B2MML file drop and endpoint (the ``b2mml`` section of a site file), for ERPs and MESs that exchange
    documents as files or post them (``POST /api/v1/b2mml``):

    ```yaml
    b2mml:
      inbox: /srv/erp/to-mes       # production schedules are taken from here (applied, then moved to done/)
      outbox: /srv/erp/from-mes    # production performance and material lots are written here
      locations:                   # a material requirement's equipment location: the workstation or bin it means
        LINE1-SUPERMARKET: bin:B-SM-01
        CELL-10: workstation:WS-10
      personnel_classes:           # a B2MML personnel class: the Takt role it stands for (docs/b2mml.md "Personnel")
        Shift lead: supervisor
    ```
    Relative folders are taken from the configuration file's folder. A location not in the table is taken as a
    machine (its workstation), a bin or a workstation of that code; any other is refused, naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path | None = None
    outbox: Path | None = None
    interval_s: float = Field(default=2.0, gt=0, le=3600)
    dispatch: bool = Field(default=False, description="also set the dispatch lists a schedule implies")
    locations: dict[str, Annotated[str, Field(pattern=r"^(workstation|bin):\S+$")]] = Field(
        default_factory=dict, description="equipment location ID -> workstation:<code> or bin:<code>")
    max_body_bytes: int = Field(default=16_777_216, gt=0, le=268_435_456,
                                description="largest document POST /api/v1/b2mml accepts")
    personnel_classes: dict[str, Literal["operator", "warehouse", "quality", "supervisor", "maintenance"]] = Field(
        default_factory=dict, description="B2MML personnel class ID -> the Takt role it stands for")

    @model_validator(mode="after")
    def _a_folder(self) -> B2mmlSection:
        if self.inbox is None and self.outbox is None and not self.locations and not self.personnel_classes:
            raise ValueError("name an inbox, an outbox or both (or the locations or personnel_classes table the "
                             "endpoint uses)")
        return self
