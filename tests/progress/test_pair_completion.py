"""What a pair keeps of its completion for the reports (``AssignedCourse.agency_id``, ``completed_at``,
``on_time``, ``score``, ``elsewhere``) follows every write to completions and officers, in the same
transaction: ORM writes after the flush, bulk UPDATE/DELETE statements as they run, the rebuild of
the pairs. The ``app`` fixture checks every pair after every test (tests/pairs.py); this file walks the
paths with the values a report would read, and shows that the check can fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from lms.db import utcnow
from lms.extensions import db
from lms.org import services as org
from lms.progress import services, workshops
from lms.progress.models import AssignedCourse, CourseCompletion
from lms.reports import queries
from tests import factories as f
from tests.catalog.factories_catalog import course as make_course
from tests.pairs import stale_pairs
from tests.reports import factories_reports as fr


def pair(user, course) -> AssignedCourse:
    db.session.flush()
    db.session.expire_all()
    return db.session.get_one(AssignedCourse, (user.id, course.id))


@pytest.fixture
def province(app):
    root = f.agency("TINH-PC", kind="province")
    commune = f.agency("XA-PC", parent=root, kind="commune")
    other = f.agency("XA-PC2", parent=root, kind="commune")
    hr = f.user("hr.pc", agency=root, roles={"officer", "hr", "admin"})
    officers = [f.user(f"cb.pc{i}", agency=commune) for i in range(3)]
    the_course = make_course("pair-course")
    due = services.local_today() + timedelta(days=10)
    plan = fr.plan(hr, courses=[the_course], agencies=[root], due=due)
    return {"root": root, "commune": commune, "other": other, "hr": hr, "officers": officers,
            "course": the_course, "plan": plan, "due": due}


def test_a_completion_renewal_and_move_change_what_the_pair_keeps(province):
    p = province
    a, b, _c = p["officers"]
    course = p["course"]
    assert (pair(a, course).agency_id, pair(a, course).completed_at) == (p["commune"].id, None)

    # Completed on time with a score: counts for the agency where it was earned.
    moment = datetime.now(UTC) - timedelta(days=1)
    fr.complete(a, course, at=moment, score=90)
    kept = pair(a, course)
    assert (kept.agency_id, kept.completed_at, kept.on_time, kept.score, kept.elsewhere) == (
        p["commune"].id, moment, True, 90, False)

    # Moved to another commune: the finished pair stays with the commune, the open one moves.
    org.update_user(a, org.UserData(username=a.username, full_name=a.full_name, agency=p["other"]), actor=p["hr"])
    org.update_user(b, org.UserData(username=b.username, full_name=b.full_name, agency=p["other"]), actor=p["hr"])
    assert pair(a, course).agency_id == p["commune"].id
    assert pair(b, course).agency_id == p["other"].id

    # The certificate expired: the bulk renewal UPDATE puts the pair back to open, at the current agency.
    assert services.require_renewal([(a.id, course.id, utcnow())]) == 1
    kept = pair(a, course)
    assert (kept.agency_id, kept.completed_at, kept.on_time, kept.score) == (p["other"].id, None, False, None)

    # Renewed late (after the due date): completed again, not on time.
    completion = db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == a.id))
    completion.renewal_required_since = None
    completion.completed_at = datetime.now(UTC) + timedelta(days=20)
    completion.agency_id = p["other"].id
    kept = pair(a, course)
    assert (kept.agency_id, kept.on_time, kept.score) == (p["other"].id, False, 90)
    assert stale_pairs() == {}


def test_a_workshop_completes_pairs_elsewhere_and_deleting_it_withdraws_them(province):
    p = province
    data = workshops.WorkshopData(title="Tập huấn người phát ngôn", held_on=services.local_today() - timedelta(days=1),
                                  place="Hội trường", agency=p["commune"], trainer="Trần Thị Lan", hours=4,
                                  course=p["course"])
    item = workshops.create_workshop(data, actor=p["hr"])
    workshops.set_attendance(item, [o.id for o in p["officers"][:2]], actor=p["hr"])
    assert [pair(o, p["course"]).elsewhere for o in p["officers"]] == [True, True, False]
    assert pair(p["officers"][0], p["course"]).on_time is True
    # Unticking one officer withdraws that completion with a bulk DELETE.
    workshops.set_attendance(item, [p["officers"][0].id], actor=p["hr"])
    assert pair(p["officers"][1], p["course"]).completed_at is None
    workshops.delete_workshop(item, actor=p["hr"])
    assert [pair(o, p["course"]).completed_at for o in p["officers"]] == [None, None, None]
    report = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert (report.total.assigned, report.total.completed) == (4, 0)  # the three officers and HR
    assert stale_pairs() == {}


def test_a_completion_recorded_before_the_assignment_is_kept_by_the_rebuild(app):
    root = f.agency("TINH-PC3", kind="province")
    hr = f.user("hr.pc3", agency=root, roles={"officer", "hr", "admin"})
    officer = f.user("cb.pc3", agency=root)
    course = make_course("pair-course-3")
    fr.complete(officer, course, score=70)
    services.create_assignments(course, kind="agency", agency=root, due_date=None, actor=hr)
    kept = pair(officer, course)
    assert (kept.agency_id, kept.on_time, kept.score) == (root.id, True, 70)


@pytest.mark.stale_pairs
def test_a_stale_completion_column_is_caught(province):
    """The after-test check can fail: a column written wrong behind the app's back shows as stale."""
    p = province
    fr.complete(p["officers"][0], p["course"])
    db.session.execute(update(AssignedCourse.__table__).values(score=1)
                       .where(AssignedCourse.user_id == p["officers"][0].id))
    stale = stale_pairs()
    assert set(stale) == {(p["officers"][0].id, p["course"].id)}
    assert stale[(p["officers"][0].id, p["course"].id)]["score"] == (1, 80)
    services.refresh_pairs()
    assert stale_pairs() == {}
