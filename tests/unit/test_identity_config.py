"""The site file's ``identity`` section: the directory over TLS only, the service password from the environment or
a file (next to the site file), group -> role mapping, and the disabled rule with its AD and ppolicy presets."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from takt.config import ConfigError, load_config
from takt.config.identity import DisabledRule, IdentitySection
from takt.identity import Directory

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {"url": "ldaps://dc1.plant.example", "bind_dn": "cn=takt,dc=plant,dc=example",
                        "bind_password_env": "TAKT_LDAP_PW", "users_base": "ou=people,dc=plant,dc=example",
                        "roles": {"takt-operators": ["operator"], "cn=QA,ou=groups,dc=plant,dc=example": ["quality"]}}


def section(**changes: Any) -> IdentitySection:
    return IdentitySection.model_validate({**BASE, **changes})


def test_the_directory_is_reached_over_tls_only() -> None:
    with pytest.raises(ValueError, match="over TLS only"):
        section(url="ldap://dc1.plant.example")
    assert section(url="ldap://dc1.plant.example", start_tls=True).start_tls
    with pytest.raises(ValueError, match="start_tls is for ldap://"):
        section(start_tls=True)
    with pytest.raises(ValueError, match="not an ldap://"):
        section(url="https://dc1.plant.example")


def test_the_service_password_has_exactly_one_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="exactly one of bind_password_env"):
        section(bind_password_env=None)
    with pytest.raises(ValueError, match="exactly one of bind_password_env"):
        section(bind_password_file=tmp_path / "pw")
    monkeypatch.setenv("TAKT_LDAP_PW", "s3cret")
    assert section().bind_password() == "s3cret"
    monkeypatch.delenv("TAKT_LDAP_PW")
    with pytest.raises(ValueError, match="TAKT_LDAP_PW is not set"):
        section().bind_password()


def test_the_site_file_resolves_the_password_and_ca_files_next_to_it(tmp_path: Path) -> None:
    site = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    site["identity"] = {**BASE, "bind_password_env": None, "bind_password_file": "ldap.secret", "ca_file": "ca.pem",
                        "kind": "active_directory"}
    (tmp_path / "ldap.secret").write_text("from-a-file\n")
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    identity = load_config(tmp_path / "site.yaml").identity
    assert identity is not None and identity.bind_password() == "from-a-file"
    assert identity.ca_file == (tmp_path / "ca.pem").resolve()
    site["identity"]["roles"] = {"takt-operators": ["forklift"]}
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "site.yaml")
    assert any(p.path.startswith("identity.roles") for p in refused.value.problems)


def test_the_kind_sets_the_defaults_of_active_directory_and_openldap() -> None:
    ad = section(kind="active_directory")
    assert (ad.name_of_user_attribute(), ad.full_name_attribute(), ad.groups_from_attribute()) == \
        ("sAMAccountName", "displayName", "memberOf")
    assert ad.disabled_rule() == DisabledRule(attribute="userAccountControl", bit=2)
    ldap = section()
    assert (ldap.name_of_user_attribute(), ldap.groups_from_attribute(), ldap.group_search_base()) == \
        ("uid", None, "dc=plant,dc=example")
    assert ldap.disabled_rule() == DisabledRule(attribute="pwdAccountLockedTime")
    assert section(disabled="none").disabled_rule() is None
    custom = section(disabled={"attribute": "employeeType", "values": ["Left", "suspended"]})
    assert custom.disabled_rule() == DisabledRule(attribute="employeeType", values=["Left", "suspended"])


def test_the_disabled_rule() -> None:
    ad = DisabledRule(attribute="userAccountControl", bit=2)
    assert ad.disabled(["514"]) and not ad.disabled(["512"]) and not ad.disabled([]) and not ad.disabled(["x"])
    ppolicy = DisabledRule(attribute="pwdAccountLockedTime")
    assert ppolicy.disabled(["000001010000Z"]) and not ppolicy.disabled([])
    listed = DisabledRule(attribute="employeeType", values=["left"])
    assert listed.disabled(["LEFT"]) and not listed.disabled(["staff"])


def test_groups_give_roles_by_their_dn_or_their_cn() -> None:
    directory = Directory(section())
    roles, why = directory.roles_of(["CN=takt-operators,OU=Groups,DC=plant,DC=example",
                                     "cn=QA,ou=groups,dc=plant,dc=example", "cn=office,ou=groups,dc=plant,dc=example"])
    assert roles == {"operator", "quality"}
    assert why == {"CN=takt-operators,OU=Groups,DC=plant,DC=example": ["operator"],
                   "cn=QA,ou=groups,dc=plant,dc=example": ["quality"]}
    assert directory.roles_of(["cn=qa-team,dc=x"])[0] == frozenset()
