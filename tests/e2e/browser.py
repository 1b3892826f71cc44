"""The watched browser session and the live server handle used by the browser tests (see conftest)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from lms.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "hoc-tap-son-ha"  # the demo password (lms.demo.DEMO_PASSWORD)
MAX_HTML_BYTES = 100 * 1024
# How long a step may wait for the server or the page. Generous: the suite also runs on loaded CI boxes.
TIMEOUT_MS = 15_000
# LMS_E2E_SCREENSHOTS=/some/dir keeps a full-page picture of every page any test checks. Without it the
# page-matrix test (test_every_menu_page) still saves every page it walks, per role, language and width,
# under instance/screenshots/ (git-ignored) for a reviewer; LMS_E2E_SCREENSHOTS=off turns that off.
SHOTS_DIR = os.environ.get("LMS_E2E_SCREENSHOTS", "")
MATRIX_SHOTS_DIR = (
    None if SHOTS_DIR.lower() in {"off", "0", "no"}
    else Path(SHOTS_DIR) if SHOTS_DIR else Path(__file__).resolve().parents[2] / "instance" / "screenshots"
)
if SHOTS_DIR.lower() in {"off", "0", "no"}:
    SHOTS_DIR = ""
# axe-core, from npm (tests/e2e/axe, `make axe`), runs inside every checked page; it is never served by the app.
AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Impacts that fail a test; the others are listed at the end of the run (see conftest).
AXE_BLOCKING = {"serious", "critical"}
# Moderate and minor findings of the whole session: {(rule, impact, help): {page path, ...}}.
AXE_LISTED: dict[tuple[str, str, str], set[str]] = {}
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact || 'minor', help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
}"""


@dataclass
class LiveServer:
    app: Flask
    url: str
    errors: list[str] = field(default_factory=list)

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    @contextmanager
    def db(self) -> Iterator[Any]:
        """The database session, for arranging data or reading what the browser wrote."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


def _is_csp(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


class Ui:
    """A watched browser session: one context (cookies) and one page, with what went wrong so far."""

    _shots = 0

    def __init__(self, browser: Any, live: LiveServer, viewport: dict[str, int] | None = None) -> None:
        self.live = live
        self.origin = live.url
        self.context = browser.new_context(
            viewport=viewport or PHONE, accept_downloads=True, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        # An init script is injected by the browser itself, so the page's CSP (no inline, no eval) still
        # holds for everything the app sends while axe is available to the checks.
        self.context.add_init_script(path=str(AXE_JS))
        self.console_errors: list[str] = []
        self._been_offline = False
        self.csp_violations: list[str] = []
        self.script_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.server_errors_before = len(live.errors)
        self.reached: list[str] = []
        self.checked: set[str] = set()
        self.problems: list[str] = []
        # Findings below 'serious' in this session (rule, impact, help, where), for the run's summary.
        self.axe_listed: list[tuple[str, str, str, str]] = []
        self._expected = ""
        self._expected_seen = False
        self.username = ""
        self.context.on("request", self._on_request)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.script_errors.append(f"{self.page.url}: {error}"))
        self.page.on("framenavigated", self._on_navigated)

    # -- watchers ---------------------------------------------------------------------------------
    def _on_request(self, request: Any) -> None:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(url)

    def _on_console(self, message: Any) -> None:
        text = message.text
        if _is_csp(text):
            self.csp_violations.append(f"{self.page.url}: {text}")
        elif message.type == "error":
            where = (message.location or {}).get("url") or ""
            kept_send = "net::ERR_FAILED" in text and where.endswith("/complete")
            # Only the test's own cut (set_offline, route.abort("internetdisconnected")) gives this error
            # on loopback, and Chromium may report a fetch it cut after the block has ended (CI saw an
            # autosave's failure arrive just after going back online), so it is expected from then on.
            cut_by_test = self._been_offline and "ERR_INTERNET_DISCONNECTED" in text
            if cut_by_test or (self._been_offline and kept_send):
                return  # expected once the test has held the connection down (a kept send may fail late)
            if self._expected and self._expected in text:
                self._expected_seen = True
                return
            self.console_errors.append(f"{self.page.url}: {text}" + (f" ({where})" if where else ""))

    def _on_navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame and frame.url.startswith(self.origin):
            self.reached.append(frame.url)

    # -- actions ----------------------------------------------------------------------------------
    def goto(self, path: str) -> Any:
        response = self.page.goto(self.origin + path if path.startswith("/") else path)
        self.check()
        return response

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Sign in through the form, as a person would; lands wherever the app sends them."""
        self.username = username
        self.goto("/auth/login")
        self.page.get_by_label(re.compile("Tên đăng nhập|Username")).fill(username)
        self.page.get_by_label(re.compile("Mật khẩu|Password")).fill(password)
        self.submit(self.page.locator("main form button[type=submit]"))
        assert "/auth/login" not in self.page.url, f"{username} could not sign in: {self.main_text()[:300]}"

    def open_menu(self) -> None:
        """On a phone the menu sits behind one disclosure button: open it (no-op on a wide screen)."""
        button = self.page.locator("summary.menu-button")
        if button.is_visible() and not self.page.locator("details.menu-disclosure[open]").count():
            button.click()

    def menu_link(self, name: str) -> Any:
        """The main-menu link called ``name``, made visible the way a person would."""
        self.open_menu()
        return self.page.locator("header nav a:visible").filter(has_text=re.compile(f"^{re.escape(name)}$"))

    def logout(self) -> None:
        self.open_menu()
        self.submit(self.page.locator("header form[action$='/auth/logout'] button:visible"))

    def submit(self, locator: Any) -> None:
        """Click something that loads a new page, wait for it, check it."""
        with self.page.expect_navigation():
            locator.click()
        self.check()

    def follow(self, locator: Any) -> None:
        """Follow a link and check the page it leads to."""
        self.submit(locator)

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    @contextmanager
    def offline(self) -> Iterator[None]:
        """Drop the connection for the block (failed fetches are expected then, not errors).

        set_offline alone does not cut the service worker's own fetches in this Chromium (a page's
        fetch answered by the worker reached the server), so every request of the context is also
        aborted at the network layer, as a dead link would."""
        def cut(route: Any) -> None:
            route.abort("internetdisconnected")

        self._been_offline = True
        self.context.set_offline(True)
        self.context.route("**/*", cut)
        try:
            yield
        finally:
            self.context.unroute("**/*", cut)
            self.context.set_offline(False)

    @contextmanager
    def expecting_console_error(self, fragment: str) -> Iterator[None]:
        """A page the test means to fail (a used one-time link: 404) logs this error; it must appear."""
        self._expected, self._expected_seen = fragment, False
        try:
            yield
        finally:
            self._expected = ""
        assert self._expected_seen, f"expected a console error containing {fragment!r}"

    # -- the checks every page must pass ----------------------------------------------------------
    def check(self) -> None:
        """What every page must satisfy: no sideways scroll of the page, small HTML when no images."""
        page = self.page
        page.wait_for_load_state("load")
        url = page.url
        facts = page.evaluate(
            """() => ({
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
                images: document.images.length,
                htmlBytes: new TextEncoder().encode(document.documentElement.outerHTML).length,
                contentType: document.contentType,
                // Hidden inputs are left out: every form's CSRF field is id="csrf_token", and nothing
                // labels or focuses them.
                duplicateIds: [...document.querySelectorAll('[id]:not(input[type=hidden])')].map((e) => e.id)
                  .filter((id, i, all) => id && all.indexOf(id) !== i),
            })"""
        )
        self.checked.add(url)
        if facts["contentType"] != "text/html":
            return
        if SHOTS_DIR:
            Ui._shots += 1
            name = re.sub(r"[^a-zA-Z0-9]+", "-", urlsplit(url).path).strip("-") or "home"
            width = facts["innerWidth"]
            page.screenshot(path=f"{SHOTS_DIR}/{Ui._shots:03d}-{width}-{name[:60]}.png", full_page=True)
        self._accessibility(url, facts["innerWidth"])
        if facts["scrollWidth"] > facts["innerWidth"]:
            wide = page.evaluate(
                """() => {
                    const w = window.innerWidth, out = [];
                    const clipped = (el) => {
                      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                        if (getComputedStyle(p).overflowX !== 'visible') return true;
                      }
                      return false;
                    };
                    for (const el of document.querySelectorAll('body *')) {
                      const r = el.getBoundingClientRect();
                      if (r.right > w + 1 && r.width > 0 && !clipped(el)) {
                        const cls = typeof el.className === 'string' && el.className.trim()
                          ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
                        out.push(el.tagName.toLowerCase() + cls + ' (right ' + Math.round(r.right) + ')');
                        if (out.length >= 5) break;
                      }
                    }
                    return out;
                }"""
            )
            self.problems.append(
                f"{url}: the page scrolls sideways at {facts['innerWidth']} px "
                f"(scrollWidth {facts['scrollWidth']}); too wide: {', '.join(wide)}"
            )
        if facts["duplicateIds"]:
            # A label points at the first element with its id: the second field has no label.
            self.problems.append(f"{url}: ids used twice: {sorted(set(facts['duplicateIds']))}")
        if facts["images"] == 0 and facts["htmlBytes"] > MAX_HTML_BYTES:
            self.problems.append(f"{url}: {facts['htmlBytes']} bytes of HTML (limit {MAX_HTML_BYTES})")

    def _accessibility(self, url: str, width: int) -> None:
        """axe-core's WCAG 2.1 A/AA rules: serious and critical findings fail, the rest are listed."""
        language = self.page.evaluate("() => document.documentElement.lang")
        where = f"{urlsplit(url).path} ({language}, {width} px)"
        for v in self.page.evaluate(AXE_RUN, AXE_TAGS):
            if v["impact"] in AXE_BLOCKING:
                self.problems.append(f"{url} ({language}, {width} px): accessibility [{v['impact']}] "
                                     f"{v['id']}: {v['help']} at {'; '.join(v['nodes'])}")
            else:
                AXE_LISTED.setdefault((v["id"], v["impact"], v["help"]), set()).add(where)
                self.axe_listed.append((v["id"], v["impact"], v["help"], where))

    def screenshot(self, label: str) -> Path | None:
        """A full-page picture of the page as it is now, in the reviewers' folder (see MATRIX_SHOTS_DIR)."""
        if MATRIX_SHOTS_DIR is None:
            return None
        MATRIX_SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = MATRIX_SHOTS_DIR / (re.sub(r"[^a-zA-Z0-9.]+", "-", label).strip("-")[:120] + ".png")
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def report(self) -> list[str]:
        """Everything that went wrong in this session, one line each."""
        lines = list(self.problems)
        lines += [f"console error: {e}" for e in self.console_errors]
        lines += [f"script error: {e}" for e in self.script_errors]
        lines += [f"CSP violation: {e}" for e in self.csp_violations]
        lines += [f"request to another host: {u}" for u in self.foreign_requests]
        lines += [f"server exception: {e}" for e in self.live.errors[self.server_errors_before:]]
        unchecked = [u for u in dict.fromkeys(self.reached) if u not in self.checked]
        lines += [f"page reached but never checked (call ui.check()): {u}" for u in unchecked]
        return lines

    def close(self) -> None:
        self.context.close()
