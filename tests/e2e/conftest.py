"""Browser tests: a real server, a real Chromium, and what users actually do.

One live server per test session: the app runs in a thread (werkzeug's ``make_server``) on a free
127.0.0.1 port, on a fresh SQLite file built by the migrations, with the demo province (60 officers)
and the courses of content/ synced and published, plus a tiny course of our own (tests/e2e/content/)
that an officer can finish in a minute to get a certificate.

Every test gets a ``ui`` (see :class:`Ui`): a Playwright page at 360x740 whose whole session is watched.
After every navigation the test calls ``ui.check()``, which asserts what every page must satisfy on a
phone: no horizontal scroll of the page itself, no id used twice (labels would point at the wrong
field) and, for a page without images, HTML under 100 KB. At the
end of the test the fixture asserts that nothing went wrong anywhere: no console error, no uncaught
script error, no Content-Security-Policy violation, no request to another host, no exception in the
server, and that every page the browser reached was checked.

The browser is Debian's Chromium (``/usr/bin/chromium``, installed by ``make debs``). When it is
missing the tests fail with a message saying so: a skipped browser suite would hide every regression.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import WSGIRequestHandler, make_server

from lms import ROOT, create_app
from lms.extensions import db
from tests.e2e.browser import AXE_JS, AXE_LISTED, CHROMIUM, CHROMIUM_ARGS, LiveServer, Ui

E2E_CONTENT = Path(__file__).parent / "content"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request drowns the output
        pass


def _load_data(app: Flask) -> None:
    import flask_migrate

    from lms.catalog import loader
    from lms.catalog.sync import sync_content
    from lms.demo import load_demo

    with app.app_context():
        flask_migrate.upgrade()
        load_demo(officers=60)
        for root in (ROOT / "content", E2E_CONTENT):
            result = loader.load_content(root)
            assert result.ok, f"content in {root} does not load: {result.errors[:3]}"
            sync_content(result, root, publish_new=True)
        db.session.commit()
        db.session.remove()


@contextmanager
def _logging_kept() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {
        name: logger.disabled
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, disabled in loggers.items():
            logging.getLogger(name).disabled = disabled


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "PASSWORD_HASH_PROFILE": "fast",
        # More than the defaults: several tests sign in from the same address within minutes.
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 1000,
        # The journeys sign HR and admin in with their password (the second factor has its own tests).
        "REQUIRE_2FA_ROLES": "",
    })
    with _logging_kept():  # the migrations' logging.config.fileConfig must not outlive them
        _load_data(app)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    live = LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    app.config["PUBLIC_BASE_URL"] = live.url

    def record(sender: Flask, exception: BaseException, **_extra: Any) -> None:
        from flask import request

        live.errors.append(f"{request.method} {request.full_path}: {exception!r}")

    got_request_exception.connect(record, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
            "`make debs` (or `apt-get install chromium`); they do not download a browser.",
            pytrace=False,
        )
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make axe` (npm ci in tests/e2e/axe).", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


SCREENSHOTS = Path("/tmp/lms-e2e-failures")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_ui(
    request: pytest.FixtureRequest, browser: Any, live_server: LiveServer
) -> Iterator[Callable[..., Ui]]:
    """Open more watched sessions in one test (an inspector without cookies, a second person)."""
    opened: list[Ui] = []

    def _open(viewport: dict[str, int] | None = None) -> Ui:
        ui = Ui(browser, live_server, viewport)
        opened.append(ui)
        return ui

    yield _open
    if request.node.stash.get(_FAILED, False):
        # Where the browser was when the test failed: the fastest way to see what the user saw.
        SCREENSHOTS.mkdir(exist_ok=True)
        for number, ui in enumerate(opened):
            shot = SCREENSHOTS / f"{request.node.name}-{number}.png"
            ui.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {ui.page.url}: {shot}")
    problems = [line for ui in opened for line in ui.report()]
    # Carried on the test's report, so the summary is complete under xdist too (see below).
    listed = [list(finding) for ui in opened for finding in ui.axe_listed]
    if listed:
        request.node.user_properties.append(("axe_listed", listed))
    for ui in opened:
        ui.close()
    assert not problems, "the browser session went wrong:\n  " + "\n  ".join(problems)


@pytest.fixture
def ui(new_ui: Callable[..., Ui]) -> Ui:
    """A watched phone-sized (360x740) browser session."""
    return new_ui()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gathers the findings below 'serious' of each test where the summary is written (the xdist controller)."""
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "axe_listed":
            for rule, impact, help_text, where in value:
                AXE_LISTED.setdefault((rule, impact, help_text), set()).add(where)
        elif name == "page_weights":
            PAGE_WEIGHTS[:] = value


PAGE_WEIGHTS: list[str] = []  # the table of test_light_pages, shown at the end of the run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The moderate and minor accessibility findings, listed (serious and critical ones fail the test),
    and what the officer pages weigh."""
    if PAGE_WEIGHTS:
        terminalreporter.section("officer pages: HTML+CSS+JS loaded on a first visit, requests (test_light_pages)")
        for line in PAGE_WEIGHTS:
            terminalreporter.write_line(line)
    if not AXE_LISTED:
        return
    terminalreporter.section("accessibility findings below 'serious' (axe-core, WCAG 2.1 A/AA)")
    for (rule, impact, help_text), pages in sorted(AXE_LISTED.items()):
        shown = ", ".join(sorted(pages)[:4]) + (f" and {len(pages) - 4} more" if len(pages) > 4 else "")
        terminalreporter.write_line(f"[{impact}] {rule}: {help_text} — {shown}")
