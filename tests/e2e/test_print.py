"""Lessons, transcripts and report pages print cleanly: the print stylesheet hides the menus, the header,
the footer, buttons and forms, and no table row is split across two sheets of paper.

Chromium is switched to print media (what the browser does for Ctrl+P) and the computed styles are read;
a lesson is also printed to PDF, and the PDF's first page must hold the lesson's words, not the menu.
"""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from lms.org.models import User
from tests.e2e.browser import DESKTOP, MATRIX_SHOTS_DIR, LiveServer, Ui

COURSE = "digital-minority-comms"

# What must not reach the paper, and the visible leftovers of each page under print media.
PRINTED = """() => {
  const shown = (el) => el.checkVisibility({checkVisibilityCSS: true});
  const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + (el.innerText || '').trim().slice(0, 30) + '"';
  const hidden = 'body > header, nav, body > footer, .skip-link, .lang-switch, summary, button, .button, '
    + 'input[type=submit], main form';
  const leftovers = [...document.querySelectorAll(hidden)].filter(shown).map(name);
  const rows = [...document.querySelectorAll('tr')];
  const split = rows.filter((tr) => getComputedStyle(tr).breakInside !== 'avoid').map(name);
  const heads = [...document.querySelectorAll('thead')]
    .filter((t) => getComputedStyle(t).display !== 'table-header-group').map(name);
  return {leftovers: leftovers.slice(0, 8), rows: rows.length, split: split.slice(0, 5), heads,
          heading: shown(document.querySelector('main h1'))};
}"""


def _printed(ui: Ui, path: str) -> dict:
    ui.goto(path)
    ui.page.emulate_media(media="print")
    try:
        return ui.page.evaluate(PRINTED)
    finally:
        ui.page.emulate_media(media="null")  # back to what the browser chooses (print for page.pdf)


def test_lesson_transcript_and_report_print_without_menus_or_buttons_and_rows_stay_whole(
    new_ui, live_server: LiveServer, tmp_path
):
    ui = new_ui(DESKTOP)
    ui.login("hr")
    with live_server.db() as session:
        officer_id = session.scalars(select(User.id).where(User.username == "officer")).one()
    ui.goto(f"/catalog/c/{COURSE}")
    lesson = ui.page.locator(f"main a[href*='/catalog/c/{COURSE}/']").first.get_attribute("href")
    pages = {"lesson": lesson, "transcript": f"/reports/officers/{officer_id}", "report": "/reports/agencies"}
    problems = []
    for name, path in pages.items():
        found = _printed(ui, path)
        if found["leftovers"]:
            problems.append(f"{name} {path}: printed although it is for the screen: {found['leftovers']}")
        if not found["heading"]:
            problems.append(f"{name} {path}: the page heading is not printed")
        if found["split"]:
            problems.append(f"{name} {path}: table rows that may break across pages: {found['split']}")
        if found["heads"]:
            problems.append(f"{name} {path}: table headings not repeated on each page: {found['heads']}")
        if name != "lesson" and not found["rows"]:
            problems.append(f"{name} {path}: no table to print")
    assert not problems, "\n".join(problems)

    # The lesson as paper: Chromium's own PDF, read back as text.
    ui.goto(lesson)
    title = ui.page.locator("main h1").inner_text().strip()
    # Kept beside the screenshots for a reviewer (a temporary file when they are turned off).
    pdf = (MATRIX_SHOTS_DIR or tmp_path) / "print-lesson.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    ui.page.pdf(path=str(pdf), format="A4", print_background=False)
    text = subprocess.run(["pdftotext", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    first_words = " ".join(text.split())
    assert " ".join(title.split())[:30] in first_words, f"the lesson title is not on page 1: {first_words[:200]}"
    for screen_only in ("Danh mục", "Đăng xuất", "Tra cứu giấy chứng nhận", "Đánh dấu đã học"):
        assert screen_only not in text, f"{screen_only!r} is printed on the lesson's first page"
