"""Officers take quizzes: start, autosave, reload, submit once, review; the server keeps time and keys."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import QuizResult
from lms.quizzes.models import Attempt
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.factories_quizzes import right_values


@pytest.fixture
def officer(app):
    return factories.user("canbo", locale="en")


def start(client, course, quiz_key="quiz-1"):
    response = client.post(f"/quizzes/c/{course.key}/{quiz_key}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def load(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def autosave(client, attempt_id, answers):
    return client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": answers})


def test_officer_takes_a_quiz_from_start_to_review_and_progress_keeps_the_result(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    page = client.get(f"/quizzes/c/{course.key}/quiz-1")
    assert page.status_code == 200 and "Bài kiểm tra" in page.get_data(as_text=True)
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    assert [s["name"] for s in attempt.slots] and len(attempt.slots) == 6
    values = right_values(attempt)
    assert autosave(client, attempt_id, {str(k): v for k, v in values.items()}).json["ok"]
    response = client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"slots": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    attempt = load(attempt_id)
    assert attempt.status == "graded" and attempt.score == 100 and attempt.passed
    review = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "100" in review and fq.RIGHT_FEEDBACK in review
    result = db.session.scalar(select(QuizResult).where(QuizResult.user_id == officer.id))
    assert result.best_score == 100 and result.passed


def test_reload_and_a_second_tab_show_every_saved_answer(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    # A second tab pressing Start gets the same attempt back.
    assert start(client, course) == attempt_id
    attempt = load(attempt_id)
    values = right_values(attempt)
    for slot, value in values.items():  # one autosave per change, as quiz.js sends them
        assert autosave(client, attempt_id, {str(slot): value}).status_code == 200
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    single = next(s for s in attempt.slots if s["question"]["type"] == "single")
    position = values[single["slot"]][0]
    assert re.search(rf'name="q{single["slot"]}" value="{position}" checked', html)
    assert 'value="Pham gia von co"' in html and 'value="7"' in html


def test_the_no_javascript_form_saves_and_submits_with_the_same_rules(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    values = right_values(attempt)
    form = {"slots": ",".join(str(s["slot"]) for s in attempt.slots)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    saved = client.post(f"/quizzes/attempts/{attempt_id}/save", data=form)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/attempts/{attempt_id}")
    assert all(a.response is not None for a in load(attempt_id).answers)
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form)
    assert load(attempt_id).score == 100


def test_an_in_progress_attempt_never_sends_keys_weights_or_feedback(client, auth, officer):
    """The HTML of the take page and the JSON of autosaves hold no key, weight or feedback."""
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    saved = autosave(client, attempt_id, {"0": ["0"]}).get_data(as_text=True)
    quiz_page = client.get(f"/quizzes/c/{course.key}/quiz-1").get_data(as_text=True)
    for text in (html, saved, quiz_page):
        for secret in (fq.RIGHT_FEEDBACK, fq.WRONG_FEEDBACK, fq.GENERAL_FEEDBACK, "weight",
                       "phẩm giá vốn có", "FEEDBACK", "-100", "0.5"):
            assert secret not in text, secret
    # Choice values are display positions, not bank indexes: the right answer is not always "0".
    single = next(s for s in attempt.slots if s["question"]["type"] == "single")
    assert sorted(single["order"]) == [0, 1, 2]
    # The review is refused to the officer while the attempt is in progress.
    review = client.get(f"/quizzes/attempts/{attempt_id}/review")
    assert review.status_code == 302 and review.headers["Location"].endswith(f"/attempts/{attempt_id}")


def test_review_shows_only_what_the_quiz_review_options_allow(client, auth, officer):
    course, quiz = fq.setup_quiz(review_correct=False, review_feedback=False, review_score=True)
    auth.login("canbo")
    attempt_id = start(client, course)
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"slots": ""})
    html = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    assert fq.RIGHT_FEEDBACK not in html and fq.GENERAL_FEEDBACK not in html
    assert "phẩm giá vốn có" not in html and 'class="tag tag-ok">correct' not in html
    assert "0,0%" in html or "0.0%" in html


def test_submitting_twice_or_replaying_gives_one_result(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    values = right_values(load(attempt_id))
    form = {"slots": ",".join(str(k) for k in values)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    first = client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form)
    wrong = {"slots": form["slots"]}
    replay = client.post(f"/quizzes/attempts/{attempt_id}/submit", data=wrong, follow_redirects=True)
    assert first.status_code == 302
    assert "already been submitted" in replay.get_data(as_text=True)
    attempt = load(attempt_id)
    assert attempt.score == 100
    late = autosave(client, attempt_id, {"0": ["1"]})
    assert late.status_code == 409 and "already been submitted" in late.json["error"]
    result = db.session.scalar(select(QuizResult).where(QuizResult.user_id == officer.id))
    assert result.attempts_count == 1


def test_answers_after_the_deadline_are_refused_and_the_attempt_closes_with_saved_answers(
    client, auth, officer, app
):
    course, quiz = fq.setup_quiz(time_limit_minutes=10)
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    values = right_values(attempt)
    single = next(s["slot"] for s in attempt.slots if s["question"]["type"] == "single")
    assert autosave(client, attempt_id, {str(single): values[single]}).status_code == 200
    attempt = load(attempt_id)
    assert attempt.deadline == attempt.started_at + timedelta(minutes=10)
    attempt.deadline = utcnow() - timedelta(seconds=app.config.get("QUIZ_DEADLINE_GRACE_SECONDS", 30) + 5)
    db.session.commit()
    late = autosave(client, attempt_id, {str(s): v for s, v in values.items()})
    assert late.status_code == 409 and "Time is up" in late.json["error"]
    attempt = load(attempt_id)
    assert attempt.status == "graded" and attempt.closed_overdue
    got = {a.slot: a.fraction for a in attempt.answers}
    assert got[single] == 1 and sum(1 for f in got.values() if f) == 1
    assert attempt.submitted_at == attempt.deadline


def test_a_late_submit_keeps_only_the_answers_saved_in_time(client, auth, officer, app):
    course, quiz = fq.setup_quiz(time_limit_minutes=5)
    auth.login("canbo")
    attempt_id = start(client, course)
    values = right_values(load(attempt_id))
    attempt = load(attempt_id)
    attempt.deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()
    form = {"slots": ",".join(str(k) for k in values)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    page = client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form, follow_redirects=True)
    assert "Time was up" in page.get_data(as_text=True)
    assert load(attempt_id).score == 0


def test_an_overdue_attempt_is_closed_by_the_next_request_or_the_command(client, auth, officer, runner):
    course, quiz = fq.setup_quiz(time_limit_minutes=5)
    other = factories.user("canbo2", locale="en")
    auth.login("canbo")
    first = start(client, course)
    a = load(first)
    a.deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    page = client.get(f"/quizzes/c/{course.key}/quiz-1", follow_redirects=True)
    assert "ran out" in page.get_data(as_text=True)
    assert load(first).status == "graded"
    # Another officer's overdue attempt, closed by the command.
    from lms.quizzes import services

    second = services.start_attempt(other, quiz, "vi")
    second.deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["quizzes", "close-overdue"])
    assert result.exit_code == 0 and "1 overdue attempts closed" in result.output
    assert load(second.id).status == "graded"


def test_a_tampered_answer_is_refused_with_a_message_and_nothing_is_written(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    slots = {s["question"]["type"]: s["slot"] for s in load(attempt_id).slots}
    response = autosave(client, attempt_id, {str(slots["single"]): ["0"],
                                             str(slots["multi"]): ["99"]})
    assert response.status_code == 400
    assert f"question {slots['multi'] + 1} " in response.json["error"]
    assert all(a.response is None for a in load(attempt_id).answers)
    garbage = client.post(f"/quizzes/attempts/{attempt_id}/save", data=json.dumps({"answers": 3}),
                          content_type="application/json")
    assert garbage.status_code == 400 and "reload" in garbage.json["error"]
    unknown = autosave(client, attempt_id, {"77": ["0"]})
    assert unknown.status_code == 400


def test_another_officer_cannot_open_save_or_review_an_attempt(client, auth, officer):
    course, quiz = fq.setup_quiz()
    factories.user("tomo", locale="en")
    auth.login("canbo")
    attempt_id = start(client, course)
    auth.logout()
    auth.login("tomo")
    assert client.get(f"/quizzes/attempts/{attempt_id}").status_code == 403
    assert autosave(client, attempt_id, {"0": ["0"]}).status_code == 403
    assert client.post(f"/quizzes/attempts/{attempt_id}/submit").status_code == 403
    assert client.get(f"/quizzes/attempts/{attempt_id}/review").status_code == 403
    assert client.get("/quizzes/grading").status_code == 403
    assert client.get(f"/quizzes/courses/{course.id}/bank").status_code == 403


def test_max_attempts_delay_and_dates_are_enforced(client, auth, officer):
    course, quiz = fq.setup_quiz(max_attempts=2, attempt_delay_minutes=30)
    auth.login("canbo")
    first = start(client, course)
    client.post(f"/quizzes/attempts/{first}/submit", data={"slots": ""})
    page = client.post(f"/quizzes/c/{course.key}/quiz-1/start", follow_redirects=True)
    assert "You can start a new attempt at" in page.get_data(as_text=True)
    a = load(first)
    a.submitted_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    second = start(client, course)
    client.post(f"/quizzes/attempts/{second}/submit", data={"slots": ""})
    b = load(second)
    b.submitted_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    page = client.post(f"/quizzes/c/{course.key}/quiz-1/start", follow_redirects=True)
    assert "used all your attempts" in page.get_data(as_text=True)
    quiz.max_attempts = None
    quiz.close_at = utcnow() - timedelta(days=1)
    db.session.commit()
    page = client.post(f"/quizzes/c/{course.key}/quiz-1/start", follow_redirects=True)
    assert "This quiz is closed" in page.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Attempt.id))) == 2


def test_an_essay_waits_for_a_trainer_whose_grade_and_comment_complete_the_attempt(client, auth, officer):
    from lms.quizzes.engine import Pick

    c = fq.course()
    fq.bank(c, fq.every_type() + [fq.essay()])
    fq.quiz(c, picks=[Pick(category="m1", count=6), Pick(name="q-essay")])
    factories.user("giangvien", roles={"trainer"}, locale="en")
    auth.login("canbo")
    attempt_id = start(client, c)
    values = right_values(load(attempt_id))
    form = {"slots": ",".join(str(k) for k in values)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form)
    attempt = load(attempt_id)
    assert attempt.status == "needs_grading" and attempt.score is None
    assert "waiting for a trainer" in client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    auth.logout()
    auth.login("giangvien")
    queue = client.get("/quizzes/grading").get_data(as_text=True)
    essay_answer = next(a for a in attempt.answers if a.needs_manual)
    assert f"/quizzes/answers/{essay_answer.id}/grade" in queue
    bad = client.post(f"/quizzes/answers/{essay_answer.id}/grade", data={"points": "5", "comment": ""})
    assert "Give between 0 and 1 points" in bad.get_data(as_text=True)
    done = client.post(f"/quizzes/answers/{essay_answer.id}/grade",
                       data={"points": "0.5", "comment": "Thiếu ví dụ cụ thể."})
    assert done.status_code == 302
    attempt = load(attempt_id)
    assert attempt.status == "graded" and attempt.score == pytest.approx(100 * 6.5 / 7, abs=0.01)
    assert "Nothing to grade" in client.get("/quizzes/grading").get_data(as_text=True)
    auth.logout()
    auth.login("canbo")
    assert "Thiếu ví dụ cụ thể." in client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in_not_shown_an_error(client):
    course, quiz = fq.setup_quiz()
    for url in (f"/quizzes/c/{course.key}/quiz-1", "/quizzes/grading", f"/quizzes/{quiz.id}/attempts"):
        response = client.get(url)
        assert response.status_code in (302, 401), url
        if response.status_code == 302:
            assert "/auth/login" in response.headers["Location"]
