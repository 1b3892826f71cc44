"""HR on a phone: assigns a course to every spokesperson of an agency, imports a roster with a mistake."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import func, select

from lms.org.models import Agency, Duty, User
from tests.e2e.browser import LiveServer, Ui

MISINFORMATION_COURSE = "Nhận diện, kiểm chứng và phản bác thông tin sai lệch trên mạng"


def _agency_with_spokespersons(live_server: LiveServer) -> tuple[str, list[str]]:
    """The demo agency with the most plain officers holding the spokesperson duty, and their usernames."""
    with live_server.db() as session:
        rows = session.execute(
            select(Agency.code, User.username, User.id)
            .join(User, User.agency_id == Agency.id)
            .join(User.duties)
            .where(Duty.code == "spokesperson", Agency.code != "STP", User.active.is_(True))
            .order_by(Agency.code, User.id)
        ).all()
        plain = {
            r.username
            for r in rows
            if set(session.get(User, r.id).roles) == {"officer"}
        }
    by_agency: dict[str, list[str]] = {}
    for row in rows:
        if row.username in plain:
            by_agency.setdefault(row.code, []).append(row.username)
    assert by_agency, "the demo has no spokesperson outside STP"
    code = max(by_agency, key=lambda c: (len(by_agency[c]), c))
    return code, by_agency[code]


def test_hr_assigns_a_course_to_every_spokesperson_of_an_agency_and_the_officer_sees_it_first(
    live_server: LiveServer, ui: Ui, new_ui
):
    code, spokespersons = _agency_with_spokespersons(live_server)
    with live_server.db() as session:
        agency_name = session.scalar(select(Agency.name_vi).where(Agency.code == code))
    due = dt.date.today() + dt.timedelta(days=30)
    page = ui.page

    ui.login("hr")
    ui.follow(ui.menu_link("Giao khóa học"))
    ui.follow(page.get_by_role("link", name="Giao khóa học").last)
    page.get_by_label("Khóa học").select_option(label=MISINFORMATION_COURSE)
    page.get_by_label("Toàn bộ cán bộ được giao một nhiệm vụ").check()
    agency_select = page.get_by_label("Cơ quan, đơn vị", exact=True)
    option = agency_select.locator("option", has_text=agency_name).first
    agency_select.select_option(value=option.get_attribute("value"))
    page.get_by_label("Nhiệm vụ", exact=True).select_option(label="Người phát ngôn")
    page.get_by_label("Hạn hoàn thành").fill(due.isoformat())
    ui.submit(page.get_by_role("button", name="Giao", exact=True))

    assert page.url.split("?")[0].endswith("/progress/assignments")
    row = page.locator("table.data tbody tr", has_text=MISINFORMATION_COURSE).first
    assert agency_name in row.inner_text()
    assert due.strftime("%d/%m/%Y") in row.inner_text()
    assert re.search(rf"\b{len(spokespersons)}\b", row.inner_text())

    # One of those spokespersons signs in: the course is the first thing under My training.
    officer = new_ui()
    officer.login(spokespersons[0])
    first = officer.page.locator("section.my-training li.training").first
    assert MISINFORMATION_COURSE in first.inner_text()
    assert f"Hạn {due.strftime('%d/%m/%Y')}" in first.inner_text()


def _roster(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["Họ và tên;Mã đơn vị;Chức vụ;Nhiệm vụ"] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_hr_imports_a_roster_with_a_bad_row_sees_the_precise_error_fixes_it_and_imports(
    live_server: LiveServer, ui: Ui, tmp_path: Path
):
    people = [
        ("Hồ Thị Mỹ Duyên", "X-TRASON", "Công chức văn hóa - xã hội", "Người phát ngôn"),
        ("Zơ Râm Thị Lưu", "X-TRASON", "Công chức", ""),
        ("Đinh Văn Khải", "X-TRSON", "Phó Chủ tịch", ""),  # typo in the agency code, on line 4
    ]
    page = ui.page
    ui.login("hr")
    ui.goto("/org/import/officers")
    page.get_by_label(re.compile("Tệp")).set_input_files(_roster(tmp_path / "bad.csv", people))
    ui.submit(page.get_by_role("button", name="Kiểm tra tệp"))

    errors = page.locator("section.import-errors")
    assert errors.is_visible()
    rows = errors.locator("tbody tr")
    assert rows.count() == 1
    problem = rows.first.inner_text()
    assert "4" in rows.first.locator("td").first.inner_text()
    assert "X-TRSON" in problem
    assert not page.get_by_role("button", name="Xác nhận nhập dữ liệu").count()
    with live_server.db() as session:
        assert not session.scalar(select(func.count()).where(User.full_name == "Zơ Râm Thị Lưu"))

    people[2] = ("Đinh Văn Khải", "X-TRASON", "Phó Chủ tịch", "")
    ui.follow(page.get_by_role("link", name=re.compile("tệp đã sửa|Tải lên lại", re.I)))
    page.get_by_label(re.compile("Tệp")).set_input_files(_roster(tmp_path / "fixed.csv", people))
    ui.submit(page.get_by_role("button", name="Kiểm tra tệp"))
    assert page.locator(".count-new .count").inner_text() == "3"
    assert page.locator(".count-errors .count").inner_text() == "0"
    ui.submit(page.get_by_role("button", name="Xác nhận nhập dữ liệu"))
    with live_server.db() as session:
        names = set(
            session.scalars(
                select(User.full_name).join(Agency, User.agency_id == Agency.id).where(Agency.code == "X-TRASON")
            )
        )
    assert {p[0] for p in people} <= names
