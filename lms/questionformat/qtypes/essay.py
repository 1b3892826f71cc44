"""Essay: written text a trainer grades; its fraction is None and ``needs_manual`` is set until then.

A blank essay scores 0 at once instead of waiting in a trainer's queue. Response: the text (``str``).
"""

from __future__ import annotations

from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, Order, QuestionType, Snapshot


def grade(snapshot: Snapshot, response: Any) -> Grade:
    if base.normalise_typed(snapshot, response) is None:
        return Grade(0.0, detail={"blank": True})
    return Grade(None, needs_manual=True)


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    return {"essay": TYPE.safe_normalise(snapshot, response) or ""}


TYPE = QuestionType(
    name="essay",
    label=N_("Essay"),
    grade=grade,
    normalise_response=base.normalise_typed,
    permute=base.no_order,
    public=base.no_public,
    from_form=base.text_from_form(base.normalise_typed),
    to_form=base.text_to_form,
    labels=base.no_labels,
    review=review,
    example="::new-question::Trình bày ngắn gọn ...{}",
    formats={"gift": "essay", "moodle_xml": "essay"},
)
