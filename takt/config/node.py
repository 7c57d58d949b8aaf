"""The site file's sections about this node: the node itself, where it stands (site, workstations, shift
calendar), its HTTP API, its users and how they log on."""
from __future__ import annotations

from datetime import time as dt_time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from edge.domain.model import Role
from edge.domain.oee import WEEKDAYS, Shift, parse_days
from edge.fields import Code, Text
from edge.store.store import sqlite_url
from takt.config.section import Section

Language = Literal["en", "nl"]

MIN_TOKEN_LENGTH = 16


class NodeSection(Section):
    """This edge node: its id (fixed at first start, it keys the ERP sync) and where it keeps its data."""

    id: Code
    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="PostgreSQL (postgresql+psycopg://...) or SQLite URL; "
                                     "default: SQLite in data_dir")
    database_url_env: str | None = Field(default=None, description="environment variable holding database_url "
                                         "(keeps the password out of the file)")

    @model_validator(mode="after")
    def _one_database(self) -> NodeSection:
        if self.database_url and self.database_url_env:
            raise ValueError("give database_url or database_url_env, not both")
        if self.database_url is not None:
            check_database_url(self.database_url)
        return self

    def url(self) -> str:
        """The database URL this node uses: the configured one or SQLite in ``data_dir``."""
        return self.database_url or sqlite_url(self.data_dir)


def check_database_url(url: str) -> None:
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ValueError(f"database_url must be a sqlite:/// or postgresql+psycopg:// URL, got {url.split(':')[0]}:...")


class Workstation(Section):
    workstation: Code
    description: Text = ""
    # A machine here stopped longer than this without a reason: the terminal asks the operator for one.
    downtime_prompt_s: int = Field(default=120, ge=10, le=86_400)
    # The terminal here has a camera: a maintenance request called from it may carry a photo of the machine.
    camera: bool = False


class ShiftEntry(Section):
    """A shift of the shift calendar (OEE is reported per shift): local start and end time (an end at or before
    the start runs past midnight; the same time is a 24-hour shift) and the weekdays it starts on."""

    name: Code
    start: dt_time
    end: dt_time
    days: list[str] = list(WEEKDAYS)

    @model_validator(mode="after")
    def _valid_days(self) -> ShiftEntry:
        parse_days(self.days)
        return self

    def shift(self) -> Shift:
        return Shift(self.name, self.start, self.end, parse_days(self.days))


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (e.g. Europe/Amsterdam)") from None
    return name


class SiteSection(Section):
    """Where the node stands in the ISA-95 hierarchy: enterprise / site / area / line / workstations."""

    enterprise: Code
    site: Code
    area: Code
    line: Code
    workstations: list[Workstation] = []
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"  # the shift calendar's local time
    shifts: list[ShiftEntry] = []


class TlsSection(Section):
    """HTTPS for the node's API and pages: a PEM certificate (chain) and its key, the key's password (if it is
    encrypted) from ``password_env`` or ``password_file``. ``kill -HUP`` reloads both files (a renewed
    certificate) without a restart. ``takt certs`` makes a test pair."""

    cert_file: Path
    key_file: Path
    password: str | None = Field(default=None, repr=False)
    password_env: str | None = None
    password_file: Path | None = None
    hsts_max_age_s: int = Field(default=31_536_000, ge=0, le=63_072_000,
                                description="Strict-Transport-Security max-age sent over HTTPS (0: browsers forget)")

    @model_validator(mode="after")
    def _one_password_source(self) -> TlsSection:
        given = [k for k in ("password", "password_env", "password_file") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of password_env, password_file or password; got {', '.join(given)}")
        return self


class ApiSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="largest request body accepted")
    tls: TlsSection | None = None
    max_header_bytes: int = Field(default=65_536, ge=4096, le=1_048_576,
                                  description="largest request line and headers accepted (431 above)")
    max_streams_per_user: int = Field(default=8, ge=1, le=1000,
                                      description="live event streams (GET /api/v1/events) one user may hold open")
    max_backdate_days: int = Field(default=90, ge=0, le=3650,
                                   description="how far in the past a record's occurred_at may lie")


class UserEntry(Section):
    """A person or a device account. The token comes from ``token_env`` or ``token_file``; a literal
    ``token`` is accepted for the demo only. The badge code (the card's number, what the badge label holds; never the
    user name unless the site wants it so) and the PIN (for shared terminals) likewise. A user without a badge code
    cannot log on at a page; one whose roles change records of others (supervisor, quality, admin) and has a badge
    needs a PIN too."""

    user: Code
    name: Text
    roles: list[Role] = Field(min_length=1)
    language: Language = "en"
    active: bool = True
    token: str | None = Field(default=None, repr=False)
    token_env: str | None = None
    token_file: Path | None = None
    badge: str | None = Field(default=None, repr=False, min_length=1, max_length=200)
    badge_env: str | None = None
    badge_file: Path | None = None
    pin: str | None = Field(default=None, repr=False)
    pin_env: str | None = None
    pin_file: Path | None = None

    @model_validator(mode="after")
    def _one_source_each(self) -> UserEntry:
        tokens = [k for k in ("token", "token_env", "token_file") if getattr(self, k) is not None]
        if len(tokens) != 1:
            raise ValueError("give exactly one of token_env, token_file or (demo only) token"
                             + (f"; got {', '.join(tokens)}" if tokens else ""))
        for what in ("badge", "pin"):
            given = [k for k in (what, f"{what}_env", f"{what}_file") if getattr(self, k) is not None]
            if len(given) > 1:
                raise ValueError(f"give at most one of {what}_env, {what}_file or {what}; got {', '.join(given)}")
        return self

    @property
    def has_badge(self) -> bool:
        return any(getattr(self, k) is not None for k in ("badge", "badge_env", "badge_file"))

    @property
    def has_pin(self) -> bool:
        return any(getattr(self, k) is not None for k in ("pin", "pin_env", "pin_file"))


class LogonSection(Section):
    """How people log on at the pages, and the limits on failed logons (kept in the store, so a restart keeps them).

    The PIN's minimum is 6 characters by default: a PIN is the second factor beside the badge, typed on a touch
    screen at shift start, so it stays short, but with 4 digits a lost badge and the limits below (5 tries per
    terminal, then a lock that doubles) still leave one chance in 2,000 per terminal and lock period; with 6 it is
    one in 200,000. A site whose people already hold 4-digit PINs may set 4 and rely on the limits."""

    pin_min_length: int = Field(default=6, ge=4, le=32, description="shortest PIN the site file may give a user")
    failures_per_account: int = Field(default=5, ge=1, le=1000,
                                      description="wrong PINs for one user from one address before it is locked out")
    failures_per_client: int = Field(default=20, ge=1, le=10_000,
                                     description="failed logons from one address (any badge) before it is locked out")
    clients_per_account: int = Field(default=3, ge=2, le=1000,
                                     description="addresses failing on one user before the user is locked everywhere")
    lock_seconds: int = Field(default=60, ge=1, le=86_400, description="the first lock; each further one doubles")
    max_lock_seconds: int = Field(default=900, ge=1, le=86_400,
                                  description="the longest lock; failures are forgotten after this long without one")
