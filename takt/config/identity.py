"""The site file's ``identity`` section: people from the plant's directory (OpenLDAP or Active Directory).

The node asks the directory who holds a badge (a configured attribute, ``employeeNumber`` by default), which groups
they are in (each mapped to Takt roles) and whether the account is disabled; it keeps the answer in the store so
that the line keeps working for ``cache_hours`` when the directory is away. The directory is only ever reached over
TLS: ``ldaps://`` or ``ldap://`` with ``start_tls: true``. The service account's password comes from
``bind_password_env`` or ``bind_password_file``, never from the file itself.

The second factor of a directory user is their directory password (checked by binding as them; while the
directory is away, against the scrypt hash of the last password it accepted). Privileged roles always need it;
``password_for: everyone`` asks it of everyone.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator

from edge.domain.model import Role
from takt.config.section import Section

DirectoryKind = Literal["openldap", "active_directory"]


class DisabledRule(Section):
    """When the directory says an account is disabled: ``attribute`` holds a value with ``bit`` set (AD's
    ``userAccountControl`` bit 2, ACCOUNTDISABLE), or one of ``values``, or (neither given) is present at all
    (OpenLDAP ppolicy's ``pwdAccountLockedTime``)."""

    attribute: str = Field(min_length=1, max_length=100)
    bit: int | None = Field(default=None, ge=1, le=2**31, description="the value's bit that means disabled")
    values: list[str] = Field(default=[], max_length=20, description="values (case-insensitive) that mean disabled")

    def disabled(self, found: list[str]) -> bool:
        """Whether the attribute's values (as the directory gave them) say the account is disabled."""
        if not found:
            return False
        if self.bit is not None:
            return any(v.strip().lstrip("-").isdigit() and int(v) & self.bit for v in found)
        if self.values:
            wanted = {v.casefold() for v in self.values}
            return any(v.casefold() in wanted for v in found)
        return True


DISABLED_PRESETS: dict[str, DisabledRule] = {
    "active_directory": DisabledRule(attribute="userAccountControl", bit=2),
    "ppolicy": DisabledRule(attribute="pwdAccountLockedTime"),
}


class IdentitySection(Section):
    """Where people come from besides the site file's ``users`` (which stay, for small sites and device accounts)."""

    kind: DirectoryKind = "openldap"
    url: str = Field(max_length=500, description="ldaps://host:636, or ldap://host:389 with start_tls: true")
    start_tls: bool = False
    ca_file: Path | None = Field(default=None, description="the CA of the directory's certificate (default: the "
                                 "system's trusted CAs)")
    timeout_s: float = Field(default=3.0, gt=0, le=60, description="connecting and each answer")
    bind_dn: str = Field(max_length=500, description="the node's service account in the directory")
    bind_password_env: str | None = None
    bind_password_file: Path | None = None
    users_base: str = Field(max_length=500, description="where people are searched, e.g. ou=people,dc=plant,dc=example")
    user_filter: str | None = Field(default=None, max_length=500, description="which entries are people (default "
                                    "by kind)")
    user_attribute: str | None = Field(default=None, max_length=100,
                                       description="the user name (default uid, AD: sAMAccountName)")
    badge_attribute: str = Field(default="employeeNumber", max_length=100, description="holds the badge's code")
    name_attribute: str | None = Field(default=None, max_length=100, description="full name (default cn, AD: "
                                       "displayName)")
    language_attribute: str | None = Field(default="preferredLanguage", max_length=100)
    groups_base: str | None = Field(default=None, max_length=500, description="where groups are searched (groups "
                                    "whose member is the user); default users_base's parent")
    group_filter: str = Field(default="(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
                              max_length=500)
    member_of_attribute: str | None = Field(default=None, max_length=100, description="read groups from this "
                                            "attribute of the user instead (AD: memberOf)")
    roles: dict[str, list[Role]] = Field(min_length=1, max_length=500, description="group (its DN or cn) -> the "
                                         "Takt roles it gives; a person in none of these groups is not a Takt user")
    disabled: Literal["ppolicy", "active_directory", "none"] | DisabledRule | None = Field(
        default=None, description="when an account is disabled (default by kind: ppolicy or active_directory)")
    password_for: Literal["privileged", "everyone"] = Field(
        default="privileged", description="who types the directory password at a page logon (privileged roles "
        "always do)")
    down_retry_s: float = Field(default=15.0, ge=0, le=3600, description="once the directory is found down, "
                                "logons use the cache without asking it again for this long (a dead host would "
                                "cost every logon timeout_s); the periodic sync asks regardless")
    refresh_minutes: float = Field(default=15.0, ge=0, le=24 * 60, description="while the node runs, ask the "
                                   "directory about everyone this often (0: only at logons and `takt users sync`)")
    cache_hours: float = Field(default=72.0, gt=0, le=24 * 90, description="how long the last answer about a "
                               "person stands while the directory is away")

    @model_validator(mode="after")
    def _over_tls(self) -> IdentitySection:
        scheme = urlparse(self.url).scheme.lower()
        if scheme not in ("ldap", "ldaps"):
            raise ValueError(f"url: {self.url!r} is not an ldap:// or ldaps:// URL")
        if scheme == "ldap" and not self.start_tls:
            raise ValueError("the directory is reached over TLS only: use ldaps:// or set start_tls: true")
        if scheme == "ldaps" and self.start_tls:
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is TLS already")
        given = [k for k in ("bind_password_env", "bind_password_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of bind_password_env or bind_password_file"
                             + (f"; got {', '.join(given)}" if given else ""))
        return self

    @property
    def ad(self) -> bool:
        return self.kind == "active_directory"

    def filter_of_users(self) -> str:
        return self.user_filter or ("(&(objectCategory=person)(objectClass=user))" if self.ad
                                    else "(objectClass=inetOrgPerson)")

    def name_of_user_attribute(self) -> str:
        return self.user_attribute or ("sAMAccountName" if self.ad else "uid")

    def full_name_attribute(self) -> str:
        return self.name_attribute or ("displayName" if self.ad else "cn")

    def groups_from_attribute(self) -> str | None:
        return self.member_of_attribute or ("memberOf" if self.ad else None)

    def group_search_base(self) -> str:
        if self.groups_base:
            return self.groups_base
        _, _, parent = self.users_base.partition(",")
        return parent or self.users_base

    def disabled_rule(self) -> DisabledRule | None:
        chosen = self.disabled if self.disabled is not None else ("active_directory" if self.ad else "ppolicy")
        if isinstance(chosen, DisabledRule):
            return chosen
        return DISABLED_PRESETS.get(chosen)

    def bind_password(self) -> str:
        """The service account's password, from the environment or its file (read when needed: a rotated file
        is picked up at the next connection)."""
        if self.bind_password_env is not None:
            value = os.environ.get(self.bind_password_env)
            if not value:
                raise ValueError(f"identity: the environment variable {self.bind_password_env} is not set")
            return value
        assert self.bind_password_file is not None
        return self.bind_password_file.read_text().strip()
