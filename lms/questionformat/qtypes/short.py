"""Short answer: typed text scored by the best-weighted accepted answer it matches.

Matching is after Unicode NFC and collapsing whitespace, ignoring case when the question says so (the
default) and Vietnamese diacritics when it says so, with Moodle's ``*`` wildcard (``\\*`` for a literal
star). Response: the typed text (``str``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, Order, QuestionType, Snapshot


def _wildcard_pieces(answer: str, ignore_case: bool, ignore_diacritics: bool) -> list[str]:
    """Moodle's short-answer wildcard: ``*`` stands for any text, ``\\*`` for a star."""
    collapsed = re.sub(r"\s+", " ", unicodedata.normalize("NFC", answer)).strip()
    pieces = []
    for piece in re.split(r"(?<!\\)\*", collapsed):
        piece = piece.replace("\\*", "*")
        if ignore_diacritics:
            piece = base.strip_diacritics(piece)
        if ignore_case:
            piece = piece.casefold()
        pieces.append(piece)
    return pieces


def _glob_fullmatch(pieces: list[str], text: str) -> bool:
    """Whether ``text`` is the pieces in order with anything between them.

    Not a regular expression: ``.*a.*a.*b`` backtracks in O(n^3) on a long typed answer, so an
    officer could hang a worker on every page that grades it. Taking each middle piece at its first
    place is always right when the only wildcard is "any text", and needs no backtracking.
    """
    if len(pieces) == 1:
        return text == pieces[0]
    first, *middle, last = pieces
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    at = len(first)
    for piece in middle:
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def short_answer_matches(
    answer: str, response: str, *, ignore_case: bool = True, ignore_diacritics: bool = False
) -> bool:
    """Whether a typed response matches one accepted short answer (wildcards included)."""
    typed = base.normalise_text(response, ignore_case=ignore_case, ignore_diacritics=ignore_diacritics)
    return _glob_fullmatch(_wildcard_pieces(answer, ignore_case, ignore_diacritics), typed)


def grade(snapshot: Snapshot, response: Any) -> Grade:
    typed = base.normalise_typed(snapshot, response)
    if typed is None:
        return Grade(0.0, detail={"answer": None})
    options = {
        "ignore_case": bool(snapshot.get("ignore_case", True)),
        "ignore_diacritics": bool(snapshot.get("ignore_diacritics", False)),
    }
    return base.best(
        (i, float(answer["weight"]))
        for i, answer in enumerate(snapshot["answers"])
        if short_answer_matches(answer["text"], typed, **options)
    )


def labels(snapshot: Snapshot, response: Any) -> list[str]:
    """Which accepted answer a typed response matched (or "…"), for distractor counts."""
    if base.normalise_typed(snapshot, response) is None:
        return []
    matched = grade(snapshot, response).detail.get("answer")
    return [base.OTHER] if matched is None else [snapshot["answers"][matched]["text"]]


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    typed = TYPE.safe_normalise(snapshot, response)
    feedback = ""
    if typed is not None:
        matched = grade(snapshot, typed).detail.get("answer")
        if matched is not None:
            feedback = base.feedback_html(snapshot["answers"][matched].get("feedback", ""), fmt)
    accepted = [{"text": a["text"], "weight": float(a["weight"])}
                for a in snapshot["answers"] if float(a["weight"]) > 0]
    return {"typed": typed or "", "accepted": accepted, "feedback": feedback}


TYPE = QuestionType(
    name="short",
    label=N_("Short answer"),
    grade=grade,
    normalise_response=base.normalise_typed,
    permute=base.no_order,
    public=base.no_public,
    from_form=base.text_from_form(base.normalise_typed),
    to_form=base.text_to_form,
    labels=labels,
    review=review,
    example="// [lms:ignore-diacritics]\n::new-question::Điền từ còn thiếu{=quyền con người =nhân quyền}",
    formats={"gift": "short", "moodle_xml": "shortanswer"},
    analysis_answers=base.answer_weights,
)
