"""Report queries: the numbers per agency, subtree totals, attribution after a move, scoping, and a
statement count that does not grow with the data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lms.extensions import db
from lms.reports import queries
from lms.reports.queries import Filters
from lms.reports.targets import Status
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr

TODAY = date.today()


@pytest.fixture
def small(app):
    root = f.agency("SH", kind="province")
    dept = f.agency("STP", parent=root)
    unit = f.agency("STP-VP", parent=dept)
    commune = f.agency("X-AV", parent=root, kind="commune")
    admin = f.user("admin", agency=root, roles={"admin"})
    hr = f.user("hr.stp", agency=dept, roles={"hr"}, hr_agencies=[dept])
    a1, a2 = f.user("a1", agency=dept), f.user("a2", agency=dept)
    b1 = f.user("b1", agency=unit)
    c1, c2 = f.user("c1", agency=commune), f.user("c2", agency=commune)
    c = course("nhan-quyen")
    plan = fr.plan(admin, courses=[c], agencies=[root], due=TODAY + timedelta(days=30))
    fr.complete(a1, c, score=90)
    fr.start(a2, c)
    fr.complete(b1, c, score=70)
    fr.complete(c1, c, score=60, at=datetime.now(UTC) - timedelta(days=40))
    db.session.commit()
    return locals()


def test_agency_rows_add_up_subtrees(small):
    report = queries.agency_report(small["admin"], Filters())
    rows = {r.agency.code: r.counts for r in report.rows}
    assert list(rows) == ["SH"]  # the top of the scope
    report = queries.agency_report(small["admin"], Filters(), small["root"])
    rows = {r.agency.code: r for r in report.rows}
    stp = rows["STP"].counts
    assert (stp.officers, stp.assigned, stp.completed, stp.in_progress, stp.not_started) == (4, 4, 2, 1, 1)
    # Admin and HR users also count as officers of their agency; they have the plan's course too.
    assert stp.average_score == 80
    assert rows["STP"].has_children
    xav = rows["X-AV"].counts
    assert (xav.assigned, xav.completed, xav.not_started) == (2, 1, 1)
    assert report.total.assigned == report.total.completed + report.total.in_progress + report.total.not_started


def test_hr_sees_only_their_subtree(small):
    report = queries.agency_report(small["hr"], Filters())
    assert [r.agency.code for r in report.rows] == ["STP"]
    assert report.total.assigned == 4


def test_completion_stays_with_the_agency_where_it_was_earned(small):
    """An officer who moves keeps their finished training in the old agency's numbers."""
    small["b1"].agency_id = small["commune"].id
    db.session.commit()
    report = queries.agency_report(small["admin"], Filters(), small["root"])
    rows = {r.agency.code: r.counts for r in report.rows}
    assert rows["STP"].completed == 2
    assert rows["X-AV"].officers == 3 and rows["X-AV"].completed == 1


def test_overdue_counts_unfinished_pairs_past_their_due_date(small):
    later = Filters(today=TODAY + timedelta(days=31))
    total = queries.agency_report(small["admin"], later).total
    assert total.overdue == total.assigned - total.completed


def test_date_range_limits_which_completions_count(small):
    recent = Filters(date_from=TODAY - timedelta(days=10))
    assert queries.agency_report(small["admin"], recent).total.completed == 2


def test_plan_targets_and_status(small):
    plan = small["plan"]
    results = queries.plan_targets(small["admin"], plan, Filters())
    assert len(results) == 1
    result = results[0]
    officers = 7  # admin, hr and five officers, all in the root's subtree
    assert (result.numerator, result.denominator) == (3, officers)
    assert result.status in (Status.at_risk, Status.behind, Status.on_track)
    late = queries.plan_targets(small["admin"], plan, Filters(today=TODAY + timedelta(days=31)))[0]
    assert late.status == Status.behind


def test_plan_dashboard_targets_from_the_table_pass_equal_the_live_ones(small):
    """The dashboard hands plan_targets what its agency table already added up (pairs, officers who
    completed every plan course): the same target values as plan_targets computes alone."""
    plan, viewer = small["plan"], small["admin"]
    for who in (viewer, small["hr"]):
        filters = Filters(plan_id=plan.id)
        report = queries.agency_report(who, filters, plan_courses=len(plan.courses))
        given = queries.plan_targets(who, plan, filters, pairs=report.scope,
                                     officers=(report.officers_done or 0, report.scope.officers))
        alone = queries.plan_targets(who, plan, filters)
        assert [(r.numerator, r.denominator) for r in given] == [(r.numerator, r.denominator) for r in alone]
    assert report.officers_done is not None


def test_completions_per_month_fill_gaps(small):
    months = queries.completions_per_month(small["admin"], Filters(), months=3)
    assert len(months) == 3
    assert sum(n for _m, n in months) == 3


def test_agency_report_counts_months_in_the_same_pass_as_completions_per_month(small):
    """The agency page's chart comes from the table's own pass (grouped by agency and month): the
    same months and numbers as the chart's own query, with and without a date range."""
    for filters in (Filters(), Filters(date_to=TODAY - timedelta(days=20)),
                    Filters(date_from=TODAY - timedelta(days=60), date_to=TODAY)):
        report = queries.agency_report(small["admin"], filters, months=12)
        assert report.per_month == queries.completions_per_month(small["admin"], filters)
        assert sum(n for _m, n in report.per_month) == report.total.completed
    assert sum(n for _m, n in queries.agency_report(small["admin"], Filters(), months=12).per_month) == 3


def test_agency_report_statement_count_does_not_grow(app, count_queries):
    def run(departments: int) -> int:
        data = fr.province(departments=departments, officers_per_agency=5)
        db.session.commit()
        with count_queries() as counter:
            queries.agency_report(data.admin, Filters(plan_id=data.plan.id), data.root)
            queries.course_report(data.admin, Filters(plan_id=data.plan.id))
            queries.plan_targets(data.admin, data.plan, Filters())
        return counter.count

    small = run(1)
    assert run(6) == small
