"""The content sync's quiz part: a course's question banks and quizzes, upserted by stable keys.

Connected to ``signals.course_synced`` (see ``lms.quizzes.connect``), so it runs in the sync's
transaction right after the course is written, and adds its lines to the same report. Questions are
keyed by (course, language, name): changed content raises the version, a question gone from the files
is archived (attempts keep their snapshots either way); questions added on the web stay as they are. Quizzes are keyed by (course, key) and take
their settings from course.yaml; their open and close dates are set on the web and left alone here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.catalog import loader
from lms.catalog.models import Course
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import engine
from lms.quizzes.models import Question, Quiz
from lms.quizzes.services import QuizSettings, apply_quiz_settings, upsert_question


def sync_course_quizzes(course: Course, *, loaded: loader.Course, report: Any, dry_run: bool) -> None:
    """Upsert the banks and quizzes of one synced course (flush only)."""
    _sync_banks(course, loaded, report)
    _sync_quizzes(course, loaded, report)
    db.session.flush()


def _sync_banks(course: Course, loaded: loader.Course, report: Any) -> None:
    existing = {
        (row.lang, row.name): row
        for row in db.session.scalars(select(Question).where(Question.course_id == course.id))
    }
    seen: set[tuple[str, str]] = set()
    for lang, banks in loaded.banks.items():
        for bank in banks:
            for question in bank.questions:
                key = (lang, question.name)
                seen.add(key)
                change = upsert_question(course, lang, question, source="files",
                                         existing=existing.get(key))
                report.add("question", f"{lang}/{question.name}", change.status,
                           f"v{change.version}" if change.status == "changed" else "")
    now = utcnow()
    for key, row in existing.items():
        # Questions added on the web (or imported) are not the files' to archive.
        if key not in seen and row.archived_at is None and row.source == "files":
            row.archived_at = now
            report.add("question", f"{key[0]}/{key[1]}", "archived")


def settings_from_loader(quiz: loader.Quiz, previous: Quiz | None) -> QuizSettings:
    """A quiz's settings as course.yaml gives them (dates kept from the row, if any)."""
    return QuizSettings(
        title=dict(quiz.title),
        picks=[engine.Pick(category=p.category, count=p.count, name=p.name) for p in quiz.picks],
        pass_mark=quiz.pass_mark,
        time_limit_minutes=quiz.time_limit_minutes,
        max_attempts=quiz.max_attempts,
        attempt_delay_minutes=quiz.attempt_delay_minutes,
        shuffle_choices=quiz.shuffle_choices,
        review_score=quiz.review.score,
        review_correct=quiz.review.correct,
        review_feedback=quiz.review.feedback,
        final=quiz.final,
        module_key=quiz.module,
        questions_per_page=quiz.questions_per_page,
        open_at=previous.open_at if previous else None,
        close_at=previous.close_at if previous else None,
    )


def _sync_quizzes(course: Course, loaded: loader.Course, report: Any) -> None:
    existing = {
        quiz.key: quiz
        for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))
    }
    for key, definition in loaded.quizzes.items():
        quiz = existing.get(key)
        status = "unchanged"
        if quiz is None:
            quiz = Quiz(course_id=course.id, key=key, course=course)
            db.session.add(quiz)
            status = "added"
        restored = quiz.archived_at is not None
        quiz.archived_at = None
        if apply_quiz_settings(quiz, settings_from_loader(definition, quiz)) or restored:
            status = "added" if status == "added" else "changed"
        report.add("quiz", key, status)
    now = utcnow()
    for key, quiz in existing.items():
        if key not in loaded.quizzes and quiz.archived_at is None:
            quiz.archived_at = now
            report.add("quiz", key, "archived")

