"""Fifty officers autosaving and submitting at the same moment: no answer lost, no result doubled.

Runs against the test database (a SQLite file by default, PostgreSQL when LMS_TEST_DATABASE_URL is
set), with one thread and one HTTP client per request, as browsers on a slow link would send them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.extensions import db
from lms.progress.models import QuizResult
from lms.quizzes import services
from lms.quizzes.models import Attempt, AttemptAnswer
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.test_attempts import right_values

OFFICERS = 50


def signed_in_client(app, user):
    # A plain test client: each request pushes its own app context, in its own thread.
    client = FlaskClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def run_together(jobs):
    db.session.commit()  # the test's own transaction must not hold the SQLite write lock meanwhile
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_fifty_simultaneous_autosaves_and_double_submits_lose_nothing_and_double_nothing(app):
    course, quiz = fq.setup_quiz()
    agency = factories.agency()
    users = [factories.user(f"hv{i:02d}", agency=agency, password=None) for i in range(OFFICERS)]
    attempts = [services.start_attempt(u, quiz, "vi") for u in users]
    db.session.commit()
    plan = {a.id: right_values(a) for a in attempts}
    clients = {a.id: signed_in_client(app, u) for a, u in zip(attempts, users, strict=True)}

    def autosave(attempt_id):
        def job():
            c = clients[attempt_id]
            codes = []
            for slot, values in plan[attempt_id].items():  # one request per answer, as quiz.js does
                codes.append(c.post(f"/quizzes/attempts/{attempt_id}/save",
                                    json={"answers": {str(slot): values}}).status_code)
            return codes
        return job

    saved = run_together([autosave(a.id) for a in attempts])
    assert all(code == 200 for codes in saved for code in codes)
    db.session.expire_all()
    answered = db.session.scalar(
        select(func.count(AttemptAnswer.id)).where(AttemptAnswer.response.is_not(None)))
    assert answered == OFFICERS * 6

    def submit(attempt_id):
        return lambda: clients[attempt_id].post(f"/quizzes/attempts/{attempt_id}/submit",
                                                data={"slots": ""}).status_code

    # Every officer submits twice at once (a double click, a second tab).
    codes = run_together([submit(a.id) for a in attempts] * 2)
    assert codes == [302] * (2 * OFFICERS)
    db.session.expire_all()
    finished = db.session.scalars(select(Attempt)).all()
    assert len(finished) == OFFICERS
    assert {(a.status, a.score) for a in finished} == {("graded", 100.0)}
    results = db.session.scalars(select(QuizResult)).all()
    assert len(results) == OFFICERS
    assert {r.attempts_count for r in results} == {1}
