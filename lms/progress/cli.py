"""``flask training ...``: in-person workshops, certificates from elsewhere and per-officer
arrangements from the command line, through the same services (scope, checks, audit) as HR's pages.

Every command names the HR user or administrator it acts for (``--as``): the audit log records that
person, and their scope limits the agencies and officers the command may touch, as on the web. Each
command is one unit of work: a refused attendance sheet or a bad value leaves nothing written.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy import func, select

from lms import policy, transaction
from lms.catalog.models import Course
from lms.catalog.queries import course_by_key
from lms.errors import DomainError
from lms.extensions import db
from lms.org.models import Agency, User
from lms.org.queries import agency_by_code
from lms.progress import services, workshops
from lms.progress.models import Workshop, WorkshopAttendance

training_cli = transaction.group(
    "training", help="Workshops, certificates from elsewhere and arrangements for one officer."
)

_DAY = click.DateTime(["%Y-%m-%d", "%d/%m/%Y"])
_AS = click.option("--as", "acting", required=True, metavar="USERNAME",
                   help="The HR user or administrator this is done for (audited, scope applies).")


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account with username {username!r}")
    return user


def _actor(username: str, rule: str, target: object = None) -> User:
    user = _user(username)
    if not user.active:
        raise click.ClickException(f"{user.username} is disabled")
    if not policy.can(user, rule, target):
        raise click.ClickException(f"{user.username} may not do this (HR whose scope covers it, or an admin)")
    return user


def _course(key: str | None) -> Course | None:
    if not key:
        return None
    course = course_by_key(key)
    if course is None:
        raise click.ClickException(f"no course with key {key!r}")
    return course


def _refused(err: DomainError) -> click.ClickException:
    where = f" ({err.field})" if err.field else ""
    return click.ClickException(f"{err.message}{where}")


def _sheet(path: Path, actor: User) -> list[int]:
    sheet = workshops.read_attendance_sheet(path.name, path.read_bytes(), actor=actor)
    if sheet.errors:
        raise click.ClickException(f"{path.name}: nothing was recorded:\n  " + "\n  ".join(sheet.errors))
    return sheet.user_ids


def _workshop(workshop_id: int, actor: User) -> Workshop:
    item = db.session.get(Workshop, workshop_id)
    if item is None or not policy.agency_in_scope(actor, item.agency):
        raise click.ClickException(f"no workshop {workshop_id} in the scope of {actor.username}")
    return item


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@training_cli.command("workshop-record")
@click.option("--title", required=True)
@click.option("--date", "held_on", type=_DAY, required=True, help="The day it was held (2026-11-20 or 20/11/2026).")
@click.option("--place", required=True)
@click.option("--agency", "agency_code", required=True, help="Code of the organising agency.")
@click.option("--trainer", required=True)
@click.option("--hours", type=float, required=True)
@click.option("--course", "course_key", default=None, help="Key of the course the workshop covers.")
@click.option("--topic", default="", help="The topic, when the workshop covers no course of lms.")
@click.option("--no-completion", is_flag=True, help="Attending does not complete the course.")
@click.option("--attendance", "sheet", type=_FILE, default=None,
              help="Attendance sheet (.xlsx or .csv) with a column Tên đăng nhập/Username or Mã cán bộ.")
@_AS
def workshop_record(title: str, held_on: datetime, place: str, agency_code: str, trainer: str, hours: float,
                    course_key: str | None, topic: str, no_completion: bool, sheet: Path | None,
                    acting: str) -> None:
    """Record a workshop held in person and, from its sheet, who attended."""
    actor = _actor(acting, "workshops.manage")
    agency: Agency | None = agency_by_code(agency_code)
    if agency is None:
        raise click.ClickException(f"no agency with code {agency_code!r}")
    data = workshops.WorkshopData(
        title=title, held_on=_day(held_on), place=place, agency=agency, trainer=trainer, hours=hours,
        course=_course(course_key), topic=topic, counts_as_completion=not no_completion,
    )  # fmt: skip
    try:
        item = workshops.create_workshop(data, actor=actor)
        counts = {"added": 0, "completions": 0}
        if sheet is not None:
            counts = workshops.set_attendance(item, _sheet(sheet, actor), actor=actor, source="file")
    except DomainError as err:
        raise _refused(err) from err
    click.echo(f"recorded workshop {item.id} ({item.held_on.isoformat()}, {item.title}): "
               f"{counts['added']} attended, {counts['completions']} completed the course by it")


@training_cli.command("workshop-attendance")
@click.argument("workshop_id", type=int)
@click.argument("sheet", type=_FILE)
@click.option("--replace", is_flag=True,
              help="The sheet is the whole list (officers not on it are unticked); by default it adds.")
@_AS
def workshop_attendance(workshop_id: int, sheet: Path, replace: bool, acting: str) -> None:
    """Read a workshop's attendance sheet: all its rows match officers in scope, or nothing changes."""
    actor = _actor(acting, "workshops.manage")
    item = _workshop(workshop_id, actor)
    ids = set(_sheet(sheet, actor))
    if not replace:
        ids |= {a.user_id for a in item.attendance}
    try:
        counts = workshops.set_attendance(item, ids, actor=actor, source="file")
    except DomainError as err:
        raise _refused(err) from err
    click.echo(f"workshop {item.id}: {len(ids)} attended ({counts['added']} added, {counts['removed']} removed); "
               f"{counts['completions']} completed the course by it, {counts['withdrawn']} completions withdrawn")


@training_cli.command("workshops")
@click.option("--since", type=_DAY, default=None, help="Only workshops held on or after this day.")
@_AS
def workshop_list(since: datetime | None, acting: str) -> None:
    """Workshops of the agencies in scope, newest first: id, day, hours, attendees, agency, title."""
    actor = _actor(acting, "workshops.manage")
    attendees = (select(WorkshopAttendance.workshop_id, func.count().label("n"))
                 .group_by(WorkshopAttendance.workshop_id).subquery())
    stmt = (select(Workshop, Agency.code, func.coalesce(attendees.c.n, 0))
            .join(Agency, Agency.id == Workshop.agency_id)
            .outerjoin(attendees, attendees.c.workshop_id == Workshop.id)
            .where(policy.agency_scope_clause(actor))
            .order_by(Workshop.held_on.desc(), Workshop.id.desc()))
    if since is not None:
        stmt = stmt.where(Workshop.held_on >= since.date())
    rows = db.session.execute(stmt).all()
    for item, code, count in rows:
        click.echo(f"{item.id}\t{item.held_on.isoformat()}\t{item.hours:g} h\t{count} attended\t{code}\t{item.title}")
    click.echo(f"{len(rows)} workshops")


@training_cli.command("external")
@click.argument("username")
@click.argument("pdf", type=_FILE)
@click.option("--title", required=True)
@click.option("--issuer", required=True)
@click.option("--hours", type=float, required=True)
@click.option("--date", "completed_on", type=_DAY, required=True, help="The date on the certificate.")
@click.option("--course", "course_key", default=None, help="Key of the course it stands for.")
@click.option("--completes", is_flag=True, help="It completes that course for the officer.")
@_AS
def external(username: str, pdf: Path, title: str, issuer: str, hours: float, completed_on: datetime,
             course_key: str | None, completes: bool, acting: str) -> None:
    """Record an officer's certificate from elsewhere, with its PDF."""
    officer = _user(username)
    actor = _actor(acting, "progress.override", officer)
    data = workshops.ExternalData(title=title, issuer=issuer, hours=hours, completed_on=_day(completed_on),
                                  course=_course(course_key), counts_as_completion=completes)
    try:
        row = workshops.add_external(officer, data, pdf.name, pdf.read_bytes(), actor=actor)
    except DomainError as err:
        raise _refused(err) from err
    done = " and completes the course" if row.counts_as_completion else ""
    click.echo(f"recorded {row.title!r} from {row.issuer} for {officer.username} ({row.hours:g} h){done}")


@training_cli.command("override")
@click.argument("username")
@click.argument("course_key")
@click.option("--extra-minutes", type=int, default=0, help="More time on each timed quiz of the course.")
@click.option("--extra-attempts", type=int, default=0, help="More attempts on each quiz of the course.")
@click.option("--due", type=_DAY, default=None, help="A later due date for the course.")
@click.option("--reason", default="", help="Why (kept in the audit log, shown to HR).")
@click.option("--remove", is_flag=True, help="Remove the officer's arrangement in this course.")
@_AS
def override(username: str, course_key: str, extra_minutes: int, extra_attempts: int, due: datetime | None,
             reason: str, remove: bool, acting: str) -> None:
    """Give one officer more time, more attempts or a later due date in a course (or remove it)."""
    officer = _user(username)
    actor = _actor(acting, "progress.override", officer)
    course = _course(course_key)
    if course is None:
        raise click.ClickException("give the key of the course")
    if remove:
        row = services.override_for(officer.id, course.id)
        if row is None:
            raise click.ClickException(f"{officer.username} has no arrangement in {course.key}")
        services.remove_override(row, actor=actor)
        click.echo(f"removed the arrangement of {officer.username} in {course.key}")
        return
    data = services.OverrideData(extra_minutes=extra_minutes, extra_attempts=extra_attempts,
                                 due_date=_day(due), reason=reason)
    try:
        services.set_override(officer, course, data, actor=actor)
    except DomainError as err:
        raise _refused(err) from err
    parts = [f"+{extra_minutes} min" if extra_minutes else "", f"+{extra_attempts} attempts" if extra_attempts else "",
             f"due {data.due_date.isoformat()}" if data.due_date else ""]
    click.echo(f"arrangement for {officer.username} in {course.key}: " + ", ".join(p for p in parts if p))
