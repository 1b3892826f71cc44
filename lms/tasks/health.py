"""The installation's health at a glance, for the administrator's home page: what the background work
did last, what failed, what waits, the last backup and the e-mail outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from lms.backup import BackupRun
from lms.db import utcnow
from lms.extensions import db
from lms.mail import MailState, OutboxMail
from lms.org.models import User
from lms.reports.models import ReminderLog
from lms.tasks.models import TaskRun, TaskState

DAILY = "jobs.daily"
WINDOW_DAYS = 7


@dataclass
class Health:
    last_daily: TaskRun | None = None
    last_reminder_at: object | None = None
    failed: list[TaskRun] = field(default_factory=list)
    failed_count: int = 0
    waiting: int = 0
    undelivered_emails: int = 0
    last_backup: BackupRun | None = None  # the last successful one
    last_backup_run: BackupRun | None = None  # the last one, successful or not
    backup_max_age_hours: int = 26
    now: datetime = field(default_factory=utcnow)
    mail_pending: int = 0
    mail_failed: int = 0
    last_mail_failure: OutboxMail | None = None

    @property
    def backup_age(self) -> timedelta | None:
        return self.now - self.last_backup.finished_at if self.last_backup else None

    @property
    def backup_age_hours(self) -> int | None:
        age = self.backup_age
        return int(age.total_seconds() // 3600) if age is not None else None

    @property
    def backup_too_old(self) -> bool:
        age = self.backup_age
        return age is None or age > timedelta(hours=self.backup_max_age_hours)

    @property
    def backup_last_failed(self) -> bool:
        return self.last_backup_run is not None and not self.last_backup_run.ok


def installation_health() -> Health:
    """Nine statements whatever the size of the installation."""
    since = utcnow() - timedelta(days=WINDOW_DAYS)
    health = Health(backup_max_age_hours=int(current_app.config.get("BACKUP_MAX_AGE_HOURS") or 26))
    health.last_daily = db.session.scalar(
        select(TaskRun).where(TaskRun.name == DAILY).order_by(TaskRun.created_at.desc(), TaskRun.id.desc()).limit(1))
    health.last_reminder_at = db.session.scalar(select(func.max(ReminderLog.sent_at)))
    failed = select(TaskRun).where(TaskRun.state == TaskState.failed.value, TaskRun.created_at >= since)
    health.failed = list(db.session.scalars(failed.order_by(TaskRun.created_at.desc()).limit(5)))
    health.failed_count = db.session.scalar(select(func.count()).select_from(failed.subquery())) or 0
    health.waiting = db.session.scalar(select(func.count()).select_from(TaskRun).where(
        TaskRun.state.in_([TaskState.queued.value, TaskState.running.value]))) or 0
    # Reminders whose officer has an address but whose e-mail did not go out (no mail server, refused).
    health.undelivered_emails = db.session.scalar(
        select(func.count()).select_from(ReminderLog).join(User, User.id == ReminderLog.user_id)
        .where(ReminderLog.emailed.is_(False), ReminderLog.sent_at >= since,
               User.email.is_not(None), User.email != "")) or 0
    latest = (BackupRun.finished_at.desc(), BackupRun.id.desc())
    health.last_backup_run = db.session.scalar(select(BackupRun).order_by(*latest).limit(1))
    health.last_backup = (health.last_backup_run if health.last_backup_run is not None and health.last_backup_run.ok
                          else db.session.scalar(select(BackupRun).where(BackupRun.ok.is_(True))
                                                 .order_by(*latest).limit(1)))
    counts = dict(db.session.execute(
        select(OutboxMail.state, func.count()).where(OutboxMail.state != MailState.sent.value,
                                               or_(OutboxMail.state != MailState.failed.value,
                                                   OutboxMail.created_at >= since))
        .group_by(OutboxMail.state)).all())
    health.mail_pending = counts.get(MailState.pending.value, 0) + counts.get(MailState.sending.value, 0)
    health.mail_failed = counts.get(MailState.failed.value, 0)
    if health.mail_failed:
        health.last_mail_failure = db.session.scalar(
            select(OutboxMail).where(OutboxMail.state == MailState.failed.value, OutboxMail.created_at >= since)
            .order_by(OutboxMail.id.desc()).limit(1))
    return health
