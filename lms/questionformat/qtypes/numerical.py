"""Numerical: a typed number scored by the best weight among the answers whose tolerance or range holds it.

Response: the typed number as text (``str``), e.g. "3,14" or "3.14"; numbers are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, Order, QuestionType, Snapshot


def bounds(answer: Mapping[str, Any]) -> tuple[float, float]:
    """The closed interval an accepted answer of a snapshot stands for."""
    if answer.get("other"):
        return float("-inf"), float("inf")
    if answer.get("value") is None:
        return float(answer["minimum"]), float(answer["maximum"])
    value, tolerance = float(answer["value"]), float(answer.get("tolerance") or 0.0)
    return value - tolerance, value + tolerance


def _within(number: float, low: float, high: float) -> bool:
    # Forgive float noise in tolerances such as 3.14 +/- 0.01 without widening real ranges.
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    return low - slack <= number <= high + slack


def normalise(snapshot: Snapshot, raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return repr(float(raw))
    return base.normalise_typed(snapshot, raw)


def grade(snapshot: Snapshot, response: Any) -> Grade:
    typed = normalise(snapshot, response)
    if typed is None:
        return Grade(0.0, detail={"answer": None})
    number = base.parse_number(typed)
    if number is None:
        return Grade(0.0, detail={"answer": None, "not_a_number": True})
    answers = list(enumerate(snapshot["numerical"]))
    matched = [(i, float(answer.get("weight", 1.0))) for i, answer in answers
               if not answer.get("other") and _within(number, *bounds(answer))]
    if not matched:
        # Moodle's "*" answer: any number no other answer holds (its feedback says why it is wrong).
        matched = [(i, float(answer.get("weight", 0.0))) for i, answer in answers
                   if answer.get("other")]
    return base.best(matched)


def _shown(answer: Mapping[str, Any], dash: str) -> str:
    low, high = bounds(answer)
    return f"{low:g}" if low == high else f"{low:g}{dash}{high:g}"


def labels(snapshot: Snapshot, response: Any) -> list[str]:
    if normalise(snapshot, response) is None:
        return []
    matched = grade(snapshot, response).detail.get("answer")
    if matched is None or snapshot["numerical"][matched].get("other"):
        return [base.OTHER]
    return [_shown(snapshot["numerical"][matched], "..")]


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    typed = TYPE.safe_normalise(snapshot, response)
    feedback = ""
    if typed is not None:
        matched = grade(snapshot, typed).detail.get("answer")
        if matched is not None:
            feedback = base.feedback_html(snapshot["numerical"][matched].get("feedback", ""), fmt)
    accepted = [{"text": _shown(a, " – "), "weight": float(a.get("weight", 1.0))}
                for a in snapshot["numerical"]
                if float(a.get("weight", 1.0)) > 0 and not a.get("other")]
    return {"typed": typed or "", "accepted": accepted, "feedback": feedback}


TYPE = QuestionType(
    name="numerical",
    label=N_("Numerical"),
    grade=grade,
    normalise_response=normalise,
    permute=base.no_order,
    public=base.no_public,
    from_form=base.text_from_form(normalise),
    to_form=base.text_to_form,
    labels=labels,
    review=review,
    example="::new-question::Bao nhiêu?{#3.14:0.01}",
    formats={"gift": "numerical", "moodle_xml": "numerical"},
)
