"""Migration 0013 records whom the assignments already reach and freezes the assignments of closed
plans without the officers the old code gave a closed plan's course after it closed."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from lms import create_app
from lms.extensions import db
from lms.progress import services as progress
from lms.progress.models import AssignedCourse, Assignment, AssignmentReach
from lms.reports import services
from tests import factories as f
from tests.app.test_migrations import empty_database_url  # noqa: F401 - a fixture
from tests.catalog.factories_catalog import course
from tests.conftest import base_config
from tests.reports import factories_reports as fr


def test_migration_0013_backfills_reach_and_freezes_closed_plans(empty_database_url, tmp_path):  # noqa: F811
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        root = f.agency("TINH", kind="province")
        stp = f.agency("STP", parent=root)
        hr = f.user("hr.mig", agency=root, roles={"officer", "hr"}, hr_all=True)
        the_course = course("mig-course")
        plan = fr.plan(hr, courses=[the_course], agencies=[stp],
                       due=progress.local_today() + timedelta(days=9))
        inside = f.user("inside", agency=stp)
        services.close_plan(plan, actor=hr)
        late = f.user("late", agency=stp)
        late.created_at = plan.closed_at + timedelta(days=1)
        closed_at = plan.closed_at
        ids = (inside.id, late.id, the_course.id)
        db.session.commit()
        downgrade(revision="0012_exam_paper_calendar")
        with db.engine.begin() as conn:  # what the old code did: the newcomer got the closed plan's course
            conn.execute(text("INSERT INTO assigned_course (user_id, course_id, assignment_count) "
                              "VALUES (:u, :c, 1)"), {"u": ids[1], "c": ids[2]})
        upgrade()
        db.session.expire_all()
        assert set(db.session.scalars(select(AssignmentReach.user_id))) == {ids[0]}
        assert {a.frozen_at for a in db.session.scalars(select(Assignment))} == {closed_at}
        assert set(db.session.scalars(select(AssignedCourse.user_id))) == {ids[0]}
        db.session.remove()
        db.engine.dispose()
