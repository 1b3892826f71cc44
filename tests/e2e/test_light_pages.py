"""Officer pages are light: each loads under 100 KB of HTML+CSS+JS and asks nothing of another host.

An officer on a cheap phone with a metered connection opens home, a course, a lesson, the quiz-taking
page and their certificates, as on a first visit (the browser cache is off while a route is set). The
test weighs what each page loads, counts its requests, asserts the limits and prints the table (it is
also written at the end of the run). The transcript is a PDF download: its size is listed, not limited.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.browser import PHONE, LiveServer, Ui
from tests.e2e.test_officer import _demo_officer

MAX_PAGE_BYTES = 100 * 1024
COURSE = "digital-minority-comms"
WEIGHED = ("document", "stylesheet", "script")


def _weigh(ui: Ui, name: str, open_page: Any) -> dict[str, Any]:
    """What loading one page costs: bytes of HTML, CSS and JS (uncompressed), requests, other hosts."""
    sizes: list[int] = []
    requests: list[str] = []

    def on_request(request: Any) -> None:
        if not request.url.startswith(("data:", "blob:")):
            requests.append(request.url)

    def on_response(response: Any) -> None:
        if response.request.resource_type in WEIGHED:
            with contextlib.suppress(Exception):  # a redirect has no body
                sizes.append(len(response.body()))

    ui.page.on("request", on_request)
    ui.page.on("response", on_response)
    try:
        open_page()
        ui.page.wait_for_load_state("networkidle")
    finally:
        ui.page.remove_listener("request", on_request)
        ui.page.remove_listener("response", on_response)
    foreign = [u for u in requests if f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != ui.origin]
    return {"page": name, "path": urlsplit(ui.page.url).path, "bytes": sum(sizes),
            "requests": len(requests), "foreign": foreign}


def test_officer_pages_load_under_100_kb_of_html_css_js_with_no_request_to_another_host(
    request, new_ui, live_server: LiveServer
):
    ui = new_ui(PHONE)
    ui.context.route("**/*", lambda route: route.continue_())  # no cache: every page weighed whole
    page = ui.page
    ui.login(_demo_officer(live_server, "SNV"))
    rows = [_weigh(ui, "home", lambda: ui.goto("/"))]
    rows.append(_weigh(ui, "course", lambda: ui.goto(f"/catalog/c/{COURSE}")))
    enrol = page.locator("main form[action$='/enrol'] button[type=submit]")
    if enrol.count():
        ui.submit(enrol.first)
        ui.goto(f"/catalog/c/{COURSE}")
    lesson = page.locator(f"main a[href*='/catalog/c/{COURSE}/']").first.get_attribute("href")
    rows.append(_weigh(ui, "lesson", lambda: ui.goto(lesson)))
    ui.goto(f"/quizzes/c/{COURSE}/m2-quiz")
    start = page.locator("main form[action$='/start'] button[type=submit]")
    rows.append(_weigh(ui, "quiz (taking)", lambda: ui.submit(start.first)))
    assert "/quizzes/attempts/" in page.url, ui.main_text()[:200]
    rows.append(_weigh(ui, "certificates", lambda: ui.goto("/certificates/")))
    transcript = page.request.get(ui.origin + "/certificates/transcript.pdf")
    assert transcript.ok and transcript.headers["content-type"] == "application/pdf"

    table = [f"{'page':<15} {'path':<52} {'HTML+CSS+JS':>12} {'requests':>9} {'other hosts':>12}"]
    table += [f"{r['page']:<15} {r['path']:<52} {r['bytes']:>12,} {r['requests']:>9} {len(r['foreign']):>12}"
              for r in rows]
    table.append(f"{'transcript':<15} {'/certificates/transcript.pdf':<52} {'(PDF)':>12} {1:>9} {0:>12}"
                 f"  {len(transcript.body()):,} bytes of PDF")
    print("\n" + "\n".join(table))
    request.node.user_properties.append(("page_weights", table))
    too_heavy = [f"{r['path']}: {r['bytes']:,} bytes" for r in rows if r["bytes"] >= MAX_PAGE_BYTES]
    assert not too_heavy, f"officer pages over {MAX_PAGE_BYTES:,} bytes of HTML+CSS+JS: {too_heavy}"
    elsewhere = [u for r in rows for u in r["foreign"]]
    assert not elsewhere, f"requests leaving the app: {elsewhere}"
