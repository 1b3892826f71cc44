"""Grading: one registry row per question type, and the graders in it.

Graders read the question snapshot stored in the attempt (``question_to_dict`` output, possibly after a
trip through JSON) and the officer's response, never the live question bank. Each type's row holds a
``normalise_response`` that turns what a form or a JSON column gives us into the canonical response
shape, and a ``grade`` that scores a response (normalising it first, so both shapes are accepted).

Response shapes, per type (``None`` or an empty value always means "not answered"):

- ``single``: the index of the chosen answer in the snapshot's ``answers`` list (``int``).
- ``multi``: the indexes of the chosen answers (``list[int]``; order and repeats do not matter).
- ``truefalse``: ``True`` or ``False`` (forms may send "true"/"false"/"1"/"0").
- ``short``: the typed text (``str``).
- ``numerical``: the typed number as text (``str``), e.g. "3,14" or "3.14"; numbers are accepted too.
- ``matching``: ``{index of the pair in the snapshot's pairs: chosen right-hand text}`` (``dict``);
  string keys such as "0" (what JSON gives back) are accepted.
- ``essay``: the written text (``str``).
- ``description``: nothing; a description is not a question and is worth no marks.

Scoring rules: a single choice scores its weight, floored at 0. A multiple response scores the sum of
the chosen weights, floored at 0 and capped at 1. A short answer scores the best-weighted accepted
answer it matches: after Unicode NFC and collapsing whitespace, ignoring case when the question says so
(the default) and Vietnamese diacritics when it says so, with Moodle's ``*`` wildcard (``\\*`` for a
literal star). A number scores the best weight among the answers whose tolerance or range contains it.
Matching scores the share of items matched right. An essay needs a trainer: its fraction is ``None``
and ``needs_manual`` is set until someone grades it.

The web layer extends the registry rows (form widget, review view) with ``register``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Snapshot = Mapping[str, Any]


class InvalidResponse(ValueError):
    """A response that cannot belong to this question (a tampered form, a stale snapshot)."""


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one response; ``fraction`` is None while a person still has to grade."""

    fraction: float | None
    needs_manual: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict, compare=True, hash=False)


@dataclass(frozen=True)
class QuestionType:
    """One row of the registry: everything lms knows how to do with one type of question."""

    name: str
    grade: Callable[[Snapshot, Any], Grade]
    normalise_response: Callable[[Snapshot, Any], Any]
    # False for types that are worth no marks (descriptions): they add nothing to the maximum score.
    scored: bool = True


QUESTION_TYPES: dict[str, QuestionType] = {}


def register(question_type: QuestionType, *, replace: bool = False) -> QuestionType:
    """Add a row to the registry (``replace=True`` to extend an existing row)."""
    if question_type.name in QUESTION_TYPES and not replace:
        raise ValueError(f"question type {question_type.name!r} is already registered")
    QUESTION_TYPES[question_type.name] = question_type
    return question_type


def question_type(snapshot: Snapshot) -> QuestionType:
    """The registry row for a snapshot's type; raises InvalidResponse for unknown types."""
    try:
        return QUESTION_TYPES[snapshot["type"]]
    except KeyError:
        raise InvalidResponse(f"unknown question type {snapshot.get('type')!r}") from None


def grade(snapshot: Snapshot, response: Any) -> Grade:
    """Grade ``response`` against a question snapshot with the grader registered for its type."""
    return question_type(snapshot).grade(snapshot, response)


def normalise_response(snapshot: Snapshot, raw: Any) -> Any:
    """The canonical response shape for a snapshot's type (raises InvalidResponse on garbage)."""
    return question_type(snapshot).normalise_response(snapshot, raw)


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


def _wildcard_pieces(answer: str, ignore_case: bool, ignore_diacritics: bool) -> list[str]:
    """Moodle's short-answer wildcard: ``*`` stands for any text, ``\\*`` for a star."""
    collapsed = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", answer)).strip()
    pieces = []
    for piece in re.split(r"(?<!\\)\*", collapsed):
        piece = piece.replace("\\*", "*")
        if ignore_diacritics:
            piece = strip_diacritics(piece)
        if ignore_case:
            piece = piece.casefold()
        pieces.append(piece)
    return pieces


def _glob_fullmatch(pieces: list[str], text: str) -> bool:
    """Whether ``text`` is the pieces in order with anything between them.

    Not a regular expression: ``.*a.*a.*b`` backtracks in O(n^3) on a long typed answer, so an
    officer could hang a worker on every page that grades it. Taking each middle piece at its first
    place is always right when the only wildcard is "any text", and needs no backtracking.
    """
    if len(pieces) == 1:
        return text == pieces[0]
    first, *middle, last = pieces
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    position = len(first)
    for piece in middle:
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def short_answer_matches(
    answer: str, response: str, *, ignore_case: bool = True, ignore_diacritics: bool = False
) -> bool:
    """Whether a typed response matches one accepted short answer (wildcards included)."""
    typed = normalise_text(response, ignore_case=ignore_case, ignore_diacritics=ignore_diacritics)
    return _glob_fullmatch(_wildcard_pieces(answer, ignore_case, ignore_diacritics), typed)


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


def _numerical_bounds(answer: Mapping[str, Any]) -> tuple[float, float]:
    if answer.get("value") is None:
        return float(answer["minimum"]), float(answer["maximum"])
    value, tolerance = float(answer["value"]), float(answer.get("tolerance") or 0.0)
    return value - tolerance, value + tolerance


def _within(number: float, low: float, high: float) -> bool:
    # Forgive float noise in tolerances such as 3.14 +/- 0.01 without widening real ranges.
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    return low - slack <= number <= high + slack


# --- normalisers ---------------------------------------------------------------------------------


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple | set | dict) and not raw)


def _index(raw: Any, size: int) -> int:
    if isinstance(raw, bool):
        raise InvalidResponse(f"not a choice index: {raw!r}")
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 0 <= raw < size:
        raise InvalidResponse(f"not a choice index: {raw!r}")
    return raw


def _normalise_single(snapshot: Snapshot, raw: Any) -> int | None:
    return None if _blank(raw) else _index(raw, len(snapshot["answers"]))


def _normalise_multi(snapshot: Snapshot, raw: Any) -> list[int]:
    if _blank(raw):
        return []
    if isinstance(raw, str | int):
        raw = [raw]
    if not isinstance(raw, list | tuple | set | frozenset):
        raise InvalidResponse(f"not a list of choice indexes: {raw!r}")
    items: Iterable[Any] = raw
    return sorted({_index(item, len(snapshot["answers"])) for item in items})


_TRUE_WORDS = {"true", "t", "1", "yes", "đúng"}
_FALSE_WORDS = {"false", "f", "0", "no", "sai"}


def _normalise_truefalse(snapshot: Snapshot, raw: Any) -> bool | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    word = unicodedata.normalize("NFC", str(raw)).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise InvalidResponse(f"not true or false: {raw!r}")


def _normalise_text(snapshot: Snapshot, raw: Any) -> str | None:
    if _blank(raw):
        return None
    if not isinstance(raw, str):
        raise InvalidResponse(f"not text: {raw!r}")
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n")).strip()
    return text or None


def _normalise_numerical(snapshot: Snapshot, raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return repr(float(raw))
    return _normalise_text(snapshot, raw)


def _normalise_matching(snapshot: Snapshot, raw: Any) -> dict[int, str]:
    if _blank(raw):
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidResponse(f"not a mapping of items to matches: {raw!r}")
    pairs = snapshot["pairs"]
    chosen: dict[int, str] = {}
    for key, value in raw.items():
        index = _index(key, len(pairs))
        if not pairs[index]["left"]:
            raise InvalidResponse(f"pair {index} is a distractor, not an item")
        text = _normalise_text(snapshot, value)
        if text is not None:
            chosen[index] = text
    return chosen


def _normalise_nothing(snapshot: Snapshot, raw: Any) -> None:
    return None


# --- graders -------------------------------------------------------------------------------------


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _grade_single(snapshot: Snapshot, response: Any) -> Grade:
    chosen = _normalise_single(snapshot, response)
    if chosen is None:
        return Grade(0.0, detail={"answer": None})
    return Grade(_clamp(float(snapshot["answers"][chosen]["weight"])), detail={"answer": chosen})


def _grade_multi(snapshot: Snapshot, response: Any) -> Grade:
    chosen = _normalise_multi(snapshot, response)
    total = math.fsum(float(snapshot["answers"][i]["weight"]) for i in chosen)
    return Grade(_clamp(total), detail={"answers": chosen})


def _grade_truefalse(snapshot: Snapshot, response: Any) -> Grade:
    chosen = _normalise_truefalse(snapshot, response)
    if chosen is None:
        return Grade(0.0, detail={"answer": None})
    wanted = "true" if chosen else "false"
    for index, answer in enumerate(snapshot["answers"]):
        if answer["text"] == wanted:
            return Grade(_clamp(float(answer["weight"])), detail={"answer": index})
    raise InvalidResponse("the snapshot is not a true/false question")


def _best(weights: Iterable[tuple[int, float]]) -> Grade:
    """The best-weighted matching answer wins; ties go to the first one."""
    best_index, best_weight = None, 0.0
    for index, weight in weights:
        if best_index is None or weight > best_weight:
            best_index, best_weight = index, weight
    return Grade(
        _clamp(best_weight) if best_index is not None else 0.0, detail={"answer": best_index}
    )


def _grade_short(snapshot: Snapshot, response: Any) -> Grade:
    typed = _normalise_text(snapshot, response)
    if typed is None:
        return Grade(0.0, detail={"answer": None})
    options = {
        "ignore_case": bool(snapshot.get("ignore_case", True)),
        "ignore_diacritics": bool(snapshot.get("ignore_diacritics", False)),
    }
    return _best(
        (index, float(answer["weight"]))
        for index, answer in enumerate(snapshot["answers"])
        if short_answer_matches(answer["text"], typed, **options)
    )


def _grade_numerical(snapshot: Snapshot, response: Any) -> Grade:
    typed = _normalise_numerical(snapshot, response)
    if typed is None:
        return Grade(0.0, detail={"answer": None})
    number = parse_number(typed)
    if number is None:
        return Grade(0.0, detail={"answer": None, "not_a_number": True})
    return _best(
        (index, float(answer.get("weight", 1.0)))
        for index, answer in enumerate(snapshot["numerical"])
        if _within(number, *_numerical_bounds(answer))
    )


def _grade_matching(snapshot: Snapshot, response: Any) -> Grade:
    chosen = _normalise_matching(snapshot, response)
    items = [i for i, pair in enumerate(snapshot["pairs"]) if pair["left"]]
    if not items:
        raise InvalidResponse("the snapshot has no items to match")
    right = [
        i
        for i in items
        if chosen.get(i) == unicodedata.normalize("NFC", snapshot["pairs"][i]["right"])
    ]
    return Grade(len(right) / len(items), detail={"right": right, "items": len(items)})


def _grade_essay(snapshot: Snapshot, response: Any) -> Grade:
    if _normalise_text(snapshot, response) is None:
        # Nothing to read: a blank essay scores 0 at once instead of waiting in a trainer's queue.
        return Grade(0.0, detail={"blank": True})
    return Grade(None, needs_manual=True)


def _grade_description(snapshot: Snapshot, response: Any) -> Grade:
    return Grade(0.0, detail={"scored": False})


for _row in (
    QuestionType("single", _grade_single, _normalise_single),
    QuestionType("multi", _grade_multi, _normalise_multi),
    QuestionType("truefalse", _grade_truefalse, _normalise_truefalse),
    QuestionType("short", _grade_short, _normalise_text),
    QuestionType("numerical", _grade_numerical, _normalise_numerical),
    QuestionType("matching", _grade_matching, _normalise_matching),
    QuestionType("essay", _grade_essay, _normalise_text),
    QuestionType("description", _grade_description, _normalise_nothing, scored=False),
):
    register(_row)
del _row
