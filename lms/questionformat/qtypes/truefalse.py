"""True/false: two answers, ``true`` then ``false``, whose weights say which is right.

Response: ``True`` or ``False`` (forms may send "true"/"false"/"1"/"0", or "đúng"/"sai").
"""

from __future__ import annotations

import unicodedata
from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, InvalidResponse, Order, QuestionType, Snapshot

_TRUE_WORDS = {"true", "t", "1", "yes", "đúng"}
_FALSE_WORDS = {"false", "f", "0", "no", "sai"}


def normalise(snapshot: Snapshot, raw: Any) -> bool | None:
    if base.blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    word = unicodedata.normalize("NFC", str(raw)).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise InvalidResponse(f"not true or false: {raw!r}")


def grade(snapshot: Snapshot, response: Any) -> Grade:
    chosen = normalise(snapshot, response)
    if chosen is None:
        return Grade(0.0, detail={"answer": None})
    wanted = "true" if chosen else "false"
    for i, answer in enumerate(snapshot["answers"]):
        if answer["text"] == wanted:
            return Grade(base.clamp(float(answer["weight"])), detail={"answer": i})
    raise InvalidResponse("the snapshot is not a true/false question")


def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> bool | None:
    return normalise(snapshot, base.last_value(values))


def to_form(snapshot: Snapshot, order: Order, response: Any) -> str | None:
    return None if response is None else ("true" if response else "false")


def labels(snapshot: Snapshot, response: Any) -> list[str]:
    chosen = normalise(snapshot, response)
    return [] if chosen is None else ["true" if chosen else "false"]


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    chosen = TYPE.safe_normalise(snapshot, response)
    shown = []
    for answer in snapshot["answers"]:
        is_chosen = chosen is not None and answer["text"] == ("true" if chosen else "false")
        shown.append({"label": answer["text"], "chosen": is_chosen,
                      "right": float(answer["weight"]) > 0, "weight": float(answer["weight"]),
                      "feedback": base.feedback_html(answer.get("feedback", ""), fmt) if is_chosen else ""})
    return {"choices": shown}


TYPE = QuestionType(
    name="truefalse",
    label=N_("True/false"),
    grade=grade,
    normalise_response=normalise,
    permute=base.no_order,
    public=base.no_public,
    from_form=from_form,
    to_form=to_form,
    labels=labels,
    review=review,
    example="::new-question::Nhận định này đúng hay sai?{T#Phản hồi khi chọn sai#Phản hồi khi chọn đúng}",
    formats={"gift": "truefalse", "moodle_xml": "truefalse"},
    analysis_answers=base.answer_weights,
)
