"""The take page and the trainers' overview pages run a fixed number of SQL statements."""

from __future__ import annotations

from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.engine import Pick
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.test_attempts import right_values


def make_quiz(questions: int, officers: int):
    course = fq.course(key=f"dem-{questions}-{officers}")
    fq.bank(course, [
        fq.Q("single", f"s{i}", f"Câu {i}?", category="m1",
             answers=(fq.Answer("a", 1.0), fq.Answer("b", 0.0), fq.Answer("c", 0.0)))
        for i in range(questions)
    ] + [fq.essay()])
    quiz = fq.quiz(course, picks=[Pick(category="m1", count=questions), Pick(name="q-essay")])
    agency = factories.agency()
    for i in range(officers):
        officer = factories.user(f"o{questions}x{i}", agency=agency, password=None)
        attempt = services.start_attempt(officer, quiz, "vi")
        services.submit_attempt(attempt, right_values(attempt))
    db.session.commit()
    return course, quiz


def statements(client, count_queries, url):
    client.get(url)  # warm caches (login, babel)
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_take_page_statements_do_not_grow_with_questions(client, auth, count_queries):
    factories.user("canbo")
    auth.login("canbo")
    counts = []
    for size in (3, 30):
        course, quiz = make_quiz(size, 0)
        attempt_id = client.post(f"/quizzes/c/{course.key}/quiz-1/start").headers["Location"]
        counts.append(statements(client, count_queries, attempt_id))
    assert counts[0] == counts[1] and counts[0] <= 8, counts


def test_trainer_pages_statements_do_not_grow_with_attempts_or_questions(client, auth, count_queries):
    factories.user("gv", roles={"trainer"})
    auth.login("gv")
    pages = {}
    for size, officers in ((3, 2), (12, 12)):
        course, quiz = make_quiz(size, officers)
        for name, url in {
            "attempts": f"/quizzes/{quiz.id}/attempts",
            "analysis": f"/quizzes/{quiz.id}/analysis",
            "manage": f"/quizzes/courses/{course.id}",
            "bank": f"/quizzes/courses/{course.id}/bank?lang=vi",
            "grading": "/quizzes/grading",
            "index": "/quizzes/",
        }.items():
            pages.setdefault(name, []).append(statements(client, count_queries, url))
    for name, (small, large) in pages.items():
        assert small == large, (name, small, large)
        assert large <= 12, (name, large)
