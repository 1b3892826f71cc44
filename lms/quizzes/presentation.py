"""How each question type is shown to an officer, read back from a form, and reviewed (pure core).

This is the web half of the question-type registry: ``grading.QUESTION_TYPES`` holds how a type is
graded, :data:`PRESENTERS` how it is presented. Every registered grading type must have a presenter
(checked at import), so a new type cannot reach an officer half-done.

Officers never see snapshot indexes. Choices are shown in a *display order* (a permutation of the
snapshot's answers recorded in the attempt), and forms send display positions, which the presenter maps
back to snapshot indexes. Otherwise a bank whose right answers come first (as most GIFT files are
written) would give the key away in the HTML. The public view of a question carries texts only: no
weights, no feedback, no accepted answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from lms.catalog.render import render_markdown, sanitize_html
from lms.quizzes import grading
from lms.quizzes.grading import InvalidResponse, Snapshot

Order = list[int] | None


# --- question text -------------------------------------------------------------------------------


def render_text(text: str, text_format: str) -> str:
    """A question's text (or an answer's) as safe HTML, by its GIFT text format."""
    if text_format == "markdown":
        return render_markdown(text)
    if text_format == "plain":
        return escape(text).replace("\n", "<br>")
    # "moodle" (Moodle's auto-format) and "html": HTML as written, line breaks kept, then sanitised.
    html = text if text_format == "html" else text.replace("\n", "<br>")
    return sanitize_html(html)


def render_inline(text: str, text_format: str) -> str:
    """Like :func:`render_text` for short pieces (choices, feedback): no wrapping paragraph."""
    html = render_text(text, text_format).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presenter:
    """What the web layer does with one question type.

    ``permute(snapshot, rng, shuffle)`` gives the display order recorded in the attempt (or None);
    ``public(snapshot, order)`` the data a take page may show; ``from_form(snapshot, order, values)``
    turns submitted values (a list of strings, as forms send them) into the canonical response;
    ``to_form(snapshot, order, response)`` the reverse, to fill the form back in; ``labels(snapshot,
    response)`` which answers a response chose (for distractor counts). ``widget`` names the template
    partial under ``templates/quizzes/widgets/``; ``review(snapshot, order, response)`` gives what the
    review page shows, keys and feedback included (:func:`review_view` removes what the quiz's review
    options do not allow).
    """

    name: str
    permute: Callable[[Snapshot, random.Random, bool], Order]
    public: Callable[[Snapshot, Order], dict[str, Any]]
    from_form: Callable[[Snapshot, Order, list[str]], Any]
    to_form: Callable[[Snapshot, Order, Any], Any]
    labels: Callable[[Snapshot, Any], list[str]]
    widget: str
    review: Callable[[Snapshot, Order, Any], dict[str, Any]]
    multiple_values: bool = False


PRESENTERS: dict[str, Presenter] = {}


def register(presenter: Presenter, *, replace: bool = False) -> Presenter:
    """Add a presenter row (``replace=True`` to change an existing one)."""
    if presenter.name in PRESENTERS and not replace:
        raise ValueError(f"presenter {presenter.name!r} is already registered")
    PRESENTERS[presenter.name] = presenter
    return presenter


def presenter(snapshot: Snapshot) -> Presenter:
    """The presenter for a snapshot's type (InvalidResponse for unknown types)."""
    try:
        return PRESENTERS[snapshot["type"]]
    except KeyError:
        raise InvalidResponse(f"unknown question type {snapshot.get('type')!r}") from None


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


# --- shared helpers ------------------------------------------------------------------------------


def _identity(size: int) -> list[int]:
    return list(range(size))


def _permute_answers(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    order = _identity(len(snapshot["answers"]))
    if shuffle:
        rng.shuffle(order)
    return order


def _no_order(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    return None


def _display(order: Order, size: int) -> list[int]:
    if order is None:
        return _identity(size)
    if sorted(order) != _identity(size):
        raise InvalidResponse("the recorded display order does not fit this question")
    return list(order)


def _position(raw: str, size: int) -> int:
    raw = raw.strip()
    if not raw.isdigit() or not 0 <= int(raw) < size:
        raise InvalidResponse(f"not a choice: {raw!r}")
    return int(raw)


def _one(values: list[str]) -> str:
    return values[-1] if values else ""


def _choices(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    fmt = snapshot.get("text_format", "moodle")
    answers = snapshot["answers"]
    return {
        "choices": [
            {"value": pos, "html": render_inline(answers[index]["text"], fmt)}
            for pos, index in enumerate(_display(order, len(answers)))
        ]
    }


# --- single choice -------------------------------------------------------------------------------


def _single_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> int | None:
    raw = _one(values)
    if not raw.strip():
        return None
    display = _display(order, len(snapshot["answers"]))
    return display[_position(raw, len(display))]


def _single_to_form(snapshot: Snapshot, order: Order, response: Any) -> int | None:
    if response is None:
        return None
    return _display(order, len(snapshot["answers"])).index(int(response))


def _answer_labels(snapshot: Snapshot, response: Any) -> list[str]:
    chosen = grading.normalise_response(snapshot, response)
    if chosen is None:
        return []
    indexes = chosen if isinstance(chosen, list) else [chosen]
    return [snapshot["answers"][i]["text"] for i in indexes]


# --- multiple response ---------------------------------------------------------------------------


def _multi_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> list[int]:
    display = _display(order, len(snapshot["answers"]))
    return sorted({display[_position(v, len(display))] for v in values if v.strip()})


def _multi_to_form(snapshot: Snapshot, order: Order, response: Any) -> list[int]:
    display = _display(order, len(snapshot["answers"]))
    return sorted(display.index(int(i)) for i in response or [])


# --- true/false ----------------------------------------------------------------------------------


def _truefalse_public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    return {}


def _truefalse_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> bool | None:
    return grading.normalise_response(snapshot, _one(values))


def _truefalse_to_form(snapshot: Snapshot, order: Order, response: Any) -> str | None:
    return None if response is None else ("true" if response else "false")


def _truefalse_labels(snapshot: Snapshot, response: Any) -> list[str]:
    chosen = grading.normalise_response(snapshot, response)
    return [] if chosen is None else ["true" if chosen else "false"]


# --- typed answers (short, numerical, essay) -----------------------------------------------------


def _no_public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    return {}


MAX_TEXT = 20_000


def _text_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> str | None:
    raw = _one(values)
    if len(raw) > MAX_TEXT:
        raise InvalidResponse("the answer is too long")
    return grading.normalise_response(snapshot, raw)


def _text_to_form(snapshot: Snapshot, order: Order, response: Any) -> str:
    return "" if response is None else str(response)


def _matched_label(key: str) -> Callable[[Snapshot, Any], list[str]]:
    """Which accepted answer a typed response matched (or nothing), for distractor counts."""

    def labels(snapshot: Snapshot, response: Any) -> list[str]:
        if grading.normalise_response(snapshot, response) is None:
            return []
        index = grading.grade(snapshot, response).detail.get("answer")
        if index is None:
            return [OTHER]
        answer = snapshot[key][index]
        if key == "numerical":
            low, high = grading._numerical_bounds(answer)
            return [f"{low:g}" if low == high else f"{low:g}..{high:g}"]
        return [answer["text"]]

    return labels


OTHER = "\u2026"  # label of a typed response that matched no accepted answer


def _no_labels(snapshot: Snapshot, response: Any) -> list[str]:
    return []


# --- matching ------------------------------------------------------------------------------------


def _match_options(snapshot: Snapshot) -> list[str]:
    """The distinct right-hand texts, in snapshot order (items' matches and the extra distractors)."""
    seen: list[str] = []
    for pair in snapshot["pairs"]:
        if pair["right"] not in seen:
            seen.append(pair["right"])
    return seen


def _matching_permute(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    # Always shuffled: in snapshot order, option i would be the match of item i.
    order = _identity(len(_match_options(snapshot)))
    rng.shuffle(order)
    return order


def _matching_public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    fmt = snapshot.get("text_format", "moodle")
    options = _match_options(snapshot)
    display = _display(order, len(options))
    return {
        "match_items": [
            {"index": i, "html": render_inline(pair["left"], fmt)}
            for i, pair in enumerate(snapshot["pairs"])
            if pair["left"]
        ],
        "options": [{"value": pos, "text": options[i]} for pos, i in enumerate(display)],
    }


def _matching_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> dict[int, str]:
    """Values are ``"<item index>:<option position>"`` strings (one per answered item)."""
    options = _match_options(snapshot)
    display = _display(order, len(options))
    chosen: dict[str, str] = {}
    for value in values:
        item, sep, pos = value.partition(":")
        if not sep:
            raise InvalidResponse(f"not an item and its match: {value!r}")
        if pos.strip():
            chosen[item.strip()] = options[display[_position(pos, len(display))]]
    return grading.normalise_response(snapshot, chosen)


def _matching_to_form(snapshot: Snapshot, order: Order, response: Any) -> dict[int, int]:
    options = _match_options(snapshot)
    display = _display(order, len(options))
    out: dict[int, int] = {}
    for item, text in (grading.normalise_response(snapshot, response) or {}).items():
        if text in options:
            out[int(item)] = display.index(options.index(text))
    return out


def _matching_labels(snapshot: Snapshot, response: Any) -> list[str]:
    chosen = grading.normalise_response(snapshot, response)
    return [f"{snapshot['pairs'][i]['left']} \u2192 {text}" for i, text in sorted(chosen.items())]


# --- description ---------------------------------------------------------------------------------


def _nothing_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> None:
    return None


def _nothing_to_form(snapshot: Snapshot, order: Order, response: Any) -> None:
    return None


# --- review --------------------------------------------------------------------------------------


def _feedback(text: str, fmt: str) -> str:
    return render_inline(text, fmt) if text else ""


def _safe_normalise(snapshot: Snapshot, response: Any) -> Any:
    try:
        return grading.normalise_response(snapshot, response)
    except InvalidResponse:
        return None


def _review_choices(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = snapshot.get("text_format", "moodle")
    chosen = _safe_normalise(snapshot, response)
    chosen_set = set(chosen if isinstance(chosen, list) else [] if chosen is None else [chosen])
    answers = snapshot["answers"]
    return {"choices": [
        {"html": render_inline(answers[i]["text"], fmt), "chosen": i in chosen_set,
         "right": float(answers[i]["weight"]) > 0, "weight": float(answers[i]["weight"]),
         "feedback": _feedback(answers[i].get("feedback", ""), fmt) if i in chosen_set else ""}
        for i in _display(order, len(answers))
    ]}


def _review_truefalse(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = snapshot.get("text_format", "moodle")
    chosen = _safe_normalise(snapshot, response)
    choices = []
    for answer in snapshot["answers"]:
        is_chosen = chosen is not None and answer["text"] == ("true" if chosen else "false")
        choices.append({"label": answer["text"], "chosen": is_chosen,
                        "right": float(answer["weight"]) > 0, "weight": float(answer["weight"]),
                        "feedback": _feedback(answer.get("feedback", ""), fmt) if is_chosen else ""})
    return {"choices": choices}


def _review_typed(key: str) -> Callable[[Snapshot, Order, Any], dict[str, Any]]:
    def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
        fmt = snapshot.get("text_format", "moodle")
        typed = _safe_normalise(snapshot, response)
        feedback = ""
        if typed is not None:
            index = grading.grade(snapshot, typed).detail.get("answer")
            if index is not None:
                feedback = _feedback(snapshot[key][index].get("feedback", ""), fmt)
        accepted = []
        for answer in snapshot[key]:
            weight = float(answer.get("weight", 1.0))
            if weight <= 0:
                continue
            if key == "numerical":
                low, high = grading._numerical_bounds(answer)
                text = f"{low:g}" if low == high else f"{low:g} – {high:g}"
            else:
                text = answer["text"]
            accepted.append({"text": text, "weight": weight})
        return {"typed": typed or "", "accepted": accepted, "feedback": feedback}

    return review


def _review_matching(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = snapshot.get("text_format", "moodle")
    chosen = _safe_normalise(snapshot, response) or {}
    return {"match_items": [
        {"html": render_inline(pair["left"], fmt), "chosen": chosen.get(i, ""),
         "answer": pair["right"], "ok": chosen.get(i) == pair["right"]}
        for i, pair in enumerate(snapshot["pairs"]) if pair["left"]
    ]}


def _review_essay(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    return {"essay": _safe_normalise(snapshot, response) or ""}


def _review_nothing(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    return {}


_KEY_FIELDS = ("right", "weight", "accepted", "answer", "ok")


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


for _row in (
    Presenter("single", _permute_answers, _choices, _single_from_form, _single_to_form,
              _answer_labels, "single", _review_choices),
    Presenter("multi", _permute_answers, _choices, _multi_from_form, _multi_to_form,
              _answer_labels, "multi", _review_choices, multiple_values=True),
    Presenter("truefalse", _no_order, _truefalse_public, _truefalse_from_form, _truefalse_to_form,
              _truefalse_labels, "truefalse", _review_truefalse),
    Presenter("short", _no_order, _no_public, _text_from_form, _text_to_form,
              _matched_label("answers"), "short", _review_typed("answers")),
    Presenter("numerical", _no_order, _no_public, _text_from_form, _text_to_form,
              _matched_label("numerical"), "numerical", _review_typed("numerical")),
    Presenter("matching", _matching_permute, _matching_public, _matching_from_form,
              _matching_to_form, _matching_labels, "matching", _review_matching,
              multiple_values=True),
    Presenter("essay", _no_order, _no_public, _text_from_form, _text_to_form, _no_labels, "essay",
              _review_essay),
    Presenter("description", _no_order, _no_public, _nothing_from_form, _nothing_to_form,
              _no_labels, "description", _review_nothing),
):
    register(_row)
del _row


def check_registry(types: Sequence[str] | None = None) -> None:
    """Every gradable type has a presenter (called at import, and by a test)."""
    missing = sorted(set(types if types is not None else grading.QUESTION_TYPES) - set(PRESENTERS))
    if missing:
        raise RuntimeError(f"question types without a presenter: {', '.join(missing)}")


check_registry()


def labels_for(snapshot: Snapshot, response: Any) -> list[str]:
    """The answers a response chose, by text (empty when unanswered or unreadable)."""
    try:
        return presenter(snapshot).labels(snapshot, response)
    except InvalidResponse:
        return []


def as_mapping(value: Any) -> Mapping[str, Any]:
    """Helper for templates: a saved form state that is a dict (matching), else an empty dict."""
    return value if isinstance(value, Mapping) else {}
