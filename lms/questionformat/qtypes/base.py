"""What every question type module builds on: the registry row and the helpers types share (pure core).

A question type is one module in this package that defines ``TYPE``, a :class:`QuestionType` row; the
table in ``qtypes/__init__.py`` lists the modules. Everything else derives from that table: grading,
the take and review pages, the web editor, content files, item analysis and the import/export formats.
Nothing here needs Flask or a database.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from lms.markup import render_markdown, sanitize_html

Snapshot = Mapping[str, Any]
Order = list[int] | None


class InvalidResponse(ValueError):
    """A response that cannot belong to this question (a tampered form, a stale snapshot)."""


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one response; ``fraction`` is None while a person still has to grade."""

    fraction: float | None
    needs_manual: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict, compare=True, hash=False)


class ContentError(ValueError):
    """A question in a content file that its type cannot accept; ``key`` says which entry is wrong
    ("items", or "items[2]" for the third entry of a list), so the reader can give its line."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message, self.key = message, key


@dataclass(frozen=True)
class QuestionType:
    """One row of the registry: everything lms knows how to do with one type of question.

    Grading: ``grade(snapshot, response)`` scores a response (normalising it first);
    ``normalise_response(snapshot, raw)`` gives the canonical response shape (InvalidResponse on
    garbage). ``scored`` is False for types worth no marks (descriptions).

    Take and review pages (display order, no key in the HTML): ``permute(snapshot, rng, shuffle)``
    gives the display order recorded in the attempt; ``public(snapshot, order)`` what a take page
    may show; ``from_form(snapshot, order, values)`` turns submitted strings into the canonical
    response and ``to_form`` does the reverse; ``labels(snapshot, response)`` names what a response
    chose (distractor counts in item analysis); ``review(snapshot, order, response)`` what the
    review page shows, keys and feedback included (the caller strips what the quiz hides). The
    templates are ``quizzes/widgets/<name>.html`` and ``quizzes/review/<name>.html``.

    Authoring: ``label`` (an English msgid, translated by the web layer) names the type;
    ``example`` is the source a new question starts from in the web editor, written in
    ``source_format`` ("gift" for the types GIFT can say, "yaml" for the content-file form).
    ``content_keys``/``from_content``/``to_content`` are the type's part of a question in a YAML
    content file (``qtypes.content``); None when the type is written in GIFT only.

    Formats: ``formats`` maps an import/export format name ("gift", "aiken", "moodle_xml") to the
    type's mapping for it; what a mapping is belongs to the format's module. A format that finds no
    entry for a type skips its questions with a warning (``qtypes.exportable``).

    Item analysis: ``analysis_answers(snapshot)`` lists the (text, weight) choices whose pick rates
    the analysis page shows; empty for types without fixed choices.
    """

    name: str
    label: str
    grade: Callable[[Snapshot, Any], Grade]
    normalise_response: Callable[[Snapshot, Any], Any]
    permute: Callable[[Snapshot, random.Random, bool], Order]
    public: Callable[[Snapshot, Order], dict[str, Any]]
    from_form: Callable[[Snapshot, Order, list[str]], Any]
    to_form: Callable[[Snapshot, Order, Any], Any]
    labels: Callable[[Snapshot, Any], list[str]]
    review: Callable[[Snapshot, Order, Any], dict[str, Any]]
    example: str
    source_format: str = "gift"
    multiple_values: bool = False
    scored: bool = True
    formats: Mapping[str, Any] = field(default_factory=dict)
    analysis_answers: Callable[[Snapshot], tuple[tuple[str, float], ...]] = lambda snapshot: ()
    content_keys: frozenset[str] = frozenset()
    from_content: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    to_content: Callable[[Any], dict[str, Any]] | None = None

    @property
    def widget(self) -> str:
        """The take-page partial under ``templates/quizzes/widgets/``."""
        return self.name

    @property
    def review_template(self) -> str:
        """The review partial under ``templates/quizzes/review/``."""
        return f"quizzes/review/{self.name}.html"

    def safe_normalise(self, snapshot: Snapshot, response: Any) -> Any:
        """The canonical response, or None when a stored response no longer fits the snapshot."""
        try:
            return self.normalise_response(snapshot, response)
        except InvalidResponse:
            return None


# --- question text -------------------------------------------------------------------------------


def render_text(text: str, text_format: str) -> str:
    """A question's text (or an answer's) as safe HTML, by its GIFT text format."""
    # Pictures imported from Moodle XML are embedded as data: URLs (raster images only).
    if text_format == "markdown":
        return render_markdown(text, data_images=True)
    if text_format == "plain":
        return escape(text).replace("\n", "<br>")
    # "moodle" (Moodle's auto-format) and "html": HTML as written, line breaks kept, then sanitised.
    html = text if text_format == "html" else text.replace("\n", "<br>")
    return sanitize_html(html, data_images=True)


def render_inline(text: str, text_format: str) -> str:
    """Like :func:`render_text` for short pieces (choices, feedback): no wrapping paragraph."""
    html = render_text(text, text_format).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def text_format(snapshot: Snapshot) -> str:
    return str(snapshot.get("text_format", "moodle"))


def feedback_html(text: str, fmt: str) -> str:
    return render_inline(text, fmt) if text else ""


# --- text matching -------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def strip_diacritics(text: str) -> str:
    """Vietnamese without its marks: "Quyền con người" -> "Quyen con nguoi" (đ/Đ become d/D)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def normalise_text(text: str, *, ignore_case: bool = True, ignore_diacritics: bool = False) -> str:
    """Text as short answers compare it: NFC, whitespace collapsed, optionally case/diacritics folded."""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if ignore_diacritics:
        text = strip_diacritics(text)
    if ignore_case:
        text = text.casefold()
    return text


# --- numbers -------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})


def parse_number(text: str) -> float | None:
    """A typed number, or None: accepts "3.14", "3,14" (decimal comma), "1.234,5" and "1,234.5"."""
    s = _WHITESPACE.sub("", unicodedata.normalize("NFKC", text)).translate(_MINUS)
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _sep, fraction = s.rpartition(decimal)
        if not re.fullmatch(r"[-+]?[0-9]{1,3}(?:" + re.escape(group) + r"[0-9]{3})+", whole):
            return None
        s = whole.replace(group, "") + "." + fraction
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(s):
        return None
    value = float(s)
    return value if math.isfinite(value) else None


# --- normalisers ---------------------------------------------------------------------------------


def blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple | set | dict) and not raw)


def index(raw: Any, size: int) -> int:
    """A choice index from a form or JSON value (InvalidResponse unless 0 <= it < size)."""
    if isinstance(raw, bool):
        raise InvalidResponse(f"not a choice index: {raw!r}")
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 0 <= raw < size:
        raise InvalidResponse(f"not a choice index: {raw!r}")
    return raw


def normalise_typed(snapshot: Snapshot, raw: Any) -> str | None:
    """Typed text: NFC, Windows line ends folded, stripped; None when empty."""
    if blank(raw):
        return None
    if not isinstance(raw, str):
        raise InvalidResponse(f"not text: {raw!r}")
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n")).strip()
    return text or None


def normalise_nothing(snapshot: Snapshot, raw: Any) -> None:
    return None


def clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def best(weights: Iterable[tuple[int, float]]) -> Grade:
    """The best-weighted matching answer wins; ties go to the first one."""
    best_index, best_weight = None, 0.0
    for i, weight in weights:
        if best_index is None or weight > best_weight:
            best_index, best_weight = i, weight
    return Grade(clamp(best_weight) if best_index is not None else 0.0, detail={"answer": best_index})


# --- presentation helpers ------------------------------------------------------------------------

MAX_TEXT = 20_000
OTHER = "\u2026"  # label of a typed response that matched no accepted answer


def identity(size: int) -> list[int]:
    return list(range(size))


def permute_answers(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    order = identity(len(snapshot["answers"]))
    if shuffle:
        rng.shuffle(order)
    return order


def no_order(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    return None


def display(order: Order, size: int) -> list[int]:
    """The recorded display order (snapshot indexes by display position), checked against the size."""
    if order is None:
        return identity(size)
    if sorted(order) != identity(size):
        raise InvalidResponse("the recorded display order does not fit this question")
    return list(order)


def position(raw: str, size: int) -> int:
    """A display position sent by a form (InvalidResponse unless 0 <= it < size)."""
    raw = raw.strip()
    if not raw.isdigit() or not 0 <= int(raw) < size:
        raise InvalidResponse(f"not a choice: {raw!r}")
    return int(raw)


def last_value(values: list[str]) -> str:
    return values[-1] if values else ""


def no_public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    return {}


def no_labels(snapshot: Snapshot, response: Any) -> list[str]:
    return []


def nothing_from_form(snapshot: Snapshot, order: Order, values: list[str]) -> None:
    return None


def nothing_to_form(snapshot: Snapshot, order: Order, response: Any) -> None:
    return None


def review_nothing(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    return {}


def text_from_form(
    normalise: Callable[[Snapshot, Any], Any],
) -> Callable[[Snapshot, Order, list[str]], Any]:
    """A form reader for one typed answer, normalised by the type's own normaliser."""

    def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> Any:
        raw = last_value(values)
        if len(raw) > MAX_TEXT:
            raise InvalidResponse("the answer is too long")
        return normalise(snapshot, raw)

    return from_form


def text_to_form(snapshot: Snapshot, order: Order, response: Any) -> str:
    return "" if response is None else str(response)


def choices(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    """The answers of a choice question in display order, as the take page shows them."""
    fmt = text_format(snapshot)
    answers = snapshot["answers"]
    return {
        "choices": [
            {"value": pos, "html": render_inline(answers[i]["text"], fmt)}
            for pos, i in enumerate(display(order, len(answers)))
        ]
    }


def answer_weights(snapshot: Snapshot) -> tuple[tuple[str, float], ...]:
    """The (text, weight) of every answer, for item analysis of choice-like types."""
    return tuple((a["text"], float(a["weight"])) for a in snapshot.get("answers", ()))


def answer_labels(
    normalise: Callable[[Snapshot, Any], Any],
) -> Callable[[Snapshot, Any], list[str]]:
    """Which answers a choice response chose, by text (for distractor counts)."""

    def labels(snapshot: Snapshot, response: Any) -> list[str]:
        chosen = normalise(snapshot, response)
        if chosen is None:
            return []
        indexes = chosen if isinstance(chosen, list) else [chosen]
        return [snapshot["answers"][i]["text"] for i in indexes]

    return labels


def review_choices(
    normalise: Callable[[Snapshot, Any], Any],
) -> Callable[[Snapshot, Order, Any], dict[str, Any]]:
    """The review of a choice question: every choice in display order, chosen and right marked."""

    def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
        fmt = text_format(snapshot)
        try:
            chosen = normalise(snapshot, response)
        except InvalidResponse:
            chosen = None
        chosen_set = set(chosen if isinstance(chosen, list) else [] if chosen is None else [chosen])
        answers = snapshot["answers"]
        return {"choices": [
            {"html": render_inline(answers[i]["text"], fmt), "chosen": i in chosen_set,
             "right": float(answers[i]["weight"]) > 0, "weight": float(answers[i]["weight"]),
             "feedback": feedback_html(answers[i].get("feedback", ""), fmt) if i in chosen_set else ""}
            for i in display(order, len(answers))
        ]}

    return review
