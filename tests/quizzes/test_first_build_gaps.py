"""Gaps left from the first build (issue 15, point 6), each with the rule it now keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import CourseCompletion, QuizResult
from lms.quizzes import services as quizzes
from lms.quizzes.models import Attempt
from tests import factories
from tests.progress import test_renewal as renewal
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.factories_quizzes import right_values


@pytest.fixture
def officer(app):
    return factories.user("canbo", locale="en")


def start(client, course, quiz_key="quiz-1") -> int:
    response = client.post(f"/quizzes/c/{course.key}/{quiz_key}/start")
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_the_course_page_hides_best_scores_when_the_quiz_hides_scores(client, auth, officer):
    course, quiz = fq.setup_quiz(review_score=False, final=True)
    quizzes.refresh_course_quiz_list(course)
    attempt = quizzes.start_attempt(officer, quiz, "vi")
    quizzes.submit_attempt(attempt, right_values(attempt))
    db.session.commit()
    auth.login("canbo")
    html = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    assert "Your best score" not in html and "100%" not in html
    # With scores shown the same page gives it.
    quiz.review_score = True
    quizzes.refresh_course_quiz_list(course)
    db.session.commit()
    assert "Your best score: 100%" in client.get(f"/catalog/c/{course.key}").get_data(as_text=True)


def test_a_started_attempt_cannot_be_saved_or_submitted_once_the_course_is_unpublished(client, auth, officer):
    course, quiz = fq.setup_quiz()
    course.open = False
    db.session.commit()
    from lms.progress import services as progress

    progress.enrol(officer, course)
    db.session.commit()
    auth.login("canbo")
    attempt_id = start(client, course)
    course.published = False
    db.session.commit()
    assert client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": {"1": ["0"]}}).status_code == 403
    assert client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"slots": ""}).status_code == 403
    assert client.get(f"/quizzes/attempts/{attempt_id}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == "in_progress"


def test_item_analysis_keeps_language_editions_of_one_question_apart(client, auth, app):
    """The English and Vietnamese editions share the name q-single but are separate items."""
    course, quiz = fq.setup_quiz()
    course.languages = ["vi", "en"]
    fq.bank(course, fq.every_type(), lang="en")
    officers = [factories.user() for _ in range(4)]
    for n, user in enumerate(officers):
        attempt = quizzes.start_attempt(user, quiz, "vi" if n % 2 else "en")
        quizzes.submit_attempt(attempt, right_values(attempt))
    admin = factories.user("admin.gaps", roles={"admin"}, locale="en")
    db.session.commit()
    auth.login(admin.username)
    html = client.get(f"/quizzes/{quiz.id}/analysis").get_data(as_text=True)
    assert "q-single [vi]" in html and "q-single [en]" in html


def test_a_renewal_records_the_renewal_attempts_score_not_the_best_of_all_time(app):
    course, quiz = renewal.quiz_course()
    officer = factories.user()
    renewal.complete_lessons(officer, course)
    renewal.submit(officer, quiz)  # 100%
    assert renewal.completion_of(officer, course).score == 100
    renewal.expire(officer, course)
    attempt = quizzes.start_attempt(officer, quiz, "vi")
    values = right_values(attempt)
    numerical = next(s["slot"] for s in attempt.slots if s["question"]["type"] == "numerical")
    values[numerical] = ["1"]  # one wrong answer: a pass, below 100
    renewed_attempt = quizzes.submit_attempt(attempt, values).attempt
    assert renewed_attempt.passed and renewed_attempt.score < 100
    completion = renewal.completion_of(officer, course)
    assert not completion.renewal_required
    assert completion.score == int(renewed_attempt.score)
    result = db.session.scalars(select(QuizResult).where(QuizResult.user_id == officer.id)).one()
    assert result.best_score == 100  # the quiz's own record still knows the best of all time
    assert db.session.scalars(select(CourseCompletion)).one().score < 100


@pytest.mark.parametrize(("path", "target"), [
    ("/login", "/auth/login"), ("/signin", "/auth/login"), ("/logout", "/auth/login"),
    ("/admin", "/auth/login"), ("/dashboard", "/auth/login"), ("/profile", "/auth/profile"),
])
def test_usual_addresses_lead_to_the_right_page_when_signed_out(client, path, target):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith(target)


def test_usual_addresses_lead_to_the_right_page_when_signed_in(client, auth, officer):
    auth.login("canbo")
    assert client.get("/admin").headers["Location"] == "/"
    assert client.get("/login?next=/catalog/").headers["Location"] == "/auth/login?next=/catalog/"
    page = client.get("/logout")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/auth/logout"' in html and 'name="csrf_token"' in html
    # Opening /logout signs nobody out (no state change on GET).
    assert client.get("/auth/profile").status_code == 200
