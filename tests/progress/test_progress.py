"""Progress: enrolment, lesson completion and resume, completion rules, assignments by officer,
agency subtree and duty (including officers who join later), unassigning, the dashboard order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from lms import signals
from lms.db import utcnow
from lms.extensions import db
from lms.org import services as org
from lms.progress import queries, services
from lms.progress.models import AssignedCourse, CourseCompletion, Enrollment, LessonProgress
from tests import factories
from tests.catalog import factories_catalog as cf


def _assigned(user, course) -> AssignedCourse | None:
    return db.session.get(AssignedCourse, (user.id, course.id))


def _data(user, **changes) -> org.UserData:
    values = dict(username=user.username, full_name=user.full_name, agency=user.agency,
                  roles=set(user.roles), duty_codes={d.code for d in user.duties})
    values.update(changes)
    return org.UserData(**values)


def test_completing_every_lesson_completes_the_course_once_and_tells_the_listeners(app):
    course = cf.course(lessons=2)
    officer = factories.user()
    heard = []

    def listener(completion, *, user, course):
        heard.append((user.id, course.key))

    with signals.course_completed.connected_to(listener):
        services.enrol(officer, course)
        first, second = cf.lessons_of(course)
        assert services.complete_lesson(officer, first, course, "vi") is None
        done = services.complete_lesson(officer, second, course, "vi")
        again = services.complete_lesson(officer, second, course, "vi")
    assert done is not None and again is None
    assert done.agency_id == officer.agency_id and done.course_version == course.version
    assert heard == [(officer.id, course.key)]


def test_completing_a_translation_counts_for_the_course(app):
    course = cf.course(lessons=2, languages=("vi", "en"))
    officer = factories.user()
    services.enrol(officer, course)
    first, second = cf.lessons_of(course)
    services.complete_lesson(officer, first, course, "en")
    done = services.complete_lesson(officer, second, course, "vi")
    assert done is not None


def test_required_quizzes_and_final_score_are_part_of_the_rule(app):
    quizzes = [{"key": "final", "title": {"vi": "Cuối khoá"}, "module": None, "final": True, "pass_mark": 70}]
    course = cf.course(lessons=1, quizzes=quizzes,
                       completion={"lessons": "all", "quizzes": ["final"], "min_final_score": 80})
    officer = factories.user()
    services.enrol(officer, course)
    assert services.complete_lesson(officer, cf.lessons_of(course)[0], course, "vi") is None
    def standing(score: int) -> services.QuizStanding:
        return services.QuizStanding(attempts=1, awaiting_grading=0, best_score=score, passed=True,
                                     passed_at=utcnow())

    assert services.record_quiz_result(officer, course, "final", lambda: standing(75)) is None  # below 80
    done = services.record_quiz_result(officer, course, "final", lambda: standing(90))
    assert done is not None and done.score == 90


def test_lesson_page_remembers_where_to_resume(app, client, auth):
    course = cf.course(lessons=3)
    factories.user("reader")
    auth.login("reader")
    client.post(f"/progress/c/{course.key}/enrol")
    client.get(f"/catalog/c/{course.key}/lesson-2")
    page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    assert f'href="/catalog/c/{course.key}/lesson-2' in page.split('class="card next-step"')[1].split("</section>")[0]


def test_mark_complete_moves_on_to_the_next_lesson_and_records_progress(app, client, auth):
    course = cf.course(lessons=2)
    reader = factories.user("reader")
    auth.login("reader")
    response = client.post(f"/progress/c/{course.key}/lesson-1/complete", data={"lang": "vi"})
    assert response.status_code == 302 and response.location.endswith(f"/catalog/c/{course.key}/lesson-2?lang=vi")
    assert db.session.scalar(select(func.count()).select_from(LessonProgress).where(LessonProgress.user_id == reader.id)) == 1
    assert db.session.scalar(select(Enrollment.source).where(Enrollment.user_id == reader.id)) == "self"


def test_closed_courses_cannot_be_self_enrolled(app, client, auth):
    course = cf.course(open_=False)
    factories.user("reader")
    auth.login("reader")
    assert client.post(f"/progress/c/{course.key}/enrol").status_code == 403
    assert client.get(f"/catalog/c/{course.key}/lesson-1").status_code == 403


def test_assignment_to_an_agency_subtree_reaches_its_units_only(app):
    province = factories.agency("P")
    district = factories.agency("D", parent=province)
    commune = factories.agency("C", parent=district)
    other = factories.agency("O", parent=province)
    in_district, in_commune, outside = (factories.user(agency=a) for a in (district, commune, other))
    course = cf.course()
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    services.create_assignments(course, kind="agency", agency=district, due_date=None, actor=hr)
    assert _assigned(in_district, course) and _assigned(in_commune, course)
    assert _assigned(outside, course) is None


def test_assignment_by_duty_within_a_district_and_officers_who_gain_the_duty_later(app):
    district = factories.agency("D")
    elsewhere = factories.agency("E")
    speaker = factories.user(agency=district, duties={"spokesperson"})
    plain = factories.user(agency=district)
    far_speaker = factories.user(agency=elsewhere, duties={"spokesperson"})
    course = cf.course()
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    due = (utcnow() + timedelta(days=30)).date()
    services.create_assignments(course, kind="duty", duty=speaker.duties[0], agency=district,
                                due_date=due, actor=hr)
    assert _assigned(speaker, course).due_date == due
    assert _assigned(plain, course) is None and _assigned(far_speaker, course) is None

    org.update_user(plain, _data(plain, duty_codes={"spokesperson"}))
    assert _assigned(plain, course) is not None
    org.update_user(far_speaker, _data(far_speaker, agency=district))
    assert _assigned(far_speaker, course) is not None
    newcomer = factories.user(agency=district, duties={"spokesperson"})
    assert _assigned(newcomer, course) is not None


def test_the_earliest_due_date_wins_and_unassigning_keeps_progress(app):
    agency = factories.agency()
    officer = factories.user(agency=agency)
    course = cf.course(lessons=2)
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    soon = (utcnow() + timedelta(days=5)).date()
    later = (utcnow() + timedelta(days=50)).date()
    [by_agency] = services.create_assignments(course, kind="agency", agency=agency, due_date=later, actor=hr)
    [by_user] = services.create_assignments(course, kind="user", users=[officer], due_date=soon, actor=hr)
    row = _assigned(officer, course)
    assert row.due_date == soon and row.assignment_count == 2
    services.enrol(officer, course, source="assignment")
    services.complete_lesson(officer, cf.lessons_of(course)[0], course, "vi")
    services.deactivate_assignment(by_user, actor=hr)
    assert _assigned(officer, course).due_date == later
    services.deactivate_assignment(by_agency, actor=hr)
    assert _assigned(officer, course) is None
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1


def test_disabled_officers_drop_out_of_assignments(app):
    agency = factories.agency()
    officer = factories.user(agency=agency)
    course = cf.course()
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    services.create_assignments(course, kind="agency", agency=agency, due_date=None, actor=hr)
    org.set_user_active(officer, False)
    assert _assigned(officer, course) is None


def test_refreshing_assignments_is_set_based(app, count_queries):
    """The statements run do not grow with the number of officers."""
    agency = factories.agency()
    course = cf.course()
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    services.create_assignments(course, kind="agency", agency=agency, due_date=None, actor=hr)

    def measure() -> int:
        db.session.flush()
        with count_queries() as counter:
            services.refresh_assigned_courses()
        return counter.count

    small = measure()
    for _ in range(30):
        factories.user(agency=agency)
    assert measure() == small
    assert db.session.scalar(select(func.count()).select_from(AssignedCourse)) == 30


def test_dashboard_lists_overdue_first_then_in_progress_then_completed(app):
    officer = factories.user()
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    done, overdue, going, fresh = (cf.course(lessons=1) for _ in range(4))
    for course in (done, overdue, going, fresh):
        services.create_assignments(course, kind="user", users=[officer],
                                    due_date=(utcnow() + timedelta(days=10)).date(), actor=hr)
    db.session.execute(AssignedCourse.__table__.update()
                       .where(AssignedCourse.course_id == overdue.id)
                       .values(due_date=(utcnow() - timedelta(days=3)).date()))
    services.enrol(officer, done)
    services.complete_lesson(officer, cf.lessons_of(done)[0], done, "vi")
    services.enrol(officer, going)
    rows = queries.my_training(officer)
    assert [(r.course.key, r.status) for r in rows] == [
        (overdue.key, "overdue"), (going.key, "in_progress"), (fresh.key, "not_started"),
        (done.key, "completed"),
    ]
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1


def test_hr_assigns_every_spokesperson_of_a_district_who_then_see_it_first(app, client, auth):
    district = factories.agency("DIST")
    factories.user("speaker", agency=district, duties={"spokesperson"})
    factories.user("hrd", roles={"officer", "hr"}, hr_agencies=[district])
    course = cf.course()
    other = cf.course()
    db.session.commit()
    auth.login("hrd")
    due = (utcnow() + timedelta(days=14)).date()
    response = client.post("/progress/assignments/new", data={
        "course_id": course.id, "kind": "duty", "duty_id": 1, "agency_id": district.id,
        "include_subtree": "y", "due_date": due.isoformat(),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()
    auth.login("speaker")
    client.post(f"/progress/c/{other.key}/enrol")
    home = client.get("/").get_data(as_text=True)
    assert home.index(course.title_in("vi")) < home.index(other.title_in("vi"))


def test_scoped_hr_cannot_assign_outside_their_scope_and_gets_a_clear_message(app, client, auth):
    mine = factories.agency("MINE")
    theirs = factories.agency("THEIRS")
    factories.user("hrm", roles={"officer", "hr"}, hr_agencies=[mine])
    factories.user("stranger", agency=theirs)
    course = cf.course()
    db.session.commit()
    auth.login("hrm")
    page = client.post("/progress/assignments/new", data={"course_id": course.id, "kind": "agency",
                                                           "agency_id": theirs.id})
    assert page.status_code == 200
    page = client.post("/progress/assignments/new", data={"course_id": course.id, "kind": "user",
                                                           "usernames": "stranger, nobody"})
    text = page.get_data(as_text=True)
    assert "stranger" in text and "nobody" in text and 'class="errors"' in text
    assert db.session.scalar(select(func.count()).select_from(AssignedCourse)) == 0


def test_bad_assignment_input_is_named_not_a_500(app, client, auth):
    factories.user("boss", roles={"officer", "hr"}, hr_all=True)
    course = cf.course()
    db.session.commit()
    auth.login("boss")
    past = (utcnow() - timedelta(days=2)).date().isoformat()
    for data in ({"course_id": course.id, "kind": "agency", "agency_id": 0},
                 {"course_id": course.id, "kind": "duty", "duty_id": 0},
                 {"course_id": course.id, "kind": "user", "usernames": ""},
                 {"course_id": 999, "kind": "agency"},
                 {"course_id": course.id, "kind": "agency", "agency_id": 1, "due_date": past},
                 {"course_id": course.id, "kind": "agency", "agency_id": 1, "due_date": "31/02/2024"}):
        response = client.post("/progress/assignments/new", data=data)
        assert response.status_code == 200, data
        assert 'class="errors"' in response.get_data(as_text=True), data


def test_officers_cannot_reach_assignment_pages(app, client, auth):
    factories.user("plain")
    auth.login("plain")
    assert client.get("/progress/assignments").status_code == 403
    assert client.get("/progress/assignments/new").status_code == 403
