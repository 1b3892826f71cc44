"""An officer in a commune with a link that comes and goes saves an assigned course on the phone,
reads a lesson with the network switched off, marks it complete (the saved course page then shows it
done, waiting to be sent), and the progress reaches the server once when the link returns."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.catalog.models import Course, Lesson
from lms.org.models import User
from lms.progress.models import LessonProgress
from tests.e2e.browser import LiveServer, Ui

COURSE = "digital-minority-comms"


def _progress_rows(live_server: LiveServer, username: str, lesson_key: str) -> int:
    with live_server.db() as session:
        return session.scalar(
            select(func.count()).select_from(LessonProgress)
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .join(Course, Course.id == Lesson.course_id)
            .join(User, User.id == LessonProgress.user_id)
            .where(User.username == username, Lesson.key == lesson_key, Course.key == COURSE)
        )


def _officer_new_to_the_course(live_server: LiveServer, agency_code: str) -> str:
    """A plain demo officer of the agency with no lesson progress in COURSE (the demo year gives some
    officers progress there, and the test counts the rows it adds)."""
    from lms.org.models import Agency

    with live_server.db() as session:
        started = (select(LessonProgress.user_id).join(Lesson, Lesson.id == LessonProgress.lesson_id)
                   .join(Course, Course.id == Lesson.course_id).where(Course.key == COURSE))
        users = session.scalars(
            select(User).join(Agency, User.agency_id == Agency.id)
            .where(Agency.code == agency_code, User.active.is_(True), User.id.not_in(started))
            .order_by(User.id)
        ).all()
        plain = [u.username for u in users if set(u.roles) == {"officer"}]
    assert plain, f"the demo has no plain officer in {agency_code} who has not started {COURSE}"
    return plain[0]


def test_officer_reads_a_saved_course_offline_and_progress_is_sent_once_when_back_online(
    live_server: LiveServer, ui: Ui
):
    page = ui.page
    username = _officer_new_to_the_course(live_server, "SGDDT")
    ui.login(username)
    ui.goto(f"/catalog/c/{COURSE}")
    ui.submit(page.get_by_role("button", name=re.compile("Đăng ký và bắt đầu|Bắt đầu khóa học")))
    ui.goto(f"/catalog/c/{COURSE}")

    card = page.locator("#offline")
    card.wait_for(state="visible")
    assert "Chưa lưu" in card.inner_text()
    page.click("#offline-save")
    page.wait_for_selector("#offline.is-offline", timeout=60_000)
    state = page.locator("#offline-state").inner_text()
    assert "Đã lưu để đọc ngoại tuyến" in state and re.search(r"\d+(,\d)? (KB|MB)", state), state

    links = page.locator(f"ol a[href*='/catalog/c/{COURSE}/']")
    lesson_url = links.nth(1).get_attribute("href")
    lesson_key = lesson_url.split("/")[-1].split("?")[0]
    assert _progress_rows(live_server, username, lesson_key) == 0

    with ui.offline():
        ui.goto(lesson_url)
        assert page.locator("main h1").count() == 1, "the saved lesson opens without the network"
        page.get_by_role("button", name=re.compile("Đánh dấu đã học")).click()
        page.locator("#offline-kept").wait_for(state="visible")
        assert "sẽ được gửi đi" in page.locator("#offline-kept").inner_text()
        # The saved course page shows the lesson done on this device, waiting to be sent.
        ui.goto(f"/catalog/c/{COURSE}")
        row = page.locator(f"ol.outline li[data-complete*='/{lesson_key}/complete']")
        assert "done" in (row.get_attribute("class") or "").split()
        assert "✓" in row.locator(".check").inner_text()
        assert "sẽ gửi đi khi có mạng trở lại" in row.inner_text()
        # A quiz says plainly that it needs the network.
        ui.goto("/quizzes/c/digital-minority-comms/m1-quiz")
        assert "Bài kiểm tra cần có mạng" in ui.main_text()
        assert _progress_rows(live_server, username, lesson_key) == 0

    # Back online: the next page sends what was kept, once.
    ui.goto(f"/catalog/c/{COURSE}")
    page.wait_for_function("() => (localStorage.getItem('lms-offline-progress') || '[]') === '[]'")
    assert _progress_rows(live_server, username, lesson_key) == 1
    # The 'online' event may already have sent it before this page was served: then the server
    # renders the row done (no data-complete attribute), so find the row by its lesson link.
    row = page.locator(f"ol.outline li:has(> a[href='{lesson_url}'])")
    page.wait_for_function("(el) => !el.textContent.includes('sẽ gửi đi')", arg=row.element_handle())
    assert "đã học" in row.inner_text()
    ui.goto(f"/catalog/c/{COURSE}")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second 'online' sends nothing more
    assert _progress_rows(live_server, username, lesson_key) == 1
