"""Reminders: e-mail (SMTP settings MAIL_* in the config) and an in-app notice, sent at most once per
(officer, reason, object, period) thanks to the unique key of ``ReminderLog``.

Reasons: ``due_soon`` (an assigned course due within N days, once per due date), ``overdue`` (once
per due date; HR may send it again by hand, at most once a day), ``cert_expiring`` (a certificate
expiring within N days, once per expiry date). Selecting who is due is a few SQL statements; the
sending loop runs over the officers who get a reminder, never over everyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from flask_babel import force_locale
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from lms import mail, policy
from lms.catalog.models import Course
from lms.db import utcnow
from lms.extensions import db
from lms.i18n import _
from lms.org.models import Agency, User
from lms.progress import calendar
from lms.progress.models import AssignedCourse, CourseCompletion
from lms.reports.models import Notice, ReminderLog
from lms.reports.queries import Filters, _filter_pairs, local_today


@dataclass(frozen=True)
class Reminder:
    user: User
    reason: str
    object_key: str
    period: str
    course: Course | None = None
    due_date: date | None = None
    certificate_code: str | None = None


@dataclass
class MailSettings:
    server: str | None
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    base_url: str

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        return cls(config.get("MAIL_SERVER"), int(config.get("MAIL_PORT") or 25), bool(config.get("MAIL_USE_TLS")),
                   config.get("MAIL_USERNAME"), config.get("MAIL_PASSWORD"), config.get("MAIL_FROM") or "lms@localhost",
                   (config.get("PUBLIC_BASE_URL") or "").rstrip("/"))


def _not_completed(cc: Any) -> Any:
    """No completion, or one whose certificate expired and waits for renewal (reminded like any other)."""
    return or_(cc.id.is_(None), cc.renewal_required_since.is_not(None))


def _overdue_pairs(today: date, *, agency: Agency | None = None, viewer: Any = None,
                   filters: Filters | None = None) -> list[tuple[User, Course, date]]:
    cc = CourseCompletion
    stmt = (
        select(User, Course, AssignedCourse.due_date)
        .join(AssignedCourse, AssignedCourse.user_id == User.id)
        .join(Course, Course.id == AssignedCourse.course_id)
        .join(Agency, Agency.id == User.agency_id)
        .outerjoin(cc, and_(cc.user_id == User.id, cc.course_id == AssignedCourse.course_id))
        .where(User.active.is_(True), _not_completed(cc), AssignedCourse.due_date < today)
        .order_by(User.id, Course.id)
    )
    if agency is not None:
        stmt = stmt.where(Agency.path.startswith(agency.path, autoescape=True))
    if viewer is not None:
        stmt = stmt.where(policy.agency_scope_clause(viewer, Agency.path))
    if filters is not None:
        stmt = _filter_pairs(stmt, filters, User.id, AssignedCourse.course_id)
    return [tuple(row) for row in db.session.execute(stmt).all()]  # type: ignore[misc]


def due_reminders(today: date, days_ahead: int) -> list[Reminder]:
    """Everything the daily job should send today (already-sent ones are skipped when sending)."""
    cc = CourseCompletion
    soon = db.session.execute(
        select(User, Course, AssignedCourse.due_date)
        .join(AssignedCourse, AssignedCourse.user_id == User.id)
        .join(Course, Course.id == AssignedCourse.course_id)
        .outerjoin(cc, and_(cc.user_id == User.id, cc.course_id == AssignedCourse.course_id))
        .where(User.active.is_(True), _not_completed(cc), AssignedCourse.due_date >= today,
               AssignedCourse.due_date <= today + timedelta(days=days_ahead))
    ).all()
    out = [Reminder(u, "due_soon", f"course:{c.id}", due.isoformat(), c, due)
           for u, c, due in soon if due is not None]
    out += [Reminder(u, "overdue", f"course:{c.id}", due.isoformat(), c, due)
            for u, c, due in _overdue_pairs(today)]
    out += _expiring_certificates(today, days_ahead)
    return out


def _expiring_certificates(today: date, days_ahead: int) -> list[Reminder]:
    try:
        from lms.certificates.models import Certificate
    except ImportError:  # pragma: no cover - the certificates domain is optional
        return []
    start = utcnow()
    rows = db.session.execute(
        select(User, Certificate, Course)
        .join(Certificate, Certificate.user_id == User.id)
        .join(Course, Course.id == Certificate.course_id)
        .where(User.active.is_(True), Certificate.status == "valid", Certificate.superseded_by_id.is_(None),
               Certificate.expires_at.is_not(None), Certificate.expires_at >= start,
               Certificate.expires_at <= start + timedelta(days=days_ahead))
    ).all()
    return [Reminder(u, "cert_expiring", f"certificate:{cert.code}", when.isoformat(), course, when, cert.code)
            for u, cert, course in rows if cert.expires_at is not None
            for when in [cert.expires_at.date()]]


def overdue_reminders(agency: Agency, viewer: Any, today: date, filters: Filters | None = None) -> list[Reminder]:
    """HR's "remind this agency's overdue officers": once per officer, course and day."""
    return [Reminder(u, "overdue_manual", f"course:{c.id}", today.isoformat(), c, due)
            for u, c, due in _overdue_pairs(today, agency=agency, viewer=viewer, filters=filters)]


def _already_sent(reminders: list[Reminder]) -> set[tuple[int, str, str, str]]:
    if not reminders:
        return set()
    user_ids = {r.user.id for r in reminders}
    rows = db.session.execute(
        select(ReminderLog.user_id, ReminderLog.reason, ReminderLog.object_key, ReminderLog.period)
        .where(ReminderLog.user_id.in_(user_ids))
    ).all()
    return {tuple(row) for row in rows}  # type: ignore[misc]


def message_text(reminder: Reminder) -> tuple[str, str]:
    """Subject and body in the officer's language (call inside ``force_locale``)."""
    title = reminder.course.title_in(reminder.user.locale) if reminder.course else ""
    due = reminder.due_date.strftime("%d/%m/%Y") if reminder.due_date else ""
    if reminder.reason == "due_soon":
        return (_("Reminder: “%(course)s” is due on %(date)s", course=title, date=due),
                _("The course “%(course)s” assigned to you is due on %(date)s. Please complete it in time.",
                  course=title, date=due))
    if reminder.reason == "cert_expiring":
        return (_("Your certificate for “%(course)s” expires on %(date)s", course=title, date=due),
                _("Your certificate %(code)s for “%(course)s” expires on %(date)s. Retake the course to renew it.",
                  code=reminder.certificate_code or "", course=title, date=due))
    return (_("Overdue: “%(course)s” was due on %(date)s", course=title, date=due),
            _("The course “%(course)s” assigned to you was due on %(date)s and is not completed yet. "
              "Please complete it as soon as possible.", course=title, date=due))


def notice_text(notice: Notice, lang: str) -> str:
    """What the home page shows for a notice, in the reader's language."""
    reminder = Reminder(user=_Reader(lang), reason=notice.reason, object_key="", period="",  # type: ignore[arg-type]
                        course=notice.course, due_date=notice.due_date,
                        certificate_code=notice.certificate_code)
    return message_text(reminder)[1]


@dataclass
class _Reader:
    locale: str


def send(reminders: Iterable[Reminder], settings: MailSettings, *, actor: User | None = None) -> tuple[int, int]:
    """Send each reminder not sent before: a notice, an e-mail when possible, a log row. Returns
    (reminders sent, e-mails written to the outbox). Flushes; the caller commits, and the outbox
    sends the e-mails after that commit (lms.mail)."""
    todo = list(reminders)
    sent_before = _already_sent(todo)
    fresh: list[Reminder] = []
    seen: set[tuple[int, str, str, str]] = set()
    for r in todo:
        key = (r.user.id, r.reason, r.object_key, r.period)
        if key not in sent_before and key not in seen:
            seen.add(key)
            fresh.append(r)
    claimed = _claim(fresh, actor)
    fresh = [r for r in fresh if (r.user.id, r.reason, r.object_key, r.period) in claimed]
    emailed = 0
    for r in fresh:
        db.session.add(Notice(user_id=r.user.id, reason=r.reason, course_id=r.course.id if r.course else None,
                              due_date=r.due_date, certificate_code=r.certificate_code,
                              sent_by_id=actor.id if actor else None))
        if r.user.email and settings.server:
            with force_locale(r.user.locale or "vi"):
                subject, body = message_text(r)
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = settings.sender
            message["To"] = formataddr((r.user.full_name, r.user.email))
            message["Message-ID"] = make_msgid(domain="lms")
            message.set_content(body + (f"\n\n{settings.base_url}/\n" if settings.base_url else "\n"))
            if r.due_date is not None and r.course is not None:
                _attach_due_date(message, r, settings)
            # Into the outbox with the notice and the log row: sent once this unit of work commits.
            mail.add(message, kind="reminder", user_id=r.user.id)
            claimed[(r.user.id, r.reason, r.object_key, r.period)].emailed = True
            emailed += 1
    db.session.flush()
    return len(fresh), emailed


def _claim(reminders: list[Reminder], actor: User | None) -> dict[tuple[int, str, str, str], ReminderLog]:
    """Write each reminder's log row before anything is sent, and keep only the ones this run got.

    Two runs at once (two schedulers, a retried task, HR pressing the button on two servers) both
    insert the same unique key; the database lets one through and the other skips that reminder, so no
    officer gets the same reminder twice. One savepoint per reminder: only the sending loop's officers.
    """
    claimed: dict[tuple[int, str, str, str], ReminderLog] = {}
    for r in reminders:
        log_row = ReminderLog(user_id=r.user.id, reason=r.reason, object_key=r.object_key, period=r.period,
                              emailed=False, sent_by_id=actor.id if actor else None)
        try:
            with db.session.begin_nested():
                db.session.add(log_row)
        except IntegrityError:
            continue
        claimed[(r.user.id, r.reason, r.object_key, r.period)] = log_row
    return claimed


def _attach_due_date(message: EmailMessage, r: Reminder, settings: MailSettings) -> None:
    """The due date as an .ics file: one tap adds it to the officer's calendar (the same event, by
    UID, as in their calendar feed, so it is updated rather than doubled)."""
    lang = r.user.locale or "vi"
    with force_locale(lang):
        title = _("Due: %(course)s", course=r.course.title_in(lang))  # type: ignore[union-attr]
    url = f"{settings.base_url}/catalog/c/{r.course.key}" if settings.base_url else ""  # type: ignore[union-attr]
    event = calendar.DueEvent(uid=f"due-{r.user.id}-{r.course.key}@lms", title=title,  # type: ignore[union-attr]
                              due=r.due_date, url=url)  # type: ignore[arg-type]
    body = calendar.due_calendar([event], name=title, now=utcnow(), method="PUBLISH")
    message.add_attachment(body, maintype="text", subtype="calendar", filename="due-date.ics",
                           params={"method": "PUBLISH", "charset": "utf-8"})


def unread_notices(user: User, limit: int = 5) -> list[Notice]:
    stmt = (select(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
            .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def today() -> date:
    return local_today()
