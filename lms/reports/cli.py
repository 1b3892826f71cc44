"""``flask reports completions`` (exports) and ``flask jobs run`` (cron-friendly reminders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from lms import audit, transaction
from lms.extensions import db
from lms.org import queries as org_queries
from lms.org.models import User
from lms.reports import documents, exports, queries, reminders
from lms.reports.models import Plan
from lms.reports.queries import Filters
from lms.reports.services import course_by_key


class SystemViewer:
    """The command line sees every agency, like an administrator."""

    is_authenticated = True
    is_active = True
    hr_all_agencies = True
    hr_scopes: list[Any] = []
    id = None
    full_name = "lms"

    def has_role(self, role: Any) -> bool:
        return str(role) == "admin"


@click.group("reports", cls=transaction.Group, help="Reports and their exports.")
def reports_cli() -> None:
    pass


@reports_cli.command("completions")
@click.option("--plan", "plan_id", type=int, help="Only this plan (its courses and target group).")
@click.option("--agency", "agency_code", help="Rows for the sub-agencies of this agency (by code).")
@click.option("--course", "course_key", help="Only this course (by key).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--as", "username", help="Limit to what this HR user may see (default: everything).")
@with_appcontext
def completions(plan_id: int | None, agency_code: str | None, course_key: str | None, fmt: str, out: str,
                lang: str, username: str | None) -> None:
    """Write completion by agency, exactly as the report page shows it, to FILE."""
    viewer: Any = SystemViewer()
    if username:
        viewer = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if viewer is None:
            raise click.ClickException(f"no user named {username}")
    if plan_id is not None and db.session.get(Plan, plan_id) is None:
        raise click.ClickException(f"no plan with id {plan_id}")
    parent = None
    if agency_code:
        parent = org_queries.agency_by_code(agency_code)
        if parent is None:
            raise click.ClickException(f"no agency with code {agency_code}")
    course_id = None
    if course_key:
        course = course_by_key(course_key)
        if course is None:
            raise click.ClickException(f"no course with key {course_key}")
        course_id = course.id
    filters = Filters(plan_id=plan_id, course_id=course_id)
    with force_locale(lang):
        report = queries.agency_report(viewer, filters, parent, months=None if parent else 12)
        per_month = report.per_month if parent is None else queries.completions_per_month(viewer, filters)
        summary: list[tuple[Any, ...]] = []
        if plan_id:
            summary.append(("Plan" if lang == "en" else "Kế hoạch", db.session.get(Plan, plan_id).name))  # type: ignore[union-attr]
        if course_key:
            summary.append(("Course" if lang == "en" else "Khóa học", course_key))
        page = documents.agency_page(report, summary, lang, per_month=per_month)
        doc = documents.document(page, lang, "lms")
        writer = {"csv": lambda d: exports.write_csv(d.table), "xlsx": exports.write_xlsx, "pdf": exports.write_pdf}
        Path(out).write_bytes(writer[fmt](doc))
        audit.record("reports.exported", target_type="report", target_id="completion-by-agency", format=fmt,
                     rows=len(report.rows), source="cli", plan=plan_id, agency=agency_code, course=course_key)
    click.echo(f"{out}: {len(report.rows)} rows, {report.total.assigned} assigned courses, "
               f"{report.total.completed} completed ({fmt}).")


@click.group("jobs", cls=transaction.Group, help="Scheduled work, for cron.")
def jobs_cli() -> None:
    pass


@jobs_cli.command("run")
@click.option("--days", type=int, default=None, help="Remind this many days ahead (default: REMINDER_DAYS_AHEAD or 7).")
@click.option("--dry-run", is_flag=True, help="Only count what would be sent.")
@with_appcontext
def run_jobs(days: int | None, dry_run: bool) -> None:
    """Expire certificates (with their re-certification assignments), then send due reminders
    (due soon, overdue, certificates expiring), each only once. Safe to run often."""
    from lms.certificates.services import expire_certificates
    from lms.db import utcnow

    expiry = expire_certificates(utcnow(), dry_run=dry_run)
    if not dry_run:
        transaction.checkpoint()  # expired certificates stay expired even if sending reminders fails
    click.echo(f"certificates: {expiry}{' (dry run)' if dry_run else ''}.")
    if not dry_run:
        # Attempts whose deadline passed with the page closed: submitted with their saved answers.
        from lms.quizzes.services import close_overdue_attempts

        closed = close_overdue_attempts()
        transaction.checkpoint()
        click.echo(f"quiz attempts: {closed} overdue closed and graded.")
    days_ahead = days if days is not None else int(current_app.config.get("REMINDER_DAYS_AHEAD", 7))
    todo = reminders.due_reminders(reminders.today(), days_ahead)
    if dry_run:
        click.echo(f"{len(todo)} reminders due (before skipping those already sent); nothing sent.")
        return
    sent, emailed = reminders.send(todo, reminders.MailSettings.from_config(current_app.config))
    click.echo(f"reminders: {sent} sent, {emailed} e-mail(s) queued for sending, "
               f"{len(todo) - sent} already sent before.")
