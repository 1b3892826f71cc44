"""The installation's health at a glance, for the administrator's home page: what the background work
did last, what failed, what waits, and what lms does not record (backups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from lms.db import utcnow
from lms.extensions import db
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


def installation_health() -> Health:
    """Five statements whatever the size of the installation."""
    since = utcnow() - timedelta(days=WINDOW_DAYS)
    health = Health()
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
    return health
