"""Moodle's four text formats, and how a question whose parts use several of them becomes one.

Moodle lets every part of a question (each answer, each feedback, each matching item) carry its own
format: ``[html]Which tag makes text <b>bold</b>?{=[plain]<b> ~[plain]<i>}``. lms stores one format
per question. When the parts of a question disagree, every part is converted to HTML that renders
exactly as Moodle would show that part, so nothing is lost and nothing turns blank; a part that
renders the same in either format (plain words) needs no conversion and does not force one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import TypeVar

from lms.i18n import _

T = TypeVar("T")

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


class PartsReader:
    """What the GIFT and Moodle XML readers share: one question's parts, read in one format.

    A reader hands every part (stem, answer, feedback, matching item) to :meth:`keep` in reading
    order. :meth:`read_in_one_format` reads the question; if its parts disagree on the format, it reads
    the question again with every part replaced by its HTML (:func:`unify`), and notes the conversion.
    """

    def __init__(self) -> None:
        self.notes: list[str] = []
        # Parts in their own formats, in reading order; on the second reading ``converted`` holds
        # their HTML, in the same order.
        self.parts: list[tuple[str, str]] = []
        self.converted: list[str] | None = None
        self.text_format = "moodle"

    def keep(self, text: str, text_format: str) -> str:
        """Record one part; the text to use for it (its HTML on the second reading)."""
        self.parts.append((text, text_format))
        if self.converted is not None:
            return self.converted[len(self.parts) - 1]
        return text

    def read_in_one_format(self, read: Callable[[], T]) -> T:
        question = read()
        unified = unify(self.text_format, self.parts)
        if unified is None:
            return question
        self.text_format, self.converted = unified
        self.parts, self.notes = [], []
        question = read()
        self.notes.append(
            _(
                "Its parts are written in different text formats ([html], [plain], [markdown] or "
                "[moodle]); lms keeps one format per question, so all of them were converted to "
                "HTML that shows the same."
            )
        )
        return question
