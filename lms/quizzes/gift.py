"""GIFT, Moodle's text format for question banks: import and export.

The format as Moodle documents it (docs.moodle.org/en/GIFT_format), in short::

    // a comment line; "// [id:q7] [tag:quyen-con-nguoi]" also sets the id number and tags
    $CATEGORY: Nhân quyền/Cơ bản

    ::Q1::[markdown]Who is *buried* in the tomb? {=no one#Right! ~Grant#No ####General feedback}

Questions are separated by blank lines. ``::name::`` and a ``[moodle|html|plain|markdown]`` text format
are optional. The answer block ``{...}`` decides the type: ``~`` marks a choice (single choice when some
answer starts with ``=``, several right answers when weights like ``~%50%`` are used instead); only ``=``
answers make a short answer, or a matching question when they read ``=item -> match``; ``{T}``/``{F}``
(or ``TRUE``/``FALSE``) a true/false question; ``{#...}`` a numerical one (``3.14:0.01``, ``1..5`` or
several ``=%50%value:tolerance`` answers); an empty ``{}`` an essay; no block at all a description. An
answer block in the middle of the text makes a "missing word" question, whose text shows ``_____``
where the block was. ``#`` starts an answer's feedback and ``####`` the general feedback; ``\\~ \\= \\#
\\{ \\} \\: \\\\`` are literal characters and ``\\n`` is a line break.

Two additions of ours live in comments, so that Moodle still reads our exports: ``[lms:case-sensitive]``
and ``[lms:ignore-diacritics]`` set the short-answer matching options.

``parse_gift`` never raises on bad input: each bad question yields one ``ParseError`` with its line, and
parsing carries on at the next question. ``export_gift`` writes text that ``parse_gift`` reads back to
equal questions.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from lms.i18n import _
from lms.quizzes.questions import (
    TEXT_FORMATS,
    Answer,
    MatchPair,
    NumericalAnswer,
    ParseError,
    ParseResult,
    Question,
    default_question_name,
    truefalse_answers,
)

GiftResult = ParseResult

BLANK = "_____"
# Characters that a backslash makes literal; "\n" is the line-break escape.
_ESCAPABLE = "\\~=#{}:n"
_EXPORT_ESCAPED = "\\~=#{}:"
_FORMAT_TAG = re.compile(r"\[([A-Za-z]+)\]")
_WEIGHT = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_COMMENT_FIELD = re.compile(r"\[(tag|id|lms):((?:\\.|[^\]\\])*)\]")
_TRUE = {"T", "TRUE"}
_FALSE = {"F", "FALSE"}
_CATEGORY = "$CATEGORY:"
_LMS_OPTIONS = ("case-sensitive", "ignore-diacritics")
# Weights are stored as floats but compared with a little slack, as Moodle does for 33.33333%.
_WEIGHT_SLACK = 1e-6


class _Problem(Exception):
    """A reason to reject the question being parsed, at an offset in its text (or a given line)."""

    def __init__(self, offset: int, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.line = line


class _Unclosed(_Problem):
    """An answer block with no closing brace: the rest of it is probably in the next blocks."""


# --- escapes -------------------------------------------------------------------------------------


def _find(text: str, target: str, start: int = 0) -> int:
    """Index of the first occurrence of ``target`` at or after ``start`` that is not escaped, or -1."""
    i, end = start, len(text)
    while i < end:
        if text[i] == "\\" and i + 1 < end and text[i + 1] in _ESCAPABLE:
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _split(text: str, separators: str) -> list[tuple[str, int, str]]:
    """Split at unescaped separator characters: ``(separator before, offset, piece)``; first sep is ''."""
    pieces: list[tuple[str, int, str]] = []
    sep, start, i, end = "", 0, 0, len(text)
    while i < end:
        char = text[i]
        if char == "\\" and i + 1 < end and text[i + 1] in _ESCAPABLE:
            i += 2
            continue
        if char in separators:
            pieces.append((sep, start, text[start:i]))
            sep, start = char, i + 1
        i += 1
    pieces.append((sep, start, text[start:]))
    return pieces


def _unescape(text: str) -> str:
    out: list[str] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char == "\\" and i + 1 < end and text[i + 1] in _ESCAPABLE:
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _escape(text: str) -> str:
    out: list[str] = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char in _EXPORT_ESCAPED:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


def _clean(raw: str) -> str:
    return unicodedata.normalize("NFC", _unescape(raw.strip())).strip()


def _clean_part(raw: str) -> str:
    """An answer, feedback or matching text: a leading known format tag is dropped.

    Moodle lets every part carry its own format; we keep the question's format for all parts.
    """
    raw = raw.strip()
    match = _FORMAT_TAG.match(raw)
    if match and match.group(1).lower() in TEXT_FORMATS:
        raw = raw[match.end() :]
    return _clean(raw)


# --- reading -------------------------------------------------------------------------------------


@dataclass
class _Block:
    """Consecutive non-blank lines: one question, a category line, or only comments."""

    lines: list[tuple[int, str]]

    @property
    def content(self) -> list[tuple[int, str]]:
        return [(n, s) for n, s in self.lines if not _is_comment(s)]

    @property
    def comments(self) -> list[tuple[int, str]]:
        return [(n, s) for n, s in self.lines if _is_comment(s)]


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("//")


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(_Block(current))
            current = []
    if current:
        blocks.append(_Block(current))
    return blocks


class _Text:
    """The non-comment lines of a question joined by newlines, with offsets mapped back to lines."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.raw = "\n".join(s for _number, s in lines)
        self.numbers = [n for n, _line in lines]
        self.starts: list[int] = []
        offset = 0
        for _number, s in lines:
            self.starts.append(offset)
            offset += len(s) + 1

    def line_at(self, offset: int) -> int:
        return self.numbers[max(bisect.bisect_right(self.starts, offset) - 1, 0)]


def parse_gift(text: str, source: str = "<gift>") -> GiftResult:
    """Parse a GIFT file: the good questions, and one error for each bad question or line."""
    result = ParseResult(source=source)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = _blocks(text.split("\n"))
    category = ""
    used_names: dict[str, int] = {}
    numbered: dict[str, int] = {}
    index = 0
    while index < len(blocks):
        block = blocks[index]
        index += 1
        content = block.content
        if not content:
            continue
        first_line, first = content[0]
        if first.lstrip().startswith(_CATEGORY):
            name = first.lstrip()[len(_CATEGORY) :].strip()
            if name:
                category = name
            else:
                result.errors.append(
                    ParseError(first_line, _("$CATEGORY: needs a category name."), None, source)
                )
            content = content[1:]
            if not content:
                continue
        question_text = _Text(content)
        parser = _QuestionParser(question_text, block.comments, category)
        try:
            question = parser.parse()
        except _Problem as problem:
            line = problem.line or question_text.line_at(problem.offset)
            result.errors.append(ParseError(line, problem.message, parser.label, source))
            if isinstance(problem, _Unclosed):
                index = _skip_rest_of_unclosed_block(blocks, index)
            continue
        question = _unique_name(question, parser.explicit_name, used_names, result, source, numbered)
        if question is not None:
            result.questions.append(question)
    return result


def _skip_rest_of_unclosed_block(blocks: list[_Block], index: int) -> int:
    """Index after the blocks that only continue an unclosed answer block (up to its '}'), if any.

    A blank line inside an answer block splits one question in two; reporting the second half as a
    question of its own would only add a confusing error.
    """
    for ahead in range(index, len(blocks)):
        content = blocks[ahead].content
        if not content:
            continue
        raw = "\n".join(s for _number, s in content)
        if raw.lstrip().startswith(("::", _CATEGORY)):
            return index
        opening, closing = _find(raw, "{"), _find(raw, "}")
        if closing >= 0 and (opening < 0 or closing < opening):
            return ahead + 1
        if opening >= 0:
            return index
    return index


def _unique_name(
    question: Question,
    explicit: bool,
    used: dict[str, int],
    result: ParseResult,
    source: str,
    numbered: dict[str, int],
) -> Question | None:
    """Names are stable keys: a repeated explicit name is an error, a repeated derived one is numbered.

    ``numbered`` remembers the last number given to each derived name, so that a file of many
    questions with the same text is numbered in linear time (counting from 2 each time was
    quadratic: 60,000 unnamed questions kept a worker busy for minutes).
    """
    name = question.name
    if name in used:
        if explicit:
            result.errors.append(
                ParseError(
                    question.line,
                    _(
                        "The name '%(name)s' is already used by the question on line %(line)s; "
                        "question names must be unique.",
                        name=name,
                        line=used[name],
                    ),
                    name,
                    source,
                )
            )
            return None
        number = numbered.get(name, 1) + 1
        while f"{name} ({number})" in used:
            number += 1
        numbered[name] = number
        name = f"{name} ({number})"
        question = dataclasses.replace(question, name=name)
    used[name] = question.line
    return question


class _QuestionParser:
    """Parses the text of one question; raises ``_Problem`` at the first thing wrong with it."""

    def __init__(self, text: _Text, comments: list[tuple[int, str]], category: str) -> None:
        self.text = text
        self.raw = text.raw
        self.comments = comments
        self.category = category
        self.label: str | None = None
        self.explicit_name = False

    def parse(self) -> Question:
        raw = self.raw
        pos = len(raw) - len(raw.lstrip())
        name = ""
        if raw.startswith("::", pos):
            end = _find(raw, "::", pos + 2)
            if end < 0:
                raise _Problem(pos, _("The question name is not closed: add '::' after it."))
            name = _clean(raw[pos + 2 : end])
            if not name:
                raise _Problem(pos, _("The question name between '::' and '::' is empty."))
            self.label, self.explicit_name = name, True
            pos = end + 2
        else:
            opening = _find(raw, "{", pos)
            self.label = default_question_name(_clean(raw[pos : opening if opening >= 0 else None]))
            self.label = self.label or None

        pos += len(raw[pos:]) - len(raw[pos:].lstrip())
        text_format = "moodle"
        tag = _FORMAT_TAG.match(raw, pos)
        if tag:
            if tag.group(1).lower() in TEXT_FORMATS:
                text_format = tag.group(1).lower()
                pos = tag.end()
            elif not raw.startswith(
                ("(", "["), tag.end()
            ):  # "[link](url)" is Markdown, not a format
                raise _Problem(
                    pos,
                    _(
                        "Unknown text format [%(format)s]: use [moodle], [html], [plain] or "
                        "[markdown] (write [moodle][%(format)s] if the text really starts with it).",
                        format=tag.group(1),
                    ),
                )

        opening = _find(raw, "{", pos)
        closing = _find(raw, "}", pos)
        if closing >= 0 and (opening < 0 or closing < opening):
            raise _Problem(
                closing,
                _("Unexpected '}' without an opening '{': write \\} for a literal brace."),
            )
        common = self._common(text_format)
        if opening < 0:
            text = _clean(raw[pos:])
            self._require_text(text, pos)
            name = name or default_question_name(text, text_format)
            return Question(type="description", name=name, text=text, **common)

        closing = _find(raw, "}", opening + 1)
        nested = _find(raw, "{", opening + 1)
        if closing < 0:
            raise _Unclosed(
                opening,
                _(
                    "The answer block opened on line %(line)s is not closed with '}'. A blank line "
                    "ends a question: write \\n for a line break inside a question.",
                    line=self.text.line_at(opening),
                ),
            )
        if 0 <= nested < closing:
            raise _Problem(nested, _("'{' inside an answer block: write \\{ for a literal brace."))
        extra = [i for i in (_find(raw, "{", closing + 1), _find(raw, "}", closing + 1)) if i >= 0]
        if extra:
            raise _Problem(
                min(extra),
                _(
                    "A question has only one answer block: write \\{ and \\} for literal braces, "
                    "and separate questions with a blank line."
                ),
            )

        before, after = raw[pos:opening], raw[closing + 1 :]
        missing_word = bool(after.strip())
        text = _clean(before + BLANK + after if missing_word else before)
        self._require_text(text, pos)
        name = name or default_question_name(text, text_format)

        body_start = opening + 1
        body = raw[body_start:closing]
        general_feedback = ""
        hashes = _find(body, "####")
        if hashes >= 0:
            general_feedback = _clean_part(body[hashes + 4 :])
            body = body[:hashes]
        fields = dict(name=name, text=text, general_feedback=general_feedback, **common)

        stripped = body.strip()
        if not stripped:
            if missing_word:
                raise _Problem(
                    opening,
                    _(
                        "An empty answer block {} makes an essay question and must come at the end "
                        "of the question; put the answers inside the braces."
                    ),
                )
            return Question(type="essay", **fields)
        if stripped.startswith("#"):
            skip = body.index("#") + 1
            return Question(
                type="numerical",
                numerical=self._numerical(body[skip:], body_start + skip),
                **fields,
            )
        if _find(body, "~") >= 0:
            single = _find(body, "=") >= 0
            return Question(
                type="single" if single else "multi",
                answers=self._choices(body, body_start, single),
                **fields,
            )
        if _find(body, "=") < 0:
            return Question(type="truefalse", answers=self._truefalse(body, body_start), **fields)
        if _is_matching(body):
            return Question(type="matching", pairs=self._pairs(body, body_start), **fields)
        return Question(type="short", answers=self._short(body, body_start), **fields)

    # -- parts common to all types --

    def _require_text(self, text: str, offset: int) -> None:
        if not text:
            raise _Problem(offset, _("The question has no text."))

    def _common(self, text_format: str) -> dict:
        tags: list[str] = []
        idnumber = ""
        options: set[str] = set()
        for number, line in self.comments:
            for kind, value in _COMMENT_FIELD.findall(line):
                value = unicodedata.normalize("NFC", re.sub(r"\\(.)", r"\1", value)).strip()
                if kind == "tag" and value:
                    tags.append(value)
                elif kind == "id":
                    idnumber = value
                elif kind == "lms":
                    if value not in _LMS_OPTIONS:
                        raise _Problem(
                            0,
                            _(
                                "Unknown option [lms:%(option)s]: use [lms:case-sensitive] or "
                                "[lms:ignore-diacritics].",
                                option=value,
                            ),
                            line=number,
                        )
                    options.add(value)
        return {
            "text_format": text_format,
            "category": self.category,
            "tags": tuple(tags),
            "idnumber": idnumber,
            "ignore_case": "case-sensitive" not in options,
            "ignore_diacritics": "ignore-diacritics" in options,
            "line": self.text.numbers[0],
        }

    def _answers(self, body: str, base: int) -> list[tuple[str, int, str]]:
        """The ``=``/``~`` answers of a block as ``(marker, offset, raw text)``."""
        pieces = _split(body, "~=")
        lead = pieces[0][2]
        if lead.strip():
            raise _Problem(
                base + len(lead) - len(lead.lstrip()),
                _(
                    "Unexpected text '%(text)s' before the first answer: answers start with '=' "
                    "(right) or '~' (wrong); write \\= or \\~ for literal characters.",
                    text=_clean(lead)[:40],
                ),
            )
        return [(sep, base + start, piece) for sep, start, piece in pieces[1:]]

    def _weight(self, raw: str, offset: int) -> tuple[float | None, str]:
        match = _WEIGHT.match(raw)
        if not match:
            return None, raw
        percent = Decimal(match.group(1))
        if not -100 <= percent <= 100:
            raise _Problem(
                offset,
                _(
                    "The weight %(weight)s%% is outside the range from -100%% to 100%%.",
                    weight=match.group(1),
                ),
            )
        return float(percent / 100), raw[match.end() :]

    def _text_and_feedback(self, raw: str, offset: int, number: int) -> tuple[str, str]:
        hash_at = _find(raw, "#")
        text_raw, feedback = (raw, "") if hash_at < 0 else (raw[:hash_at], raw[hash_at + 1 :])
        text = _clean_part(text_raw)
        if not text:
            raise _Problem(offset, _("Answer %(number)s is empty.", number=number))
        return text, _clean_part(feedback)

    # -- one method per type --

    def _choices(self, body: str, base: int, single: bool) -> tuple[Answer, ...]:
        answers = []
        for number, (marker, offset, raw) in enumerate(self._answers(body, base), start=1):
            weight, raw = self._weight(raw, offset)
            if weight is None:
                weight = 1.0 if marker == "=" else 0.0
            text, feedback = self._text_and_feedback(raw, offset, number)
            answers.append(Answer(text, weight, feedback))
        if len(answers) < 2:
            raise _Problem(base, _("A multiple-choice question needs at least two answers."))
        if single:
            self._require_full_marks(answers, base)
        else:
            total = sum(a.weight for a in answers if a.weight > 0)
            if abs(total - 1) > _WEIGHT_SLACK:
                raise _Problem(
                    base,
                    _(
                        "The positive weights add up to %(total)s%%; with several right answers "
                        "they must add up to 100%% (or mark the only right answer with '=').",
                        total=_percent(total),
                    ),
                )
        return tuple(answers)

    def _require_full_marks(self, answers: list, offset: int) -> None:
        best = max(a.weight for a in answers)
        if abs(best - 1) > _WEIGHT_SLACK:
            raise _Problem(
                offset,
                _(
                    "No answer is worth 100%% (the best is %(best)s%%), so full marks are "
                    "impossible.",
                    best=_percent(best),
                ),
            )

    def _truefalse(self, body: str, base: int) -> tuple[Answer, Answer]:
        pieces = _split(body, "#")
        head = _clean(pieces[0][2]).upper()
        if head not in _TRUE | _FALSE:
            raise _Problem(
                base,
                _(
                    "Cannot tell the question type of {%(block)s}: answers start with '=' or '~', "
                    "true/false is {T} or {F}, a numerical answer starts with '#'.",
                    block=_clean(body)[:40],
                ),
            )
        if len(pieces) > 3:
            raise _Problem(
                base + pieces[3][1],
                _(
                    "A true/false question takes at most two feedbacks: {T#for a wrong answer#for "
                    "a right answer}."
                ),
            )
        wrong = _clean_part(pieces[1][2]) if len(pieces) > 1 else ""
        right = _clean_part(pieces[2][2]) if len(pieces) > 2 else ""
        return truefalse_answers(head in _TRUE, right_feedback=right, wrong_feedback=wrong)

    def _short(self, body: str, base: int) -> tuple[Answer, ...]:
        answers = []
        for number, (_marker, offset, raw) in enumerate(self._answers(body, base), start=1):
            weight, raw = self._weight(raw, offset)
            weight = 1.0 if weight is None else weight
            if weight < 0:
                raise _Problem(
                    offset,
                    _(
                        "Short answers cannot have negative weights (%(weight)s%%).",
                        weight=_percent(weight),
                    ),
                )
            text, feedback = self._text_and_feedback(raw, offset, number)
            answers.append(Answer(text, weight, feedback))
        self._require_full_marks(answers, base)
        return tuple(answers)

    def _pairs(self, body: str, base: int) -> tuple[MatchPair, ...]:
        pairs = []
        for number, (_marker, offset, raw) in enumerate(self._answers(body, base), start=1):
            if _WEIGHT.match(raw) or _find(raw, "#") >= 0:
                raise _Problem(
                    offset,
                    _(
                        "Matching pairs cannot have weights or feedback (pair %(number)s); put "
                        "comments in the general feedback after ####.",
                        number=number,
                    ),
                )
            arrow = raw.find("->")
            if arrow < 0:
                raise _Problem(
                    offset,
                    _(
                        "Matching pair %(number)s has no '->' between the item and its match.",
                        number=number,
                    ),
                )
            left, right = _clean_part(raw[:arrow]), _clean_part(raw[arrow + 2 :])
            if not right:
                raise _Problem(
                    offset,
                    _("Matching pair %(number)s has nothing after '->'.", number=number),
                )
            pairs.append(MatchPair(left, right))
        items = sum(1 for p in pairs if p.left)
        if items < 2 or len(pairs) < 3:
            raise _Problem(
                base,
                _(
                    "A matching question needs at least two items and three matches (found "
                    "%(items)s items and %(matches)s matches).",
                    items=items,
                    matches=len(pairs),
                ),
            )
        return tuple(pairs)

    def _numerical(self, body: str, base: int) -> tuple[NumericalAnswer, ...]:
        tilde = _find(body, "~")
        if tilde >= 0:
            raise _Problem(
                base + tilde,
                _(
                    "Numerical answers start with '=', not '~': {#=%(example)s}.",
                    example="3.14:0.01",
                ),
            )
        answers = []
        if _find(body, "=") >= 0:
            for number, (_marker, offset, raw) in enumerate(self._answers(body, base), start=1):
                weight, raw = self._weight(raw, offset)
                answers.append(self._numerical_answer(raw, offset, number, weight))
        else:
            answers.append(self._numerical_answer(body, base, 1, None))
        self._require_full_marks(answers, base)
        return tuple(answers)

    def _numerical_answer(
        self, raw: str, offset: int, number: int, weight: float | None
    ) -> NumericalAnswer:
        weight = 1.0 if weight is None else weight
        if weight < 0:
            raise _Problem(
                offset,
                _(
                    "Numerical answers cannot have negative weights (%(weight)s%%).",
                    weight=_percent(weight),
                ),
            )
        hash_at = _find(raw, "#")
        spec, feedback = (raw, "") if hash_at < 0 else (raw[:hash_at], raw[hash_at + 1 :])
        spec = _clean(spec)
        feedback = _clean_part(feedback)
        if not spec:
            raise _Problem(offset, _("Numerical answer %(number)s has no number.", number=number))
        if ".." in spec:
            low_text, high_text = spec.split("..", 1)
            low, high = self._number(low_text, offset), self._number(high_text, offset)
            if low > high:
                raise _Problem(
                    offset,
                    _(
                        "The range %(low)s..%(high)s is reversed: write the smaller number first.",
                        low=low_text.strip(),
                        high=high_text.strip(),
                    ),
                )
            return NumericalAnswer(minimum=low, maximum=high, weight=weight, feedback=feedback)
        value_text, _colon, tolerance_text = spec.partition(":")
        value = self._number(value_text, offset)
        tolerance = self._number(tolerance_text, offset) if _colon else 0.0
        if tolerance < 0:
            raise _Problem(
                offset,
                _("The tolerance %(tolerance)s is negative.", tolerance=tolerance_text.strip()),
            )
        return NumericalAnswer(value=value, tolerance=tolerance, weight=weight, feedback=feedback)

    def _number(self, text: str, offset: int) -> float:
        text = text.strip()
        if _NUMBER.fullmatch(text):
            value = float(text)
            if value not in (float("inf"), float("-inf")):
                return value
        raise _Problem(
            offset,
            _(
                "'%(value)s' is not a number (write numbers like 3.14, -2 or 1e-3; ranges as 1..5).",
                value=text,
            ),
        )


def _is_matching(body: str) -> bool:
    # Moodle looks for "->" anywhere in the block; we only look in the answers, not their feedback.
    for _sep, _start, piece in _split(body, "=")[1:]:
        hash_at = _find(piece, "#")
        if "->" in (piece if hash_at < 0 else piece[:hash_at]):
            return True
    return False


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.10g}"


# --- writing -------------------------------------------------------------------------------------


def export_gift(questions: Iterable[Question]) -> str:
    """Write questions as GIFT that ``parse_gift`` (and Moodle) reads back to the same questions.

    Raises ValueError for the few things GIFT cannot say, e.g. '->' inside a matching item.
    """
    chunks: list[str] = []
    category = ""
    for question in questions:
        if question.category != category:
            if not question.category or "\n" in question.category:
                raise ValueError(
                    f"question {question.name!r}: GIFT cannot switch to category "
                    f"{question.category!r} here (put uncategorised questions first)"
                )
            category = question.category
            chunks.append(f"{_CATEGORY} {category}\n")
        chunks.append(_export_question(question))
    return "\n".join(chunks)


def _export_percent(weight: float) -> str:
    # Decimal(repr(w)) is the shortest decimal that reads back as w, so w survives the round trip.
    text = format(Decimal(repr(float(weight))) * 100, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _export_number(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _comment_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def _starts_with_format_tag(text: str, known_only: bool) -> bool:
    match = _FORMAT_TAG.match(text)
    return bool(match) and (not known_only or match.group(1).lower() in TEXT_FORMATS)


class _Exporter:
    def __init__(self, question: Question) -> None:
        self.q = question
        self.guard = f"[{question.text_format}]"

    def fail(self, why: str) -> ValueError:
        return ValueError(f"question {self.q.name!r} cannot be written as GIFT: {why}")

    def part(self, text: str) -> str:
        """Escape an answer or feedback text, protecting a leading '[html]' from being read as format."""
        escaped = _escape(text)
        return self.guard + escaped if _starts_with_format_tag(text, known_only=True) else escaped

    def weighted(self, marker: str, default: float, weight: float, text: str) -> str:
        explicit = weight != default or _WEIGHT.match(text)
        return marker + (f"%{_export_percent(weight)}%" if explicit else "") + self.part(text)

    def feedback(self, text: str) -> str:
        return "#" + self.part(text) if text else ""

    def general(self) -> str:
        return "####" + self.part(self.q.general_feedback) if self.q.general_feedback else ""

    def block_lines(self, lines: list[str]) -> str:
        general = self.general()
        inner = "".join(f"\t{line}\n" for line in lines + ([general] if general else []))
        return "{\n" + inner + "}"

    def block(self) -> str:
        q = self.q
        kind = q.type
        if kind in ("single", "multi"):
            if kind == "single" and not any(a.weight == 1 for a in q.answers):
                raise self.fail("a single-choice question needs an answer worth 100%")
            # A single choice is told apart from a short answer by its '~' answers: when every
            # answer is right, only the first one is written with '='.
            all_right = all(a.weight == 1 for a in q.answers)
            lines = []
            for index, a in enumerate(q.answers):
                if kind == "single" and a.weight == 1 and (index == 0 or not all_right):
                    line = self.weighted("=", 1.0, a.weight, a.text)
                else:
                    line = self.weighted("~", 0.0, a.weight, a.text)
                lines.append(line + self.feedback(a.feedback))
            return self.block_lines(lines)
        if kind == "short":
            lines = []
            for a in q.answers:
                if "->" in a.text:
                    raise self.fail("a short answer cannot contain '->'")
                lines.append(self.weighted("=", 1.0, a.weight, a.text) + self.feedback(a.feedback))
            return self.block_lines(lines)
        if kind == "truefalse":
            correct = q.correct_answer
            by_text = {a.text: a for a in q.answers}
            if set(by_text) != {"true", "false"} or len(q.answers) != 2:
                raise self.fail("a true/false question has exactly the answers 'true' and 'false'")
            right = by_text["true" if correct else "false"].feedback
            wrong = by_text["false" if correct else "true"].feedback
            feedback = ""
            if right:
                feedback = "#" + self.part(wrong) + "#" + self.part(right)
            elif wrong:
                feedback = "#" + self.part(wrong)
            return "{" + ("TRUE" if correct else "FALSE") + feedback + self.general() + "}"
        if kind == "numerical":
            if len(q.numerical) == 1 and q.numerical[0].weight == 1:
                return "{#" + self.numeric(q.numerical[0]) + self.general() + "}"
            lines = [self.weighted("=", 1.0, n.weight, "") + self.numeric(n) for n in q.numerical]
            return "{#\n" + "".join(f"\t{line}\n" for line in lines) + self.general_line() + "}"
        if kind == "matching":
            lines = []
            for pair in q.pairs:
                if "->" in pair.left or _WEIGHT.match(pair.left):
                    raise self.fail("a matching item cannot contain '->' or start with '%n%'")
                lines.append(f"={self.part(pair.left)} -> {self.part(pair.right)}")
            return self.block_lines(lines)
        if kind == "essay":
            if q.answers or q.pairs or q.numerical:
                raise self.fail("an essay question has no answers")
            return "{" + self.general() + "}"
        raise self.fail(f"unknown type {kind!r}")

    def general_line(self) -> str:
        general = self.general()
        return f"\t{general}\n" if general else ""

    def numeric(self, answer: NumericalAnswer) -> str:
        if answer.is_range:
            spec = f"{_export_number(answer.minimum)}..{_export_number(answer.maximum)}"
        else:
            spec = f"{_export_number(answer.value)}:{_export_number(answer.tolerance)}"
        return spec + self.feedback(answer.feedback)

    def export(self) -> str:
        q = self.q
        meta = []
        if q.idnumber:
            meta.append(f"[id:{_comment_value(q.idnumber)}]")
        meta += [f"[tag:{_comment_value(tag)}]" for tag in q.tags]
        if not q.ignore_case:
            meta.append("[lms:case-sensitive]")
        if q.ignore_diacritics:
            meta.append("[lms:ignore-diacritics]")
        if any("\n" in m or "\r" in m for m in meta):
            raise self.fail("an id number or tag cannot contain a line break")
        head = "// " + " ".join(meta) + "\n" if meta else ""
        head += "::" + _escape(q.name) + ":: "
        if q.text_format != "moodle" or _starts_with_format_tag(q.text, known_only=False):
            head += self.guard
        if q.type == "description":
            if q.answers or q.pairs or q.numerical or q.general_feedback:
                raise self.fail("a description has no answers and no feedback")
            return head + _escape(q.text) + "\n"
        before, after = q.text, ""
        blank = q.text.find(BLANK)
        if q.type != "essay" and blank >= 0 and q.text[blank + len(BLANK) :].strip():
            before, after = q.text[:blank], q.text[blank + len(BLANK) :]
        separator = "" if after else " "
        return head + _escape(before) + separator + self.block() + _escape(after) + "\n"


def _export_question(question: Question) -> str:
    return _Exporter(question).export()
