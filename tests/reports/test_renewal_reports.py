"""Reports and reminders after a certificate expired: a completion waiting for renewal counts as not
completed (in SQL, like any open pair) until the officer completes the course again; then it counts
once, as the renewed completion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress import queries as progress_queries
from lms.progress import services as progress
from lms.progress.models import Assignment, CourseCompletion
from lms.reports import queries, reminders
from lms.reports.queries import Filters
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr

TODAY = date.today()


@pytest.fixture
def small(app):
    root = f.agency("SH", kind="province")
    dept = f.agency("STP", parent=root)
    commune = f.agency("X-AV", parent=root, kind="commune")
    admin = f.user("admin", agency=root, roles={"admin"})
    a1, a2, a3 = f.user("a1", agency=dept), f.user("a2", agency=dept), f.user("a3", agency=dept)
    c = course("nhan-quyen")
    plan = fr.plan(admin, courses=[c], users=[a1, a2, a3], due=TODAY + timedelta(days=30))
    fr.complete(a1, c, score=90, at=datetime.now(UTC) - timedelta(days=800))
    fr.complete(a2, c, score=70)
    db.session.commit()
    return locals()


def expire_a1(small) -> None:
    """a1's certificate ran out yesterday: the expiry job's marking, without the certificates domain."""
    progress.require_renewal([(small["a1"].id, small["c"].id, datetime.now(UTC) - timedelta(days=1))])
    db.session.commit()


def dept_counts(small, **filters):
    report = queries.agency_report(small["admin"], Filters(**filters), small["root"])
    return {r.agency.code: r.counts for r in report.rows}["STP"]


def test_a_completion_waiting_for_renewal_is_not_counted_as_completed(small):
    before = dept_counts(small)
    assert (before.assigned, before.completed, before.score_count) == (3, 2, 2)
    expire_a1(small)
    after = dept_counts(small)
    assert (after.assigned, after.completed, after.in_progress + after.not_started) == (3, 1, 2)
    assert after.average_score == 70  # the expired completion's score no longer counts
    assert queries.course_report(small["admin"], Filters())[1].completed == 1


def test_the_renewed_completion_counts_again_once(small):
    expire_a1(small)
    completion = db.session.scalars(select(CourseCompletion).where(
        CourseCompletion.user_id == small["a1"].id)).one()
    progress.renew_completion(completion, small["a1"], small["c"], score=95, lang="vi")
    db.session.commit()
    counts = dept_counts(small)
    assert (counts.completed, counts.score_sum) == (2, 165)
    months = queries.completions_per_month(small["admin"], Filters(), months=2)
    assert sum(n for _m, n in months) == 2  # a1's renewal is this month's


def test_a_renewal_belongs_to_the_officers_current_agency_until_completed(small):
    small["a1"].agency_id = small["commune"].id
    db.session.commit()
    expire_a1(small)
    report = queries.agency_report(small["admin"], Filters(), small["root"])
    rows = {r.agency.code: r.counts for r in report.rows}
    assert rows["STP"].assigned == 2 and rows["X-AV"].assigned == 1 and rows["X-AV"].completed == 0


def test_plan_targets_count_only_officers_whose_training_is_in_force(small):
    plan = small["plan"]
    assert queries.plan_targets(small["admin"], plan, Filters())[0].numerator == 2
    expire_a1(small)
    assert queries.plan_targets(small["admin"], plan, Filters())[0].numerator == 1


def test_overdue_counts_and_reminders_include_renewals(small):
    expire_a1(small)
    late = TODAY + timedelta(days=31)
    assert dept_counts(small, today=late).overdue == 2  # a1 (renewal) and a3 (never started)
    users = {r.user.username for r in reminders.due_reminders(late, 7) if r.reason == "overdue"}
    assert users == {"a1", "a3"}
    soon = {r.user.username for r in reminders.due_reminders(TODAY + timedelta(days=25), 7)
            if r.reason == "due_soon"}
    assert soon == {"a1", "a3"}


def test_the_hr_transcript_shows_the_renewal(client, auth, small):
    f.user("hr.all", roles={"hr"}, hr_all=True, locale="en")
    expire_a1(small)
    rows = queries.transcript(small["a1"])
    assert [(r.status, r.renewal_required) for r in rows] == [("not_started", True)]
    assert rows[0].completed_at is not None  # the earlier completion stays visible
    auth.login("hr.all")
    page = client.get(f"/reports/officers/{small['a1'].id}").get_data(as_text=True)
    assert "Renewal required" in page


def test_assignment_reach_counts_renewals_as_not_completed(small):
    progress.create_assignments(small["c"], kind="user", users=[small["a1"], small["a2"]],
                                due_date=TODAY + timedelta(days=5), actor=None)
    expire_a1(small)
    by_user = {a.user_id: a.id for a in db.session.scalars(select(Assignment).where(Assignment.kind == "user"))}
    reach = progress_queries.assignment_reach(list(by_user.values()))
    assert reach[by_user[small["a1"].id]]["completed"] == 0
    assert reach[by_user[small["a2"].id]]["completed"] == 1
