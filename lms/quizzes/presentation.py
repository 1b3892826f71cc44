"""How a question is shown to an officer, read back from a form, and reviewed (pure core).

The behaviour of each type is in its row of the question-type table (``lms.questionformat.qtypes``); this
module dispatches to it and removes from a review what the quiz's review options do not allow.

Officers never see snapshot indexes. Choices are shown in a *display order* (a permutation of the
snapshot's answers recorded in the attempt), and forms send display positions, which the type maps
back to snapshot indexes. Otherwise a bank whose right answers come first (as most GIFT files are
written) would give the key away in the HTML. The public view of a question carries texts only: no
weights, no feedback, no accepted answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lms.questionformat import qtypes
from lms.questionformat.qtypes.base import (
    OTHER,
    InvalidResponse,
    Order,
    QuestionType,
    Snapshot,
    render_inline,
    render_text,
)

PRESENTERS = qtypes.TYPES


def presenter(snapshot: Snapshot) -> QuestionType:
    """The table row for a snapshot's type (InvalidResponse for unknown types)."""
    return qtypes.for_snapshot(snapshot)


def public_view(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    """What an officer taking the quiz may see of a question: type, text, choices; never the key."""
    fmt = snapshot.get("text_format", "moodle")
    view = {"type": snapshot["type"], "html": render_text(snapshot.get("text", ""), fmt)}
    view.update(presenter(snapshot).public(snapshot, order))
    return view


def response_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> Any:
    """Submitted values for one question -> canonical response (InvalidResponse on tampering)."""
    return presenter(snapshot).from_form(snapshot, order, values)


def response_to_form(snapshot: Snapshot, order: Order, response: Any) -> Any:
    """A saved response in the shape the widget shows (display positions, text)."""
    return presenter(snapshot).to_form(snapshot, order, response)


_KEY_FIELDS = ("right", "weight", "accepted", "answer", "ok", "position")


def review_view(
    snapshot: Snapshot, order: Order, response: Any, *, correct: bool, feedback: bool
) -> dict[str, Any]:
    """The review of one answered question, without the keys or feedback the options forbid."""
    view = {"type": snapshot["type"],
            "html": render_text(snapshot.get("text", ""), snapshot.get("text_format", "moodle"))}
    view.update(presenter(snapshot).review(snapshot, order, response))
    if feedback and snapshot.get("general_feedback"):
        view["general_feedback"] = render_text(snapshot["general_feedback"],
                                               snapshot.get("text_format", "moodle"))

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if (correct or k not in _KEY_FIELDS) and (feedback or k != "feedback")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(view)


def labels_for(snapshot: Snapshot, response: Any) -> list[str]:
    """The answers a response chose, by text (empty when unanswered or unreadable)."""
    try:
        return presenter(snapshot).labels(snapshot, response)
    except InvalidResponse:
        return []


def as_mapping(value: Any) -> Mapping[str, Any]:
    """Helper for templates: a saved form state that is a dict (matching), else an empty dict."""
    return value if isinstance(value, Mapping) else {}


__all__ = [
    "OTHER",
    "PRESENTERS",
    "as_mapping",
    "labels_for",
    "presenter",
    "public_view",
    "render_inline",
    "render_text",
    "response_from_form",
    "response_to_form",
    "review_view",
]
