"""Grading: score a response with the grader of its question type's row (``lms.questionformat.qtypes``).

Graders read the question snapshot stored in the attempt (``question_to_dict`` output, possibly after a
trip through JSON) and the officer's response, never the live question bank. Each type's row holds a
``normalise_response`` that turns what a form or a JSON column gives us into the canonical response
shape, and a ``grade`` that scores a response (normalising it first, so both shapes are accepted).
The response shape and the scoring rule of each type are written in its module's docstring
(``lms/questionformat/qtypes/<type>.py``). ``None`` or an empty value always means "not answered".
"""

from __future__ import annotations

from typing import Any

from lms.questionformat import qtypes
from lms.questionformat.qtypes.base import (
    Grade,
    InvalidResponse,
    QuestionType,
    Snapshot,
    normalise_text,
    parse_number,
    strip_diacritics,
)
from lms.questionformat.qtypes.short import short_answer_matches

QUESTION_TYPES = qtypes.TYPES


def question_type(snapshot: Snapshot) -> QuestionType:
    """The registry row for a snapshot's type; raises InvalidResponse for unknown types."""
    return qtypes.for_snapshot(snapshot)


def grade(snapshot: Snapshot, response: Any) -> Grade:
    """Grade ``response`` against a question snapshot with the grader registered for its type."""
    return question_type(snapshot).grade(snapshot, response)


def normalise_response(snapshot: Snapshot, raw: Any) -> Any:
    """The canonical response shape for a snapshot's type (raises InvalidResponse on garbage)."""
    return question_type(snapshot).normalise_response(snapshot, raw)


__all__ = [
    "QUESTION_TYPES",
    "Grade",
    "InvalidResponse",
    "QuestionType",
    "Snapshot",
    "grade",
    "normalise_response",
    "normalise_text",
    "parse_number",
    "question_type",
    "short_answer_matches",
    "strip_diacritics",
]
