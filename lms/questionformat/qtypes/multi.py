"""Multiple response: every answer that applies; the chosen weights add up, floored at 0, capped at 1.

Response: the indexes of the chosen answers (``list[int]``; order and repeats do not matter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, InvalidResponse, Order, QuestionType, Snapshot


def normalise(snapshot: Snapshot, raw: Any) -> list[int]:
    if base.blank(raw):
        return []
    if isinstance(raw, str | int):
        raw = [raw]
    if not isinstance(raw, list | tuple | set | frozenset):
        raise InvalidResponse(f"not a list of choice indexes: {raw!r}")
    items: Iterable[Any] = raw
    return sorted({base.index(item, len(snapshot["answers"])) for item in items})


def grade(snapshot: Snapshot, response: Any) -> Grade:
    chosen = normalise(snapshot, response)
    total = math.fsum(float(snapshot["answers"][i]["weight"]) for i in chosen)
    return Grade(base.clamp(total), detail={"answers": chosen})


def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> list[int]:
    shown = base.display(order, len(snapshot["answers"]))
    return sorted({shown[base.position(v, len(shown))] for v in values if v.strip()})


def to_form(snapshot: Snapshot, order: Order, response: Any) -> list[int]:
    shown = base.display(order, len(snapshot["answers"]))
    return sorted(shown.index(int(i)) for i in response or [])


TYPE = QuestionType(
    name="multi",
    label=N_("Multiple response"),
    grade=grade,
    normalise_response=normalise,
    permute=base.permute_answers,
    public=base.choices,
    from_form=from_form,
    to_form=to_form,
    labels=base.answer_labels(normalise),
    review=base.review_choices(normalise),
    example="::new-question::Chọn tất cả đáp án đúng{\n~%50%Đúng 1\n~%50%Đúng 2\n~%-100%Sai\n}",
    multiple_values=True,
    formats={"gift": "choice", "moodle_xml": "multichoice"},
    analysis_answers=base.answer_weights,
)
