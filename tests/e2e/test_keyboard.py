"""Keyboard only: an officer who cannot use a mouse signs in, opens an assigned lesson, takes a timed
quiz with one question of every type the app supports, and downloads the certificate.

Every step goes through ``page.keyboard`` (Tab, Shift+Tab, Enter, Space, arrow keys, typing): no click
and no fill by selector. After every key the element that has the focus must show it (a computed
outline or box-shadow), be on screen and have a size, and Tab must move forward in the document (never
jump back to the top or into something hidden). Forms that fail say so: the fields point at their
error text with aria-describedby, the summary is a role=alert, and the focus lands on the first field
in error. The quiz clock is announced politely and rarely, never every second.

The course (tests/e2e/keyboard_content/) is not open to self-enrolment: the test assigns it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from lms.questionformat.qtypes import NAMES
from tests.e2e.browser import DESKTOP, PASSWORD, PHONE, LiveServer, Ui

CONTENT = Path(__file__).parent / "keyboard_content"
COURSE_KEY = "keyboard-check"
COURSE_TITLE = "Ôn tập nhanh về công tác phát ngôn"
LESSON_TITLE = "Danh mục kiểm tra trước khi phát hành"
# The ordering question's items in the right order, and the matching question's pairs (course files).
ORDER = ["Xác minh thông tin", "Soạn thông cáo", "Lãnh đạo duyệt", "Phát hành"]
MATCHES = {"Duyệt thông cáo": "Lãnh đạo", "Soạn thông cáo": "Bộ phận", "Đặt câu hỏi": "Phóng viên"}

# What the focused element looks like, and whether it came after the previously focused one.
FOCUS = """(reset) => {
  const el = document.activeElement;
  const prev = window.__kbPrev;
  window.__kbPrev = el;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const label = el.labels && el.labels.length ? el.labels[0].innerText : (el.getAttribute('aria-label') || '');
  let forward = null;
  if (!reset && prev && prev !== el && prev.isConnected) {
    forward = !!(prev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
  }
  const described = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
    .map((id) => (document.getElementById(id) || {innerText: ''}).innerText.trim()).join(' | ');
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', type: el.type || '',
    role: el.getAttribute('role') || '',
    text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 100),
    label: label.trim().replace(/\\s+/g, ' ').slice(0, 100),
    href: el.getAttribute('href') || '', invalid: el.getAttribute('aria-invalid') || '', described,
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
    shadow: s.boxShadow !== 'none',
    width: r.width, height: r.height,
    onScreen: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth,
    forward,
    slot: el.closest('[data-slot]') ? el.closest('[data-slot]').getAttribute('data-slot') : '',
    inQuestion: !!el.closest('fieldset.question') && el.name !== 'flags',
    disabled: !!el.disabled,
  };
}"""


class Keyboard:
    """The officer's hands: keys only, and after every key the focus checked."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.page = ui.page
        self.visited: list[str] = []

    def _focused(self, *, reset: bool = False) -> dict[str, Any]:
        info = self.page.evaluate(FOCUS, reset)
        assert info is not None, f"{self.page.url}: the focus fell to the page body after {self.visited[-3:]}"
        where = f"{self.page.url}: {info['tag']} {info['text'] or info['label'] or info['id']!r}"
        assert info["outline"] or info["shadow"], f"{where} has the focus but shows no outline or box-shadow"
        assert info["width"] > 0 and info["height"] > 0, f"{where} has the focus but no size (hidden?)"
        assert info["onScreen"], f"{where} has the focus but is off screen"
        self.visited.append(f"{info['tag']}:{info['text'] or info['label'] or info['id']}"[:60])
        return info

    def start(self) -> None:
        """A fresh page: nothing focused yet, the order starts again."""
        self.page.evaluate("() => { window.__kbPrev = null; }")
        self.visited = []

    def press(self, key: str) -> dict[str, Any]:
        self.page.keyboard.press(key)
        info = self._focused(reset=key not in ("Tab", "Shift+Tab"))
        if key == "Tab" and info["forward"] is False:
            raise AssertionError(f"{self.page.url}: Tab went backwards to {self.visited[-1]!r} "
                                 f"(after {self.visited[-4:-1]})")
        if key == "Shift+Tab" and info["forward"] is True:
            raise AssertionError(f"{self.page.url}: Shift+Tab went forwards to {self.visited[-1]!r}")
        return info

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def tab_to(self, wanted: Callable[[dict[str, Any]], bool], what: str, *, back: bool = False,
               limit: int = 60) -> dict[str, Any]:
        """Tab (or Shift+Tab) until the focus is on what is wanted, checking every stop on the way."""
        for _ in range(limit):
            info = self.press("Shift+Tab" if back else "Tab")
            if wanted(info):
                return info
        raise AssertionError(f"{self.page.url}: {what} never got the focus; stops: {self.visited[-limit:]}")

    def tab_to_menu(self, wanted: Callable[[dict[str, Any]], bool], what: str, *, back: bool = False
                    ) -> dict[str, Any]:
        """Tab to a link of the header: on a phone it sits behind the menu button, which Enter opens."""
        info = self.tab_to(lambda i: i["tag"] == "summary" or wanted(i), what, back=back)
        if info["tag"] == "summary":
            assert "menu-button" in self.page.evaluate("() => document.activeElement.className")
            self.press("Enter")
            assert self.page.locator("details.menu-disclosure[open]").count() == 1, "Enter did not open the menu"
            info = self.tab_to(wanted, what)
        return info

    def follow(self, key: str = "Enter") -> None:
        """Press a key on the focused link or button that loads a new page, then check that page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.ui.check()
        self.start()


def text_is(pattern: str) -> Callable[[dict[str, Any]], bool]:
    rx = re.compile(pattern)
    return lambda info: bool(rx.search(info["text"]))


@pytest.fixture(scope="module")
def assigned_officer(live_server: LiveServer) -> Callable[[], str]:
    """Plain demo officers of SYT, a new one at each call, to whom the keyboard course (synced here, not
    open to all) is assigned: each run of the journey starts on a course its officer has not begun."""
    from lms.catalog import loader
    from lms.catalog.sync import sync_content

    with live_server.db():
        result = loader.load_content(CONTENT)
        assert result.ok, result.errors[:3]
        sync_content(result, CONTENT, publish_new=True)
    used: list[str] = []

    def assign() -> str:
        from lms.catalog.models import Course
        from lms.org.models import Agency, User
        from lms.progress.services import create_assignments

        with live_server.db() as session:
            course = session.scalar(select(Course).where(Course.key == COURSE_KEY))
            users = session.scalars(
                select(User).join(Agency, User.agency_id == Agency.id)
                .where(Agency.code == "SYT", User.active.is_(True)).order_by(User.id.desc())
            ).all()
            officer = next(u for u in users if set(u.roles) == {"officer"} and u.username not in used)
            hr = session.scalar(select(User).where(User.username == "hr"))
            create_assignments(course, kind="user", users=[officer], due_date=date.today() + timedelta(days=30),
                               actor=hr)
            used.append(officer.username)
            return officer.username

    return assign


def _assert_error_announced(info: dict[str, Any], page: Any, message: str) -> None:
    """The focused field is the first in error, says so, and points at its error text; a summary alerts."""
    assert info["invalid"] == "true", f"the focus is not on a field in error: {info}"
    assert message in info["described"], f"the field's aria-describedby does not reach its error: {info}"
    summary = page.locator("[role=alert]")
    assert summary.count() == 1 and summary.first.is_visible(), "no role=alert summary of the errors"
    assert summary.first.inner_text().strip(), "the error summary is empty"
    first_invalid = page.evaluate("() => document.querySelector('[aria-invalid=true]').id")
    assert info["id"] == first_invalid, f"the focus is on {info['id']}, not on the first error {first_invalid}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_officer_using_only_the_keyboard_signs_in_takes_a_quiz_of_every_type_and_gets_the_certificate(
    live_server: LiveServer, new_ui: Callable[..., Ui], assigned_officer: Callable[[], str],
    viewport: dict[str, int],
):
    ui = new_ui(viewport)
    page = ui.page
    officer = assigned_officer()
    keys = Keyboard(ui)
    page.clock.install()

    # Sign in. The first Tab reaches the skip link, visibly; the fields come in reading order.
    ui.goto("/auth/login")
    assert page.locator("html").get_attribute("lang") == "vi", "Vietnamese is the default language"
    keys.start()
    first = keys.press("Tab")
    assert first["href"] == "#main", f"the first Tab should reach the skip link, not {first}"
    user_field = keys.tab_to(lambda i: i["name"] == "username", "the username field")
    keys.type(officer)
    assert keys.press("Tab")["name"] == "password", "the password comes right after the username"
    keys.type("not-the-password")
    keys.follow("Enter")
    # A wrong password: the focus is on the first field in error, which is announced.
    info = keys._focused(reset=True)
    _assert_error_announced(info, page, "Sai tên đăng nhập hoặc mật khẩu")
    assert info["name"] == "password" and user_field["name"] == "username"
    keys.type(PASSWORD)
    keys.follow("Enter")
    assert "/auth/login" not in page.url, f"could not sign in: {ui.main_text()[:200]}"

    # A form with a field error: changing the password without filling anything in.
    keys.tab_to_menu(lambda i: i["href"].endswith("/auth/profile"), "the account link")
    keys.follow()
    keys.tab_to(text_is("^Đổi mật khẩu$"), "Change password")
    keys.follow()
    keys.tab_to(lambda i: i["tag"] == "button" and i["text"] == "Đổi mật khẩu", "the change button")
    keys.follow()
    info = keys._focused(reset=True)
    _assert_error_announced(info, page, "")
    assert info["name"] == "current", f"the first field in error is the current password, not {info}"
    # Back to the start page by the brand link, going backwards through the page.
    keys.tab_to(lambda i: i["href"] == "/", "the home link", back=True)
    keys.follow()

    # The assigned course under My training, its first lesson, marked as read.
    keys.tab_to(text_is(f"^{COURSE_TITLE}$"), "the assigned course")
    keys.follow()
    keys.tab_to(lambda i: i["tag"] == "button" and "bắt đầu" in i["text"].lower(), "start the course")
    keys.follow()
    assert page.get_by_role("heading", level=1).inner_text() == LESSON_TITLE
    keys.tab_to(lambda i: i["tag"] == "button" and i["text"].startswith("Đánh dấu đã học"), "mark as read")
    keys.follow()
    if urlsplit(page.url).path != f"/catalog/c/{COURSE_KEY}":  # the lesson again, marked as done
        keys.tab_to(lambda i: i["text"] == "Quay lại khóa học", "back to the course")
        keys.follow()
    keys.tab_to(lambda i: i["tag"] == "a" and i["text"] == "Làm bài kiểm tra cuối khóa", "the final test")
    keys.follow()
    keys.tab_to(text_is("^Bắt đầu làm bài$"), "start the quiz")
    keys.follow()
    assert "/attempts/" in page.url or "/take" in page.url, page.url
    _quiz_timer_is_polite(page)
    _answer_every_question(keys, live_server)

    # The summary, then submit.
    assert "/summary" in page.url
    keys.tab_to(text_is("^Nộp bài"), "submit")
    keys.follow()
    assert "/review" in page.url

    # The essay is graded by a trainer (arranged here); the course is then complete, with a certificate.
    code = _trainer_grades_the_essay(live_server, officer)

    # My certificates, through the menu (on a phone, the menu button first), and the PDF.
    keys.tab_to_menu(lambda i: i["tag"] == "a" and i["text"] == "Giấy chứng nhận của tôi", "My certificates")
    keys.follow()
    info = keys.tab_to(lambda i: i["tag"] == "a" and i["href"].endswith(f"/{code}.pdf"), "the certificate's PDF")
    assert info["text"] == "Tải PDF", info
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf[:5] == b"%PDF-", "the download is not a PDF"
    assert code in download.value.suggested_filename or code.encode() in pdf, "not this course's certificate"


def _quiz_timer_is_polite(page: Any) -> None:
    """The clock: read on request (role=timer, not live), announced in a polite region at most once a
    minute. Twenty minutes of the page's time are run; every change of a live region is counted."""
    timer = page.locator("#quiz-timer")
    assert timer.get_attribute("role") == "timer"
    assert (timer.get_attribute("aria-live") or "off") == "off", "the ticking clock must not be a live region"
    announce = page.locator("#quiz-announce")
    assert announce.get_attribute("aria-live") == "polite"
    page.evaluate("""() => {
      window.__liveChanges = [];
      const live = [...document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]
        .filter((el) => el.getAttribute('aria-live') !== 'off');
      const seen = new Map(live.map((el) => [el, el.textContent]));
      new MutationObserver(() => {
        for (const el of live) {
          if (el.textContent !== seen.get(el)) {
            seen.set(el, el.textContent);
            window.__liveChanges.push({id: el.id, at: Date.now(), text: el.textContent.trim()});
          }
        }
      }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    before = timer.inner_text()
    page.clock.run_for("20:00")
    changes = page.evaluate("() => window.__liveChanges")
    assert timer.inner_text() != before, "the clock did not move"
    assert changes, "twenty minutes passed and the time left was never announced"
    for a, b in zip(changes, changes[1:]):
        assert b["at"] - a["at"] >= 60_000, f"live regions changed twice within a minute: {a}, {b}"
    assert any(re.search(r"\b10 phút", c["text"]) for c in changes), f"no Vietnamese announcement: {changes}"


def _visible_questions(page: Any) -> list[dict[str, Any]]:
    """The questions of the page on show (one on a phone; questions_per_page on a wide screen)."""
    return page.evaluate("""() => [...document.querySelectorAll('fieldset.question[data-number]')]
      .filter((box) => !box.hidden && box.getClientRects().length).map((box) => {
        const q = (s) => box.querySelectorAll(s).length;
        return {slot: box.getAttribute('data-slot'), text: box.querySelector('.question-text').innerText,
                radios: q('input[type=radio]'), boxes: q('input[type=checkbox]:not([name=flags])'),
                selects: q('select'), texts: q('input[type=text]'), areas: q('textarea')};
      })""")


def _answer(keys: Keyboard, q: dict[str, Any]) -> None:
    """Tab into one question and answer it rightly with the keys its widget expects."""
    keys.tab_to(lambda i, s=q["slot"]: i["inQuestion"] and i["slot"] == s, f"question slot {q['slot']}")
    if q["radios"]:
        keys.press("Space")  # the first choice (choices are not shuffled): the right one
        keys.press("ArrowDown")
        keys.press("ArrowUp")  # arrows move within the group and choose as they go
    elif q["boxes"]:
        keys.press("Space")
        keys.press("Tab")
        keys.press("Space")
    elif q["selects"]:
        for n in range(q["selects"]):
            info = keys._focused(reset=True) if n == 0 else keys.press("Tab")
            assert info["tag"] == "select", info
            _choose(keys, info)
    elif q["texts"]:
        keys.type("ngon" if "phát ngôn" in q["text"] else "48")
    elif q["areas"]:
        keys.type("Phát hành đính chính ngay, nêu rõ con số đúng và nguồn; báo cho các cơ quan báo chí.")


def _answer_every_question(keys: Keyboard, live_server: LiveServer) -> None:
    """Page by page: Tab into each question on show, answer it, then Next (the focus goes to the new
    page's first question, visibly), until the last page's Review and submit."""
    page = keys.page
    answered: list[str] = []
    for _ in range(12):
        for q in _visible_questions(page):
            _answer(keys, q)
            answered.append(q["slot"])
        nxt = page.locator("#quiz-next")
        if nxt.count() and nxt.is_visible() and not nxt.is_disabled():
            keys.tab_to(lambda i: i["id"] == "quiz-next", "Next")
            keys.press("Enter")
            info = keys._focused(reset=True)
            assert info["tag"] == "legend", f"after Next the focus should be on the new question, not {info}"
            continue
        keys.tab_to(lambda i: i["id"] == "quiz-finish", "Review and submit")
        break
    with live_server.db() as session:
        snapshot_types = _types_of_open_attempt(session, page.url)
    assert set(snapshot_types) == set(NAMES), f"the quiz lacks types: {set(NAMES) - set(snapshot_types)}"
    assert len(answered) == len(set(answered)) == len(snapshot_types) - 1, (
        f"every question but the description answered once: {answered}")
    page.wait_for_selector("#save-state.save-saved")
    keys.follow()


def _choose(keys: Keyboard, info: dict[str, Any]) -> None:
    """Choose an option of a closed select with the arrow keys, counting from the blank first option."""
    page = keys.page
    options = page.evaluate("() => [...document.activeElement.options].map((o) => o.text)")
    label = info["label"]
    if options[-1].startswith("Vị trí"):  # ordering: a position per item ("Soạn thông cáo" is in both)
        wanted = f"{ORDER.index(label) + 1}"
        target = next(i for i, o in enumerate(options) if o.strip().endswith(wanted))
    else:
        start = next(v for k, v in MATCHES.items() if k in label)
        target = next(i for i, o in enumerate(options) if o.startswith(start))
    for _ in range(target):
        keys.press("ArrowDown")
    chosen = page.evaluate("() => document.activeElement.selectedIndex")
    assert chosen == target, f"the arrow keys did not choose {options[target]!r} in {label!r}"


def _types_of_open_attempt(session: Any, url: str) -> list[str]:
    from lms.quizzes.models import Attempt

    found = re.search(r"/attempts/(\d+)", url)
    attempt_id = int(found.group(1)) if found else 0
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None, f"no attempt behind {url}"
    return [slot["question"]["type"] for slot in attempt.slots]


def _trainer_grades_the_essay(live_server: LiveServer, username: str) -> str:
    """The trainer's part of the journey, done in the data; returns the code of the certificate it earns."""
    from lms.certificates.models import Certificate
    from lms.org.models import User
    from lms.quizzes.models import Attempt
    from lms.quizzes.services import grade_answer

    with live_server.db() as session:
        officer = session.scalar(select(User).where(User.username == username))
        trainer = session.scalar(select(User).where(User.username == "trainer"))
        attempt = session.scalars(select(Attempt).where(Attempt.user_id == officer.id)
                                  .order_by(Attempt.id.desc())).first()
        kinds = {slot["slot"]: slot["question"]["type"] for slot in attempt.slots}
        essay = next(a for a in attempt.answers if kinds[a.slot] == "essay")
        grade_answer(essay, 1.0, "Đầy đủ.", grader=trainer)
        session.flush()
        certificate = session.scalar(select(Certificate).where(
            Certificate.user_id == officer.id, Certificate.course_key == COURSE_KEY))
        assert certificate is not None, "grading the essay did not complete the course with a certificate"
        return certificate.code
