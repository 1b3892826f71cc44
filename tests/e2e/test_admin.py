"""An administrator creates an account; the officer activates it with the one-time link."""

from __future__ import annotations

import re

from tests.e2e.browser import Ui

NEW_PASSWORD = "Sông Thu chảy mãi 2026"


def test_admin_creates_an_account_and_the_officer_activates_it_with_the_one_time_link(ui: Ui, new_ui):
    page = ui.page
    ui.login("admin")
    ui.follow(ui.menu_link("Cán bộ"))
    ui.follow(page.get_by_role("link", name="Tạo tài khoản"))
    page.get_by_label("Họ và tên").fill("Bhơriu Thị Nhung")
    page.get_by_label("Tên đăng nhập").fill("nhungbt")
    page.get_by_label("Email").fill("nhungbt@sonha.example")
    agency = page.get_by_label("Cơ quan, đơn vị", exact=True)
    agency.select_option(value=agency.locator("option", has_text="Xã A Vương").first.get_attribute("value"))
    page.get_by_label("Chức vụ").fill("Công chức văn hóa - xã hội")
    page.get_by_label("Cán bộ", exact=True).check()
    ui.submit(page.get_by_role("button", name="Lưu", exact=True))

    link = page.locator(".copy-box code").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(ui.origin)}/auth/activate/\S+", link), link

    # The officer opens the link on their own phone, chooses a password and is signed in.
    officer = new_ui()
    officer.goto(link)
    assert "nhungbt" in officer.main_text()
    officer.page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    officer.page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    officer.submit(officer.page.get_by_role("button", name="Lưu mật khẩu và đăng nhập"))
    assert "Bhơriu Thị Nhung" in officer.main_text()
    assert officer.page.locator("summary.menu-button").is_visible()  # signed in: the phone menu is there

    # The link worked once: opened again, it explains that it is no longer valid.
    stranger = new_ui()
    with stranger.expecting_console_error("404"):
        stranger.goto(link)
    assert not stranger.page.get_by_label("Mật khẩu mới", exact=True).count()

    # And the new password is the one that signs in.
    officer.logout()
    officer.login("nhungbt", NEW_PASSWORD)
    assert "Bhơriu Thị Nhung" in officer.main_text()
