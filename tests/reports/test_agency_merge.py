"""Merging an agency keeps every plan, target, assignment, completion, certificate and report figure
whole: each domain moves its own rows on ``signals.agency_merged``."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from lms.certificates.models import Certificate
from lms.extensions import db
from lms.org import reorg
from lms.org.models import Agency, Duty
from lms.progress.models import AssignedCourse, Assignment, CourseCompletion
from lms.reports import queries
from lms.reports.models import PlanMember
from lms.reports.queries import Filters
from tests import factories as f
from tests.certificates import factories_certificates as cert_f
from tests.reports import factories_reports as rf


@pytest.fixture
def world(app):
    root = f.agency("UBND", kind="province")
    office = f.agency("VP-UBND", parent=root, name_vi="Văn phòng UBND tỉnh")
    office_unit = f.agency("VP-UBND-TT", parent=office)
    justice = f.agency("STP", parent=root, name_vi="Sở Tư pháp")
    admin = f.user("admin", agency=root, roles={"officer", "admin"})
    duty = db.session.scalar(select(Duty).where(Duty.code == "spokesperson"))
    office_people = [f.user(f"vp{i}", agency=office) for i in range(4)]
    unit_people = [f.user(f"tt{i}", agency=office_unit) for i in range(2)]
    justice_people = [f.user(f"tp{i}", agency=justice) for i in range(3)]
    office_people[0].duties.append(duty)
    course = cert_f.course("rights")
    # Plan 1 aims at the office subtree and at its spokespeople; plan 2 at both departments, so the
    # merge gives plan 2 a duplicate entry for the justice department that must not count twice.
    plan_office = rf.plan(admin, courses=[course], agencies=[office], due=date(2099, 12, 31))
    from lms.reports import services

    services.add_member(plan_office, kind="duty", duty=duty, agency=office, actor=admin)
    plan_both = rf.plan(admin, courses=[course], agencies=[office, justice], name="Kế hoạch 2",
                        due=date(2099, 12, 31))
    db.session.flush()
    cert_f.complete(office_people[1], course)
    cert_f.complete(justice_people[0], course)
    db.session.commit()
    return locals()


def _snapshot(world):
    admin = world["admin"]
    plans = [world["plan_office"], world["plan_both"]]
    group = {p.id: sorted(db.session.scalars(queries.plan_user_ids(p.id))) for p in plans}
    targets = {p.id: [(t.kind, t.numerator, t.denominator) for t in queries.plan_targets(admin, p, Filters())]
               for p in plans}
    report = queries.agency_report(admin, Filters()).total
    return {
        "group": group,
        "targets": targets,
        "assigned": sorted(db.session.execute(
            select(AssignedCourse.user_id, AssignedCourse.course_id, AssignedCourse.due_date)).all()),
        "assignments": db.session.scalar(select(func.count()).select_from(Assignment)
                                         .where(Assignment.active.is_(True))),
        "completions": sorted(db.session.execute(
            select(CourseCompletion.user_id, CourseCompletion.agency_id)).all()),
        "certificates": sorted(db.session.execute(
            select(Certificate.code, Certificate.agency_id, Certificate.agency_name)).all()),
        "report": (report.officers, report.assigned, report.completed, report.on_time),
    }


def test_merging_an_agency_keeps_plans_targets_assignments_completions_certificates_and_reports(world):
    before = _snapshot(world)
    assert len(before["group"][world["plan_office"].id]) == 6  # four in the office, two in its unit
    reorg.merge_agencies(world["office"], world["justice"], actor=world["admin"])
    db.session.commit()
    db.session.expire_all()
    after = _snapshot(world)
    # The office's officers now sit in the justice department; plan 1 still reaches exactly them
    # plus the justice department they joined (the target moved with them, as assignments do).
    office_ids = {u.id for u in world["office_people"] + world["unit_people"]}
    justice_ids = {u.id for u in world["justice_people"]}
    assert set(after["group"][world["plan_office"].id]) == office_ids | justice_ids
    assert set(after["group"][world["plan_both"].id]) == set(before["group"][world["plan_both"].id])
    assert after["completions"] == before["completions"]  # history keeps the office's id
    assert after["certificates"] == before["certificates"]
    assert after["targets"][world["plan_both"].id] == before["targets"][world["plan_both"].id]
    assert after["report"][2:] == before["report"][2:]  # completed and on time stay whole
    assert set(before["assigned"]) <= set(after["assigned"])
    assert after["assignments"] == before["assignments"]
    office_id, justice_id = world["office"].id, world["justice"].id
    assert not db.session.scalar(select(func.count()).select_from(PlanMember)
                                 .where(PlanMember.agency_id == office_id))
    both = db.session.scalars(select(PlanMember).where(PlanMember.plan_id == world["plan_both"].id)).all()
    assert [(m.kind, m.agency_id) for m in both] == [("agency", justice_id)]  # not doubled
    assert db.session.get(Agency, office_id).merged_into_id == justice_id


def test_the_merge_preview_counts_plans_and_assignments_that_move(world):
    preview = reorg.merge_preview(world["office"], world["justice"])
    moves = {m.key: m.count for m in preview.moves}
    assert moves == {"assignments": 3, "plans": 2}
    assert preview.counts["plans"] == 2
