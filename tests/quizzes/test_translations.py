"""The quiz take page speaks Vietnamese by default (catalog completeness: tests/app/test_translations.py)."""

from __future__ import annotations


def test_the_take_page_is_in_vietnamese(client, auth):
    from tests import factories
    from tests.quizzes import factories_quizzes as fq

    course, _quiz = fq.setup_quiz()
    factories.user("canbo")
    auth.login("canbo")
    page = client.post(f"/quizzes/c/{course.key}/quiz-1/start", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Xem lại và nộp bài" in html and "Lượt làm bài 1" in html  # submitting goes through the summary
