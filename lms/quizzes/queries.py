"""Reads of the quiz domain: each returns a ``Select`` or one object, loading what a page lists."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func, select
from sqlalchemy.orm import contains_eager, joinedload

from lms import policy
from lms.catalog.models import Course
from lms.extensions import db
from lms.org.models import User
from lms.progress.services import QuizStanding
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz


def quiz_by_keys(course_key: str, quiz_key: str) -> Quiz | None:
    return db.session.scalar(
        select(Quiz).join(Quiz.course).options(contains_eager(Quiz.course))
        .where(Course.key == course_key, Quiz.key == quiz_key)
    )


def attempts_of(user_id: int, quiz_id: int) -> list[Attempt]:
    """An officer's attempts at a quiz, newest first (their answers are not loaded)."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id)
        .order_by(Attempt.number.desc())
    ))


def quiz_standing(user_id: int, quiz_id: int) -> QuizStanding:
    """What an officer's finished attempts at a quiz add up to, in one aggregate query.

    The best score and the pass come from graded attempts only; attempts whose essays wait for a
    trainer are counted apart. ``passed_at`` is when the first passing attempt was submitted,
    ``last_passed_at`` the latest (a renewal after a certificate expired needs a fresh pass).
    """
    graded = Attempt.status == "graded"
    passed = and_(graded, Attempt.passed.is_(True))
    attempts, waiting, best, any_passed, first_pass, last_pass = db.session.execute(
        select(
            func.count(Attempt.id),
            func.sum(case((Attempt.status == "needs_grading", 1), else_=0)),
            func.max(case((graded, Attempt.score))),
            func.max(case((passed, 1), else_=0)),
            func.min(case((passed, Attempt.submitted_at))),
            func.max(case((passed, Attempt.submitted_at))),
        ).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id,
                Attempt.status != "in_progress")
    ).one()
    graded_scores = tuple(
        (at, min(100, max(0, int(math.floor(score)))))
        for at, score in db.session.execute(
            select(Attempt.submitted_at, Attempt.score).where(
                Attempt.user_id == user_id, Attempt.quiz_id == quiz_id, graded,
                Attempt.score.is_not(None), Attempt.submitted_at.is_not(None))
        )
        if at is not None and score is not None  # the query excludes them; this tells the types
    )
    return QuizStanding(
        graded_scores=graded_scores,
        attempts=attempts or 0,
        awaiting_grading=int(waiting or 0),
        best_score=min(100, max(0, int(math.floor(best)))) if best is not None else 0,
        passed=bool(any_passed),
        passed_at=first_pass,
        last_passed_at=last_pass,
    )


def attempt_with_answers(attempt_id: int) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(Attempt.id == attempt_id)
        .options(joinedload(Attempt.answers), joinedload(Attempt.quiz))
    )


def course_quizzes(course_id: int, *, include_archived: bool = False) -> list[Quiz]:
    stmt = select(Quiz).where(Quiz.course_id == course_id)
    if not include_archived:
        stmt = stmt.where(Quiz.archived_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Quiz.final, Quiz.id)))


def quiz_attempt_stats(quiz_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per quiz: attempts, officers, finished, passed, waiting for grading, mean score (one query)."""
    if not quiz_ids:
        return {}
    rows = db.session.execute(
        select(
            Attempt.quiz_id,
            func.count(Attempt.id),
            func.count(func.distinct(Attempt.user_id)),
            func.sum(case((Attempt.status == "graded", 1), else_=0)),
            func.sum(case((Attempt.passed.is_(True), 1), else_=0)),
            func.sum(case((Attempt.status == "needs_grading", 1), else_=0)),
            func.avg(Attempt.score),
            func.sum(case((Attempt.status == "in_progress", 1), else_=0)),
        ).where(Attempt.quiz_id.in_(quiz_ids)).group_by(Attempt.quiz_id)
    )
    return {
        quiz_id: {"attempts": n, "officers": officers, "graded": graded or 0,
                  "passed": passed or 0, "pending": pending or 0, "mean": mean,
                  "in_progress": open_ or 0}
        for quiz_id, n, officers, graded, passed, pending, mean, open_ in rows
    }


def attempts_overview_query(quiz_id: int, status: str | None = None) -> Select[Attempt]:
    """A quiz's attempts with their officers (and agencies), newest first."""
    stmt = (
        select(Attempt).where(Attempt.quiz_id == quiz_id)
        .options(joinedload(Attempt.user).joinedload(User.agency))
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
    )
    if status:
        stmt = stmt.where(Attempt.status == status)
    return stmt


def bank_query(
    course_id: int, lang: str, *, category: str | None = None, tag: str | None = None,
    text: str = "", archived: bool = False, qtype: str | None = None,
) -> Select[Question]:
    stmt = select(Question).where(Question.course_id == course_id, Question.lang == lang)
    stmt = stmt.where(Question.archived_at.is_not(None) if archived else Question.archived_at.is_(None))
    if category is not None:
        stmt = stmt.where(Question.category == category)
    if qtype:
        stmt = stmt.where(Question.qtype == qtype)
    if tag:
        # Tags are a JSON list; match the tag as JSON writes it, quotes included.
        stmt = stmt.where(cast(Question.tags, String).contains(json.dumps(tag), autoescape=True))
    if text:
        stmt = stmt.where(Question.name.contains(text, autoescape=True)
                          | cast(Question.data["text"], String).contains(json.dumps(text)[1:-1],
                                                                          autoescape=True))
    return stmt.order_by(Question.category, Question.name)


def bank_categories(course_id: int, lang: str) -> list[tuple[str, int]]:
    """(category, live questions) of one bank, by name."""
    return [(category, n) for category, n in db.session.execute(
        select(Question.category, func.count(Question.id))
        .where(Question.course_id == course_id, Question.lang == lang,
               Question.archived_at.is_(None))
        .group_by(Question.category).order_by(Question.category)
    )]


def bank_tags(course_id: int, lang: str) -> list[str]:
    tags: set[str] = set()
    for row in db.session.scalars(
        select(Question.tags).where(Question.course_id == course_id, Question.lang == lang,
                                    Question.archived_at.is_(None))
    ):
        tags.update(row or [])
    return sorted(tags)


def bank_sizes(course_id: int) -> dict[str, int]:
    """Live questions per language."""
    rows = db.session.execute(
        select(Question.lang, func.count(Question.id))
        .where(Question.course_id == course_id, Question.archived_at.is_(None))
        .group_by(Question.lang)
    )
    return {lang: n for lang, n in rows}


def editable_courses_query(user: Any) -> Select[Course]:
    """Courses a trainer may manage (all for admins and unrestricted trainers)."""
    stmt = select(Course).where(Course.archived_at.is_(None)).order_by(Course.key)
    limits = policy.trainer_course_limits(user)
    if limits and not policy.is_admin(user):
        stmt = stmt.where(Course.id.in_(limits))
    return stmt


def course_counts(course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{course_id: (live quizzes, live questions)} in two grouped queries."""
    if not course_ids:
        return {}
    quizzes = {cid: n for cid, n in db.session.execute(
        select(Quiz.course_id, func.count(Quiz.id))
        .where(Quiz.course_id.in_(course_ids), Quiz.archived_at.is_(None)).group_by(Quiz.course_id)
    )}
    questions = {cid: n for cid, n in db.session.execute(
        select(Question.course_id, func.count(Question.id))
        .where(Question.course_id.in_(course_ids), Question.archived_at.is_(None))
        .group_by(Question.course_id)
    )}
    return {cid: (quizzes.get(cid, 0), questions.get(cid, 0)) for cid in course_ids}


def grading_queue_query(user: Any) -> Select[AttemptAnswer]:
    """Essays waiting for a grade, oldest submission first, in courses the user may grade."""
    stmt = (
        select(AttemptAnswer)
        .join(AttemptAnswer.attempt).join(Attempt.quiz).join(Quiz.course)
        .options(contains_eager(AttemptAnswer.attempt).contains_eager(Attempt.quiz)
                 .contains_eager(Quiz.course),
                 contains_eager(AttemptAnswer.attempt).joinedload(Attempt.user)
                 .joinedload(User.agency))
        .where(AttemptAnswer.needs_manual.is_(True), AttemptAnswer.manual_fraction.is_(None),
               Attempt.status == "needs_grading")
        .order_by(Attempt.submitted_at, Attempt.id, AttemptAnswer.slot)
    )
    limits = policy.trainer_course_limits(user)
    if limits and not policy.is_admin(user):
        stmt = stmt.where(Quiz.course_id.in_(limits))
    return stmt


def analysis_attempts(quiz_id: int, limit: int = 5000) -> list[Attempt]:
    """The graded attempts an item analysis reads (newest ``limit``), with their answers."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.quiz_id == quiz_id, Attempt.status == "graded")
        .options(joinedload(Attempt.answers))
        .order_by(Attempt.id.desc()).limit(limit)
    ).unique())


def questions_by_names(course_id: int, lang: str, names: list[str]) -> dict[str, Question]:
    if not names:
        return {}
    return {row.name: row for row in db.session.scalars(
        select(Question).where(Question.course_id == course_id, Question.lang == lang,
                               Question.name.in_(names))
    )}


def stale_question_count(quiz_id: int) -> int:
    """Finished attempts of a quiz holding an older version of some question (a regrade is due)."""
    total = 0
    current = {}
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        return 0
    for row_id, version in db.session.execute(
        select(Question.id, Question.version).where(Question.course_id == quiz.course_id)
    ):
        current[row_id] = version
    for slots in db.session.scalars(
        select(Attempt.slots).where(Attempt.quiz_id == quiz_id,
                                    and_(Attempt.status != "in_progress"))
    ):
        if any(current.get(s.get("ref"), s["version"]) != s["version"] for s in slots):
            total += 1
    return total
