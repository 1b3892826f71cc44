"""Plans that end: a closed plan assigns nothing new (import, duty change, agency move after the
close), its figures keep the officers it had, and a plan's due date is never in the past on the day it
reaches an officer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.org import imports
from lms.org import services as org
from lms.org.models import Duty, User
from lms.progress import services as progress
from lms.progress.models import AssignedCourse
from lms.reports import queries, services
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr


def due_of(user: User, the_course) -> date | None | str:
    row = db.session.scalar(select(AssignedCourse).where(AssignedCourse.user_id == user.id,
                                                         AssignedCourse.course_id == the_course.id))
    return "not assigned" if row is None else row.due_date


@pytest.fixture
def closed(app):
    root = f.agency("TINH", kind="province")
    stp = f.agency("STP", parent=root)
    other = f.agency("SNV", parent=root)
    hr = f.user("hr.close", agency=root, roles={"officer", "hr"}, hr_all=True)
    the_course = course("closing-course")
    due = progress.local_today() + timedelta(days=20)
    plan = fr.plan(hr, courses=[the_course], agencies=[stp], duties=[], due=due)
    services.add_member(plan, kind="duty", duty=db.session.scalar(select(Duty).where(Duty.code == "press")),
                        actor=hr)
    inside = f.user("in.stp", agency=stp)
    services.close_plan(plan, actor=hr)
    db.session.commit()
    return {"plan": plan, "course": the_course, "stp": stp, "other": other, "inside": inside, "hr": hr,
            "due": due}


def test_officers_reached_before_the_close_keep_the_course_and_its_due_date(closed):
    assert due_of(closed["inside"], closed["course"]) == closed["due"]


def test_an_officer_imported_into_a_targeted_agency_after_the_close_gets_nothing(closed):
    data = "Họ và tên,Mã đơn vị,Tên đăng nhập\nLê Văn Mới,STP,le.moi\n".encode()
    plan = imports.plan_officers("roster.csv", data)
    assert plan.ok, plan.errors
    imports.apply_officers(plan)
    db.session.commit()
    newcomer = db.session.scalar(select(User).where(User.username == "le.moi"))
    assert due_of(newcomer, closed["course"]) == "not assigned"


def test_an_officer_given_a_targeted_duty_after_the_close_gets_nothing(closed):
    officer = f.user("gets.press", agency=closed["other"])
    officer.duties = [db.session.scalar(select(Duty).where(Duty.code == "press"))]
    db.session.flush()
    org.users_changed([officer.id])
    db.session.commit()
    assert due_of(officer, closed["course"]) == "not assigned"


def test_an_officer_moved_into_a_targeted_agency_after_the_close_gets_nothing(closed):
    mover = f.user("mover", agency=closed["other"])
    mover.agency_id = closed["stp"].id
    db.session.flush()
    org.users_changed([mover.id])
    db.session.commit()
    assert due_of(mover, closed["course"]) == "not assigned"


def test_an_officer_who_moves_out_after_the_close_keeps_the_closed_plans_course(closed):
    inside = closed["inside"]
    inside.agency_id = closed["other"].id
    db.session.flush()
    org.users_changed([inside.id])
    assert due_of(inside, closed["course"]) == closed["due"]


def test_a_closed_plans_figures_keep_its_group_whoever_joins_later(closed):
    f.user("late.joiner", agency=closed["stp"])
    org.users_changed(None)
    reached = set(db.session.scalars(queries.plan_user_ids(closed["plan"].id)))
    assert reached == {closed["inside"].id}


def test_an_officer_reached_after_the_plans_due_date_gets_a_later_date_not_a_past_one(app, monkeypatch):
    root = f.agency("TINH2", kind="province")
    hr = f.user("hr.late", agency=root, roles={"officer", "hr"}, hr_all=True)
    the_course = course("late-course")
    due = progress.local_today() + timedelta(days=5)
    fr.plan(hr, courses=[the_course], agencies=[root], due=due)
    early = f.user("early", agency=root)
    later = progress.local_today() + timedelta(days=40)
    monkeypatch.setattr(progress, "local_today", lambda: later)
    app.config["LATE_ASSIGNMENT_DAYS"] = 14
    newcomer = f.user("newcomer", agency=root)
    assert due_of(early, the_course) == due
    assert due_of(newcomer, the_course) == later + timedelta(days=14)


def test_a_due_date_moved_later_applies_to_late_joiners_once_it_is_after_their_day(app, monkeypatch):
    root = f.agency("TINH3", kind="province")
    hr = f.user("hr.move", agency=root, roles={"officer", "hr"}, hr_all=True)
    the_course = course("moved-course")
    plan = fr.plan(hr, courses=[the_course], agencies=[root], due=progress.local_today() + timedelta(days=2))
    day = progress.local_today() + timedelta(days=10)
    monkeypatch.setattr(progress, "local_today", lambda: day)
    monkeypatch.setattr(services, "_local_today", lambda: day)
    newcomer = f.user("newcomer3", agency=root)
    org.users_changed([newcomer.id])
    assert due_of(newcomer, the_course) == day + timedelta(days=30)
    services.update_plan(plan, services.PlanData(name=plan.name, year=plan.year,
                                                 due_date=day + timedelta(days=60)), actor=hr)
    assert due_of(newcomer, the_course) == day + timedelta(days=60)


def test_closing_twice_is_refused(closed):
    with pytest.raises(services.ReportError):
        services.close_plan(closed["plan"], actor=closed["hr"])
