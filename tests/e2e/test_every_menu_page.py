"""Every page a role can reach, in Vietnamese and English, on a phone and on an office PC, passes the page
checks: axe-core's WCAG 2.1 A/AA rules (serious and critical fail, the rest are listed at the end of the
run), no sideways scroll, one page heading, no request leaving the app.

The pages are found, not listed: the test signs in, takes the role's menu, and follows the links inside
the pages (main content, footer, the account link) up to three clicks deep, keeping one page per route of
the app (the first lesson stands for every lesson). A new page linked from anywhere a role can go is
covered without touching this file. Each role is one browser session: the walk at 360 px in Vietnamese
finds the pages, then the role's own pages (see ``_owner``) are opened again at 1280 px, and at both
widths once more in English. Each of those is saved as a full-page screenshot (``MATRIX_SHOTS_DIR`` in
browser.py) for a reviewer to look at.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from tests.e2e.browser import DESKTOP, PHONE, LiveServer, Ui

ROLES = ["officer", "trainer", "hr", "hr.xaavuong", "admin"]
DEPTH = 3
MAX_PAGES = 45
# Routes that answer with a file, a feed or JSON, not a page (a link to them starts a download).
NOT_PAGES = {
    "static", "catalog.asset", "home.service_worker", "home.logout_alias", "certificates.verify_json",
    "progress.calendar_feed", "tasks.download", "tasks.show_json", "org.import_template",
}
FILE_SUFFIX = re.compile(r"\.(pdf|csv|xlsx|ics|zip|gift|xml|json|png|svg|jpg)$")
# The routes a role answers for in both languages and at both widths; the other pages it reaches are opened
# in Vietnamese at 360 px (a route looks the same to every role that may see it: the role that owns it
# checks it fully, which keeps the matrix to about 240 page checks instead of 520). Each role's home
# differs by role, so every role checks its own.
OFFICER_ROUTES = {
    "catalog.index", "catalog.course", "catalog.lesson", "quizzes.quiz", "quizzes.take", "quizzes.summary",
    "quizzes.review", "certificates.mine", "certificates.detail", "certificates.verify",
    "certificates.verify_form",
}


def _owner(endpoint: str) -> str | None:
    """The role whose test opens this route in both languages at both widths (None: every role)."""
    if endpoint == "home.index":
        return None
    if endpoint in OFFICER_ROUTES or endpoint.startswith(("auth.", "home.", "api_tokens.")):
        return "officer"
    if endpoint.startswith("org.") or endpoint.startswith("tasks.") or endpoint == "catalog.trainers":
        return "admin"
    if endpoint.startswith(("catalog.", "quizzes.")):
        return "trainer"
    return "hr"  # reports, assignments, workshops, certificate management


# A quiz that no other browser test takes: the officer starts it so the take page is among the pages.
OFFICER_QUIZ = ("digital-minority-comms", "m4-quiz")

LINKS = """() => [...document.querySelectorAll(
    'main a[href]:not([download]), footer a[href]:not([download]), header .bar-tools a[href]')]
  .map((a) => a.href)"""


def _menu_paths(ui: Ui) -> list[str]:
    links = ui.page.locator("nav.main-nav a")
    return list(dict.fromkeys(links.nth(i).get_attribute("href") for i in range(links.count())))


def _route(live: LiveServer, path: str) -> str | None:
    """The endpoint a path belongs to, or None when it is not a page of the app."""
    if FILE_SUFFIX.search(path):
        return None
    try:
        endpoint, _args = live.app.url_map.bind("127.0.0.1").match(path, method="GET")
    except HTTPException:  # not a GET route (or a redirect to one)
        return None
    return None if endpoint in NOT_PAGES else endpoint


def _start_officer_quiz(ui: Ui) -> str:
    """Enrol in a course and start its quiz: the path of the quiz-taking page."""
    course, quiz = OFFICER_QUIZ
    ui.goto(f"/catalog/c/{course}")
    enrol = ui.page.locator("main form[action$='/enrol'] button[type=submit]")
    if enrol.count():
        ui.submit(enrol.first)
    ui.goto(f"/quizzes/c/{course}/{quiz}")
    start = ui.page.locator("main form[action$='/start'] button[type=submit]")
    if start.count():
        ui.submit(start.first)
    else:
        ui.follow(ui.page.locator("main a[href*='/quizzes/attempts/']").first)
    assert "/quizzes/attempts/" in ui.page.url, f"the quiz did not start: {ui.main_text()[:200]}"
    return urlsplit(ui.page.url).path


def _label(username: str, language: str, width: int, path: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9]+", "-", urlsplit(path).path).strip("-") or "home"
    return f"{username}-{language}-{width}-{name}"


def _visit(ui: Ui, path: str, username: str, language: str, width: int, shoot: bool = True) -> None:
    response = ui.goto(path)
    assert response.ok, f"{username} ({language}, {width} px): {path} answered {response.status}"
    assert ui.page.locator("html").get_attribute("lang") == language, f"{path} is not in {language}"
    assert ui.page.locator("main h1").count() == 1, f"{path} has no single page heading"
    if shoot:
        ui.screenshot(_label(username, language, width, path))


def _owns(username: str, route: str) -> bool:
    return _owner(route) in {None, username}


def _walk(ui: Ui, username: str, menu: list[str]) -> list[str]:
    """Open the menu pages and follow their links to the role's own routes, one page per route, up to
    DEPTH clicks deep; the pages of the role's own routes, for the other languages and widths."""
    live = ui.live
    pages: list[str] = []
    routes: set[str | None] = set()
    level = menu
    for depth in range(DEPTH + 1):
        following: list[str] = []
        for path in level:
            route = _route(live, urlsplit(path).path)
            if route in routes or route is None or len(routes) >= MAX_PAGES:
                continue
            if depth and not _owns(username, route):
                continue
            routes.add(route)
            _visit(ui, path, username, "vi", PHONE["width"], shoot=_owns(username, route))
            if not _owns(username, route):
                continue
            pages.append(path)
            for href in ui.page.evaluate(LINKS):
                parts = urlsplit(href)
                if f"{parts.scheme}://{parts.netloc}" == ui.origin:
                    following.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        level = list(dict.fromkeys(following))
    return pages


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_passes_axe_and_the_page_checks_in_both_languages_at_phone_and_pc_width(
    new_ui, live_server: LiveServer, username: str
):
    ui = new_ui(PHONE)
    ui.login(username)
    paths = _menu_paths(ui)
    assert len(paths) >= 3, f"{username} sees almost no menu: {paths}"
    start = list(paths)
    if username == "officer":
        start.insert(1, _start_officer_quiz(ui))

    # On a phone the whole menu opens from one button and fits the screen, with the way out in it.
    ui.goto("/")
    ui.open_menu()
    box = ui.page.locator(".menu-panel").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{username}: menu too wide"
    visible = ui.page.locator(".menu-panel nav a:visible").count()
    assert visible == len(paths), f"{username}: the phone menu hides entries"
    assert ui.page.locator(".menu-panel form[action$='/auth/logout'] button").is_visible()
    assert ui.page.locator(".menu-panel .menu-user").inner_text().strip(), f"{username}: no name in the menu"

    pages = _walk(ui, username, start)

    try:
        for language in ("vi", "en"):
            if language == "en":
                ui.page.set_viewport_size(PHONE)
                ui.submit(ui.page.locator("header .lang-switch button[value=en]"))
                for path in pages:
                    _visit(ui, path, username, "en", PHONE["width"])
            ui.page.set_viewport_size(DESKTOP)
            for path in pages:
                _visit(ui, path, username, language, DESKTOP["width"])
            # On an office PC the way out is in plain sight, however many menu entries the role has.
            box = ui.page.locator("header form[action$='/auth/logout'] button:visible").bounding_box()
            assert box and box["x"] + box["width"] <= DESKTOP["width"], f"{username}: sign-out is off screen"
    finally:
        # The account keeps its language: put it back for the other tests of this server.
        ui.page.set_viewport_size(PHONE)
        ui.goto("/")
        if ui.page.locator("html").get_attribute("lang") != "vi":
            ui.submit(ui.page.locator("header .lang-switch button[value=vi]"))
    print(f"{username}: {len(pages)} pages x 2 languages x 2 widths: {', '.join(pages)}")
    assert len(pages) >= 1
