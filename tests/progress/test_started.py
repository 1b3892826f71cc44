"""AssignedCourse.started (denormalised for the reports) always equals its recomputation from lesson
progress and quiz results, after every write that can change it, in the same transaction.

The flag only depends on lesson_progress, quiz_result.attempts_count and which pairs exist, so the
writes that can change it are: a lesson marked done, a quiz result rebuilt (submit, grading), and every
rebuild of the pairs (assignment, plan membership, officer move, override, agency move). Completions,
certificates, workshops and external records do not change it: the reports read those live.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from lms.extensions import db
from lms.org import services as org
from lms.progress import services as progress
from lms.progress.models import AssignedCourse, started_clause
from lms.reports import services as reports
from tests import factories as f
from tests.catalog import factories_catalog as cf
from tests.quizzes.test_results import final_test_course, submit


def pairs() -> dict[tuple[int, int], tuple[bool, bool]]:
    """Every pair: (stored flag, recomputed flag)."""
    db.session.flush()
    return {
        (u, c): (bool(stored), bool(fresh))
        for u, c, stored, fresh in db.session.execute(
            select(AssignedCourse.user_id, AssignedCourse.course_id, AssignedCourse.started,
                   started_clause(AssignedCourse.user_id, AssignedCourse.course_id))
        )
    }


def assert_in_step() -> dict[tuple[int, int], bool]:
    found = pairs()
    assert found, "no assigned pairs: the test would prove nothing"
    stale = {pair: flags for pair, flags in found.items() if flags[0] != flags[1]}
    assert stale == {}
    return {pair: flags[0] for pair, flags in found.items()}


def test_started_follows_every_write_path(app):
    root = f.agency("SH", kind="province")
    dept = f.agency("STP", parent=root)
    other = f.agency("X-AV", parent=root, kind="commune")
    hr = f.user("hr", agency=root, roles={"admin"})
    a, b, c = f.user("an", agency=dept), f.user("binh", agency=dept), f.user("cuc", agency=other)
    course, quiz = final_test_course()
    lesson = cf.lessons_of(course)[0]
    due = date.today() + timedelta(days=30)

    # Progress made before the course is assigned: the rebuild computes the flag.
    progress.enrol(c, course)
    progress.complete_lesson(c, lesson, course, "vi")

    # Assignment to an agency subtree: a and b, neither started.
    progress.create_assignments(course, kind="agency", agency=dept, due_date=due, actor=hr)
    flags = assert_in_step()
    assert flags == {(a.id, course.id): False, (b.id, course.id): False}

    # A lesson marked done (the Core upsert) and a quiz attempt submitted (the result rebuilt).
    progress.enrol(a, course)
    progress.complete_lesson(a, lesson, course, "vi")
    assert assert_in_step()[(a.id, course.id)] is True
    progress.enrol(b, course)
    submit(b, quiz, wrong=("q-single", "q-tf"))
    assert assert_in_step()[(b.id, course.id)] is True

    # Plan membership: c enters with the progress they already had.
    plan = reports.create_plan(reports.PlanData(name="Kế hoạch", year=due.year, due_date=due), actor=hr)
    reports.add_course(plan, course, actor=hr)
    reports.add_member(plan, kind="user", user=c, actor=hr)
    reports.activate_plan(plan, actor=hr)
    assert assert_in_step()[(c.id, course.id)] is True

    # An officer moved to another agency, an override, an agency moved: the pairs are rebuilt.
    org.update_user(b, org.UserData(username=b.username, full_name=b.full_name, agency=other), actor=hr)
    assert (b.id, course.id) not in assert_in_step()
    progress.set_override(a, course, progress.OverrideData(due_date=due + timedelta(days=5), reason="ốm"),
                          actor=hr)
    assert assert_in_step()[(a.id, course.id)] is True
    org.move_agency(other, dept, actor=hr)
    assert_in_step()

    # Completing the course (lessons and a passed final test) keeps the flag in step.
    for each in cf.lessons_of(course):
        progress.complete_lesson(a, each, course, "vi")
    submit(a, quiz)
    assert assert_in_step()[(a.id, course.id)] is True


def test_a_stale_flag_is_caught(app):
    """The check above can fail: a flag written wrong shows as stale."""
    root = f.agency("SH", kind="province")
    hr = f.user("hr", agency=root, roles={"admin"})
    course = cf.course()
    progress.create_assignments(course, kind="agency", agency=root, due_date=None, actor=hr)
    db.session.execute(AssignedCourse.__table__.update().values(started=True))
    assert any(stored != fresh for stored, fresh in pairs().values())
    progress.refresh_started()
    assert_in_step()
