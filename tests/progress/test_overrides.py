"""Arrangements per officer: extra time and attempts on every quiz of the course, a later (never an
earlier) due date, always with a reason, audited, shown to the officer, only for HR of the officer's
scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.extensions import db
from lms.progress import services
from lms.progress.models import AssignedCourse
from lms.quizzes import services as quizzes
from tests import factories
from tests.progress.test_renewal import quiz_course


@pytest.fixture
def setup(app):
    course, quiz = quiz_course()
    quiz.time_limit_minutes, quiz.max_attempts = 20, 1
    root = factories.agency("ROOT-OV", kind="province")
    home = factories.agency("HOME-OV", parent=root)
    elsewhere = factories.agency("ELSE-OV", parent=root)
    officer = factories.user("ov.officer", agency=home)
    hr = factories.user("ov.hr", agency=home, roles={"officer", "hr"}, hr_agencies=[home])
    other_hr = factories.user("ov.hr2", agency=elsewhere, roles={"officer", "hr"}, hr_agencies=[elsewhere])
    due = services.local_today() + timedelta(days=10)
    services.create_assignments(course, kind="user", users=[officer], due_date=due, actor=hr)
    db.session.commit()
    return {"course": course, "quiz": quiz, "officer": officer, "hr": hr, "other_hr": other_hr, "due": due}


def test_extra_minutes_and_attempts_apply_when_the_officer_starts_a_quiz(setup):
    officer, quiz = setup["officer"], setup["quiz"]
    services.set_override(officer, setup["course"], services.OverrideData(extra_minutes=15, extra_attempts=1,
                          reason="Ốm, có giấy của bệnh viện"), actor=setup["hr"])
    first = quizzes.start_attempt(officer, quiz, "vi")
    assert first.deadline - first.started_at == timedelta(minutes=35)
    quizzes.submit_attempt(first, {})
    second = quizzes.start_attempt(officer, quiz, "vi")  # the quiz alone allows one attempt
    quizzes.submit_attempt(second, {})
    with pytest.raises(quizzes.StartRefused):
        quizzes.start_attempt(officer, quiz, "vi")


def test_a_later_due_date_moves_the_officers_due_date_and_an_earlier_one_does_not(setup):
    officer, course = setup["officer"], setup["course"]
    later = setup["due"] + timedelta(days=20)
    services.set_override(officer, course, services.OverrideData(due_date=later, reason="Mất kết nối"),
                          actor=setup["hr"])
    assert db.session.get(AssignedCourse, (officer.id, course.id)).due_date == later
    services.set_override(officer, course, services.OverrideData(due_date=setup["due"] - timedelta(days=5),
                          reason="Nhầm ngày"), actor=setup["hr"])
    assert db.session.get(AssignedCourse, (officer.id, course.id)).due_date == setup["due"]


def test_an_arrangement_needs_a_reason_and_is_audited_with_the_values_before(setup):
    officer, course = setup["officer"], setup["course"]
    with pytest.raises(services.ProgressError) as err:
        services.set_override(officer, course, services.OverrideData(extra_minutes=5, reason="  "),
                              actor=setup["hr"])
    assert err.value.field == "reason"
    services.set_override(officer, course, services.OverrideData(extra_minutes=5, reason="Khuyết tật thị giác"),
                          actor=setup["hr"])
    services.set_override(officer, course, services.OverrideData(extra_minutes=30, reason="Khuyết tật thị giác"),
                          actor=setup["hr"])
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "progress.override_set")
                                      .order_by(AuditEntry.id)))
    assert entries[0].details["before"] is None
    assert entries[1].details["before"]["extra_minutes"] == 5 and entries[1].details["extra_minutes"] == 30


def test_hr_sets_an_arrangement_on_the_web_and_the_officer_sees_it(client, auth, setup):
    auth.login("ov.hr")
    response = client.post(f"/progress/officers/{setup['officer'].id}/overrides", data={
        "course_id": setup["course"].id, "extra_minutes": "10", "extra_attempts": "2",
        "reason": "Đường truyền ở xã bị mất nhiều lần",
    })
    assert response.status_code == 302
    auth.logout()
    auth.login("ov.officer")
    course_page = client.get(f"/catalog/c/{setup['course'].key}").get_data(as_text=True)
    assert "Đường truyền ở xã bị mất nhiều lần" in course_page
    quiz_page = client.get(f"/quizzes/c/{setup['course'].key}/{setup['quiz'].key}").get_data(as_text=True)
    assert "30 phút" in quiz_page and "Đã dùng 0/3" in quiz_page


def test_hr_of_another_agency_cannot_see_or_change_the_officers_arrangements(client, auth, setup):
    auth.login("ov.hr2")
    assert client.get(f"/progress/officers/{setup['officer'].id}/overrides").status_code == 403
    assert client.post(f"/progress/officers/{setup['officer'].id}/overrides", data={
        "course_id": setup["course"].id, "extra_minutes": "10", "reason": "x"}).status_code == 403
