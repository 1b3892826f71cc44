"""Migration 0010 fills the renewal state of the rows already there: completions whose certificate the
expiry job handled wait for renewal since it expired; quiz results get the time of their latest pass."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from lms import create_app
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import CourseCompletion, QuizResult
from lms.quizzes.models import Attempt
from tests import factories
from tests.app.test_migrations import empty_database_url  # noqa: F401 - a fixture
from tests.conftest import base_config
from tests.progress.test_renewal import certificates_of, complete_lessons, quiz_course, submit


def test_migration_0010_marks_handled_expiries_and_fills_the_latest_pass(empty_database_url, tmp_path):  # noqa: F811
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        course, quiz = quiz_course()
        expired, in_force = factories.user(), factories.user()
        for officer in (expired, in_force):
            complete_lessons(officer, course)
            submit(officer, quiz)
        latest = submit(expired, quiz)
        gone = certificates_of(expired, course)[0]
        gone.expires_at = utcnow() - timedelta(days=3)
        gone.expiry_handled_at = utcnow() - timedelta(days=2)  # handled by the job before 0010
        expires_at, latest_at = gone.expires_at, latest.submitted_at
        db.session.commit()
        downgrade(revision="0009_quiz_result_awaiting")
        upgrade()
        db.session.expire_all()
        rows = {c.user_id: c for c in db.session.scalars(select(CourseCompletion))}
        assert rows[expired.id].renewal_required_since == expires_at == rows[expired.id].cycle_started_at
        assert rows[in_force.id].renewal_required_since is None
        results = {r.user_id: r for r in db.session.scalars(select(QuizResult))}
        assert results[expired.id].last_passed_at == latest_at
        first_pass = db.session.scalar(select(Attempt.submitted_at).where(Attempt.user_id == in_force.id))
        assert results[in_force.id].last_passed_at == first_pass
        db.session.remove()
        db.engine.dispose()
