"""Description: text shown between questions (a case to read first); not a question, worth no marks."""

from __future__ import annotations

from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, QuestionType, Snapshot


def grade(snapshot: Snapshot, response: Any) -> Grade:
    return Grade(0.0, detail={"scored": False})


TYPE = QuestionType(
    name="description",
    label=N_("Description (text only)"),
    grade=grade,
    normalise_response=base.normalise_nothing,
    permute=base.no_order,
    public=base.no_public,
    from_form=base.nothing_from_form,
    to_form=base.nothing_to_form,
    labels=base.no_labels,
    review=base.review_nothing,
    example="::new-question::Đọc tình huống sau trước khi trả lời các câu hỏi.",
    scored=False,
    formats={"gift": "description", "moodle_xml": "description"},
)
