"""Single choice: one answer to pick; it scores its weight, floored at 0.

Response: the index of the chosen answer in the snapshot's ``answers`` (``int``).
"""

from __future__ import annotations

from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, Order, QuestionType, Snapshot


def normalise(snapshot: Snapshot, raw: Any) -> int | None:
    return None if base.blank(raw) else base.index(raw, len(snapshot["answers"]))


def grade(snapshot: Snapshot, response: Any) -> Grade:
    chosen = normalise(snapshot, response)
    if chosen is None:
        return Grade(0.0, detail={"answer": None})
    return Grade(base.clamp(float(snapshot["answers"][chosen]["weight"])), detail={"answer": chosen})


def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> int | None:
    raw = base.last_value(values)
    if not raw.strip():
        return None
    shown = base.display(order, len(snapshot["answers"]))
    return shown[base.position(raw, len(shown))]


def to_form(snapshot: Snapshot, order: Order, response: Any) -> int | None:
    if response is None:
        return None
    return base.display(order, len(snapshot["answers"])).index(int(response))


TYPE = QuestionType(
    name="single",
    label=N_("Single choice"),
    grade=grade,
    normalise_response=normalise,
    permute=base.permute_answers,
    public=base.choices,
    from_form=from_form,
    to_form=to_form,
    labels=base.answer_labels(normalise),
    review=base.review_choices(normalise),
    example="::new-question::Câu hỏi?{\n=Đáp án đúng#Phản hồi\n~Phương án sai#Phản hồi\n~Phương án sai\n}",
    formats={"gift": "choice", "aiken": "choice", "moodle_xml": "multichoice"},
    analysis_answers=base.answer_weights,
)
