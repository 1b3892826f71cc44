"""``flask content ...``: sync course folders, publish, hand web courses back to files, trainer limits."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lms import transaction
from lms.catalog import loader, services
from lms.catalog.models import Course, LessonText
from lms.catalog.sync import SyncRefused, sync_content
from lms.extensions import db
from lms.org.models import User


@click.group("content", cls=transaction.Group, help="Course content: sync content/ folders, publish, hand back.")
def content_cli() -> None:
    pass


@content_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing.")
@click.option("--publish-new", is_flag=True, help="Publish courses that are new to the database.")
@click.option(
    "--archive-missing", is_flag=True,
    help="Archive file courses whose folder is not in DIRECTORY (off by default: syncing one "
         "folder must not archive the others).",
)  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="List unchanged items too.")
@with_appcontext
def sync_command(
    directory: Path | None, dry_run: bool, publish_new: bool, archive_missing: bool, verbose: bool
) -> None:
    """Validate every course under DIRECTORY (default: CONTENT_DIR) and write them to the database."""
    root = directory or Path(current_app.config["CONTENT_DIR"])
    result = loader.load_content(root)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not result.ok:
        for error in result.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(
            f"content: {len(result.errors)} error(s) in {root}; nothing was synced", err=True
        )
        sys.exit(1)
    try:
        report = sync_content(
            result, root, dry_run=dry_run, publish_new=publish_new, archive_missing=archive_missing
        )
    except SyncRefused as err:
        click.echo(f"error: {err}; nothing was synced", err=True)
        sys.exit(1)
    for line in report.lines if verbose else report.changes():
        detail = f" ({line.detail})" if line.detail else ""
        click.echo(f"  {line.status:<9} {line.kind:<8} {line.key}{detail}")
    if dry_run:
        transaction.discard()
        click.echo(f"content (dry run, nothing written): {report.summary()}")
    else:
        click.echo(f"content: {report.summary()}")


def _course(key: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.key == key))
    if course is None:
        raise click.BadParameter(f"no course with key {key!r}")
    return course


@content_cli.command("publish")
@click.argument("keys", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Publish every course that has lessons.")
@click.option("--unpublish", is_flag=True, help="Hide the courses instead.")
@with_appcontext
def publish_command(keys: tuple[str, ...], all_: bool, unpublish: bool) -> None:
    """Publish (or hide) courses by key."""
    if all_:
        courses = list(db.session.scalars(select(Course).where(Course.archived_at.is_(None))))
    else:
        courses = [_course(key) for key in keys]
    changed = 0
    for course in courses:
        if course.published == (not unpublish):
            continue
        try:
            services.set_published(course, not unpublish, actor=None)
        except services.CatalogError as err:
            click.echo(f"{course.key}: {err.message}", err=True)
            continue
        changed += 1
    click.echo(f"content: {changed} course(s) {'unpublished' if unpublish else 'published'}")


@content_cli.command("hand-back")
@click.argument("key")
@with_appcontext
def hand_back_command(key: str) -> None:
    """Let content/ own a course edited on the web again (the next sync overwrites the web edits)."""
    course = _course(key)
    services.hand_back(course)
    click.echo(f"content: {key} is owned by its files again; run `flask content sync`")


@content_cli.command("limit-trainer")
@click.argument("username")
@click.argument("keys", nargs=-1)
@with_appcontext
def limit_trainer_command(username: str, keys: tuple[str, ...]) -> None:
    """Limit a trainer to the given courses (no keys: lift the limit)."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise click.BadParameter(f"no account {username!r}")
    services.set_trainer_courses(user, [_course(key) for key in keys])
    click.echo(f"content: {username} limited to {', '.join(keys) or 'no course (limit lifted)'}")


@content_cli.command("rerender")
@with_appcontext
def rerender_command() -> None:
    """Render every lesson's HTML again (after a change to the renderer or its allow-list)."""
    count = 0
    for text in db.session.scalars(select(LessonText)):
        html = services.render_lesson_body(text.body_md, text.lang)
        if html != text.body_html:
            text.body_html = html
            count += 1
    click.echo(f"content: {count} lesson edition(s) rendered again")
