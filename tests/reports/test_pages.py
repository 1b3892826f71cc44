"""Report pages: access and scoping, filters with bad input, drill-down, plan setup, reminders, and
the rule that the page, CSV, XLSX, PDF and API show the same numbers."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from lms.api import services as api_services
from lms.extensions import db
from lms.progress.models import AssignedCourse, Assignment
from lms.reports.models import Notice, Plan, ReminderLog
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr


@pytest.fixture
def data(app):
    province = fr.province(departments=3, communes=2, officers_per_agency=4)
    province.hr.username = "hr.all"
    province.hr.locale = "en"
    db.session.commit()
    return province


def login(auth, user, locale="en"):
    user.locale = locale
    db.session.commit()
    response = auth.login(user.username)
    assert response.status_code == 302


def cells(html: str, row_label: str) -> list[str]:
    """The numeric cells of the table row whose header contains ``row_label``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        header = re.search(r"<th scope=\"row\">(.*?)</th>", row, re.S)
        if header and row_label in re.sub(r"<[^>]+>", "", header.group(1)):
            return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
                    for c in re.findall(r'<td class="num[^"]*"[^>]*>(.*?)</td>', row, re.S)]
    raise AssertionError(f"no row {row_label}")


def test_officers_cannot_open_reports(client, auth, data):
    login(auth, data.officers[0])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/agencies/export.csv").status_code == 403


def test_hr_sees_only_agencies_in_scope(client, auth, data):
    dept = data.agencies[0]
    hr = f.user("hr.dept", agency=dept, roles={"hr"}, hr_agencies=[dept])
    db.session.commit()
    login(auth, hr)
    html = client.get("/reports/agencies").get_data(as_text=True)
    assert dept.name("en") in html
    assert data.agencies[2].name("en") not in html
    # Another agency's drill-down or officer list is refused.
    assert client.get(f"/reports/agencies?agency={data.agencies[2].id}").status_code == 403
    assert client.get(f"/reports/agencies/{data.agencies[2].id}/officers").status_code == 403
    assert client.get(f"/reports/officers/{data.officers[-1].id}").status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ("plan=abc", "Plan"), ("plan=999999", "Plan"), ("from=31/02/2024", "From"), ("to=yesterday", "To"),
    ("from=2024-06-01&to=2024-01-01", "To"), ("kind=planet", "Agency kind"), ("course=-1", "Course"),
])
def test_bad_filters_get_a_message_naming_the_field_not_an_error(client, auth, data, query, field):
    login(auth, data.hr)
    response = client.get(f"/reports/agencies?{query}")
    assert response.status_code == 200
    assert f"Filter “{field}”" in response.get_data(as_text=True)


def test_bad_filters_in_vietnamese(client, auth, data):
    login(auth, data.hr, locale="vi")
    html = client.get("/reports/agencies?from=31/02/2024").get_data(as_text=True)
    assert "Hãy ghi ngày theo dạng dd/mm/yyyy" in html


def test_drill_down_agency_to_officers_to_transcript(client, auth, data):
    login(auth, data.hr)
    html = client.get("/reports/agencies").get_data(as_text=True)
    assert data.root.name("en") in html
    html = client.get(f"/reports/agencies?agency={data.root.id}").get_data(as_text=True)
    dept = data.agencies[0]
    assert f"/reports/agencies?agency={dept.id}" in html
    html = client.get(f"/reports/agencies?agency={dept.id}").get_data(as_text=True)
    assert data.agencies[1].name("en") in html
    html = client.get(f"/reports/agencies/{dept.id}/officers").get_data(as_text=True)
    officer = next(u for u in data.officers if u.agency_id == dept.id)
    assert officer.full_name in html
    html = client.get(f"/reports/officers/{officer.id}").get_data(as_text=True)
    assert data.courses[0].title_in("en") in html


def test_plan_dashboard_lists_behind_agencies(client, auth, data):
    login(auth, data.hr)
    html = client.get(f"/reports/plans/{data.plan.id}?agency={data.root.id}").get_data(as_text=True)
    assert "Officers who completed every course of the plan" in html
    assert "Courses in minority or foreign languages or in digital formats" in html
    assert "data:image/svg+xml;base64," in html  # charts as images
    assert "The numbers behind this chart" in html


def test_plan_setup_creates_and_activates_assignments(client, auth, data):
    login(auth, data.admin)
    c = course("moi")
    db.session.commit()
    response = client.post("/reports/plans/new", data={"name": "Kế hoạch 2025", "year": "2025",
                                                       "due_date": (date.today() + timedelta(days=30)).isoformat()})
    plan = db.session.scalar(select(Plan).where(Plan.name == "Kế hoạch 2025"))
    assert response.headers["Location"].endswith(f"/reports/plans/{plan.id}/setup")
    client.post(f"/reports/plans/{plan.id}/courses", data={"course-course_id": c.id})
    client.post(f"/reports/plans/{plan.id}/members", data={"member-kind": "agency",
                                                           "member-agency_id": data.agencies[0].id,
                                                           "member-include_subtree": "y"})
    client.post(f"/reports/plans/{plan.id}/targets", data={"target-kind": "officers_completed",
                                                           "target-min_value": "90"})
    response = client.post(f"/reports/plans/{plan.id}/activate")
    assert response.status_code == 302
    db.session.expire_all()
    assert plan.status == "active"
    assert plan.targets[0].min_value == pytest.approx(0.9)
    assert db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.plan_id == plan.id)) == 1
    reached = db.session.scalar(select(func.count()).select_from(AssignedCourse).where(AssignedCourse.course_id == c.id))
    assert reached == 8  # the department and its unit, four officers each
    # Later changes to the target group follow: a named officer elsewhere gets the course too.
    other = data.officers[-1]
    client.post(f"/reports/plans/{plan.id}/members", data={"member-kind": "user", "member-username": other.username})
    assert db.session.scalar(select(func.count()).select_from(AssignedCourse).where(AssignedCourse.course_id == c.id)) == 9


def test_plan_target_out_of_range_is_refused_with_a_message(client, auth, data):
    login(auth, data.admin)
    response = client.post(f"/reports/plans/{data.plan.id}/targets",
                           data={"target-kind": "officers_completed", "target-min_value": "120"})
    assert response.status_code == 400
    assert "At least (%)" in response.get_data(as_text=True)
    response = client.post(f"/reports/plans/{data.plan.id}/targets",
                           data={"target-kind": "officers_completed", "target-min_value": "50",
                                 "target-max_value": "10"})
    assert response.status_code == 400
    assert "The minimum is above the maximum." in response.get_data(as_text=True)


def test_activating_without_a_target_group_explains_why(client, auth, data):
    login(auth, data.admin)
    client.post("/reports/plans/new", data={"name": "Trống", "year": "2025"})
    plan = db.session.scalar(select(Plan).where(Plan.name == "Trống"))
    response = client.post(f"/reports/plans/{plan.id}/activate")
    assert response.status_code == 400
    assert "Add at least one course" in response.get_data(as_text=True)
    db.session.expire_all()
    assert plan.status == "draft"


def test_remind_overdue_officers_once_per_day(client, auth, data):
    for a in db.session.scalars(select(AssignedCourse)):
        a.due_date = date.today() - timedelta(days=3)
    db.session.commit()
    login(auth, data.hr)
    dept = data.agencies[0]
    response = client.post(f"/reports/agencies/{dept.id}/remind")
    assert response.status_code == 302
    sent = db.session.scalar(select(func.count()).select_from(ReminderLog))
    assert sent > 0
    assert db.session.scalar(select(func.count()).select_from(Notice)) == sent
    client.post(f"/reports/agencies/{dept.id}/remind")
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) == sent
    # The officer sees the notice on the home page.
    notice = db.session.scalar(select(Notice))
    officer = db.session.get(type(data.officers[0]), notice.user_id)
    auth.logout()
    login(auth, officer)
    assert "was due on" in client.get("/").get_data(as_text=True)


def test_agency_page_statement_count_does_not_grow(client, auth, app, count_queries):
    def measure(departments: int) -> int:
        province = fr.province(departments=departments, officers_per_agency=4)
        province.hr.username = f"hr{departments}"
        db.session.commit()
        login(auth, province.hr)
        client.get("/reports/agencies")
        with count_queries() as counter:
            assert client.get(f"/reports/agencies?agency={province.root.id}").status_code == 200
            assert client.get(f"/reports/plans/{province.plan.id}").status_code == 200
        auth.logout()
        return counter.count

    small = measure(1)
    assert measure(5) == small


def test_page_csv_xlsx_pdf_and_api_agree(client, auth, data):
    login(auth, data.hr)
    args = f"agency={data.root.id}"
    html = client.get(f"/reports/agencies?{args}").get_data(as_text=True)
    children = [a for a in data.agencies if a.parent_id == data.root.id]
    names = [a.name("en") for a in children]

    page = {name: cells(html, name) for name in names}
    page["Total"] = cells(html, "Total")

    def as_numbers(values):  # "87.5%" / "1,234" / "—" -> Decimal or None
        out = []
        for v in values:
            v = v.replace(",", "").replace("%", "").strip()
            out.append(None if v in ("—", "") else Decimal(v))
        return out

    csv_bytes = client.get(f"/reports/agencies/export.csv?{args}").data
    rows = list(csv.reader(io.StringIO(csv_bytes[3:].decode("utf-8"))))
    by_name = {r[1]: r[2:] for r in rows[1:]}
    xlsx = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/agencies/export.xlsx?{args}").data))
    sheet = xlsx.worksheets[1]
    x_by_name = {r[1]: r[2:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    pdf = client.get(f"/reports/agencies/export.pdf?{args}").data
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    token = api_services.create_token(data.hr, "kiểm tra")[1]
    db.session.commit()
    api = client.get(f"/api/v1/completion/agencies?agency={data.root.code}",
                     headers={"Authorization": f"Bearer {token}"}).json
    code_to_name = {a.code: a.name("en") for a in children}
    api_by_name = {code_to_name.get(r["agency_code"]): r["counts"] for r in api["rows"]}
    api_by_name["Total"] = api["total"]
    keys = ["officers", "assigned", "completed", "completed_elsewhere", "in_progress", "not_started", "overdue",
            "completion_rate", "average_score"]

    for name in [*names, "Total"]:
        expected = as_numbers(page[name])
        assert expected[1] > 0, "the dataset must give every agency assigned courses"
        assert as_numbers(by_name[name]) == expected, name
        xlsx_values = [None if v is None else (Decimal(str(round(v * 100, 1))) if i == 7 else Decimal(str(v)))
                       for i, v in enumerate(x_by_name[name])]
        assert xlsx_values == expected, name
        api_values = [api_by_name[name][k] for k in keys]
        api_values = [None if v is None else (Decimal(str(round(v * 100, 1))) if i == 7 else Decimal(str(v)))
                      for i, v in enumerate(api_values)]
        assert api_values == expected, name
        lines = [line for line in text.splitlines() if re.search(rf"(^|\s){re.escape(name)}\s", line)]
        # The table row carries the same numbers, in the same format, as the page's row.
        assert any(" ".join(page[name][:8]) in " ".join(line.split()) for line in lines), (name, lines)
