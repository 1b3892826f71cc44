"""An officer on a phone: finds a course, reads, leaves, comes back; a quiz that survives a dropped
connection; a certificate an inspector can verify without signing in."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sqlalchemy import select

from lms.org.models import User
from tests.e2e.browser import LiveServer, Ui

SPOKESPERSON_COURSE = "Người phát ngôn và công tác báo chí"


def _demo_officer(live_server: LiveServer, agency_code: str) -> str:
    """The username of a plain demo officer (no other role) of an agency, chosen by the test."""
    from lms.org.models import Agency

    with live_server.db() as session:
        users = session.scalars(
            select(User).join(Agency, User.agency_id == Agency.id)
            .where(Agency.code == agency_code, User.active.is_(True)).order_by(User.id)
        ).all()
        plain = [u.username for u in users if set(u.roles) == {"officer"}]
    assert plain, f"the demo has no plain officer in {agency_code}"
    return plain[0]


def test_officer_on_a_phone_switches_language_reads_two_lessons_and_continues_where_they_left_off(ui: Ui):
    page = ui.page
    ui.login("officer")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Nguyễn Thị Bích Đào" in ui.main_text()

    # English and back: the switch stays on the same page and is remembered.
    ui.submit(page.locator("header .lang-switch button[value=en]"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Courses").first.is_visible()
    ui.submit(page.locator("header .lang-switch button[value=vi]"))
    assert page.locator("html").get_attribute("lang") == "vi"

    # The catalogue, through the menu, then a search.
    ui.follow(ui.menu_link("Khóa học"))
    page.get_by_label("Tìm kiếm").fill("phát ngôn")
    ui.submit(page.get_by_role("button", name="Lọc"))
    ui.follow(page.get_by_role("link", name=SPOKESPERSON_COURSE))
    assert page.get_by_role("heading", level=1).inner_text() == SPOKESPERSON_COURSE

    # Enrol: the first lesson opens; two lessons marked complete lead to the third.
    ui.submit(page.get_by_role("button", name="Đăng ký và bắt đầu học"))
    titles = []
    for _ in range(2):
        titles.append(page.get_by_role("heading", level=1).inner_text())
        ui.submit(page.get_by_role("button", name="Đánh dấu đã học và học tiếp"))
    third = page.get_by_role("heading", level=1).inner_text()
    third_url = page.url
    assert third not in titles
    assert re.search(r"Bài 3/\d+", ui.main_text())

    ui.logout()
    assert page.get_by_role("heading", level=1).is_visible()
    ui.login("officer")

    # Back on the home page: the course is under "My training"; its page offers to continue.
    my_training = page.locator("section.my-training")
    assert SPOKESPERSON_COURSE in my_training.inner_text()
    assert re.search(r"Đã học 2/\d+ bài", my_training.inner_text())
    ui.follow(my_training.get_by_role("link", name=SPOKESPERSON_COURSE))
    resume = page.get_by_role("link", name=re.compile("Học tiếp từ chỗ đã dừng"))
    assert third in resume.inner_text()
    ui.follow(resume)
    assert page.url == third_url
    assert page.get_by_role("heading", level=1).inner_text() == third


def _answers(page) -> dict[str, list[str]]:
    """What the quiz form holds now, per field name (checked boxes, chosen options, typed text)."""
    return page.evaluate(
        """() => {
            const out = {};
            for (const f of document.querySelectorAll('#quiz-form [name^=q]')) {
              if ((f.type === 'radio' || f.type === 'checkbox') && !f.checked) continue;
              (out[f.name] = out[f.name] || []).push(f.value);
            }
            return out;
        }"""
    )


def _go_to(page, index: int) -> None:
    """Open question ``index`` (0-based) from the navigation panel: on a phone one question is shown."""
    page.locator("#quiz-nav a.qnav").nth(index).click()


def _submit(ui: Ui) -> None:
    """Review and submit, then confirm on the summary page."""
    ui.submit(ui.page.get_by_role("button", name="Xem lại và nộp bài"))
    assert "/summary" in ui.page.url
    ui.submit(ui.page.get_by_role("button", name="Nộp bài", exact=True))


def _answer(question) -> None:
    """Answer one question whatever its widget, as a person would (click, tick, choose, type)."""
    radios = question.locator("input[type=radio]")
    boxes = question.locator("input[type=checkbox]:not([name=flags])")
    selects = question.locator("select")
    texts = question.locator("input[type=text], textarea")
    if radios.count():
        radios.last.check()
    elif boxes.count():
        boxes.first.check()
        boxes.last.check()
    elif selects.count():
        for i in range(selects.count()):
            selects.nth(i).select_option(index=selects.nth(i).locator("option").count() - 1)
    elif texts.count():
        texts.first.fill("7")


def test_officer_whose_connection_drops_mid_quiz_finds_every_answer_after_reloading(
    live_server: LiveServer, ui: Ui, new_ui
):
    page = ui.page
    ui.login(_demo_officer(live_server, "SNGV"))
    ui.goto("/catalog/c/hr-foundations")
    ui.submit(page.get_by_role("button", name="Đăng ký và bắt đầu học"))
    ui.follow(page.locator("nav.breadcrumb a").first)
    ui.follow(page.locator("li.quiz a").first)
    ui.submit(page.get_by_role("button", name="Bắt đầu làm bài"))
    attempt_url = page.url
    status = page.locator("#save-state")

    questions = page.locator("fieldset.question:has(input, select, textarea)")
    count = questions.count()
    assert count >= 4, f"the module quiz should have several questions, found {count}"
    half = count // 2
    for i in range(half):
        _go_to(page, i)
        _answer(questions.nth(i))
    page.wait_for_selector("#save-state.save-saved")

    with ui.offline():
        for i in range(half, count):
            _go_to(page, i)
            _answer(questions.nth(i))
        page.wait_for_selector("#save-state.save-offline")
        assert "mất kết nối" in status.inner_text(), "the officer is told, in Vietnamese, that saving waits"
        before = _answers(page)
    assert len(before) == count

    ui.goto(attempt_url)  # back online: reload
    assert _answers(page) == before, "answers were lost when the connection dropped"
    # Whatever the page still held for the server is sent and acknowledged.
    page.wait_for_function(
        "() => !Object.keys(localStorage).some((k) => k.startsWith('lms-quiz:'))"
    )
    assert "save-offline" not in (status.get_attribute("class") or "")

    # The server has them all: the same attempt opened on another device shows every answer.
    other = new_ui()
    other.login(ui.username)
    other.goto(attempt_url)
    assert _answers(other.page) == before

    _submit(ui)
    assert "/review" in page.url
    assert re.search(r"\d+(,\d+)?\s?%", ui.main_text())


def test_officer_completes_a_course_downloads_the_certificate_and_an_inspector_verifies_it(
    live_server: LiveServer, ui: Ui, new_ui, tmp_path: Path
):
    from pypdf import PdfReader

    page = ui.page
    username = _demo_officer(live_server, "SVHTTDL")
    with live_server.db() as session:
        full_name = session.scalar(select(User.full_name).where(User.username == username))
    ui.login(username)
    ui.follow(ui.menu_link("Khóa học"))
    page.get_by_label("Tìm kiếm").fill("thông cáo")
    ui.submit(page.get_by_role("button", name="Lọc"))
    ui.follow(page.get_by_role("link", name="Kiểm tra nhanh thông cáo báo chí"))
    ui.submit(page.get_by_role("button", name="Đăng ký và bắt đầu học"))
    ui.submit(page.get_by_role("button", name="Đánh dấu đã học và học tiếp"))
    ui.submit(page.get_by_role("button", name="Đánh dấu đã học", exact=True))
    if "/catalog/c/press-release-check" not in page.url or "/timing" in page.url:
        ui.follow(page.locator("nav.breadcrumb a").first)
    ui.follow(page.get_by_role("link", name="Làm bài kiểm tra cuối khóa"))
    ui.submit(page.get_by_role("button", name="Bắt đầu làm bài"))
    for text, choice in (("ghi rõ nguồn", "Đúng"), ("người có thẩm quyền duyệt", "Sai")):
        box = page.locator("fieldset.question", has_text=text)
        _go_to(page, int(box.get_attribute("data-number")) - 1)
        box.get_by_label(choice).check()
    _submit(ui)
    assert "100" in ui.main_text()

    # The certificate: one click from the result that completed the course; its PDF names the officer,
    # and My certificates lists it under the same code.
    code = page.locator(".cert-done code").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải giấy chứng nhận (PDF)").click()
    pdf = download.value.path()
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert full_name in text and code in text
    ui.goto("/certificates/")
    card = page.locator(".cert-card", has_text="Kiểm tra nhanh thông cáo báo chí")
    assert card.locator("code").first.inner_text() == code

    # An inspector without an account scans the QR code printed on it and sees it is valid.
    verify_url = _qr_url(Path(pdf), tmp_path)
    assert verify_url.startswith(live_server.url) and code in verify_url
    inspector = new_ui()
    inspector.goto(verify_url)
    assert inspector.page.locator(".verify-result.verify-valid").is_visible()
    assert full_name in inspector.main_text()
    assert not inspector.page.locator("nav.main-nav").count()

    # Typing the code with one character wrong is caught by its check character, with a clear message.
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    inspector.page.get_by_label("Số hiệu", exact=False).first.fill(typo)
    with inspector.expecting_console_error("400"):
        inspector.submit(inspector.page.get_by_role("button", name="Tra cứu", exact=True))
    assert inspector.page.locator(".field .errors, .errors").first.is_visible()
    assert not inspector.page.locator(".verify-result").count()

    # An administrator revokes it; the same scan now says revoked.
    admin = new_ui()
    admin.login("admin")
    admin.goto(f"/certificates/{code}")
    admin.page.get_by_label("Lý do thu hồi").fill("Cấp nhầm trong đợt kiểm thử.")
    admin.submit(admin.page.get_by_role("button", name="Thu hồi giấy chứng nhận này"))
    inspector.goto(verify_url)
    assert inspector.page.locator(".verify-result.verify-revoked").is_visible()


def _qr_url(pdf: Path, folder: Path) -> str:
    """The text of the QR code on the PDF's first page, read as a phone camera would."""
    from PIL import Image
    from pyzbar.pyzbar import decode

    subprocess.run(
        ["pdftoppm", "-png", "-r", "120", "-singlefile", str(pdf), str(folder / "page")], check=True
    )
    found = decode(Image.open(folder / "page.png"))
    assert found, "no QR code found on the certificate"
    return found[0].data.decode()
