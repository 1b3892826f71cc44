"""HR sets up a plan, sees who is behind, drills into an agency, reminds it and exports what it sees."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select, update

from lms.progress.models import AssignedCourse, Assignment
from lms.reports.models import Plan
from tests.e2e.browser import LiveServer, Ui

PLAN = "Kế hoạch bồi dưỡng quyền con người (kiểm thử)"
COURSE = "Kiến thức nền tảng về quyền con người"
FRONT = "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,]\d+)?", text)


def _let_the_due_date_pass(live_server: LiveServer, name: str) -> None:
    """Two weeks later: the plan's due date (which the app rightly refuses in the past) is yesterday."""
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with live_server.db() as session:
        plan = session.scalar(select(Plan).where(Plan.name == name))
        course_ids = [pc.course_id for pc in plan.courses]
        plan.due_date = yesterday
        session.execute(update(Assignment).where(Assignment.plan_id == plan.id).values(due_date=yesterday))
        session.execute(
            update(AssignedCourse).where(AssignedCourse.course_id.in_(course_ids)).values(due_date=yesterday)
        )


def test_hr_plan_shows_agencies_behind_drills_in_reminds_and_exports_the_same_numbers(
    live_server: LiveServer, ui: Ui
):
    page = ui.page
    ui.login("hr")
    ui.follow(ui.menu_link("Báo cáo"))
    ui.follow(page.get_by_role("link", name="Kế hoạch mới"))
    page.get_by_label("Tên", exact=True).fill(PLAN)
    page.get_by_label("Năm", exact=True).fill(str(dt.date.today().year))
    page.get_by_label("Hạn hoàn thành").fill((dt.date.today() + dt.timedelta(days=7)).isoformat())
    ui.submit(page.get_by_role("button", name="Lưu", exact=True))

    page.get_by_label("Khóa học", exact=True).select_option(label=f"{COURSE} (hr-foundations)")
    ui.submit(page.get_by_role("button", name="Thêm khóa học"))
    page.get_by_label("Đối tượng", exact=True).select_option(label="Một cơ quan, đơn vị")
    agency = page.locator("form[action$='/members']").get_by_label("Cơ quan, đơn vị", exact=True)
    agency.select_option(value=agency.locator("option", has_text=FRONT).first.get_attribute("value"))
    ui.submit(page.get_by_role("button", name="Thêm vào đối tượng"))
    page.get_by_label("Tối thiểu (%)").fill("90")
    ui.submit(page.get_by_role("button", name="Thêm chỉ tiêu"))
    ui.submit(page.get_by_role("button", name="Đưa kế hoạch vào thực hiện"))
    _let_the_due_date_pass(live_server, PLAN)

    # The dashboard: the target, and the agency that is behind.
    ui.goto(page.locator(".breadcrumb a").last.get_attribute("href"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(PLAN)
    assert "chậm tiến độ" in page.locator(".flash-error").inner_text()

    # Drill down province -> the Front and its organisations; it is behind; remind its overdue officers.
    ui.follow(page.locator("table.report-table tbody th a", has_text="Ủy ban nhân dân tỉnh").first)
    assert FRONT in page.locator(".flash-error").inner_text()
    ui.follow(page.locator("table.report-table tbody th a", has_text=FRONT).first)
    assert FRONT in page.get_by_role("heading", level=1).inner_text()
    total = page.locator("table.report-table tfoot tr")
    shown = _numbers(total.inner_text())
    officers, assigned, overdue = int(shown[0]), int(shown[1]), int(shown[5])
    assert officers > 0 and assigned == officers and overdue == assigned
    ui.submit(page.get_by_role("button", name="Nhắc cán bộ quá hạn của đơn vị này"))
    assert page.locator(".flash").first.is_visible()

    # The Excel file says what the page says.
    with page.expect_download() as download:
        page.locator(".exports a", has_text="Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), data_only=True)
    cells = [
        [c for c in row if c is not None]
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]
    totals = [row for row in cells if row and str(row[0]).strip() in {"Tổng", "Tổng cộng", "Total"}]
    assert totals, "the workbook has no total row"
    assert totals[0][1:3] == [officers, assigned], (totals[0], shown)
