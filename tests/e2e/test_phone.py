"""On a 360 px phone: main actions are big enough to tap, text is big enough to read, officer pages are light.

The menu pages of an officer and the pages of a lesson, measured in Chromium (WCAG 2.5.5 target size for
the main actions, 16 px text, under 100 KB of HTML+CSS+JS per page and no request leaving the app; the
request check is in every test's session watcher).
"""

from __future__ import annotations

import contextlib
from typing import Any

from tests.e2e.browser import PHONE, Ui

MIN_TARGET_PX = 44
MIN_TEXT_PX = 16
MAX_PAGE_BYTES = 100 * 1024

MEASURE = """() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
  const name = (el) => el.tagName.toLowerCase() + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const small = [...document.querySelectorAll(
      'main button, main .button, main input[type=submit], header button, header summary')]
    .filter(visible).filter((el) => { const r = el.getBoundingClientRect();
      return Math.min(r.width, r.height) < MIN_TARGET; })
    .map((el) => name(el) + ' ' + Math.round(el.getBoundingClientRect().width) + 'x'
                 + Math.round(el.getBoundingClientRect().height));
  const tiny = [...document.querySelectorAll('main p, main li, main td, main label, main dd')]
    .filter(visible).filter((el) => parseFloat(getComputedStyle(el).fontSize) < MIN_TEXT)
    .filter((el) => !el.closest('small, .muted, figcaption, .hint, .tag'))
    .map((el) => name(el) + ' ' + getComputedStyle(el).fontSize);
  return {small, tiny: [...new Set(tiny)].slice(0, 8)};
}""".replace("MIN_TARGET", str(MIN_TARGET_PX)).replace("MIN_TEXT", str(MIN_TEXT_PX))


def _officer_pages(ui: Ui) -> list[str]:
    ui.page.locator("summary.menu-button").click()
    links = ui.page.locator(".menu-disclosure nav a")
    return list(dict.fromkeys(links.nth(i).get_attribute("href") for i in range(links.count())))


def _weight(ui: Ui, path: str) -> int:
    """Bytes of HTML, CSS and JavaScript the page loads (cache off, as on a first visit)."""
    sizes: list[int] = []

    def count(response: Any) -> None:
        kind = response.request.resource_type
        if kind in {"document", "stylesheet", "script"}:
            with contextlib.suppress(Exception):  # a redirect has no body
                sizes.append(len(response.body()))

    ui.page.on("response", count)
    try:
        ui.goto(path)
    finally:
        ui.page.remove_listener("response", count)
    return sum(sizes)


def test_officer_pages_have_tappable_main_actions_readable_text_and_stay_light(new_ui):
    ui = new_ui(PHONE)
    ui.context.route("**/*", lambda route: route.continue_())  # no cache: every page weighed whole
    ui.login("officer")
    problems = []
    for path in _officer_pages(ui):
        weight = _weight(ui, path)
        if weight > MAX_PAGE_BYTES:
            problems.append(f"{path}: {weight} bytes of HTML+CSS+JS")
        found = ui.page.evaluate(MEASURE)
        problems += [f"{path}: target under {MIN_TARGET_PX} px: {s}" for s in found["small"]]
        problems += [f"{path}: text under {MIN_TEXT_PX} px: {t}" for t in found["tiny"]]
    assert problems == [], "\n".join(problems)
