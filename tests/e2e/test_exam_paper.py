"""A quiz on a phone is an exam paper: one question per page, a navigation panel that shows what is
answered and flagged, every page change saved, and a summary of what is missing before submitting."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.quizzes.models import Attempt
from tests.e2e.browser import LiveServer, Ui
from tests.e2e.test_officer import _answer, _demo_officer


def test_officer_pages_through_a_quiz_flags_a_question_and_sees_the_unanswered_before_submitting(
    live_server: LiveServer, ui: Ui
):
    page = ui.page
    ui.login(_demo_officer(live_server, "SKHCN"))
    ui.goto("/catalog/c/hr-foundations")
    ui.submit(page.get_by_role("button", name="Đăng ký và bắt đầu học"))
    ui.follow(page.locator("nav.breadcrumb a").first)
    ui.follow(page.locator("li.quiz a").first)
    ui.submit(page.get_by_role("button", name="Bắt đầu làm bài"))
    attempt_id = int(page.url.rstrip("/").split("/")[-1])

    shown = page.locator("fieldset.question[data-number]:visible")
    links = page.locator("#quiz-nav a.qnav")
    total = links.count()
    assert total >= 3 and shown.count() == 1, "a phone shows one question at a time"
    assert re.match(r"Trang \d+/\d+", page.locator("#quiz-page-label").inner_text())

    # Answer and flag the first question: the panel says so, in words a screen reader reads too.
    _answer(shown.first)
    shown.first.locator("input[name=flags]").check()
    page.wait_for_selector("#quiz-nav a.qnav.answered.flagged >> nth=0")
    assert "đã trả lời, đã đánh dấu" in links.first.inner_text()
    assert "đã trả lời 1/" in page.locator("#quiz-nav-count").inner_text()

    # Next page: saved at once, and the second question is the one shown.
    page.click("#quiz-next")
    page.wait_for_selector("#save-state.save-saved")
    assert shown.first.get_attribute("data-number") == "2"
    with live_server.db() as session:
        attempt = session.get(Attempt, attempt_id)
        first_slot = next(s["slot"] for s in attempt.slots if s["question"]["type"] != "description")
        assert attempt.flags == [first_slot], "the flag reached the server"

    # Jump from the panel to the last question and answer it.
    links.nth(total - 1).click()
    assert shown.first.get_attribute("data-number") == str(total)
    _answer(shown.first)
    page.wait_for_selector("#save-state.save-saved")

    # The summary lists what is still missing, with links back to each.
    ui.submit(page.get_by_role("button", name="Xem lại và nộp bài"))
    assert "/summary" in page.url
    text = ui.main_text()
    assert f"Còn {total - 2} câu chưa trả lời" in text and "đánh dấu 1 câu" in text
    ui.follow(page.locator(".flash-warning a", has_text="Câu 2"))
    assert shown.first.get_attribute("data-number") == "2", "the link opens the page of that question"
    _answer(shown.first)
    ui.submit(page.get_by_role("button", name="Xem lại và nộp bài"))
    assert f"Còn {total - 3} câu chưa trả lời" in ui.main_text() if total > 3 else True
    ui.submit(page.get_by_role("button", name="Nộp bài", exact=True))
    assert "/review" in page.url
    with live_server.db() as session:
        assert session.scalar(select(Attempt.status).where(Attempt.id == attempt_id)) != "in_progress"
