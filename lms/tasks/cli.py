"""``flask tasks ...``: the periodic scheduler (instead of cron) and starting the daily jobs by hand."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from lms import mail
from lms.tasks import daily, queue

tasks_cli = click.Group("tasks", help="Background tasks: the scheduler and the daily jobs.")


def _daily_at() -> tuple[int, int]:
    raw = str(current_app.config.get("DAILY_JOBS_AT") or "01:30")
    try:
        hour, minute = (int(part) for part in raw.split(":", 1))
        datetime(2000, 1, 1, hour, minute)
    except ValueError as error:
        raise click.UsageError(f"DAILY_JOBS_AT must be HH:MM (local time), not {raw!r}") from error
    return hour, minute


def _local_today() -> datetime:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    return datetime.now(zone)


@tasks_cli.command("daily")
@with_appcontext
def daily_command() -> None:
    """Start today's daily jobs (once per day: a second start shows the first run)."""
    current_app.config["TASKS_IN_THREAD"] = False  # without a queue: here, before the command exits
    run = daily.start_daily(_local_today().date())
    where = "on the queue" if queue.queued() else "here"
    click.echo(f"daily jobs of {_local_today():%Y-%m-%d}: run {run.id}, {run.state} ({where}); "
               f"{run.summary or ''}")


@tasks_cli.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the periodic scheduler (one per installation): the daily jobs every day at DAILY_JOBS_AT,
    and every minute the e-mail outbox's due retries (lms.mail).

    With a queue, the scheduler only starts the work and a worker does it; without one, the work runs in
    this process. Starting is keyed by the day, so a second scheduler, or a restart, starts nothing twice.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.config["TASKS_IN_THREAD"] = False  # the scheduler's own thread does the work without a queue
    zone = ZoneInfo(app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    hour, minute = _daily_at()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def start_today() -> None:
        with app.app_context():
            run = daily.start_daily(datetime.now(zone).date())
            logging.getLogger("lms.tasks").info("daily jobs: run %s is %s", run.id, run.state)

    def send_due_mail() -> None:
        with app.app_context():
            queue.enqueue(mail.DELIVER)  # a worker sends them, or this process without a queue

    scheduler = BlockingScheduler(timezone=zone)
    scheduler.add_job(send_due_mail, IntervalTrigger(minutes=1), id="mail", coalesce=True, max_instances=1)
    scheduler.add_job(start_today, CronTrigger(hour=hour, minute=minute, timezone=zone),
                      id="daily", misfire_grace_time=3600, coalesce=True, max_instances=1)
    now = datetime.now(zone)
    if (now.hour, now.minute) >= (hour, minute):
        start_today()  # a scheduler that was down at the hour catches up on today (keyed: once)
    click.echo(f"scheduler: daily jobs at {hour:02d}:{minute:02d} {zone.key}; Ctrl+C stops")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
