"""Reading B2MML personnel (V0401 and V0600): each ``Person`` of a ``PersonnelInformation`` (or a ``Person``
document) becomes a user of the node, with the Takt roles its personnel classes stand for and, when it carries one,
its badge; written through the node's user store (``edge.store.users.apply_user``, the path the ERP's user sync
takes), whole or not at all.

People are not plant facts: they are kept in the users table, not journaled (as the ERP's user sync and the
directory keep them). The mapping is written down in docs/b2mml.md ("Personnel").
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from edge.domain.model import ROLES
from edge.store.store import Store
from edge.store.users import apply_user, badge_hash, directory_user_names, user_by_badge_hash, user_by_name
from erp_sync.b2mml.apply import ImportReport
from erp_sync.b2mml.reader import ScheduleRefused, _Reader

#: the personnel documents read (with or without a Sync/Process/Change verb in front)
PERSONNEL_DOCUMENTS = ("PersonnelInformation", "Person", "PersonnelClass")
#: roles a B2MML document never grants and accounts it never changes: the site file's (admins, device accounts)
SITE_ROLES = frozenset({"admin", "service"})
LANGUAGES = frozenset({"en", "nl"})
_BADGE = ("badgeid", "badge", "badgecode", "badgenumber")


@dataclass(frozen=True)
class PersonChange:
    """A person as the document gives them: their user name, name, Takt roles, language, whether they may log on,
    and their badge code (None: the badge stays as it is)."""

    user: str
    name: str
    roles: tuple[str, ...]
    language: str
    active: bool
    badge: str | None


def _props(r: _Reader, element: ET.Element, name: str) -> dict[str, str]:
    return {k.lower(): v for k, v in r.properties(element, name).items()}


def read_personnel(root: ET.Element, noun: str, *, classes: Mapping[str, str] | None = None
                   ) -> tuple[str, list[PersonChange]]:
    """The people a (schema-valid) personnel document gives; raises ScheduleRefused listing every problem.

    A person's roles are those of their personnel classes (``PersonnelClassID``, and the classes of the document
    that list them as ``PersonID``): a class is mapped through ``classes`` (the site's ``b2mml.personnel_classes``),
    else through its property ``Role`` in the document, else it is a role when its ID is one (``Operator``)."""
    namespace, _, name = root.tag[1:].partition("}")
    r = _Reader(namespace)
    sender = r.text(root, "ApplicationArea/Sender/LogicalID") or "unknown-sender"
    nouns = [root] if name == noun else r.all(root, f"DataArea/{noun}")
    people: list[ET.Element] = []
    class_elements: list[ET.Element] = []
    for element in nouns:
        if noun == "PersonnelInformation":
            people.extend(r.all(element, "Person"))
            class_elements.extend(r.all(element, "PersonnelClass"))
        elif noun == "Person":
            people.append(element)
        else:
            class_elements.append(element)
    site = {k.lower(): v for k, v in (classes or {}).items()}
    class_roles: dict[str, str | None] = {}
    members: dict[str, list[str]] = {}
    for element in class_elements:
        class_id = r.text(element, "ID")
        if class_id is None:
            continue
        class_roles[class_id.lower()] = _props(r, element, "PersonnelClassProperty").get("role")
        for person in r.all(element, "PersonID"):
            if person.text and person.text.strip():
                members.setdefault(person.text.strip(), []).append(class_id)
    problems: list[tuple[str, str | None]] = []
    changes: list[PersonChange] = []
    seen: set[str] = set()
    for element in people:
        user = r.text(element, "ID")
        if user is None:
            problems.append(("a Person has no ID (the user name)", None))
            continue
        if user in seen:
            problems.append((f"person {user} appears twice", user))
            continue
        seen.add(user)
        where = f"person {user}"
        if len(user) > 100:
            problems.append((f"{where}: the ID is longer than 100 characters", user))
            continue
        own = [c.text.strip() for c in r.all(element, "PersonnelClassID") if c.text and c.text.strip()]
        person_classes = list(dict.fromkeys(own + members.get(user, [])))
        roles: list[str] = []
        for class_id in person_classes:
            role = site.get(class_id.lower()) or class_roles.get(class_id.lower()) or class_id
            if role.lower() in ROLES:
                roles.append(role.lower())
        roles = sorted(set(roles))
        if not roles:
            problems.append((f"{where}: none of the personnel classes ({', '.join(person_classes) or 'none given'}) "
                             f"is a Takt role ({', '.join(ROLES)}); map them in b2mml.personnel_classes or give "
                             f"the class a property Role", user))
            continue
        granted = sorted(set(roles) & SITE_ROLES)
        if granted:
            problems.append((f"{where}: role {', '.join(granted)} is not granted by a B2MML document (the site file "
                             f"gives it)", user))
            continue
        props = _props(r, element, "PersonProperty")
        language = (props.get("language") or "en").lower()
        if language not in LANGUAGES:
            problems.append((f"{where}: language {language!r} is not one of {', '.join(sorted(LANGUAGES))}", user))
            continue
        active_raw = props.get("active")
        if active_raw is not None and active_raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            problems.append((f"{where}: Active {active_raw!r} is not true or false", user))
            continue
        badge = next((props[k] for k in _BADGE if k in props), None)
        if badge is not None and not (4 <= len(badge) <= 64 and badge.isprintable()):
            problems.append((f"{where}: the badge ID is not 4-64 printable characters", user))
            continue
        person_name = (r.text(element, "PersonName") or r.text(element, "Description") or user)[:200]
        changes.append(PersonChange(user, person_name, tuple(roles), language,
                                    active_raw is None or active_raw.lower() in ("true", "1", "yes"), badge))
    if problems:
        raise ScheduleRefused.listing(problems)
    if not changes:
        raise ScheduleRefused(f"{name} holds no person (personnel classes alone define nothing here: Takt's roles "
                              f"are fixed; map classes to roles in b2mml.personnel_classes)")
    return f"{name} from {sender}", changes


def apply_personnel(store: Store, label: str, changes: list[PersonChange]) -> ImportReport:
    """Write the people through the node's user store, whole or not at all: a person of the plant's directory
    (DIRECTORY_USER), an account with a site role (admin, service) and a badge another user holds are refused
    first, every one listed; a person as they are here already is left alone (a resend writes nothing)."""
    directory = directory_user_names(store, [p.user for p in changes])
    problems: list[tuple[str, str | None]] = []
    planned: list[tuple[PersonChange, str | None]] = []
    already: list[str] = []
    badges: dict[str, str] = {}
    for person in changes:
        where = f"person {person.user}"
        if person.user in directory:
            problems.append((f"{where}: DIRECTORY_USER: {person.user} comes from the plant's directory: their name, "
                             f"roles and whether they may log on are the directory's to change", person.user))
            continue
        known = user_by_name(store, person.user)
        if known is not None and known.roles & SITE_ROLES:
            problems.append((f"{where}: {person.user} is an account with role "
                             f"{', '.join(sorted(known.roles & SITE_ROLES))} here: the site file's to change",
                             person.user))
            continue
        hashed = badge_hash(store, person.badge) if person.badge is not None else None
        if hashed is not None:
            holder = user_by_badge_hash(store, hashed)
            other = badges.get(hashed)
            if (holder is not None and holder.user != person.user) or (other is not None and other != person.user):
                problems.append((f"{where}: the badge is held by another user here", person.user))
                continue
            badges[hashed] = person.user
        badge_same = hashed is None or (known is not None and user_by_badge_hash(store, hashed) is not None)
        if (known is not None and badge_same and (known.name, tuple(sorted(known.roles)), known.language,
                                                  known.active) == (person.name, person.roles, person.language,
                                                                    person.active)):
            already.append(f"person {person.user}")
            continue
        planned.append((person, hashed))
    if problems:
        refused = ScheduleRefused.listing(problems)
        refused.code = "DIRECTORY_USER" if any("DIRECTORY_USER" in p for p, _ in problems) else None
        raise refused
    for person, hashed in planned:
        apply_user(store, person.user, person.name, list(person.roles), language=person.language,
                   active=person.active, badge_hashed=hashed)
    return ImportReport((label,), (), tuple(already), (), 0, tuple(f"person {p.user}" for p, _ in planned))
