"""Writes to the organisation: agencies, duties, users. Flush only; the caller commits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import func, literal, select, update

from lms import audit, signals
from lms.db import affected_rows
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.org.accounts import end_all_sessions
from lms.org.models import Agency, AgencyKind, Duty, HrScope, Role, User, UserRole

BUILTIN_DUTIES = [
    ("spokesperson", "Người phát ngôn", "Spokesperson"),
    ("human_rights", "Công tác nhân quyền", "Human-rights work"),
    ("foreign_info", "Thông tin đối ngoại", "Foreign-information work"),
    ("press", "Báo chí", "Press"),
]


def users_changed(user_ids: list[int] | None) -> None:
    """Announce that these officers' agency, duties or status changed (None: possibly everyone).

    Flushes first, so receivers (progress recomputes assigned courses) see the new rows."""
    db.session.flush()
    signals.users_changed.send(None, user_ids=user_ids)


CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class OrgError(DomainError):
    """A domain error with a message fit for the user, optionally tied to a form field."""


def nfc(text: str) -> str:
    """NFC with inner whitespace collapsed: how every name is stored."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def ensure_builtin_duties() -> None:
    """Create the duties plans target by default, if missing."""
    existing = set(db.session.scalars(select(Duty.code)))
    for code, vi, en in BUILTIN_DUTIES:
        if code not in existing:
            db.session.add(Duty(code=code, name_vi=vi, name_en=en, builtin=True))
    db.session.flush()


# Agencies -----------------------------------------------------------------------------------


def _check_code(code: str) -> str:
    code = code.strip()
    if not CODE_RE.match(code):
        raise OrgError(
            _("A code uses letters, digits, '.', '_' or '-' (at most 40), starting with a letter or digit."),
            "code",
        )
    return code


def create_agency(
    *,
    code: str,
    name_vi: str,
    name_en: str = "",
    kind: str = AgencyKind.other.value,
    parent: Agency | None = None,
    actor: User | None = None,
) -> Agency:
    """Add an agency under ``parent`` (or as a root)."""
    code = _check_code(code)
    if db.session.scalar(select(Agency.id).where(func.lower(Agency.code) == code.lower())):
        raise OrgError(_("The code %(code)s is already used by another agency.", code=code), "code")
    if kind not in AgencyKind.__members__:
        raise OrgError(_("Unknown agency kind."), "kind")
    if not nfc(name_vi):
        raise OrgError(_("The Vietnamese name is required."), "name_vi")
    agency = Agency(code=code, name_vi=nfc(name_vi), name_en=nfc(name_en), kind=kind, parent=parent)
    db.session.add(agency)
    db.session.flush()
    agency.path = f"{parent.path if parent else '/'}{agency.id}/"
    agency.depth = (parent.depth + 1) if parent else 0
    if actor is not None:
        audit.record("org.agency_created", actor=actor, target=agency, code=code)
    return agency


def update_agency(
    agency: Agency, *, code: str, name_vi: str, name_en: str, kind: str, actor: User | None = None
) -> None:
    """Rename or recode an agency (its officers and history stay with it)."""
    code = _check_code(code)
    clash = db.session.scalar(
        select(Agency.id).where(func.lower(Agency.code) == code.lower(), Agency.id != agency.id)
    )
    if clash:
        raise OrgError(_("The code %(code)s is already used by another agency.", code=code), "code")
    if kind not in AgencyKind.__members__:
        raise OrgError(_("Unknown agency kind."), "kind")
    if not nfc(name_vi):
        raise OrgError(_("The Vietnamese name is required."), "name_vi")
    before = {"code": agency.code, "name_vi": agency.name_vi, "name_en": agency.name_en, "kind": agency.kind}
    agency.code, agency.name_vi, agency.name_en, agency.kind = code, nfc(name_vi), nfc(name_en), kind
    after = {"code": agency.code, "name_vi": agency.name_vi, "name_en": agency.name_en, "kind": agency.kind}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        db.session.flush()
        signals.agency_renamed.send(agency, changed=changed)
    if changed and actor is not None:
        audit.record("org.agency_updated", actor=actor, target=agency, changed=changed)


def move_agency(agency: Agency, new_parent: Agency | None, *, actor: User | None = None) -> int:
    """Move ``agency`` (with its subtree) under ``new_parent``; returns how many agencies moved."""
    if new_parent is not None and new_parent.path.startswith(agency.path):
        raise OrgError(_("An agency cannot be moved under itself or one of its own units."), "parent")
    old_path, old_depth = agency.path, agency.depth
    new_path = f"{new_parent.path if new_parent else '/'}{agency.id}/"
    new_depth = (new_parent.depth + 1) if new_parent else 0
    if new_path == old_path:
        return 0
    old_parent_code = agency.parent.code if agency.parent else None
    old_parent_id = agency.parent_id
    agency.parent = new_parent
    db.session.flush()
    # One UPDATE rewrites the subtree's paths, whatever its size.
    result = db.session.execute(
        update(Agency)
        .where(Agency.path.startswith(old_path, autoescape=True))
        .values(
            path=literal(new_path) + func.substr(Agency.path, len(old_path) + 1),
            depth=Agency.depth + (new_depth - old_depth),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    signals.agency_moved.send(agency, old_parent_id=old_parent_id, new_parent_id=agency.parent_id)
    if actor is not None:
        audit.record(
            "org.agency_moved",
            actor=actor,
            target=agency,
            from_parent=old_parent_code,
            to_parent=new_parent.code if new_parent else None,
        )
    return affected_rows(result)


# Users --------------------------------------------------------------------------------------


@dataclass
class UserData:
    username: str
    full_name: str
    agency: Agency
    email: str | None = None
    job_title: str = ""
    employee_id: str | None = None
    locale: str = "vi"
    roles: set[str] = field(default_factory=lambda: {Role.officer.value})
    duty_codes: set[str] = field(default_factory=set)
    hr_agency_ids: set[int] = field(default_factory=set)
    hr_all_agencies: bool = False
    # The simple fields of lms.org.fields (phone ...) by name, already read; absent ones keep their value.
    simple: dict[str, Any] = field(default_factory=dict)


def _check_user_fields(data: UserData, existing: User | None) -> None:
    username = data.username.strip().lower()
    if not USERNAME_RE.match(username):
        raise OrgError(
            _("A username uses lower-case letters without diacritics, digits, '.', '_' or '-' (2 to 80)."),
            "username",
        )
    clash = select(User.id).where(func.lower(User.username) == username)
    if existing is not None:
        clash = clash.where(User.id != existing.id)
    if db.session.scalar(clash):
        raise OrgError(_("The username %(name)s is already taken.", name=username), "username")
    if not nfc(data.full_name):
        raise OrgError(_("The full name is required."), "full_name")
    if data.employee_id:
        clash = select(User.id).where(User.employee_id == data.employee_id.strip())
        if existing is not None:
            clash = clash.where(User.id != existing.id)
        if db.session.scalar(clash):
            raise OrgError(_("Another officer already has this employee id."), "employee_id")
    unknown_roles = set(data.roles) - set(Role.__members__)
    if unknown_roles:
        raise OrgError(_("Unknown role."), "roles")
    if data.locale not in {"vi", "en"}:
        raise OrgError(_("Unknown language."), "locale")


def _apply(user: User, data: UserData) -> None:
    user.username = data.username.strip().lower()
    user.full_name = nfc(data.full_name)
    user.email = data.email.strip().lower() if data.email and data.email.strip() else None
    user.job_title = nfc(data.job_title or "")
    user.employee_id = data.employee_id.strip() if data.employee_id and data.employee_id.strip() else None
    user.agency = data.agency
    user.locale = data.locale
    for name, value in data.simple.items():
        setattr(user, name, value)
    user.hr_all_agencies = data.hr_all_agencies and Role.hr.value in data.roles
    current = {row.role: row for row in user.role_rows}
    for role in set(current) - set(data.roles):
        user.role_rows.remove(current[role])
    for role in sorted(set(data.roles) - set(current)):
        user.role_rows.append(UserRole(role=role))
    duties = list(db.session.scalars(select(Duty).where(Duty.code.in_(data.duty_codes))))
    if len(duties) != len(set(data.duty_codes)):
        raise OrgError(_("Unknown duty."), "duties")
    user.duties = duties
    wanted = set(data.hr_agency_ids) if Role.hr.value in data.roles else set()
    scopes = {s.agency_id: s for s in user.hr_scopes}
    for agency_id in set(scopes) - wanted:
        user.hr_scopes.remove(scopes[agency_id])
    for agency_id in sorted(wanted - set(scopes)):
        user.hr_scopes.append(HrScope(agency_id=agency_id))


def create_user(data: UserData, *, actor: User | None = None) -> User:
    """Create an account (without a password: it is set through an activation link)."""
    _check_user_fields(data, None)
    user = User(username="", full_name="", agency=data.agency)
    db.session.add(user)
    _apply(user, data)
    db.session.flush()
    users_changed([user.id])
    if actor is not None:
        audit.record("org.user_created", actor=actor, target=user, username=user.username,
                     roles=sorted(user.roles), hr_scopes=sorted(s.agency_id for s in user.hr_scopes),
                     hr_all_agencies=user.hr_all_agencies)
    return user


def update_user(user: User, data: UserData, *, actor: User | None = None) -> None:
    """Edit an account's details, roles, duties and HR scopes."""
    _check_user_fields(data, user)
    before_roles = sorted(user.roles)
    before_scopes = sorted(s.agency_id for s in user.hr_scopes)
    before_all = user.hr_all_agencies
    before = _identity(user)
    _apply(user, data)
    db.session.flush()
    privileges = (sorted(user.roles), sorted(s.agency_id for s in user.hr_scopes), user.hr_all_agencies)
    if privileges != (before_roles, before_scopes, before_all) and (actor is None or actor.id != user.id):
        # A privilege change signs the account out on every device (ASVS 7.4): a session opened as
        # HR of the province must not live on as one. An administrator editing themself stays signed in.
        end_all_sessions(user)
    users_changed([user.id])
    if actor is not None:
        after = _identity(user)
        audit.record(
            "org.user_updated",
            actor=actor,
            target=user,
            roles=[before_roles, sorted(user.roles)],
            hr_scopes=[before_scopes, sorted(s.agency_id for s in user.hr_scopes)],
            hr_all_agencies=[before_all, user.hr_all_agencies],
            **cast(dict[str, Any], {k: [before[k], after[k]] for k in before if before[k] != after[k]}),
        )


def _identity(user: User) -> dict[str, str | None]:
    """What says who an account is and where it works: recorded before and after an edit."""
    return {"username": user.username, "agency": user.agency.code, "email": user.email,
            "employee_id": user.employee_id, "full_name": user.full_name}


def set_user_active(user: User, active: bool, *, actor: User | None = None) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    if actor is not None and actor.id == user.id and not active:
        raise OrgError(_("You cannot disable your own account."))
    user.active = active
    if not active:
        end_all_sessions(user)
    users_changed([user.id])
    if actor is not None:
        audit.record("org.user_enabled" if active else "org.user_disabled", actor=actor, target=user)


def add_duty(code: str, name_vi: str, name_en: str, *, actor: User | None = None) -> Duty:
    """Define a new duty that plans can target."""
    code = code.strip().lower()
    if not re.match(r"^[a-z][a-z0-9_]{1,39}$", code):
        raise OrgError(_("A duty code uses lower-case letters, digits and '_'."), "code")
    if db.session.scalar(select(Duty.id).where(Duty.code == code)):
        raise OrgError(_("This duty code already exists."), "code")
    if not nfc(name_vi) or not nfc(name_en):
        raise OrgError(_("Both names are required."), "name_vi")
    duty = Duty(code=code, name_vi=nfc(name_vi), name_en=nfc(name_en))
    db.session.add(duty)
    db.session.flush()
    if actor is not None:
        audit.record("org.duty_created", actor=actor, target=duty, code=code)
    return duty


def usernames_taken(candidates: Iterable[str]) -> set[str]:
    """Which of ``candidates`` already exist (one query)."""
    names = {c.lower() for c in candidates}
    if not names:
        return set()
    return set(db.session.scalars(select(func.lower(User.username)).where(func.lower(User.username).in_(names))))
