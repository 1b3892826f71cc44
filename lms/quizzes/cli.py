"""``flask questions ...`` (import and export banks) and ``flask quizzes ...`` (attempt upkeep)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.catalog.models import Course
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.aiken import parse_aiken
from lms.quizzes.gift import export_gift_skipping, parse_gift
from lms.quizzes.models import Quiz
from lms.quizzes.questions import question_from_dict, question_to_dict


@click.group("questions", help="Question banks: import GIFT or Aiken files, export GIFT.")
def questions_cli() -> None:
    pass


def _course(key: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.key == key))
    if course is None:
        raise click.ClickException(f"no course with key {key}")
    return course


def _format_for(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    return "aiken" if path.suffix.lower() in (".aiken", ".aik") else "gift"


@questions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "course_key", required=True, help="Key of the course whose bank it is.")
@click.option("--lang", default=None, help="Language of the questions (default: the course's first).")
@click.option("--format", "fmt", type=click.Choice(["auto", "gift", "aiken"]), default="auto",
              show_default=True, help="auto: Aiken for .aiken files, else GIFT.")
@click.option("--category", default="", help="Category for questions that name none.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed questions as JSON.")
@with_appcontext
def import_command(file: Path, course_key: str, lang: str | None, fmt: str, category: str,
                   dry_run: bool, as_json: bool) -> None:
    """Import FILE into a course's question bank; nothing is imported while any error remains."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise click.ClickException(f"{file}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    fmt = _format_for(file, fmt)
    result = parse_aiken(text, file.name) if fmt == "aiken" else parse_gift(text, file.name)
    if as_json:
        click.echo(json.dumps(
            {"source": file.name, "format": fmt,
             "questions": [question_to_dict(q) for q in result.questions],
             "errors": [{"line": e.line, "question": e.question, "message": e.message}
                        for e in result.errors]},
            ensure_ascii=False, indent=2))
    for error in result.errors:
        click.echo(str(error), err=True)
    if result.errors:
        raise click.ClickException(f"{len(result.errors)} errors: nothing imported")
    course = _course(course_key)
    lang = lang or course.original_language
    try:
        report = services.import_questions(course, lang, result, default_category=category)
    except services.ImportRefused as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    except services.QuizError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    stream = sys.stderr if as_json else sys.stdout
    for change in report.changes:
        if change.status != "unchanged":
            click.echo(f"{change.status:9} {change.name} (v{change.version})", file=stream)
    prefix = "dry run, nothing written: " if dry_run else ""
    click.echo(f"{prefix}{file.name} -> {course.key}/{lang}: {report.count('added')} added, "
               f"{report.count('changed')} changed, {report.count('unchanged')} unchanged",
               file=stream)


@questions_cli.command("export")
@click.option("--course", "course_key", required=True)
@click.option("--lang", default=None)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@with_appcontext
def export_command(course_key: str, lang: str | None, output: Path | None) -> None:
    """Export a course's live bank as GIFT."""
    course = _course(course_key)
    lang = lang or course.original_language
    questions = sorted((question_from_dict(row.data) for row in services.bank_rows(course.id, lang)),
                       key=lambda q: (q.category != "", q.category, q.name))
    text, skipped = export_gift_skipping(questions)
    for question in skipped:
        click.echo(f"warning: {question.name} ({question.type}) left out: GIFT has no syntax for "
                   "this type", err=True)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(questions) - len(skipped)} questions written to {output}", err=True)


@click.group("quizzes", help="Quiz attempts: upkeep jobs.")
def quizzes_cli() -> None:
    pass


@quizzes_cli.command("close-overdue")
@with_appcontext
def close_overdue_command() -> None:
    """Submit every attempt past its deadline with the answers saved before it."""
    closed = services.close_overdue_attempts()
    db.session.commit()
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
    db.session.commit()
    click.echo(f"{report.attempts} attempts regraded, {report.updated_slots} answers moved to the "
               f"current question, {report.changed_scores} scores changed"
               + (f"; kept old versions of: {', '.join(report.incompatible)}"
                  if report.incompatible else ""))
