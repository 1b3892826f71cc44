"""Faults that must lose nothing: an officer who never submits (the deadline passes with the page closed)."""

from __future__ import annotations

from datetime import timedelta

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.models import Attempt
from tests import factories
from tests.quizzes import factories_quizzes as fq


def test_jobs_run_closes_overdue_attempts_and_grades_their_saved_answers(app, runner):
    """`flask jobs run` (cron) submits an attempt whose deadline passed, grading what was saved; run again,
    it grades nothing twice."""
    officer = factories.user("late.officer")
    _course, quiz = fq.setup_quiz(time_limit_minutes=10)
    attempt = services.start_attempt(officer, quiz, "vi")
    services.save_answers(attempt, fq.right_values(attempt))
    attempt.deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()
    attempt_id = attempt.id

    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt_id)
    assert closed.status != "in_progress" and closed.closed_overdue
    assert closed.score == 100 and closed.passed
    graded_at = closed.graded_at

    assert runner.invoke(args=["jobs", "run"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).graded_at == graded_at
