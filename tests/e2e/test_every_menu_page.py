"""Every page of every role's menu, on a phone and on an office PC, passes the page checks."""

from __future__ import annotations

import pytest

from tests.e2e.browser import DESKTOP, PHONE

ROLES = ["officer", "trainer", "hr", "hr.xaavuong", "admin"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_every_page_of_its_menu_in_both_languages(new_ui, username, viewport):
    ui = new_ui(viewport)
    ui.login(username)
    links = ui.page.locator("nav.main-nav a")
    paths = list(dict.fromkeys(links.nth(i).get_attribute("href") for i in range(links.count())))
    assert len(paths) >= 3, f"{username} sees almost no menu: {paths}"
    for path in paths:
        response = ui.goto(path)
        assert response.ok, f"{username}: {path} answered {response.status}"
        assert ui.page.locator("main h1").count() == 1, f"{path} has no single page heading"
    if viewport == DESKTOP:
        # On an office PC the way out is in plain sight, however many menu entries the role has.
        sign_out = ui.page.locator("header form[action$='/auth/logout'] button:visible")
        box = sign_out.bounding_box()
        assert box and box["x"] + box["width"] <= DESKTOP["width"], f"{username}: sign-out is off screen"
        return  # the language pass runs once, on the phone: the layout is what differs by width
    # On a phone the whole menu opens from one button and fits the screen, with the way out in it.
    ui.goto("/")
    ui.open_menu()
    panel = ui.page.locator(".menu-panel")
    box = panel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{username}: menu too wide"
    visible = ui.page.locator(".menu-panel nav a:visible")
    assert visible.count() == len(paths), f"{username}: the phone menu hides entries"
    assert ui.page.locator(".menu-panel form[action$='/auth/logout'] button").is_visible()
    assert ui.page.locator(".menu-panel .menu-user").inner_text().strip(), f"{username}: no name in the menu"
    # The same pages in English: every one still answers.
    ui.submit(ui.page.locator("header .lang-switch button[value=en]"))
    for path in paths:
        response = ui.goto(path)
        assert response.ok, f"{username} (en): {path} answered {response.status}"
    ui.submit(ui.page.locator("header .lang-switch button[value=vi]"))
