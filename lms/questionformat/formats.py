"""Moodle's four text formats, and how a question whose parts use several of them becomes one.

Moodle lets every part of a question (each answer, each feedback, each matching item) carry its own
format: ``[html]Which tag makes text <b>bold</b>?{=[plain]<b> ~[plain]<i>}``. lms stores one format
per question. When the parts of a question disagree, every part is converted to HTML that renders
exactly as Moodle would show that part, so nothing is lost and nothing turns blank; a part that
renders the same in either format (plain words) needs no conversion and does not force one.
"""

from __future__ import annotations

import re
from html import escape

# Characters that mean something in HTML or Markdown; a part without them reads the same in any format.
_SPECIAL = re.compile(r"[<>&*_\[\]`#\\|~]|^\s*(?:[-+>]|\d+[.)])\s|\n")


def is_neutral(text: str) -> bool:
    """True when ``text`` renders identically as plain text, Moodle auto-format, HTML and Markdown."""
    return not _SPECIAL.search(text)


def to_html(text: str, text_format: str) -> str:
    """``text`` written in ``text_format`` as the HTML Moodle would show (sanitised when rendered)."""
    if text_format == "html":
        return text
    if text_format == "plain":
        return escape(text, quote=False).replace("\n", "<br>")
    if text_format == "markdown":
        from lms.markup import render_markdown

        html = render_markdown(text).strip()
        # A one-paragraph answer should not gain a paragraph's margins.
        if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            html = html[3:-4]
        return html
    # "moodle": HTML as written, line breaks kept.
    return text.replace("\n", "<br>")


def unify(question_format: str, parts: list[tuple[str, str]]) -> tuple[str, list[str]] | None:
    """If the ``(text, format)`` parts disagree with ``question_format``, the HTML of every part.

    Returns None when every part can stay as written (same format, or neutral text).
    """
    if all(fmt == question_format or is_neutral(text) for text, fmt in parts):
        return None
    return "html", [to_html(text, fmt) for text, fmt in parts]
