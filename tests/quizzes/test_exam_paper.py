"""The quiz as an exam paper: navigation panel, flags for review, the summary before submitting,
and the autosave and submit-once guarantees kept through the new path."""

from __future__ import annotations

import re

import pytest

from lms.extensions import db
from lms.quizzes.models import Attempt
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.factories_quizzes import right_values


@pytest.fixture
def officer(app):
    return factories.user("canbo", locale="en")


def start(client, course) -> int:
    response = client.post(f"/quizzes/c/{course.key}/quiz-1/start")
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def load(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def test_the_take_page_lists_every_question_with_its_state_in_a_navigation_panel(client, auth, officer):
    course, quiz = fq.setup_quiz(questions_per_page=2)
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    first = attempt.slots[0]["slot"]
    client.post(f"/quizzes/attempts/{attempt_id}/save",
                json={"answers": {str(first): right_values(attempt)[first]}, "flags": [first]})
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    nav = html.split('id="quiz-nav"')[1].split("</nav>")[0]
    assert len(re.findall(r'<a href="#q\d+-box" class="qnav', nav)) == 6
    assert re.search(rf'class="qnav answered flagged" data-slot="{first}"', nav)
    assert "1 of 6 answered" in nav
    # Without JavaScript the page is one page: every question is in the form, each with its flag box.
    assert html.count('class="question card"') == 6 and html.count('name="flags"') == 6
    assert 'data-per-page="2"' in html


def test_flags_are_saved_by_autosave_and_by_the_plain_form_and_never_change_a_grade(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    slots = [s["slot"] for s in load(attempt_id).slots]
    response = client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": {}, "flags": [slots[1], 999]})
    assert response.status_code == 200 and response.json["ok"]
    assert load(attempt_id).flags == [slots[1]]  # a slot not in the attempt is ignored
    # An autosave without flags leaves them as they are.
    client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": {}})
    assert load(attempt_id).flags == [slots[1]]
    # The no-JS form sends the boxes that are ticked; none ticked clears them.
    client.post(f"/quizzes/attempts/{attempt_id}/save",
                data={"slots": "", "flags_listed": "1", "flags": [str(slots[2])]})
    assert load(attempt_id).flags == [slots[2]]
    client.post(f"/quizzes/attempts/{attempt_id}/save", data={"slots": "", "flags_listed": "1"})
    assert load(attempt_id).flags == []
    bad = client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": {}, "flags": "all"})
    assert bad.status_code == 400 and not bad.json["ok"]


def test_review_and_submit_saves_then_shows_the_summary_listing_unanswered_questions(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    values = right_values(attempt)
    answered = attempt.slots[0]["slot"]
    form = {"slots": ",".join(str(s["slot"]) for s in attempt.slots), "flags_listed": "1",
            "flags": [str(attempt.slots[3]["slot"])], f"q{answered}": values[answered], "then": "summary"}
    response = client.post(f"/quizzes/attempts/{attempt_id}/save", data=form)
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/summary")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 questions are not answered yet" in html
    assert "You flagged 1 question for review" in html
    assert f'/quizzes/attempts/{attempt_id}#q{attempt.slots[1]["slot"]}-box' in html
    assert load(attempt_id).status == "in_progress"  # nothing is submitted before the officer confirms


def test_submitting_from_the_summary_grades_what_was_saved_and_a_replay_changes_nothing(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    attempt = load(attempt_id)
    client.post(f"/quizzes/attempts/{attempt_id}/save",
                json={"answers": {str(k): v for k, v in right_values(attempt).items()}})
    summary = client.get(f"/quizzes/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "Every question has an answer." in summary
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', summary)
    data = {"slots": ""} | ({"csrf_token": token.group(1)} if token else {})
    first = client.post(f"/quizzes/attempts/{attempt_id}/submit", data=data)
    assert first.headers["Location"].endswith("/review")
    assert load(attempt_id).score == 100
    again = client.post(f"/quizzes/attempts/{attempt_id}/submit", data=data, follow_redirects=True)
    assert "already been submitted" in again.get_data(as_text=True)
    assert load(attempt_id).score == 100
    # After submitting, the summary leads to the review and flags can no longer change.
    assert client.get(f"/quizzes/attempts/{attempt_id}/summary").headers["Location"].endswith("/review")
    late = client.post(f"/quizzes/attempts/{attempt_id}/save", json={"answers": {}, "flags": [1]})
    assert late.status_code == 409


def test_another_officer_cannot_open_the_summary(client, auth, officer):
    course, quiz = fq.setup_quiz()
    auth.login("canbo")
    attempt_id = start(client, course)
    factories.user("other")
    db.session.commit()
    auth.logout()
    auth.login("other")
    assert client.get(f"/quizzes/attempts/{attempt_id}/summary").status_code == 403


def test_the_timer_is_a_timer_and_only_a_quiet_region_announces_the_time(client, auth, officer):
    course, quiz = fq.setup_quiz(time_limit_minutes=30)
    auth.login("canbo")
    attempt_id = start(client, course)
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert re.search(r'id="quiz-timer" role="timer"', html)
    assert 'id="quiz-announce" role="status" aria-live="polite"' in html
    # The ticking clock itself is not inside a live region (it would be read out every second).
    status = html.split('id="quiz-status"')[1].split("</div>")[0]
    assert "aria-live" not in status.split('id="quiz-announce"')[0]
