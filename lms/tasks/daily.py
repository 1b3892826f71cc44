"""The daily jobs as one tracked task: expiry, overdue attempts, reminders, housekeeping.

Each step commits on its own and is idempotent (certificates expire once, attempts close once, a
reminder is sent once per officer, reason and period), so a retry after a failure, or a second run on
the same day, redoes nothing that was done. The scheduler starts it with the day as its key.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from lms.db import utcnow
from lms.extensions import db
from lms.tasks import queue
from lms.tasks.models import TaskRun

DAILY = "jobs.daily"


def run_daily_jobs(days_ahead: int | None = None) -> dict[str, Any]:
    """Run every daily step now and return what each did (used by the task and ``flask jobs run``)."""
    from lms import mail, ratelimit
    from lms.certificates.services import expire_certificates
    from lms.org.imports import purge_expired_batches
    from lms.quizzes.services import close_overdue_attempts
    from lms.reports import reminders

    summary: dict[str, Any] = {}
    expiry = expire_certificates(utcnow())
    db.session.commit()
    summary["certificates_expired"] = expiry.expired
    summary["recertification_assignments"] = expiry.assignments
    summary["attempts_closed"] = close_overdue_attempts()
    db.session.commit()
    ahead = days_ahead if days_ahead is not None else int(current_app.config.get("REMINDER_DAYS_AHEAD", 7))
    todo = reminders.due_reminders(reminders.today(), ahead)
    sent, emailed = reminders.send(todo, reminders.MailSettings.from_config(current_app.config))
    db.session.commit()
    summary.update(reminders_sent=sent, reminders_emailed=emailed)
    summary["rate_events_pruned"] = ratelimit.prune()
    summary["import_batches_purged"] = purge_expired_batches()
    summary["task_runs_pruned"] = queue.prune_runs()
    summary["sent_emails_pruned"] = mail.prune()
    db.session.commit()
    return summary


@queue.task(DAILY, tracked=True, retries=3, time_limit_seconds=3600)
def daily(run: TaskRun) -> None:
    run.summary = run_daily_jobs()
    db.session.commit()


def daily_key(day: date) -> str:
    return f"{DAILY}:{day.isoformat()}"


def start_daily(day: date) -> TaskRun:
    """Start the daily jobs of ``day`` once, however many schedulers ask."""
    return queue.start(DAILY, key=daily_key(day))
