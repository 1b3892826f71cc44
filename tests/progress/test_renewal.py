"""Renewal: when a certificate of a course with a validity period expires, the officer's completion
waits for renewal; completing the course again with fresh evidence updates the one completion row
and issues a new certificate, and the re-certification assignment's due date is the one that counts.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from lms.audit import AuditEntry
from lms.catalog.models import Lesson
from lms.certificates import services as certificates
from lms.certificates.models import Certificate
from lms.db import utcnow
from lms.extensions import db
from lms.org import services as org
from lms.progress import queries, services
from lms.progress.models import (
    AssignedCourse,
    Assignment,
    AssignmentReach,
    CourseCompletion,
    QuizResult,
)
from lms.quizzes import services as quizzes
from tests import factories
from tests.catalog import factories_catalog as cf
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.factories_quizzes import right_values

CERTIFICATE = {
    "enabled": True, "validity_months": 24, "issuer": {"vi": "Sở Tư pháp", "en": "Department of Justice"},
    "signer_name": "Trần Văn Đức", "signer_title": {"vi": "GIÁM ĐỐC", "en": "DIRECTOR"},
}
FINAL = {"key": "quiz-1", "title": {"vi": "Kiểm tra cuối khoá", "en": "Final test"}, "module": None,
         "final": True, "pass_mark": 70}


def lessons_course(lessons: int = 2):
    course = cf.course(lessons=lessons, languages=("vi", "en"))
    course.certificate = dict(CERTIFICATE)
    db.session.flush()
    return course


def quiz_course():
    course = fq.course(lessons=1, languages=("vi", "en"), quizzes=[FINAL],
                       completion={"lessons": "all", "quizzes": ["quiz-1"], "min_final_score": None})
    course.certificate = dict(CERTIFICATE)
    fq.bank(course, fq.every_type())
    return course, fq.quiz(course, final=True)


def submit(officer, quiz, *, right: bool = True):
    attempt = quizzes.start_attempt(officer, quiz, "vi")
    return quizzes.submit_attempt(attempt, right_values(attempt) if right else {}).attempt


def complete_lessons(officer, course):
    services.enrol(officer, course)
    completion = None
    for lesson in cf.lessons_of(course):
        completion = services.complete_lesson(officer, lesson, course, "vi") or completion
    return completion


def completion_of(officer, course) -> CourseCompletion:
    db.session.expire_all()
    return db.session.scalars(select(CourseCompletion).where(
        CourseCompletion.user_id == officer.id, CourseCompletion.course_id == course.id)).one()


def certificates_of(officer, course) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(
        Certificate.user_id == officer.id, Certificate.course_id == course.id).order_by(Certificate.id)))


def expire(officer, course) -> Certificate:
    """Let the officer's certificate run out now and run the daily expiry job."""
    certificate = certificates_of(officer, course)[-1]
    certificate.expires_at = utcnow()
    db.session.flush()
    certificates.expire_certificates(utcnow())
    return certificate


# The expiry job --------------------------------------------------------------------------------


def test_expiry_puts_the_completion_into_renewal_since_the_certificate_expired(app):
    course = lessons_course()
    officer = factories.user()
    complete_lessons(officer, course)
    certificate = expire(officer, course)
    completion = completion_of(officer, course)
    assert completion.renewal_required and completion.renewal_required_since == certificate.expires_at
    assert completion.cycle_started_at == certificate.expires_at
    # Running the job again changes nothing: the certificate was handled once.
    assert certificates.expire_certificates(utcnow() + timedelta(days=1)).expired == 0
    assert completion_of(officer, course).renewal_required_since == certificate.expires_at


def test_a_dry_run_of_the_expiry_job_leaves_completions_alone(app):
    course = lessons_course()
    officer = factories.user()
    complete_lessons(officer, course)
    certificates_of(officer, course)[0].expires_at = utcnow()
    certificates.expire_certificates(utcnow(), dry_run=True)
    assert not completion_of(officer, course).renewal_required


def test_renewal_marks_the_completions_of_a_whole_batch_in_one_statement(app, count_queries):
    """One UPDATE of the completions whatever the batch size, plus the refresh of the pairs it
    touched (find them, then two UPDATEs of assigned_course)."""
    course = lessons_course(lessons=1)
    counts = []
    for size in (2, 6):
        officers = [factories.user() for _ in range(size)]
        for officer in officers:
            complete_lessons(officer, course)
        moment = utcnow()
        db.session.flush()
        with count_queries() as counter:
            changed = services.require_renewal((o.id, course.id, moment) for o in officers)
        assert changed == size
        updates = [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE COURSE_COMPLETION")]
        assert len(updates) == 1
        counts.append(counter.count)
    assert counts[0] == counts[1] == 4


# Fresh evidence -----------------------------------------------------------------------------------


def test_a_quiz_passed_before_the_expiry_does_not_renew_a_pass_after_it_does(app):
    course, quiz = quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    submit(officer, quiz)
    first = completion_of(officer, course)
    old_at, old_agency = first.completed_at, first.agency_id
    old_certificate = expire(officer, course)
    lesson = cf.lessons_of(course)[0]
    assert services.complete_lesson(officer, lesson, course, "vi") is None  # the old pass is not enough
    submit(officer, quiz, right=False)  # a failed attempt after the expiry is not either
    assert completion_of(officer, course).renewal_required
    moved_to = factories.agency()
    org.update_user(officer, org.UserData(
        username=officer.username, full_name=officer.full_name, agency=moved_to,
        roles=set(officer.roles), duty_codes={d.code for d in officer.duties}))
    submit(officer, quiz)
    renewed = completion_of(officer, course)
    assert not renewed.renewal_required and renewed.completed_at > old_at and renewed.score == 100
    assert renewed.course_version == course.version and renewed.agency_id == moved_to.id
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "progress.course_renewed")).one()
    assert entry.details["previous"]["completed_at"] == old_at.isoformat()
    assert entry.details["previous"]["agency_id"] == old_agency
    old, new = certificates_of(officer, course)
    assert old.id == old_certificate.id and new.code != old.code
    assert new.completion_id == renewed.id and new.completed_at == renewed.completed_at
    assert new.state(utcnow()).value == "valid" and old.state(utcnow()).value == "expired"


def test_a_regrade_or_a_lesson_after_the_renewal_renews_nothing_twice(app):
    course, quiz = quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    submit(officer, quiz)
    expire(officer, course)
    submit(officer, quiz)
    assert services.complete_lesson(officer, cf.lessons_of(course)[0], course, "vi") is None
    submit(officer, quiz)
    assert len(certificates_of(officer, course)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "progress.course_renewed")) == 1


def test_the_latest_passing_attempt_is_kept_on_the_quiz_result(app):
    course, quiz = quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    first = submit(officer, quiz)
    second = submit(officer, quiz)
    submit(officer, quiz, right=False)
    db.session.expire_all()
    result = db.session.scalars(select(QuizResult).where(QuizResult.user_id == officer.id)).one()
    assert result.passed_at == first.submitted_at and result.last_passed_at == second.submitted_at


def test_a_course_without_a_quiz_is_renewed_by_marking_every_lesson_done_again(app):
    course = lessons_course(lessons=2)
    officer = factories.user()
    complete_lessons(officer, course)
    expire(officer, course)
    first, second = cf.lessons_of(course)
    state = queries.course_state(officer, course)
    assert state.renewal_required and state.done_lesson_ids == set()  # the lessons are asked for again
    assert services.complete_lesson(officer, first, course, "vi") is None
    assert queries.course_state(officer, course).done_lesson_ids == {first.id}
    renewed = services.complete_lesson(officer, second, course, "vi")
    assert renewed is not None and not renewed.renewal_required
    assert len(certificates_of(officer, course)) == 2


def test_a_course_with_a_quiz_keeps_its_lessons_done_during_renewal(app):
    course, quiz = quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    submit(officer, quiz)
    expire(officer, course)
    state = queries.course_state(officer, course)
    assert state.done_lesson_ids == {cf.lessons_of(course)[0].id}
    assert state.renewal_quiz_keys == ["quiz-1"]


# Due dates --------------------------------------------------------------------------------------


def backdate_assignments(course, due: date) -> None:
    """Make the course's assignments look two years old, with a due date long past."""
    then = utcnow() - timedelta(days=760)
    db.session.execute(update(Assignment).where(Assignment.course_id == course.id).values(
        due_date=due, created_at=then))
    db.session.execute(update(AssignmentReach).where(AssignmentReach.assignment_id.in_(
        select(Assignment.id).where(Assignment.course_id == course.id))).values(reached_on=then.date()))
    services.refresh_assigned_courses(course_ids=[course.id])


def test_an_older_past_due_date_does_not_hide_the_recertification_due_date(app):
    course = lessons_course(lessons=1)
    agency = factories.agency()
    officer = factories.user(agency=agency)
    services.create_assignments(course, kind="agency", agency=agency, due_date=None, actor=None)
    backdate_assignments(course, date(2024, 6, 30))
    complete_lessons(officer, course)
    expire(officer, course)
    recertification = db.session.scalars(select(Assignment).where(Assignment.kind == "user")).one()
    assert recertification.due_date > utcnow().date()
    assigned = db.session.get(AssignedCourse, (officer.id, course.id))
    assert assigned.due_date == recertification.due_date and assigned.assignment_count == 2
    # Any later rebuild (an officer moved, a duty added) keeps it.
    services.refresh_assigned_courses([officer.id])
    db.session.expire_all()
    assert db.session.get(AssignedCourse, (officer.id, course.id)).due_date == recertification.due_date
    # The other officers of the agency, who never completed it, keep the plan's date; one who joins
    # the agency now, long after that date, gets a date ahead of him instead of one already past.
    colleague = factories.user(agency=agency)
    db.session.execute(update(AssignmentReach).where(AssignmentReach.user_id == colleague.id)
                       .values(reached_on=date(2024, 6, 1)))
    services.refresh_assigned_courses([colleague.id])
    assert db.session.get(AssignedCourse, (colleague.id, course.id)).due_date == date(2024, 6, 30)
    newcomer = factories.user(agency=agency)
    assert db.session.get(AssignedCourse, (newcomer.id, course.id)).due_date > utcnow().date()


def test_the_earliest_due_date_of_the_current_cycle_counts(app):
    course = lessons_course(lessons=1)
    officer = factories.user()
    complete_lessons(officer, course)
    expire(officer, course)
    recertification = db.session.scalars(select(Assignment)).one()
    sooner = utcnow().date() + timedelta(days=10)
    services.create_assignments(course, kind="user", users=[officer], due_date=sooner, actor=None)
    assert db.session.get(AssignedCourse, (officer.id, course.id)).due_date == sooner < recertification.due_date


# Pages ------------------------------------------------------------------------------------------


@pytest.fixture
def renewing_officer(app):
    """An officer (English interface) whose certificate of a quiz course expired today."""
    course, quiz = quiz_course()
    officer = factories.user("renew", locale="en")
    complete_lessons(officer, course)
    submit(officer, quiz)
    expire(officer, course)
    return officer, course, quiz


def test_the_course_page_says_renewal_is_needed_with_the_due_date(client, auth, renewing_officer):
    officer, course, quiz = renewing_officer
    due = db.session.scalars(select(Assignment)).one().due_date
    auth.login("renew")
    page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    card = page.split('class="card next-step"')[1].split("</section>")[0]
    assert "Complete the course again to renew it" in card
    assert f"Renew by {due.day} " in card and "You completed this course" not in card
    assert "Take the test again" in card and f"/quizzes/c/{course.key}/quiz-1" in card
    assert "Pass again to renew" in page


def test_my_training_shows_the_renewal_and_its_due_date(client, auth, renewing_officer):
    officer, course, quiz = renewing_officer
    due = db.session.scalars(select(Assignment)).one().due_date
    auth.login("renew")
    page = client.get("/").get_data(as_text=True)
    row = page.split('class="training status-renewal"')[1].split("</li>")[0]
    assert f"Renew by {due.day} " in row and "Complete the course again to renew it" in row
    assert "Completed" not in row


def test_my_training_after_the_renewal_shows_the_course_completed_again(client, auth, renewing_officer):
    officer, course, quiz = renewing_officer
    submit(officer, quiz)
    auth.login("renew")
    page = client.get("/").get_data(as_text=True)
    assert 'class="training status-completed"' in page and "status-renewal" not in page


def test_renewing_a_course_without_a_quiz_through_the_lesson_page(client, auth):
    course = lessons_course(lessons=1)
    officer = factories.user("reader", locale="en")
    complete_lessons(officer, course)
    expire(officer, course)
    lesson = cf.lessons_of(course)[0]
    auth.login("reader")
    page = client.get(f"/catalog/c/{course.key}/{lesson.key}").get_data(as_text=True)
    assert f"/progress/c/{course.key}/{lesson.key}/complete" in page  # asked to mark it done again
    response = client.post(f"/progress/c/{course.key}/{lesson.key}/complete", data={"lang": "vi"})
    assert response.status_code == 302
    assert "completed this course" in client.get(response.location).get_data(as_text=True)
    assert len(certificates_of(officer, course)) == 2
    assert not completion_of(officer, course).renewal_required


def test_my_training_statements_do_not_grow_with_renewals(client, auth, count_queries):
    officer = factories.user("many", locale="en")
    for _ in range(2):
        course = lessons_course(lessons=1)
        complete_lessons(officer, course)
        expire(officer, course)
    auth.login("many")
    client.get("/")
    with count_queries() as few:
        client.get("/")
    for _ in range(4):
        course = lessons_course(lessons=1)
        complete_lessons(officer, course)
        expire(officer, course)
    with count_queries() as more:
        page = client.get("/").get_data(as_text=True)
    assert page.count("status-renewal") == 6
    assert more.count == few.count


def test_the_course_page_statements_do_not_grow_with_renewals(client, auth, count_queries):
    course, quiz = quiz_course()
    officer = factories.user("counted", locale="en")
    complete_lessons(officer, course)
    submit(officer, quiz)
    url = f"/catalog/c/{course.key}"
    auth.login("counted")
    client.get(url)
    with count_queries() as before:
        client.get(url)
    expire(officer, course)
    with count_queries() as during:
        client.get(url)
    # While renewal is due the page drops the certificate button (and its one query).
    assert during.count <= before.count


def test_no_lesson_row_is_left_behind_by_marking_a_lesson_twice(app):
    course = lessons_course(lessons=1)
    officer = factories.user()
    complete_lessons(officer, course)
    lesson = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)).one()
    services.complete_lesson(officer, lesson, course, "vi")
    from lms.progress.models import LessonProgress

    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
