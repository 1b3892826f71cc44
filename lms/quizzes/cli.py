"""``flask questions ...`` (import and export banks) and ``flask quizzes ...`` (attempt upkeep)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms import transaction
from lms.catalog.models import Course
from lms.extensions import db
from lms.questionformat.questions import question_to_dict
from lms.quizzes import importing, services
from lms.quizzes.models import Quiz


@click.group("questions", cls=transaction.Group, help="Question banks: import GIFT, Aiken or Moodle XML files; export GIFT or Moodle XML.")
def questions_cli() -> None:
    pass


def _course(key: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.key == key))
    if course is None:
        raise click.ClickException(f"no course with key {key}")
    return course


@questions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "course_key", required=True, help="Key of the course whose bank it is.")
@click.option("--lang", default=None, help="Language of the questions (default: the course's first).")
@click.option("--format", "fmt", type=click.Choice(["auto", *importing.FORMATS]), default="auto",
              show_default=True,
              help="auto: from the extension (.gift, .aiken, .xml), else from the content.")
@click.option("--category", default="", help="Category for questions that name none.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the good questions and leave the bad ones out (default: all or nothing).")
@click.option("--bad-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the bad questions, each with its errors, to this file to fix them.")
@click.option("--on-conflict", type=click.Choice(services.CONFLICT_CHOICES), default=None,
              help="When a question would change the type or text of one in the bank: replace it "
                   "(new version) or keep both. Without it such an import is refused.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed questions as JSON.")
@with_appcontext
def import_command(file: Path, course_key: str, lang: str | None, fmt: str, category: str,
                   skip_invalid: bool, bad_out: Path | None, on_conflict: str | None,
                   dry_run: bool, as_json: bool) -> None:
    """Import FILE (GIFT, Aiken or Moodle XML) into a course's question bank."""
    result = importing.read_question_file(file.read_bytes(), file.name, fmt)
    if as_json:
        click.echo(json.dumps(
            {"source": file.name, "format": result.format, "encoding": result.encoding,
             "questions": [question_to_dict(q) for q in result.questions],
             "notes": {str(line): notes for line, notes in result.notes.items()},
             "errors": [{"line": e.line, "column": e.column, "kind": e.kind,
                         "question": e.question, "message": e.message}
                        for e in result.errors]},
            ensure_ascii=False, indent=2))
    if result.encoding not in ("UTF-8", ""):
        click.echo(f"{file.name}: read as {result.encoding}", err=True)
    summary = importing.summarise_errors(result.errors)
    for error in summary.shown:
        click.echo(str(error), err=True)
    if summary.hidden:
        click.echo(f"... and {summary.hidden} more errors: "
                   + ", ".join(f"{label}: {count}" for label, count in summary.by_kind), err=True)
    if bad_out is not None and result.errors:
        _name, text = importing.bad_questions_file(result)
        bad_out.write_text(text, encoding="utf-8")
        click.echo(f"{len(result.errors)} errors written with their questions to {bad_out}",
                   err=True)
    if result.errors and not skip_invalid:
        raise click.ClickException(
            f"{len(result.errors)} errors: nothing imported (--skip-invalid imports the "
            f"{len(result.questions)} good questions)")
    course = _course(course_key)
    lang = lang or course.original_language
    try:
        report = services.import_questions(course, lang, result, default_category=category,
                                           skip_invalid=skip_invalid, on_conflict=on_conflict)
    except services.ImportRefused as err:
        for line in err.errors[: importing.ERROR_LIMIT]:
            click.echo(line, err=True)
        raise click.ClickException(err.message) from err
    except services.QuizError as err:
        raise click.ClickException(err.message) from err
    if dry_run:
        transaction.discard()
    stream = sys.stderr if as_json else sys.stdout
    for change in report.changes:
        if change.status != "unchanged":
            click.echo(f"{change.status:9} {change.name} (v{change.version})", file=stream)
    prefix = "dry run, nothing written: " if dry_run else ""
    skipped = f", {report.skipped} bad questions left out" if report.skipped else ""
    click.echo(f"{prefix}{file.name} -> {course.key}/{lang}: {report.count('added')} added, "
               f"{report.count('changed')} changed, {report.count('unchanged')} unchanged"
               f"{skipped}", file=stream)


@questions_cli.command("export")
@click.option("--course", "course_key", required=True)
@click.option("--lang", default=None)
@click.option("--format", "fmt", type=click.Choice(["gift", "xml"]), default="gift",
              show_default=True, help="GIFT, or Moodle XML (keeps images, points and more).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@with_appcontext
def export_command(course_key: str, lang: str | None, fmt: str, output: Path | None) -> None:
    """Export a course's live bank as GIFT or Moodle XML."""
    course = _course(course_key)
    lang = lang or course.original_language
    text, count, skipped = services.export_bank(course, lang, fmt)
    for name, why in skipped:
        click.echo(f"left out {name}: {why}", err=True)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{count} questions written to {output}", err=True)


@click.group("quizzes", cls=transaction.Group, help="Quiz attempts: upkeep jobs.")
def quizzes_cli() -> None:
    pass


@quizzes_cli.command("close-overdue")
@with_appcontext
def close_overdue_command() -> None:
    """Submit every attempt past its deadline with the answers saved before it."""
    closed = services.close_overdue_attempts()
    click.echo(f"{closed} overdue attempts closed")


@quizzes_cli.command("regrade")
@click.option("--course", "course_key", required=True)
@click.argument("quiz_key")
@with_appcontext
def regrade_command(course_key: str, quiz_key: str) -> None:
    """Regrade the finished attempts of a quiz against the current questions."""
    course = _course(course_key)
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == quiz_key))
    if quiz is None:
        raise click.ClickException(f"no quiz {quiz_key} in {course_key}")
    report = services.regrade_quiz(quiz, actor=None)
    click.echo(f"{report.attempts} attempts regraded, {report.updated_slots} answers moved to the "
               f"current question, {report.changed_scores} scores changed"
               + (f"; kept old versions of: {', '.join(report.incompatible)}"
                  if report.incompatible else ""))
