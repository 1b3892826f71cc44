"""The question model shared by the importers, the grader and attempt snapshots.

A ``Question`` is a frozen value: importers (GIFT, Aiken) produce it, ``question_to_dict`` turns it into
plain JSON-able data that an attempt stores as its snapshot, and ``question_from_dict`` reads it back.
Which fields matter depends on ``type``:

- ``single``, ``multi``, ``truefalse``, ``short``: ``answers`` (text, weight, feedback). A true/false
  question always has exactly two answers, ``true`` then ``false``, whose weights say which is right.
- ``numerical``: ``numerical`` answers, each either ``value`` +/- ``tolerance`` or ``minimum..maximum``.
- ``matching``: ``pairs``; a pair with an empty ``left`` is an extra wrong choice on the right.
- ``essay`` and ``description``: text only.

Weights are fractions of the question's marks, from -1 (minus everything) to 1 (full marks).
``line`` is where the question started in its source file; it is left out of equality so that a
question compares equal to itself re-imported from somewhere else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# A type name is one of ``lms.questionformat.qtypes.NAMES``: the question-type table owns the list.
QuestionTypeName = str
TextFormat = Literal["moodle", "html", "plain", "markdown"]

TEXT_FORMATS: tuple[str, ...] = ("moodle", "html", "plain", "markdown")
# The version of the dict layout written by ``question_to_dict``; snapshots outlive code changes.
SNAPSHOT_SCHEMA = 1


def _check_weight(weight: float) -> None:
    if not (isinstance(weight, int | float) and math.isfinite(weight) and -1 <= weight <= 1):
        raise ValueError(f"weight must be a number from -1 to 1, not {weight!r}")


def _check_number(value: float | None, what: str) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
        raise ValueError(f"{what} must be a finite number, not {value!r}")


@dataclass(frozen=True)
class Answer:
    """One choice of a choice question, or one accepted text of a short-answer question."""

    text: str
    weight: float = 0.0
    feedback: str = ""

    def __post_init__(self) -> None:
        _check_weight(self.weight)


@dataclass(frozen=True)
class MatchPair:
    """An item on the left and the text it matches on the right (empty left: a distractor)."""

    left: str
    right: str


@dataclass(frozen=True)
class NumericalAnswer:
    """An accepted number: ``value`` +/- ``tolerance``, or the closed range ``minimum..maximum``.

    ``other`` is Moodle's ``*`` answer ("any other answer", written ``~#feedback`` in GIFT): it
    matches every number that no other answer matches, usually with no marks and a feedback.
    """

    value: float | None = None
    tolerance: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    weight: float = 1.0
    feedback: str = ""
    other: bool = False

    def __post_init__(self) -> None:
        _check_weight(self.weight)
        for name in ("value", "tolerance", "minimum", "maximum"):
            _check_number(getattr(self, name), name)
        is_range = self.minimum is not None or self.maximum is not None
        if self.other:
            if self.value is not None or is_range:
                raise ValueError("an 'any other answer' entry has no value or range")
            return
        if is_range:
            if self.value is not None or self.minimum is None or self.maximum is None:
                raise ValueError("a numerical answer is either value+tolerance or minimum..maximum")
            if self.minimum > self.maximum:
                raise ValueError("minimum must not be above maximum")
        elif self.value is None:
            raise ValueError("a numerical answer needs a value or a range")
        if self.tolerance < 0:
            raise ValueError("tolerance must not be negative")

    @property
    def is_range(self) -> bool:
        """True when written as ``minimum..maximum``."""
        return self.value is None and not self.other

    def bounds(self) -> tuple[float, float]:
        """The closed interval of accepted numbers."""
        if self.other:
            return float("-inf"), float("inf")
        if self.value is None:
            assert self.minimum is not None and self.maximum is not None
            return self.minimum, self.maximum
        return self.value - self.tolerance, self.value + self.tolerance


@dataclass(frozen=True)
class Question:
    """A parsed question, independent of the format it came from."""

    type: QuestionTypeName
    name: str
    text: str
    text_format: TextFormat = "moodle"
    answers: tuple[Answer, ...] = ()
    pairs: tuple[MatchPair, ...] = ()
    numerical: tuple[NumericalAnswer, ...] = ()
    general_feedback: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    idnumber: str = ""
    # Short-answer matching options; Moodle compares case-insensitively by default.
    ignore_case: bool = True
    ignore_diacritics: bool = False
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.type not in _type_names():
            raise ValueError(f"unknown question type {self.type!r}")
        if self.text_format not in TEXT_FORMATS:
            raise ValueError(f"unknown text format {self.text_format!r}")
        if not self.name:
            raise ValueError("a question needs a name")
        # Accept lists from callers but store tuples, so questions stay hashable and immutable.
        for name in ("answers", "pairs", "numerical", "tags"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    @property
    def correct_answer(self) -> bool | None:
        """For true/false questions: which statement is right; None for other types."""
        if self.type != "truefalse":
            return None
        return any(a.text == "true" and a.weight > 0 for a in self.answers)


_NAMES: tuple[str, ...] = ()


def _type_names() -> tuple[str, ...]:
    # The table's modules import this one for Question, so the table is read when the first
    # question is built, not when this module is imported.
    global _NAMES
    if not _NAMES:
        from lms.questionformat.qtypes import NAMES

        _NAMES = NAMES
    return _NAMES


def truefalse_answers(
    correct: bool, right_feedback: str = "", wrong_feedback: str = ""
) -> tuple[Answer, Answer]:
    """The two answers of a true/false question: ``true`` then ``false``."""
    if correct:
        return Answer("true", 1.0, right_feedback), Answer("false", 0.0, wrong_feedback)
    return Answer("true", 0.0, wrong_feedback), Answer("false", 1.0, right_feedback)


_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
DEFAULT_NAME_LENGTH = 80


def default_question_name(text: str, text_format: str = "moodle") -> str:
    """A readable name for a question that has none: its text, flattened and shortened (like Moodle)."""
    if text_format in ("html", "moodle", "markdown"):
        text = _TAG.sub(" ", text)
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= DEFAULT_NAME_LENGTH:
        return flat
    return flat[: DEFAULT_NAME_LENGTH - 1].rstrip() + "…"


@dataclass(frozen=True)
class ParseError:
    """One problem found while importing a question file (a value, not an exception).

    ``kind`` groups errors of the same sort (a file of noise gives thousands of one kind);
    ``raw`` is the source text of the refused question, so it can be handed back in a file of the
    bad questions to fix and import again.
    """

    line: int
    message: str
    question: str | None = None
    source: str = ""
    column: int | None = None
    kind: str = "syntax"
    raw: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        if self.column:
            where += f":{self.column}"
        if self.question:
            return f"{where}: [{self.question}] {self.message}"
        return f"{where}: {self.message}"


@dataclass
class ParseResult:
    """What an importer found: the good questions and one error per bad question.

    ``notes`` says, per question (keyed by its line), where lms reads something differently from
    what a trainer may expect or from Moodle (a text converted to HTML, a name shortened ...).
    """

    questions: list[Question] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    source: str = ""
    notes: dict[int, list[str]] = field(default_factory=dict)
    encoding: str = "UTF-8"
    format: str = ""
    # A question's marks when the file says (Moodle XML's defaultgrade), by the question's line.
    points: dict[int, float] = field(default_factory=dict)
    # Lines of the questions whose name was made from their text (no ::name::, Aiken): their
    # identity is their content, not that name.
    unnamed: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """True when every question in the file was imported."""
        return not self.errors

    def note(self, line: int, message: str) -> None:
        """Record a remark about the question that starts on ``line``."""
        self.notes.setdefault(line, []).append(message)


# --- limits --------------------------------------------------------------------------------------

# Column sizes of ``quiz_question`` (and Moodle's own: a name is at most 255 characters, an id number
# 100). Checked before the database so that PostgreSQL never refuses a row half-way through an
# import (SQLite would store anything).
MAX_NAME = 255
MAX_CATEGORY = 255
MAX_IDNUMBER = 100
MAX_TAG = 100
MAX_TEXT = 200_000  # all the texts of one question together
# C0/C1 control characters other than tab and line breaks, and lone surrogates: PostgreSQL refuses
# NUL in text and JSON, and none of them can be typed or shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """The first forbidden control character in ``text`` as ``U+XXXX``, or None."""
    match = _CONTROL.search(text)
    return f"U+{ord(match.group()):04X}" if match else None


def question_limit_problems(question: Question) -> list[str]:
    """Why this question cannot be stored as it is (too long, control characters), in words."""
    texts = [question.name, question.category, question.idnumber, question.text,
             question.general_feedback, *question.tags]
    for answer in question.answers:
        texts += [answer.text, answer.feedback]
    for pair in question.pairs:
        texts += [pair.left, pair.right]
    texts += [n.feedback for n in question.numerical]
    joined = "\n".join(texts)
    # The common case (nothing wrong) costs one regex search and a few length checks.
    if (
        len(question.name) <= MAX_NAME
        and len(question.category) <= MAX_CATEGORY
        and len(question.idnumber) <= MAX_IDNUMBER
        and all(len(tag) <= MAX_TAG for tag in question.tags)
        and len(joined) <= MAX_TEXT
        and not _CONTROL.search(joined)
    ):
        return []
    from lms.i18n import _

    problems: list[str] = []
    for what, value, limit in (
        (_("The name"), question.name, MAX_NAME),
        (_("The category"), question.category, MAX_CATEGORY),
        (_("The id number"), question.idnumber, MAX_IDNUMBER),
    ):
        if len(value) > limit:
            problems.append(_("%(what)s has %(count)s characters; at most %(limit)s are allowed.",
                              what=what, count=len(value), limit=limit))
    for tag in question.tags:
        if len(tag) > MAX_TAG:
            problems.append(_("The tag '%(tag)s…' is longer than %(limit)s characters.",
                              tag=tag[:30], limit=MAX_TAG))
    longest = max(len(text) for text in texts)
    if longest > MAX_TEXT:
        problems.append(_("A text of the question has %(count)s characters; at most %(limit)s "
                          "are allowed.", count=longest, limit=MAX_TEXT))
    bad = control_character(joined)
    if bad:
        problems.append(_("The question contains the control character %(char)s, which cannot "
                          "be stored or shown; remove it from the file.", char=bad))
    return problems


def question_to_dict(question: Question) -> dict[str, Any]:
    """The question as plain JSON-able data (for ``--json`` output and attempt snapshots)."""
    return {
        "schema": SNAPSHOT_SCHEMA,
        "type": question.type,
        "name": question.name,
        "text": question.text,
        "text_format": question.text_format,
        "answers": [
            {"text": a.text, "weight": a.weight, "feedback": a.feedback} for a in question.answers
        ],
        "pairs": [{"left": p.left, "right": p.right} for p in question.pairs],
        "numerical": [
            {
                "value": n.value,
                "tolerance": n.tolerance,
                "minimum": n.minimum,
                "maximum": n.maximum,
                "weight": n.weight,
                "feedback": n.feedback,
                # Only written when set, so that the content hash of every existing numerical
                # question stays what it was before "any other answer" existed.
                **({"other": True} if n.other else {}),
            }
            for n in question.numerical
        ],
        "general_feedback": question.general_feedback,
        "category": question.category,
        "tags": list(question.tags),
        "idnumber": question.idnumber,
        "ignore_case": question.ignore_case,
        "ignore_diacritics": question.ignore_diacritics,
        "line": question.line,
    }


_QUESTION_KEYS = frozenset(
    {"type", "name", "text", "text_format", "answers", "pairs", "numerical", "general_feedback",
     "category", "tags", "idnumber", "ignore_case", "ignore_diacritics", "line"}
)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def question_from_dict(data: Mapping[str, Any]) -> Question:
    """Rebuild a question from ``question_to_dict`` output; raises ValueError on unknown keys or values."""
    schema = data.get("schema", SNAPSHOT_SCHEMA)
    if schema != SNAPSHOT_SCHEMA:
        raise ValueError(f"unsupported question snapshot schema {schema!r}")
    unknown = set(data) - _QUESTION_KEYS - {"schema"}
    if unknown:
        raise ValueError(f"unknown question keys: {', '.join(sorted(unknown))}")
    return Question(
        type=data["type"],
        name=data["name"],
        text=data.get("text", ""),
        text_format=data.get("text_format", "moodle"),
        answers=tuple(
            Answer(a["text"], float(a.get("weight", 0.0)), a.get("feedback", ""))
            for a in data.get("answers", ())
        ),
        pairs=tuple(MatchPair(p["left"], p["right"]) for p in data.get("pairs", ())),
        numerical=tuple(
            NumericalAnswer(
                value=_float_or_none(n.get("value")),
                tolerance=float(n.get("tolerance", 0.0)),
                minimum=_float_or_none(n.get("minimum")),
                maximum=_float_or_none(n.get("maximum")),
                weight=float(n.get("weight", 1.0)),
                feedback=n.get("feedback", ""),
                other=bool(n.get("other", False)),
            )
            for n in data.get("numerical", ())
        ),
        general_feedback=data.get("general_feedback", ""),
        category=data.get("category", ""),
        tags=tuple(data.get("tags", ())),
        idnumber=data.get("idnumber", ""),
        ignore_case=bool(data.get("ignore_case", True)),
        ignore_diacritics=bool(data.get("ignore_diacritics", False)),
        line=int(data.get("line", 0)),
    )
