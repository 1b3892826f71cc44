"""Training done away from the platform: in-person workshops and certificates from elsewhere.

HR records a workshop (date, place, organising agency, trainer, hours, course or topic) and who
attended, ticked on screen or read from the attendance sheet (the same Excel/CSV reader as roster
imports). A workshop for a course that ``counts_as_completion`` completes the course for attendees who
had not completed it; such completions carry ``source="workshop"`` and ``evidence="workshop:<id>"`` so
every report tells them apart, and unticking an attendee withdraws only the completion that workshop
gave. An external certificate (uploaded PDF, issuer, hours) works the same with ``source="external"``.
Neither issues an lms certificate: the evidence is the attendance list or the uploaded document.

Flush only; the caller commits.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from lms import audit, policy
from lms.catalog.models import Course
from lms.db import affected_rows
from lms.extensions import db
from lms.i18n import _
from lms.org.models import Agency, User
from lms.org.roster import header_key, read_table
from lms.progress.models import CourseCompletion, ExternalTraining, Workshop, WorkshopAttendance
from lms.progress.services import ProgressError, local_today

MAX_PDF_BYTES = 10 * 1024 * 1024
_USERNAME_HEADERS = {header_key(h) for h in ("Tên đăng nhập", "Username", "user", "login")}
_EMPLOYEE_HEADERS = {header_key(h) for h in ("Mã cán bộ", "Employee ID", "Employee id", "employee_id")}


def _clean(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _local_noon(day: date) -> datetime:
    """A completion "on" a local day, stored as the UTC instant of that day's noon in Vietnam."""
    return datetime.combine(day, time(12), ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(ZoneInfo("UTC"))


@dataclass
class WorkshopData:
    title: str
    held_on: date | None
    place: str
    agency: Agency | None
    trainer: str
    hours: float | None
    course: Course | None = None
    topic: str = ""
    counts_as_completion: bool = True


def _check(data: WorkshopData, *, actor: Any) -> None:
    """Refuse a workshop HR may not record as given, naming the field (the same rules for edits)."""
    for name, value, label in (("title", data.title, _("The title")), ("place", data.place, _("The place")),
                               ("trainer", data.trainer, _("The trainer"))):
        if not _clean(value):
            raise ProgressError(_("%(what)s is needed.", what=label), name)
        if len(_clean(value)) > 300:
            raise ProgressError(_("%(what)s is too long (at most 300 characters).", what=label), name)
    if data.held_on is None:
        raise ProgressError(_("Give the date of the workshop."), "held_on")
    if data.held_on > local_today():
        raise ProgressError(_("Record a workshop once it has taken place (the date is in the future)."),
                            "held_on")
    if data.agency is None:
        raise ProgressError(_("Choose the organising agency."), "agency_id")
    if not policy.agency_in_scope(actor, data.agency):
        raise ProgressError(_("This agency is outside your scope."), "agency_id")
    if data.hours is None or not 0 < data.hours <= 200:
        raise ProgressError(_("The hours are more than 0 and at most 200."), "hours")
    if data.course is None and not _clean(data.topic):
        raise ProgressError(_("Choose the course the workshop covers, or give its topic."), "topic")


def _values(data: WorkshopData) -> dict[str, Any]:
    assert data.held_on is not None and data.agency is not None and data.hours is not None  # _check
    return {
        "title": _clean(data.title), "held_on": data.held_on, "place": _clean(data.place),
        "agency_id": data.agency.id, "trainer": _clean(data.trainer), "hours": round(float(data.hours), 1),
        "course_id": data.course.id if data.course else None, "topic": _clean(data.topic)[:200],
        "counts_as_completion": bool(data.counts_as_completion and data.course is not None),
    }  # fmt: skip


def create_workshop(data: WorkshopData, *, actor: Any) -> Workshop:
    """Record a workshop; the organising agency must be within the actor's scope."""
    _check(data, actor=actor)
    workshop = Workshop(**_values(data), created_by_id=getattr(actor, "id", None))
    db.session.add(workshop)
    db.session.flush()
    assert data.agency is not None
    audit.record("progress.workshop_recorded", actor=actor, target=workshop, title=workshop.title,
                 held_on=workshop.held_on.isoformat(), agency=data.agency.code, hours=workshop.hours,
                 course=data.course.key if data.course else None)
    return workshop


def update_workshop(workshop: Workshop, data: WorkshopData, *, actor: Any) -> dict[str, int]:
    """Correct a recorded workshop (the same rules as recording one; the old and the new organising
    agency must both be in the actor's scope). The completions it gave follow: another course, or
    "attending completes the course" unticked, withdraws them (and gives the new course's); another
    date moves them to that day. Returns how many completions were withdrawn and made."""
    if not policy.agency_in_scope(actor, workshop.agency):
        raise ProgressError(_("This workshop is outside your scope."))
    _check(data, actor=actor)
    values = _values(data)
    changes = {name: [_plain(getattr(workshop, name)), _plain(value)]
               for name, value in values.items() if getattr(workshop, name) != value}
    if not changes:
        return {"withdrawn": 0, "completions": 0, "changed": 0}
    evidence = f"workshop:{workshop.id}"
    counts = {"withdrawn": 0, "completions": 0, "changed": len(changes)}
    if "course_id" in changes or "counts_as_completion" in changes:
        # What it gave no longer holds: withdraw all of it, then give what the corrected workshop gives.
        counts["withdrawn"] = affected_rows(db.session.execute(
            delete(CourseCompletion).where(CourseCompletion.evidence == evidence)
            .execution_options(synchronize_session="fetch")))
    for name, value in values.items():
        setattr(workshop, name, value)
    db.session.flush()
    if "held_on" in changes:
        for completion in db.session.scalars(select(CourseCompletion).where(CourseCompletion.evidence == evidence)):
            completion.completed_at = _local_noon(workshop.held_on)
    synced = _sync_completions(workshop, {})
    counts["completions"] = synced["completions"]
    counts["withdrawn"] += synced["withdrawn"]
    audit.record("progress.workshop_updated", actor=actor, target=workshop, changes=changes,
                 completions=counts["completions"], withdrawn=counts["withdrawn"])
    return counts


def delete_workshop(workshop: Workshop, *, actor: Any) -> dict[str, int]:
    """Delete a workshop recorded by mistake, with its attendance list and the completions it gave
    (completions earned otherwise stay). Returns the attendance and the completions withdrawn."""
    if not policy.agency_in_scope(actor, workshop.agency):
        raise ProgressError(_("This workshop is outside your scope."))
    attended = sorted(a.user_id for a in workshop.attendance)
    withdrawn = affected_rows(db.session.execute(
        delete(CourseCompletion).where(CourseCompletion.evidence == f"workshop:{workshop.id}")
        .execution_options(synchronize_session="fetch")))
    audit.record("progress.workshop_deleted", actor=actor, target=workshop, title=workshop.title,
                 held_on=workshop.held_on.isoformat(), agency=workshop.agency.code, hours=workshop.hours,
                 course=workshop.course.key if workshop.course else None, attended=attended,
                 withdrawn=withdrawn)
    db.session.delete(workshop)
    db.session.flush()
    return {"attended": len(attended), "withdrawn": withdrawn}


def withdrawn_by_deleting(workshop: Workshop) -> int:
    """How many completions deleting ``workshop`` would withdraw (for the confirmation page)."""
    return db.session.scalar(select(func.count()).select_from(CourseCompletion).where(
        CourseCompletion.evidence == f"workshop:{workshop.id}")) or 0


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def set_attendance(workshop: Workshop, user_ids: Iterable[int], *, actor: Any, source: str = "screen") -> dict[str, int]:
    """Make the attendance list exactly ``user_ids`` (officers in the actor's scope); completions
    follow: attendees get the course, officers unticked lose only what this workshop gave them."""
    wanted = set(user_ids)
    officers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
    outside = [uid for uid in wanted if uid not in officers or not policy.agency_in_scope(actor, officers[uid].agency)]
    if outside:
        raise ProgressError(_("%(num)s of the officers are not in your scope.", num=len(outside)), "user_ids")
    present = {a.user_id: a for a in workshop.attendance}
    added = wanted - set(present)
    removed = set(present) - wanted
    for uid in removed:
        workshop.attendance.remove(present[uid])
    for uid in sorted(added):
        workshop.attendance.append(WorkshopAttendance(user_id=uid))
    db.session.flush()
    counts = {"added": len(added), "removed": len(removed), **_sync_completions(workshop, officers)}
    audit.record("progress.workshop_attendance", actor=actor, target=workshop, source=source,
                 added=sorted(added), removed=sorted(removed), completions=counts["completions"],
                 withdrawn=counts["withdrawn"])
    return counts


def _sync_completions(workshop: Workshop, officers: dict[int, User]) -> dict[str, int]:
    evidence = f"workshop:{workshop.id}"
    attendees = {a.user_id for a in workshop.attendance}
    withdrawn = 0
    stale = delete(CourseCompletion).where(CourseCompletion.evidence == evidence)
    if attendees:
        stale = stale.where(CourseCompletion.user_id.not_in(attendees))
    withdrawn = affected_rows(db.session.execute(stale.execution_options(synchronize_session="fetch")))
    made = 0
    if workshop.course_id is not None and workshop.counts_as_completion and attendees:
        course = db.session.get(Course, workshop.course_id)
        done = set(db.session.scalars(select(CourseCompletion.user_id).where(
            CourseCompletion.course_id == workshop.course_id, CourseCompletion.user_id.in_(attendees))))
        missing = attendees - done
        for uid in sorted(missing):
            user = officers.get(uid) or db.session.get_one(User, uid)
            db.session.add(CourseCompletion(
                user_id=uid, course_id=workshop.course_id, completed_at=_local_noon(workshop.held_on),
                score=None, course_version=course.version if course else 1, agency_id=user.agency_id,
                lang="vi", source="workshop", evidence=evidence,
            ))  # fmt: skip
            made += 1
        db.session.flush()
    return {"completions": made, "withdrawn": withdrawn}


@dataclass
class SheetResult:
    """Officers found in an attendance sheet, or the rows that could not be matched."""

    user_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_attendance_sheet(filename: str, data: bytes, *, actor: Any) -> SheetResult:
    """Match every row of an attendance sheet (.xlsx or .csv) to an officer in the actor's scope by
    username or employee id; all rows or none: any unmatched row is reported with its line."""
    result = SheetResult()
    table = read_table(filename, data)
    if table.errors:
        result.errors = [str(e) for e in table.errors]
        return result
    table = table.with_header_matching(_USERNAME_HEADERS | _EMPLOYEE_HEADERS)
    keys = [header_key(h) for h in table.header]
    by_username = next((i for i, k in enumerate(keys) if k in _USERNAME_HEADERS), None)
    by_employee = next((i for i, k in enumerate(keys) if k in _EMPLOYEE_HEADERS), None)
    if by_username is None and by_employee is None:
        result.errors = [_("The sheet needs a column “Tên đăng nhập” (username) or “Mã cán bộ” (employee id).")]
        return result
    wanted: list[tuple[int, str, str]] = []
    for row in table.body:
        username = row.get(by_username).strip().lower() if by_username is not None else ""
        employee = row.get(by_employee).strip() if by_employee is not None else ""
        if username or employee:
            wanted.append((row.line, username, employee))
    if not wanted:
        result.errors = [_("The sheet lists no officer.")]
        return result
    usernames = {u for _l, u, _e in wanted if u}
    employees = {e for _l, _u, e in wanted if e}
    found = list(db.session.scalars(select(User).where(
        User.active.is_(True), (User.username.in_(usernames)) | (User.employee_id.in_(employees)))))
    by_name = {u.username.lower(): u for u in found}
    by_id = {u.employee_id: u for u in found if u.employee_id}
    for line, username, employee in wanted:
        user = by_name.get(username) if username else None
        user = user or (by_id.get(employee) if employee else None)
        shown = username or employee
        if user is None:
            result.errors.append(_("Line %(line)s: no active officer “%(who)s”.", line=line, who=shown))
        elif not policy.agency_in_scope(actor, user.agency):
            result.errors.append(_("Line %(line)s: “%(who)s” is outside your scope.", line=line, who=shown))
        elif user.id not in result.user_ids:
            result.user_ids.append(user.id)
    if result.errors:
        result.user_ids = []
    return result


# External certificates ------------------------------------------------------------------------


@dataclass
class ExternalData:
    title: str
    issuer: str
    hours: float | None
    completed_on: date | None
    course: Course | None = None
    counts_as_completion: bool = False


def check_pdf(data: bytes) -> str | None:
    """Why an upload is not an acceptable PDF certificate, or None. Judged by content, not by name."""
    if not data:
        return _("The file is empty.")
    if len(data) > MAX_PDF_BYTES:
        return _("The file is larger than 10 MB.")
    if not data.startswith(b"%PDF-"):
        return _("The file is not a PDF document.")
    if b"%%EOF" not in data[-2048:]:
        return _("The PDF is incomplete (it may have been cut off while uploading).")
    return None


def add_external(user: User, data: ExternalData, file_name: str, file_data: bytes, *, actor: Any) -> ExternalTraining:
    """Record a certificate from elsewhere with its PDF; with a course that it counts for, the officer
    completes that course (if they had not)."""
    if not policy.agency_in_scope(actor, user.agency):
        raise ProgressError(_("This officer is outside your scope."))
    for name, value, label in (("title", data.title, _("The title")), ("issuer", data.issuer, _("The issuer"))):
        if not _clean(value):
            raise ProgressError(_("%(what)s is needed.", what=label), name)
        if len(_clean(value)) > 300:
            raise ProgressError(_("%(what)s is too long (at most 300 characters).", what=label), name)
    if data.hours is None or not 0 < data.hours <= 2000:
        raise ProgressError(_("The hours are more than 0 and at most 2000."), "hours")
    if data.completed_on is None or data.completed_on > local_today():
        raise ProgressError(_("Give the date on the certificate (not in the future)."), "completed_on")
    problem = check_pdf(file_data)
    if problem:
        raise ProgressError(problem, "file")
    counts = bool(data.counts_as_completion and data.course is not None)
    row = ExternalTraining(
        user_id=user.id, title=_clean(data.title), issuer=_clean(data.issuer), hours=round(float(data.hours), 1),
        completed_on=data.completed_on, course_id=data.course.id if data.course else None,
        counts_as_completion=counts, file_name=_clean(file_name)[:255] or "certificate.pdf",
        file_data=file_data, file_sha256=hashlib.sha256(file_data).hexdigest(),
        created_by_id=getattr(actor, "id", None),
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    completed = False
    if counts and data.course is not None:
        exists = db.session.scalar(select(CourseCompletion.id).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == data.course.id))
        if exists is None:
            db.session.add(CourseCompletion(
                user_id=user.id, course_id=data.course.id, completed_at=_local_noon(data.completed_on),
                course_version=data.course.version, agency_id=user.agency_id, lang="vi",
                source="external", evidence=f"external:{row.id}",
            ))  # fmt: skip
            db.session.flush()
            completed = True
    audit.record("progress.external_recorded", actor=actor, target=user, external_id=row.id, title=row.title,
                 issuer=row.issuer, hours=row.hours, course=data.course.key if data.course else None,
                 completion=completed, sha256=row.file_sha256)
    return row
