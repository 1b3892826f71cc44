"""The plan at a glance on the HR home and the reports home: numbers, the agencies behind with one
click to their overdue officers, the weekly trend, and a statement count that does not grow."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from lms.extensions import db
from lms.progress.models import AssignedCourse
from lms.reports import queries
from lms.reports.queries import Filters
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr


@pytest.fixture
def behind(app):
    """Two communes on one plan: Xã Đúng hạn finished everything; in Xã Chậm one officer of three
    finished, and the due date is moved into the past, so the other two are overdue."""
    root = f.agency(kind="province", name_vi="Tỉnh")
    fine = f.agency(parent=root, kind="commune", name_vi="Xã Đúng hạn")
    late = f.agency(parent=root, kind="commune", name_vi="Xã Chậm")
    admin = f.user(agency=root, roles={"admin"})
    hr = f.user("hr.glance", agency=root, roles={"hr"}, hr_all=True)
    officer = f.user("officer.glance", agency=fine)
    hr.locale = officer.locale = "en"
    done = [officer, f.user(agency=fine)]
    slow = [f.user(agency=late, full_name=f"Người chậm {n}") for n in range(2)]
    quick = f.user(agency=late, full_name="Người xong")
    c = course(languages=("vi",))
    plan = fr.plan(admin, courses=[c], agencies=[root], due=date.today() + timedelta(days=30),
                   name="Kế hoạch nhìn nhanh")
    for user in [*done, quick]:
        fr.complete(user, c, at=datetime.now(UTC) - timedelta(days=3))
    # The plan refuses a past due date, so time passes by moving the dates back.
    db.session.execute(update(AssignedCourse).values(due_date=date.today() - timedelta(days=1)))
    plan.due_date = date.today() - timedelta(days=1)
    plan.activated_at = datetime.now(UTC) - timedelta(days=60)
    db.session.commit()
    return {"hr": hr, "officer": officer, "late": late, "fine": fine, "slow": slow, "quick": quick,
            "plan": plan, "course": c}


def test_hr_home_opens_on_the_active_plan_with_the_agencies_behind(client, auth, behind):
    auth.login("hr.glance")
    html = client.get("/").get_data(as_text=True)
    assert "Kế hoạch nhìn nhanh" in html
    assert "Agencies behind" in html
    link = f"/reports/agencies/{behind['late'].id}/officers?plan={behind['plan'].id}&amp;overdue=1"
    assert link in html, re.findall(r"behind-list.*?</ul>", html, re.S)
    assert "2 overdue officers" in html
    # The commune that finished is not listed as behind.
    section = html.split("Agencies behind")[1].split("</ul>")[0]
    assert behind["late"].name("en") in section and behind["fine"].name("en") not in section
    assert "data:image/svg+xml;base64," in html  # the weekly trend, drawn on the server


def test_reports_home_opens_on_the_active_plan(client, auth, behind):
    auth.login("hr.glance")
    html = client.get("/reports/").get_data(as_text=True)
    assert "Completion by course" in html and "Agencies behind" in html
    assert html.index("Agencies behind") < html.index("Training plans")


def test_one_click_from_the_home_lists_only_the_overdue_officers(client, auth, behind):
    auth.login("hr.glance")
    url = f"/reports/agencies/{behind['late'].id}/officers?plan={behind['plan'].id}&overdue=1"
    html = client.get(url).get_data(as_text=True)
    assert all(u.full_name in html for u in behind["slow"])
    assert behind["quick"].full_name not in html
    assert "Remind this agency" in html
    # Without the filter every officer of the agency is there.
    everyone = client.get(url.replace("&overdue=1", "")).get_data(as_text=True)
    assert behind["quick"].full_name in everyone


def test_officer_home_keeps_what_is_due_first_and_no_plan_panel(client, auth, behind):
    auth.login("officer.glance")
    html = client.get("/").get_data(as_text=True)
    assert "Agencies behind" not in html
    assert "My training" in html


def test_weekly_completion_is_cumulative_per_week(app, behind):
    today = date.today()
    points, assigned = queries.weekly_completion(behind["hr"], Filters(plan_id=behind["plan"].id, today=today),
                                                 weeks=3)
    assert assigned == 7  # five officers, plus HR and the admin of the province office
    assert [p[0].weekday() for p in points] == [0, 0, 0]
    assert points[-1][1] == 3
    assert points[-1][0] == today - timedelta(days=today.weekday())
    # Completions three days ago are in this week or the one before, never later weeks' drop.
    assert [n for _d, n in points] == sorted(n for _d, n in points)


def test_home_statement_count_does_not_grow_with_the_province(client, auth, app, count_queries):
    def measure(departments: int) -> int:
        province = fr.province(departments=departments, officers_per_agency=3)
        province.hr.username = f"hr.count{departments}"
        db.session.commit()
        auth.login(province.hr.username)
        client.get("/")
        with count_queries() as counter:
            assert client.get("/").status_code == 200
            assert client.get("/reports/").status_code == 200
        auth.logout()
        return counter.count

    small = measure(1)
    assert measure(5) == small
