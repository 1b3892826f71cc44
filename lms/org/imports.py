"""Roster imports: compare an HR file with the database, show what would change, then apply it at once.

Reading and validating the file is :mod:`lms.org.roster`'s job (pure). This module adds what needs the
database: which agency codes and duties exist, whether an HR user may import into an agency, and which
rows are new officers, which update an existing officer (matched by employee id, then username, then by
name within the same agency when the username was generated) and which change nothing. The resulting
plan is shown as a preview (web) or a ``--dry-run`` report (CLI); applying it writes everything in a few
set-based statements in the caller's transaction: nothing is written when any row is bad, no password
is hashed, and new accounts get one-time activation links instead.

Rules a file follows (documented in the README and on the upload page): a column missing from the file
leaves that field untouched; a column present is the truth for its field, so an empty "Email" cell
clears the address, except for the identity columns (username, employee id) and the language, which
an empty cell never clears. An officer who reappears in a roster after being disabled is enabled
again. ``deactivate_missing`` disables the officers of the agencies named in the file who are absent
from it; administrators and the person importing are never disabled that way.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, insert, or_, select, update

from lms import audit, policy
from lms.db import affected_rows, utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _, lazy
from lms.org import services
from lms.org.accounts import issue_activations_bulk
from lms.org.fields import OFFICER_FIELDS, SIMPLE_FIELDS
from lms.org.models import (
    ActivationToken,
    Agency,
    Duty,
    ImportBatch,
    Role,
    User,
    UserRole,
    user_duty,
)
from lms.org.roster import (
    AgencyRow,
    OfficerRow,
    RosterError,
    parse_agencies,
    parse_officers,
    read_table,
)
from lms.spreadsheets import csv_bytes, neutralise, text_xlsx

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
BATCH_LIFETIME = timedelta(days=1)
# Values per IN (...) list: far below SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 5_000
# How many rows of each kind a preview lists (the counts are always complete).
PREVIEW_ROWS = 200

# Short names HR files use for the built-in duties, besides each duty's code and two names.
DUTY_ALIASES = {
    "Phát ngôn": "spokesperson",
    "Nhân quyền": "human_rights",
    "Human rights": "human_rights",
    "Đối ngoại": "foreign_info",
    "Thông tin đối ngoại": "foreign_info",
    "Foreign information": "foreign_info",
}


class ImportRefused(DomainError):
    """Raised when asked to apply a plan that has errors (callers check ``plan.ok`` first)."""


# --- the columns, for the upload page, the template files and the README -------------------------


@dataclass(frozen=True)
class ColumnDoc:
    field: str
    header_vi: str
    header_en: str
    required: bool
    description: Any  # a lazy string
    example_vi: tuple[str, str]
    example_en: tuple[str, str]


OFFICER_COLUMNS: tuple[ColumnDoc, ...] = tuple(
    ColumnDoc(f.name, f.header_vi, f.header_en, f.required, f.description, f.example_vi, f.example_en)
    for f in OFFICER_FIELDS
)

AGENCY_COLUMNS: tuple[ColumnDoc, ...] = (
    ColumnDoc("code", "Mã đơn vị", "Code", True,
              lazy("Stable code: letters, digits, '.', '_' or '-' (at most 40)."),
              ("STP", "STP-PBGD"), ("STP", "STP-PBGD")),
    ColumnDoc("name_vi", "Tên đơn vị", "Vietnamese name", True,
              lazy("Name in Vietnamese, with diacritics."),
              ("Sở Tư pháp", "Phòng Phổ biến, giáo dục pháp luật"),
              ("Sở Tư pháp", "Phòng Phổ biến, giáo dục pháp luật")),
    ColumnDoc("name_en", "Tên tiếng Anh", "English name", False,
              lazy("Name in English."),
              ("Department of Justice", "Legal Education Division"),
              ("Department of Justice", "Legal Education Division")),
    ColumnDoc("kind", "Loại", "Kind", False,
              lazy("Tỉnh, Sở, Huyện, Xã, Tổ chức chính trị - xã hội, Báo chí or Khác (or province, "
                   "department, district, commune, sociopolitical, press, other)."),
              ("Sở", "Khác"), ("department", "other")),
    ColumnDoc("parent_code", "Mã đơn vị cấp trên", "Parent code", False,
              lazy("Code of the parent agency, in the file or already in the system; empty for a "
                   "top-level agency."),
              ("SH", "STP"), ("SH", "STP")),
)  # fmt: skip

COLUMNS = {"officers": OFFICER_COLUMNS, "agencies": AGENCY_COLUMNS}


def template_rows(kind: str, lang: str) -> list[list[str]]:
    """Header and two example rows of the template file for ``kind`` in ``lang`` ("vi" or "en")."""
    columns = COLUMNS[kind]
    header = [c.header_vi if lang == "vi" else c.header_en for c in columns]
    examples = [c.example_vi if lang == "vi" else c.example_en for c in columns]
    return [header, [e[0] for e in examples], [e[1] for e in examples]]


# --- plans ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One row of a plan: an officer or agency that is added, changed, left alone or disabled."""

    line: int | None
    key: str  # username or agency code
    name: str
    agency_code: str = ""
    fields: tuple[str, ...] = ()  # what an update changes
    record_id: int | None = None


@dataclass
class Plan:
    """What importing one file would do. ``errors`` non-empty means nothing may be written."""

    kind: str
    filename: str
    sha256: str
    deactivate_missing: bool = False
    errors: list[RosterError] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    deactivated: list[Change] = field(default_factory=list)
    # Officers absent from the file who are kept anyway (administrators, the importer).
    kept: list[Change] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None
    converted_cells: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    # What apply_* writes; not shown.
    writes: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "deactivated": len(self.deactivated),
            "errors": len(self.errors),
        }

    @property
    def changes_anything(self) -> bool:
        return bool(self.new or self.updated or self.deactivated)

    @property
    def fingerprint(self) -> str:
        """A digest of what applying would write: the confirmation must match the preview."""
        payload = json.dumps(
            [self.counts, self.writes.get("digest", [])], sort_keys=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _base_plan(kind: str, filename: str, data: bytes, deactivate_missing: bool) -> Plan:
    return Plan(
        kind=kind,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        deactivate_missing=deactivate_missing,
    )


def _too_large(plan: Plan, data: bytes) -> bool:
    if len(data) <= MAX_UPLOAD_BYTES:
        return False
    plan.errors.append(
        RosterError(
            None,
            None,
            _("The file is larger than %(max)s MB; split it into smaller files.",
              max=MAX_UPLOAD_BYTES // (1024 * 1024)),
        )
    )
    return True


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True)
class _AgencyInfo:
    id: int
    code: str
    name_vi: str
    path: str
    active: bool
    merged_into_id: int | None
    parent_id: int | None
    name_en: str = ""
    kind: str = "other"


def _agencies() -> dict[str, _AgencyInfo]:
    """Every agency by case-folded code (one query)."""
    rows = db.session.execute(
        select(
            Agency.id, Agency.code, Agency.name_vi, Agency.path, Agency.active,
            Agency.merged_into_id, Agency.parent_id, Agency.name_en, Agency.kind,
        )
    ).all()  # fmt: skip
    return {row.code.casefold(): _AgencyInfo(*row) for row in rows}


def _scope_test(actor: Any) -> Callable[[str], bool]:
    """Whether ``actor`` may import into an agency, by its path (no actor: the command line)."""
    if actor is None or policy.sees_all_agencies(actor):
        return lambda _path: True
    paths = tuple(policy.scope_paths(actor))
    return lambda path: path.startswith(paths) if paths else False


def _inactive_agency_error(info: _AgencyInfo, by_id: dict[int, _AgencyInfo]) -> str:
    target = by_id.get(info.merged_into_id) if info.merged_into_id else None
    if target is not None:
        return _(
            "The agency %(code)s was merged into %(target)s; use the code %(target)s.",
            code=info.code,
            target=target.code,
        )
    return _("The agency %(code)s is no longer active.", code=info.code)


# --- officers ---------------------------------------------------------------------------------------


@dataclass
class _Existing:
    id: int
    username: str
    full_name: str
    email: str | None
    job_title: str
    employee_id: str | None
    agency_id: int
    locale: str
    active: bool
    admin: bool = False
    duties: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)  # the simple fields (lms.org.fields)

    def __getattr__(self, name: str) -> Any:
        if name != "extra" and name in SIMPLE_NAMES:
            return self.extra.get(name)
        raise AttributeError(name)


SIMPLE_NAMES = tuple(f.name for f in SIMPLE_FIELDS)
_USER_COLUMNS = (
    User.id, User.username, User.full_name, User.email, User.job_title, User.employee_id,
    User.agency_id, User.locale, User.active, *(getattr(User, name) for name in SIMPLE_NAMES),
)  # fmt: skip
# The columns an update writes; every update carries all of them so that they go in one batch.
_UPDATE_FIELDS = ("username", "full_name", "email", "job_title", "employee_id", "agency_id",
                  "locale", "active", *SIMPLE_NAMES)  # fmt: skip


def _duty_aliases() -> dict[str, str]:
    """alias -> duty code for the duties that exist: codes, both names and the usual short names."""
    aliases: dict[str, str] = {}
    codes = set()
    for code, name_vi, name_en in db.session.execute(select(Duty.code, Duty.name_vi, Duty.name_en)):
        codes.add(code)
        aliases[code] = code
        aliases[name_vi] = code
        aliases[name_en] = code
    for alias, code in DUTY_ALIASES.items():
        if code in codes:
            aliases.setdefault(alias, code)
    return aliases


def _load_users(
    agency_ids: set[int], employee_ids: set[str], usernames: set[str]
) -> dict[int, _Existing]:
    """Officers of the given agencies, plus those with one of the employee ids or usernames.

    Three queries per chunk of at most IN_CHUNK values (one chunk up to 5,000 rows).
    """
    ids, names = sorted(employee_ids), sorted(usernames)
    rounds = max(1, -(-max(len(ids), len(names)) // IN_CHUNK))
    found: dict[int, _Existing] = {}
    for index in range(rounds):
        conditions = []
        if index == 0 and agency_ids:
            conditions.append(User.agency_id.in_(sorted(agency_ids)))
        id_chunk = ids[index * IN_CHUNK : (index + 1) * IN_CHUNK]
        name_chunk = names[index * IN_CHUNK : (index + 1) * IN_CHUNK]
        if id_chunk:
            conditions.append(func.lower(User.employee_id).in_(id_chunk))
        if name_chunk:
            conditions.append(User.username.in_(name_chunk))
        if not conditions:
            continue
        where = or_(*conditions)
        for row in db.session.execute(select(*_USER_COLUMNS).where(where)):
            fixed, simple = row[:9], row[9:]
            existing = _Existing(*fixed)
            existing.extra = dict(zip(SIMPLE_NAMES, simple, strict=True))
            found.setdefault(row.id, existing)
        matching = select(User.id).where(where)
        for user_id, code in db.session.execute(
            select(user_duty.c.user_id, Duty.code)
            .join(Duty, Duty.id == user_duty.c.duty_id)
            .where(user_duty.c.user_id.in_(matching))
        ):
            found[user_id].duties.add(code)
        for (user_id,) in db.session.execute(
            select(UserRole.user_id).where(
                UserRole.role == Role.admin.value, UserRole.user_id.in_(matching)
            )
        ):
            found[user_id].admin = True
    return found


def _usernames_with_bases(bases: set[str]) -> set[str]:
    """The existing usernames that are one of ``bases``, alone or numbered ("daontb", "daontb12").

    One statement read as a stream, keeping only those: the set every username was read into took
    20 MB of a dry run at 200,000 officers (peak RSS 125 MB at 20,000 -> 159 MB at 200,000)."""
    digits = "0123456789"
    stripped = {base.rstrip(digits) for base in bases}
    found: set[str] = set()
    for username in db.session.scalars(select(User.username).execution_options(yield_per=5000)):
        folded = username.casefold()
        if folded in bases or folded.rstrip(digits) in stripped:
            found.add(folded)
    return found


def plan_officers(
    filename: str, data: bytes, *, actor: Any = None, deactivate_missing: bool = False
) -> Plan:
    """Read an officer roster and classify every row against the database (writes nothing)."""
    plan = _base_plan("officers", filename, data, deactivate_missing)
    if _too_large(plan, data):
        return plan
    table = read_table(filename, data)
    plan.encoding, plan.sheet, plan.converted_cells = table.encoding, table.sheet, table.converted_cells
    agencies = _agencies()
    by_id = {info.id: info for info in agencies.values()}
    roster = parse_officers(
        table,
        known_agency_codes=[info.code for info in agencies.values()],
        known_duties=_duty_aliases(),
        existing_usernames=_usernames_with_bases,
    )
    plan.columns = dict(roster.columns)
    errors = plan.errors
    errors.extend(roster.errors)
    col = plan.columns.get
    in_scope = _scope_test(actor)
    may_change_admins = actor is None or policy.is_admin(actor)

    rows: list[tuple[OfficerRow, _AgencyInfo]] = []
    for row in roster.officers:
        info = agencies[row.agency_code.casefold()]
        if not info.active:
            errors.append(RosterError(row.line, col("agency_code"), _inactive_agency_error(info, by_id)))
        elif not in_scope(info.path):
            errors.append(
                RosterError(
                    row.line,
                    col("agency_code"),
                    _("You may not import officers into %(code)s: it is outside the agencies "
                      "you manage.", code=info.code),
                )
            )
        else:
            rows.append((row, info))

    covered = {info.id for _row, info in rows}
    users = _load_users(
        covered,
        {row.employee_id.casefold() for row, _info in rows if row.employee_id},
        {row.username for row, _info in rows if not row.username_generated},
    )
    by_employee_id = {u.employee_id.casefold(): u for u in users.values() if u.employee_id}
    by_username = {u.username: u for u in users.values()}
    by_name: dict[tuple[int, str], list[_Existing]] = defaultdict(list)
    for u in users.values():
        by_name[(u.agency_id, u.full_name.casefold())].append(u)

    has = set(plan.columns)
    claimed: dict[int, int] = {}
    new_rows: list[dict[str, Any]] = []
    new_duties: dict[str, tuple[str, ...]] = {}
    updates: list[dict[str, Any]] = []
    duty_changes: dict[int, tuple[str, ...]] = {}
    for row, info in rows:
        line = row.line
        user = by_employee_id.get(row.employee_id.casefold()) if row.employee_id else None
        if not row.username_generated:
            owner = by_username.get(row.username)
            if owner is not None and user is not None and owner.id != user.id:
                errors.append(RosterError(line, col("username"), _(
                    "The username '%(username)s' already belongs to another officer, %(name)s.",
                    username=row.username, name=owner.full_name)))
                continue
            if owner is not None and user is None:
                if owner.employee_id and row.employee_id:
                    errors.append(RosterError(line, col("username"), _(
                        "The username '%(username)s' already belongs to %(name)s, whose employee "
                        "id is %(id)s, not %(other)s.", username=row.username,
                        name=owner.full_name, id=owner.employee_id, other=row.employee_id)))
                    continue
                user = owner
        elif user is None:
            same_name = [
                u for u in by_name.get((info.id, row.full_name.casefold()), ())
                if not (u.employee_id and row.employee_id)
            ]
            if len(same_name) > 1:
                errors.append(RosterError(line, col("full_name"), _(
                    "%(count)s officers of %(code)s are named %(name)s; add their usernames or "
                    "employee ids to tell them apart.", count=len(same_name), code=info.code,
                    name=row.full_name)))
                continue
            user = same_name[0] if same_name else None

        if user is None:
            new_rows.append({
                "username": row.username, "full_name": row.full_name, "email": row.email,
                "job_title": row.job_title, "employee_id": row.employee_id,
                "agency_id": info.id, "locale": row.language or "vi",
                **{name: row.extra.get(name) for name in SIMPLE_NAMES},
            })
            new_duties[row.username] = row.duties
            plan.new.append(Change(line, row.username, row.full_name, info.code))
            continue

        if user.id in claimed:
            errors.append(RosterError(line, None, _(
                "This row and line %(other)s are the same officer (%(username)s).",
                other=claimed[user.id], username=user.username)))
            continue
        claimed[user.id] = line
        current = by_id.get(user.agency_id)
        if current is not None and not in_scope(current.path):
            errors.append(RosterError(line, col("agency_code"), _(
                "%(name)s (%(username)s) works at %(code)s, outside the agencies you manage.",
                name=user.full_name, username=user.username, code=current.code)))
            continue
        username = user.username if row.username_generated else row.username
        wanted: dict[str, Any] = {
            "username": username,
            "full_name": row.full_name,
            "email": row.email if "email" in has else user.email,
            "job_title": row.job_title if "job_title" in has else user.job_title,
            "employee_id": row.employee_id or user.employee_id,
            "agency_id": info.id,
            "locale": row.language or user.locale,
            "active": True,
            # A simple field's column left out of the file keeps what is stored.
            **{name: row.extra.get(name) if name in has else getattr(user, name) for name in SIMPLE_NAMES},
        }
        changed = [name for name in _UPDATE_FIELDS if getattr(user, name) != wanted[name]]
        if "duties" in has and set(row.duties) != user.duties:
            changed.append("duties")
        if changed and user.admin and not may_change_admins:
            # HR must not rename, re-address or re-enable an administrator (one disabled on purpose).
            errors.append(RosterError(line, col("username"), _(
                "%(name)s (%(username)s) is an administrator; only an administrator may change this "
                "account.", name=user.full_name, username=user.username)))
            continue
        if "duties" in changed:
            duty_changes[user.id] = row.duties
        change = Change(line, username, row.full_name, info.code, tuple(changed), user.id)
        if changed:
            updates.append({"id": user.id, **wanted})
            plan.updated.append(change)
        else:
            plan.unchanged.append(change)

    if deactivate_missing:
        for user in sorted(users.values(), key=lambda u: (u.agency_id, u.full_name)):
            if user.agency_id not in covered or user.id in claimed or not user.active:
                continue
            code = by_id[user.agency_id].code
            change = Change(None, user.username, user.full_name, code, record_id=user.id)
            if user.admin or (actor is not None and user.id == getattr(actor, "id", None)):
                plan.kept.append(change)
            else:
                plan.deactivated.append(change)

    errors.sort(key=lambda e: (e.line is not None, e.line or 0))
    plan.writes = {
        "new": new_rows,
        "new_duties": new_duties,
        "updates": updates,
        "duty_changes": duty_changes,
        "deactivate": [c.record_id for c in plan.deactivated],
        "digest": [
            sorted((r["username"], r["agency_id"]) for r in new_rows),
            sorted((u["id"], u["username"], u["agency_id"]) for u in updates),
            sorted((k, list(v)) for k, v in duty_changes.items()),
            sorted(c.record_id for c in plan.deactivated),
        ],
    }
    return plan


@dataclass
class ImportResult:
    counts: dict[str, int]
    new_user_ids: list[int]
    tokens: dict[int, str] = field(default_factory=dict)


def _duty_ids() -> dict[str, int]:
    return {code: duty_id for code, duty_id in db.session.execute(select(Duty.code, Duty.id))}


def notify_users_changed(user_ids: list[int] | None) -> None:
    """Tell the progress domain which officers changed agency, duties or status (same transaction)."""
    services.users_changed(user_ids)


def apply_officers(
    plan: Plan, *, actor: Any = None, token_days: int | None = None, source: str = ""
) -> ImportResult:
    """Write a checked officer plan in a few set-based statements (flush only; the caller commits).

    With ``token_days`` new accounts get activation tokens (returned by user id).
    """
    if plan.kind != "officers" or not plan.ok:
        raise ImportRefused(plan.filename)
    writes = plan.writes
    now = utcnow()
    duty_ids = _duty_ids() if writes["new_duties"] or writes["duty_changes"] else {}
    new_ids: dict[str, int] = {}
    if writes["new"]:
        params = [
            {**row, "active": True, "password_hash": None, "session_epoch": 0,
             "hr_all_agencies": False, "created_at": now}
            for row in writes["new"]
        ]  # fmt: skip
        for chunk in _chunks(params):
            result = db.session.execute(
                insert(User).returning(User.id, User.username).execution_options(
                    insertmanyvalues_page_size=IN_CHUNK
                ),
                list(chunk),
            )
            new_ids.update({username: user_id for user_id, username in result})
        db.session.execute(
            insert(UserRole), [{"user_id": uid, "role": Role.officer.value} for uid in new_ids.values()]
        )
    if writes["updates"]:
        db.session.execute(update(User), writes["updates"])
    duty_rows = [
        {"user_id": new_ids[username], "duty_id": duty_ids[code]}
        for username, codes in writes["new_duties"].items()
        for code in codes
    ]
    changed_ids = sorted(writes["duty_changes"])
    for chunk in _chunks(changed_ids):
        db.session.execute(delete(user_duty).where(user_duty.c.user_id.in_(chunk)))
    duty_rows += [
        {"user_id": uid, "duty_id": duty_ids[code]}
        for uid, codes in writes["duty_changes"].items()
        for code in codes
    ]
    if duty_rows:
        db.session.execute(insert(user_duty), duty_rows)
    for chunk in _chunks(writes["deactivate"]):
        db.session.execute(
            update(User)
            .where(User.id.in_(chunk))
            .values(active=False, session_epoch=User.session_epoch + 1)
            .execution_options(synchronize_session=False)
        )
    user_ids = sorted(new_ids.values())
    touched = set(user_ids) | {u["id"] for u in writes["updates"]} | set(writes["deactivate"])
    touched |= set(writes["duty_changes"])
    if touched:
        notify_users_changed(sorted(touched))
    tokens = issue_activations_bulk(user_ids, token_days) if token_days and user_ids else {}
    audit.record(
        "org.roster_imported",
        actor=actor,
        target_type="import",
        target_id=source or plan.sha256[:16],
        filename=plan.filename,
        sha256=plan.sha256,
        counts=plan.counts,
        deactivated=writes["deactivate"],
    )
    db.session.flush()
    # Bulk statements bypass the identity map: loaded users (the importer too) must reload.
    db.session.expire_all()
    return ImportResult(plan.counts, user_ids, tokens)


# --- agencies ---------------------------------------------------------------------------------------


def plan_agencies(filename: str, data: bytes, *, actor: Any = None) -> Plan:
    """Read an agency list, order it parents first and classify every row (writes nothing)."""
    plan = _base_plan("agencies", filename, data, False)
    if _too_large(plan, data):
        return plan
    table = read_table(filename, data)
    plan.encoding, plan.sheet, plan.converted_cells = table.encoding, table.sheet, table.converted_cells
    agencies = _agencies()
    by_id = {info.id: info for info in agencies.values()}
    roster = parse_agencies(table, existing_codes=[info.code for info in agencies.values()])
    plan.columns = dict(roster.columns)
    col = plan.columns.get
    errors = plan.errors
    errors.extend(roster.errors)
    order = roster.dependency_order()
    errors.extend(order.errors)

    # Final parent of every code once the file is applied, to refuse moves that make a loop.
    parent_of: dict[str, str | None] = {
        key: (by_id[info.parent_id].code.casefold() if info.parent_id in by_id else None)
        for key, info in agencies.items()
    }
    file_rows: list[AgencyRow] = []
    for row in order.agencies:
        key = row.code.casefold()
        info = agencies.get(key)
        parent = agencies.get(row.parent_code.casefold()) if row.parent_code else None
        if info is not None and not info.active:
            errors.append(RosterError(row.line, col("code"), _inactive_agency_error(info, by_id)))
            continue
        if parent is not None and not parent.active:
            errors.append(RosterError(row.line, col("parent_code"), _inactive_agency_error(parent, by_id)))
            continue
        parent_of[key] = row.parent_code.casefold() if row.parent_code else None
        file_rows.append(row)
    for row in file_rows:
        seen: set[str] = set()
        walk: str | None = row.code.casefold()
        while walk is not None and walk not in seen:
            seen.add(walk)
            walk = parent_of.get(walk)
        if walk is not None:
            errors.append(RosterError(row.line, col("parent_code"), _(
                "%(code)s cannot be placed under %(parent)s: %(parent)s is one of its own units.",
                code=row.code, parent=row.parent_code)))

    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    moves: list[tuple[int, str | None]] = []
    for row in file_rows:
        info = agencies.get(row.code.casefold())
        parent = agencies.get(row.parent_code.casefold()) if row.parent_code else None
        parent_code = parent.code if parent else row.parent_code
        if info is None:
            new_rows.append({"code": row.code, "name_vi": row.name_vi, "name_en": row.name_en,
                             "kind": row.kind, "parent_code": parent_code})
            plan.new.append(Change(row.line, row.code, row.name_vi, parent_code or ""))
            continue
        kind = row.kind if "kind" in plan.columns else info.kind  # no column: keep it
        changed = [
            name for name, value in (("name_vi", row.name_vi), ("kind", kind))
            if getattr(info, name) != value
        ]
        # An empty English name in the file keeps the one already there.
        if row.name_en and row.name_en != info.name_en:
            changed.append("name_en")
        old_parent = by_id[info.parent_id].code if info.parent_id in by_id else None
        if (old_parent or "").casefold() != (parent_code or "").casefold():
            changed.append("parent")
            moves.append((info.id, parent_code))
        change = Change(row.line, info.code, row.name_vi, parent_code or "", tuple(changed), info.id)
        if changed:
            updates.append({"id": info.id, "name_vi": row.name_vi,
                            "name_en": row.name_en or info.name_en, "kind": kind})
            plan.updated.append(change)
        else:
            plan.unchanged.append(change)
    errors.sort(key=lambda e: (e.line is not None, e.line or 0))
    plan.writes = {
        "new": new_rows,
        "updates": updates,
        "moves": moves,
        "digest": [new_rows, updates, moves],
    }
    return plan


def apply_agencies(plan: Plan, *, actor: Any = None, source: str = "") -> ImportResult:
    """Create, rename and move agencies as planned, parents first (flush only)."""
    if plan.kind != "agencies" or not plan.ok:
        raise ImportRefused(plan.filename)
    writes = plan.writes
    codes = {info.code.casefold(): info for info in _agencies().values()}
    ids: dict[str, int] = {key: info.id for key, info in codes.items()}
    paths: dict[str, tuple[str, int]] = {key: (info.path, _depth(info.path)) for key, info in codes.items()}
    if writes["new"]:
        # Insert without parents, then set parent, path and depth in one batch: paths need ids.
        result = db.session.execute(
            insert(Agency).returning(Agency.id, Agency.code),
            [{"code": r["code"], "name_vi": r["name_vi"], "name_en": r["name_en"], "kind": r["kind"],
              "path": "/", "depth": 0, "active": True, "created_at": utcnow()}
             for r in writes["new"]],
        )  # fmt: skip
        ids.update({code.casefold(): agency_id for agency_id, code in result})
        placed = []
        for r in writes["new"]:  # parents come first (dependency order)
            key = r["code"].casefold()
            parent = r["parent_code"].casefold() if r["parent_code"] else None
            base, depth = paths[parent] if parent else ("/", -1)
            paths[key] = (f"{base}{ids[key]}/", depth + 1)
            placed.append({"id": ids[key], "parent_id": ids[parent] if parent else None,
                           "path": paths[key][0], "depth": paths[key][1]})
        db.session.execute(update(Agency), placed)
    if writes["updates"]:
        db.session.execute(update(Agency), writes["updates"])
    for agency_id, parent_code in writes["moves"]:
        agency = db.session.get(Agency, agency_id)
        parent = db.session.get(Agency, ids[parent_code.casefold()]) if parent_code else None
        services.move_agency(agency, parent, actor=actor)  # type: ignore[arg-type]
    audit.record(
        "org.agencies_imported",
        actor=actor,
        target_type="import",
        target_id=source or plan.sha256[:16],
        filename=plan.filename,
        sha256=plan.sha256,
        counts=plan.counts,
    )
    db.session.flush()
    db.session.expire_all()
    return ImportResult(plan.counts, [])


def _depth(path: str) -> int:
    return path.strip("/").count("/")


# --- registry used by the views and the CLI ---------------------------------------------------------


@dataclass(frozen=True)
class ImportKind:
    plan: Callable[..., Plan]
    apply: Callable[..., ImportResult]
    rule: str


KINDS: dict[str, ImportKind] = {
    "officers": ImportKind(
        lambda filename, data, actor, deactivate_missing: plan_officers(
            filename, data, actor=actor, deactivate_missing=deactivate_missing
        ),
        apply_officers,
        "org.import_roster",
    ),
    "agencies": ImportKind(
        lambda filename, data, actor, deactivate_missing: plan_agencies(filename, data, actor=actor),
        apply_agencies,
        "org.manage_agencies",
    ),
}


def report_lines(plan: Plan, *, limit: int | None = PREVIEW_ROWS) -> list[str]:
    """The plan as text lines: the ``--dry-run`` output, and the same facts the preview page shows."""
    lines = [
        _("File: %(name)s", name=plan.filename)
        + (f" ({plan.encoding})" if plan.encoding else "")
        + (f" [{plan.sheet}]" if plan.sheet else "")
    ]
    if plan.converted_cells:
        lines.append(_("%(num)s cells typed in a legacy Vietnamese font were converted to Unicode.",
                       num=plan.converted_cells))
    counts = plan.counts
    lines.append(
        _("New: %(new)s · Updated: %(updated)s · Unchanged: %(unchanged)s · To deactivate: "
          "%(deactivated)s · Errors: %(errors)s", **counts)
    )
    if plan.errors:
        lines.append(_("Nothing will be written until every error is fixed:"))
        lines.extend(f"  {error}" for error in plan.errors)
    for label, changes in (
        (_("New"), plan.new),
        (_("Updated"), plan.updated),
        (_("To deactivate"), plan.deactivated),
    ):
        if not changes:
            continue
        lines.append(f"{label}:")
        shown = changes if limit is None else changes[:limit]
        for change in shown:
            where = _("line %(line)s", line=change.line) if change.line else ""
            detail = f" ({', '.join(change.fields)})" if change.fields else ""
            lines.append(f"  {where} {change.key} {change.name} {change.agency_code}{detail}".rstrip())
        if len(changes) > len(shown):
            lines.append("  " + _("… and %(num)s more", num=len(changes) - len(shown)))
    if plan.kept:
        lines.append(_("Not deactivated although absent (administrators and yourself): %(names)s",
                       names=", ".join(c.key for c in plan.kept)))
    return lines


# --- batches (upload -> preview -> confirm) ---------------------------------------------------------


def purge_expired_batches() -> int:
    """Delete import batches past their day (one statement)."""
    result = db.session.execute(delete(ImportBatch).where(ImportBatch.expires_at < utcnow()))
    return affected_rows(result)


def create_batch(
    kind: str, filename: str, data: bytes, *, owner: User, deactivate_missing: bool = False
) -> ImportBatch:
    """Keep an uploaded file in the database until it is confirmed (at most a day)."""
    if kind not in KINDS:
        raise ValueError(kind)
    purge_expired_batches()
    now = utcnow()
    batch = ImportBatch(
        kind=kind,
        filename=(filename or "roster")[-255:],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        deactivate_missing=deactivate_missing and kind == "officers",
        created_by_id=owner.id,
        created_at=now,
        expires_at=now + BATCH_LIFETIME,
        summary={},
        new_user_ids=[],
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def batch_is_live(batch: ImportBatch, now: datetime | None = None) -> bool:
    return batch.expires_at > (now or utcnow())


def plan_batch(batch: ImportBatch, actor: Any) -> Plan:
    """Plan the stored file again (the preview and the confirmation see the database as it is now)."""
    return KINDS[batch.kind].plan(batch.filename, batch.data, actor, batch.deactivate_missing)


def apply_batch(batch: ImportBatch, plan: Plan, *, actor: Any) -> ImportResult:
    """Apply a batch's plan and record what it did; the stored bytes are dropped."""
    result = KINDS[batch.kind].apply(plan, actor=actor, source=f"batch-{batch.id}")
    batch.applied_at = utcnow()
    batch.summary = result.counts
    batch.new_user_ids = result.new_user_ids
    batch.data = b""
    return result


# --- activation links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    full_name: str
    username: str
    agency_code: str
    agency_name: str
    email: str
    link: str


def issue_links(
    user_ids: Iterable[int], *, days: int, make_link: Callable[[str], str], actor: Any = None
) -> list[LinkRow]:
    """Fresh one-time links for those of ``user_ids`` who have not chosen a password yet.

    Earlier unused links of the same people stop working, so a lost list can simply be made again.
    """
    ids = sorted(set(user_ids))
    limits = []
    if actor is not None and not policy.is_admin(actor):
        # HR hands out links only to plain officers still in its scope: an account given more rights
        # or moved elsewhere since the import is for an administrator to activate.
        limits = [
            policy.agency_scope_clause(actor, Agency.path),
            User.id.not_in(select(UserRole.user_id).where(UserRole.role != Role.officer.value)),
        ]
    people: list[Row[*tuple[Any, ...]]] = []
    for chunk in _chunks(ids):
        people += db.session.execute(
            select(User.id, User.full_name, User.username, User.email, Agency.code, Agency.name_vi)
            .join(Agency, Agency.id == User.agency_id)
            .where(User.id.in_(chunk), User.password_hash.is_(None), User.active.is_(True), *limits)
        ).all()
    waiting = [row.id for row in people]
    for chunk in _chunks(waiting):
        db.session.execute(
            update(ActivationToken)
            .where(ActivationToken.user_id.in_(chunk), ActivationToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
    tokens = issue_activations_bulk(waiting, days)
    if waiting:
        audit.record("auth.activation_issued_bulk", actor=actor, target_type="user",
                     count=len(waiting), users=waiting[:1000])
    people.sort(key=lambda r: (r.code, r.full_name))
    return [
        LinkRow(r.full_name, r.username, r.code, r.name_vi, r.email or "", make_link(tokens[r.id]))
        for r in people
    ]


def link_rows_from_tokens(
    tokens: dict[int, str], *, make_link: Callable[[str], str]
) -> list[LinkRow]:
    """Rows for tokens just issued by :func:`apply_officers` (the command line's ``--links-out``)."""
    ids = sorted(tokens)
    people: list[Row[*tuple[Any, ...]]] = []
    for chunk in _chunks(ids):
        people += db.session.execute(
            select(User.id, User.full_name, User.username, User.email, Agency.code, Agency.name_vi)
            .join(Agency, Agency.id == User.agency_id)
            .where(User.id.in_(chunk))
        ).all()
    people.sort(key=lambda r: (r.code, r.full_name))
    return [
        LinkRow(r.full_name, r.username, r.code, r.name_vi, r.email or "", make_link(tokens[r.id]))
        for r in people
    ]


def _link_table(rows: Iterable[LinkRow]) -> list[list[str]]:
    header = [_("Full name"), _("Username"), _("Agency code"), _("Agency"), _("Email"),
              _("Activation link")]  # fmt: skip
    body = [
        [neutralise(v) for v in (r.full_name, r.username, r.agency_code, r.agency_name, r.email, r.link)]
        for r in rows
    ]
    return [header, *body]


def links_file(rows: list[LinkRow], fmt: str) -> bytes:
    """Activation links as ``csv`` or ``xlsx`` bytes."""
    table = _link_table(rows)
    return csv_bytes(table) if fmt == "csv" else text_xlsx(table, "Activation links")


def template_file(kind: str, lang: str, fmt: str) -> bytes:
    """The empty roster template (header and two example rows) as ``csv`` or ``xlsx``."""
    rows = template_rows(kind, lang)
    if fmt == "csv":
        return csv_bytes(rows)
    title = {"officers": "Danh sách cán bộ" if lang == "vi" else "Officers",
             "agencies": "Danh sách đơn vị" if lang == "vi" else "Agencies"}[kind]  # fmt: skip
    return text_xlsx(rows, title)
