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
and ``[lms:ignore-diacritics]`` set the short-answer matching options (``[lms:diacritics-matter]`` only
tells the content validator that a Vietnamese answer needs its diacritics on purpose).

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

from lms.i18n import _, ngettext
from lms.questionformat import formats, qtypes
from lms.questionformat.questions import (
    MAX_NAME,
    TEXT_FORMATS,
    Answer,
    MatchPair,
    NumericalAnswer,
    ParseError,
    ParseResult,
    Question,
    default_question_name,
    question_limit_problems,
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
_CATEGORY_MANGLED = re.compile(r"\\[\\:#={}~n]")
# "diacritics-matter" changes no grading: it tells the content validator that a Vietnamese short answer
# needs its diacritics on purpose (so it does not warn that officers typing without them are refused).
_LMS_OPTIONS = ("case-sensitive", "ignore-diacritics", "diacritics-matter")
# Weights are stored as floats but compared with a little slack, as Moodle does for 33.33333%.
# Moodle rounds a multiple-response total to two decimals before checking it, so 3 x 33.3% passes.
_WEIGHT_SLACK = 0.005
_TAG = re.compile(r"<[^>]*>")


class _Problem(Exception):
    """A reason to reject the question being parsed, at an offset in its text (or a given line)."""

    def __init__(
        self, offset: int, message: str, *, line: int | None = None, kind: str = "syntax"
    ) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.line = line
        self.kind = kind


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

    @property
    def raw(self) -> str:
        return "\n".join(s for _n, s in self.lines)


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
    """The non-comment lines of a question, each trimmed as Moodle does, joined by newlines.

    Offsets into the joined text map back to the line and column of the file.
    """

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        trimmed = [(n, s.strip(), len(s) - len(s.lstrip())) for n, s in lines]
        self.raw = "\n".join(s for _n, s, _indent in trimmed)
        self.numbers = [n for n, _s, _indent in trimmed]
        self.indents = [indent for _n, _s, indent in trimmed]
        self.starts: list[int] = []
        offset = 0
        for _number, s, _indent in trimmed:
            self.starts.append(offset)
            offset += len(s) + 1

    def _index(self, offset: int) -> int:
        return max(bisect.bisect_right(self.starts, offset) - 1, 0)

    def line_at(self, offset: int) -> int:
        return self.numbers[self._index(offset)]

    def column_at(self, offset: int) -> int:
        index = self._index(offset)
        return max(offset - self.starts[index], 0) + self.indents[index] + 1


def parse_gift(text: str, source: str = "<gift>") -> GiftResult:
    """Parse a GIFT file: the good questions, and one error for each bad question or line.

    Names may repeat (Moodle allows it); whoever stores the questions decides their keys.
    """
    result = ParseResult(source=source, format="gift")
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
            category = category_path(first.lstrip()[len(_CATEGORY) :])
            content = content[1:]
            if not content:
                continue
        question_text = _Text(content)
        parser = _QuestionParser(question_text, block.comments, category)
        try:
            question = parser.parse()
            problems = question_limit_problems(question)
            if problems:
                raise _Problem(0, " ".join(problems), kind="limit")
        except _Problem as problem:
            line = problem.line or question_text.line_at(problem.offset)
            column = None if problem.line else question_text.column_at(problem.offset)
            raw = block.raw
            if isinstance(problem, _Unclosed):
                after = _skip_rest_of_unclosed_block(blocks, index)
                raw = "\n\n".join([raw, *(b.raw for b in blocks[index:after])])
                index = after
            result.errors.append(
                ParseError(line, problem.message, parser.label, source, column, problem.kind, raw)
            )
            continue
        question = _unique_name(question, parser.explicit_name, used_names, numbered)
        if not parser.explicit_name:
            result.unnamed.add(question.line)
        for note in parser.notes:
            result.note(question.line, note)
        result.questions.append(question)
    return result


def category_path(raw: str) -> str:
    """A ``$CATEGORY:`` path as lms keeps it: Moodle's context prefix and its ``top`` removed.

    Moodle writes ``$course$/top/Default for Course/Sub`` (and ``//`` for a slash inside a name,
    which lms, whose categories are paths, reads as a separator like any other).
    """
    parts = [part.strip() for part in raw.strip().split("/")]
    if parts and re.fullmatch(r"\$[a-z]+\$", parts[0]):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return unicodedata.normalize("NFC", "/".join(part for part in parts if part))


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
    question: Question, explicit: bool, used: dict[str, int], numbered: dict[str, int]
) -> Question:
    """Derived names (from the text) are numbered when they repeat; explicit names are kept.

    Moodle lets two questions of a file share a name; the importer gives them distinct keys.
    ``numbered`` remembers the last number given to each derived name, so that a file of many
    questions with the same text is numbered in linear time.
    """
    name = question.name
    if name in used and not explicit:
        number = numbered.get(name, 1) + 1
        while f"{name} ({number})" in used:
            number += 1
        numbered[name] = number
        name = _shorten(name, MAX_NAME - len(f" ({number})")) + f" ({number})"
        question = dataclasses.replace(question, name=name)
    used.setdefault(name, question.line)
    return question


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _strip_format(raw: str) -> tuple[str, str | None]:
    """A leading ``[moodle|html|plain|markdown]`` tag, as Moodle reads it: exact and lower-case."""
    match = _FORMAT_TAG.match(raw)
    if match and match.group(1) in TEXT_FORMATS:
        return raw[match.end() :], match.group(1)
    return raw, None


class _QuestionParser(formats.PartsReader):
    """Parses the text of one question; raises ``_Problem`` at the first thing wrong with it.

    It reads the answer block the way Moodle's GIFT reader does (see the module docstring); where
    lms reads something differently, or Moodle's reading may surprise, it adds a note.
    """

    def __init__(self, text: _Text, comments: list[tuple[int, str]], category: str) -> None:
        super().__init__()
        self.text = text
        self.raw = text.raw
        self.comments = comments
        self.category = category
        self.label: str | None = None
        self.explicit_name = False

    def parse(self) -> Question:
        return self.read_in_one_format(self._parse)

    def part(self, raw: str, default: str | None = None) -> str:
        """An answer, feedback or matching text: its own format tag read, escapes undone."""
        text, fmt = _strip_format(raw.strip())
        return self.keep(_clean(text), fmt or default or self.text_format)

    def _parse(self) -> Question:
        raw = self.raw
        pos = 0
        name = ""
        self.label, self.explicit_name = None, False
        if raw.startswith("::"):
            end = _find(raw, "::", 2)
            if end < 0:
                self.notes.append(
                    _("'::' opens a question name that is never closed; as in Moodle, the "
                      "question has no name and the text starts after the '::'.")
                )
                pos = 2
            else:
                name = _TAG.sub("", _clean(raw[2:end]))
                if len(name) > MAX_NAME:
                    self.notes.append(
                        _("The name was shortened to %(limit)s characters, as Moodle does.",
                          limit=MAX_NAME)
                    )
                    name = _shorten(name, MAX_NAME)
                if name:
                    self.label, self.explicit_name = name, True
                pos = end + 2
        pos += len(raw[pos:]) - len(raw[pos:].lstrip())
        if self.label is None:
            opening = _find(raw, "{", pos)
            self.label = default_question_name(_clean(raw[pos : opening if opening >= 0 else None]))
            self.label = self.label or None

        body_text, tag = _strip_format(raw[pos:])
        if tag:
            self.text_format = tag
            pos = len(raw) - len(body_text)
        elif self.converted is None:
            self.text_format = "moodle"
            unknown = _FORMAT_TAG.match(raw, pos)
            if unknown and unknown.group(1).lower() in TEXT_FORMATS:
                self.notes.append(
                    _("[%(tag)s] is not a text format (formats are written in lower case), so it "
                      "is kept as text, as Moodle does.", tag=unknown.group(1))
                )
        question_format = tag or "moodle"

        opening = _find(raw, "{", pos)
        closing = _find(raw, "}", pos)
        if closing >= 0 and (opening < 0 or closing < opening):
            raise _Problem(
                closing,
                _("Unexpected '}' without an opening '{': write \\} for a literal brace."),
                kind="brace",
            )
        common = self._common()
        if opening < 0:
            text = self.stem(raw[pos:], question_format)
            self._require_text(text, pos)
            name = name or default_question_name(text, self.text_format)
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
                kind="brace",
            )
        if 0 <= nested < closing:
            raise _Problem(
                nested,
                _("'{' inside an answer block: write \\{ for a literal brace."),
                kind="brace",
            )
        if _find(raw, "{", closing + 1) >= 0:
            raise _Problem(
                _find(raw, "{", closing + 1),
                _(
                    "A question has only one answer block: write \\{ and \\} for literal braces, "
                    "and separate questions with a blank line."
                ),
                kind="brace",
            )

        before, after = raw[pos:opening], raw[closing + 1 :]
        missing_word = bool(after.strip())
        text = self.stem(before + BLANK + after if missing_word else before, question_format)
        self._require_text(text, pos)
        name = name or default_question_name(text, self.text_format)

        body_start = opening + 1
        body = raw[body_start:closing]
        general_feedback = ""
        hashes = _rfind(body, "####")
        if hashes >= 0:
            general_feedback = self.part(body[hashes + 4 :])
            body = body[:hashes]
        fields = dict(name=name, text=text, general_feedback=general_feedback, **common)

        stripped = body.strip()
        if not stripped:
            if missing_word:
                self.notes.append(
                    _("An empty answer block {} makes an essay; it is in the middle of the text, "
                      "so the text shows a blank there, as in Moodle.")
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
        if _find(body, "=") >= 0 and "->" in body:
            return Question(type="matching", pairs=self._pairs(body, body_start), **fields)
        hash_at = _find(body, "#")
        head = _clean(body[:hash_at] if hash_at > 0 else body)
        if head in _TRUE | _FALSE:
            return Question(type="truefalse", answers=self._truefalse(body, body_start), **fields)
        if head.upper() in _TRUE | _FALSE:
            self.notes.append(
                _("{%(word)s} is a short answer that accepts the word '%(word)s', as Moodle reads "
                  "it; write {TRUE} or {T} for a true/false question.", word=head)
            )
        return Question(type="short", answers=self._short(body, body_start), **fields)

    def stem(self, raw: str, question_format: str) -> str:
        """The question text: in its own format, converted with the parts when they disagree."""
        return self.keep(_clean(raw), question_format)

    # -- parts common to all types --

    def _require_text(self, text: str, offset: int) -> None:
        if not text:
            raise _Problem(offset, _("The question has no text."), kind="text")

    def _common(self) -> dict:
        tags: list[str] = []
        idnumber = ""
        options: set[str] = set()
        for number, line in self.comments:
            for kind, value in _COMMENT_FIELD.findall(line):
                value = unicodedata.normalize("NFC", re.sub(r"\\(.)", r"\1", value)).strip()
                if kind == "tag" and value:
                    tags.append(value)
                elif kind == "id":
                    idnumber = idnumber or value
                elif kind == "lms":
                    if value not in _LMS_OPTIONS:
                        raise _Problem(
                            0,
                            _(
                                "Unknown option [lms:%(option)s]: use [lms:case-sensitive], "
                                "[lms:ignore-diacritics] or [lms:diacritics-matter].",
                                option=value,
                            ),
                            line=number,
                            kind="option",
                        )
                    options.add(value)
        return {
            "text_format": self.text_format,
            "category": self.category,
            "tags": tuple(dict.fromkeys(tags)),
            "idnumber": idnumber,
            "ignore_case": "case-sensitive" not in options,
            "ignore_diacritics": "ignore-diacritics" in options,
            "line": self.text.numbers[0],
        }

    def _answers(self, body: str, base: int, markers: str = "~=") -> list[tuple[str, int, str]]:
        """The answers of a block as ``(marker, offset, raw text)``.

        Text before the first marker is an answer too (Moodle reads ``{One}`` as a short answer).
        """
        pieces = _split(body, markers)
        lead = pieces[0]
        answers = [(sep, base + start, piece) for sep, start, piece in pieces[1:]]
        if lead[2].strip():
            answers.insert(0, ("", base, lead[2]))
        return answers

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
                kind="weight",
            )
        return float(percent / 100), raw[match.end() :]

    def _split_feedback(self, raw: str) -> tuple[str, str]:
        hash_at = _find(raw, "#")
        return (raw, "") if hash_at < 0 else (raw[:hash_at], raw[hash_at + 1 :])

    # -- one method per type --

    def _choices(self, body: str, base: int, single: bool) -> tuple[Answer, ...]:
        answers = []
        dropped = 0
        for marker, offset, raw in self._answers(body, base):
            raw = raw.strip()
            if marker == "=":
                # Moodle: '=' is a right answer; a weight after it is part of the text.
                weight = 1.0
                if _WEIGHT.match(raw):
                    self.notes.append(
                        _("'=%(text)s': after '=' Moodle reads no weight, so this right answer's "
                          "text starts with the percentage; write '~%%50%%…' for a partial "
                          "weight.", text=raw[:12])
                    )
            else:
                parsed, raw = self._weight(raw, offset)
                weight = 0.0 if parsed is None else parsed
                if marker == "":
                    self.notes.append(
                        _("The text before the first '~' or '=' is read as a wrong answer, as "
                          "Moodle does.")
                    )
            text_raw, feedback_raw = self._split_feedback(raw)
            mark = len(self.parts)
            text = self.part(text_raw)
            if not text:
                del self.parts[mark:]
                dropped += 1
                continue
            answers.append(Answer(text, weight, self.part(feedback_raw)))
        if dropped:
            self.notes.append(
                ngettext("%(num)s empty answer was left out, as Moodle does.",
                         "%(num)s empty answers were left out, as Moodle does.", dropped)
            )
        if len(answers) < 2:
            raise _Problem(
                base, _("A multiple-choice question needs at least two answers."), kind="answers"
            )
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
                    kind="weight",
                )
            if abs(total - 1) > 1e-9:
                self.notes.append(
                    _("The positive weights add up to %(total)s%%, not exactly 100%%: choosing "
                      "every right answer scores %(total)s%%.", total=_percent(total))
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
                kind="weight",
            )

    def _truefalse(self, body: str, base: int) -> tuple[Answer, Answer]:
        pieces = _split(body, "#")
        head = _clean(pieces[0][2])
        wrong = self.part(pieces[1][2]) if len(pieces) > 1 else ""
        # Moodle splits at the first two '#'; a third one belongs to the right-answer feedback.
        right_raw = body[pieces[2][1] :] if len(pieces) > 2 else ""
        right = self.part(right_raw) if len(pieces) > 2 else ""
        return truefalse_answers(head in _TRUE, right_feedback=right, wrong_feedback=wrong)

    def _short(self, body: str, base: int) -> tuple[Answer, ...]:
        answers = []
        dropped = 0
        for _marker, offset, raw in self._answers(body, base, "="):
            weight, raw = self._weight(raw.strip(), offset)
            weight = 1.0 if weight is None else weight
            if weight < 0:
                raise _Problem(
                    offset,
                    _(
                        "Short answers cannot have negative weights (%(weight)s%%).",
                        weight=_percent(weight),
                    ),
                    kind="weight",
                )
            text_raw, feedback_raw = self._split_feedback(raw)
            # Accepted answers are compared with what the officer types, never shown as
            # formatted text: Moodle drops their format tag, and so do we.
            text = _clean(_strip_format(text_raw.strip())[0])
            if not text:
                dropped += 1
                continue
            answers.append(Answer(text, weight, self.part(feedback_raw)))
        if dropped:
            self.notes.append(
                ngettext("%(num)s empty answer was left out, as Moodle does.",
                         "%(num)s empty answers were left out, as Moodle does.", dropped)
            )
        if not answers:
            raise _Problem(base, _("The short-answer question has no answer."), kind="answers")
        self._require_full_marks(answers, base)
        return tuple(answers)

    def _pairs(self, body: str, base: int) -> tuple[MatchPair, ...]:
        pairs = []
        for number, (_marker, offset, raw) in enumerate(self._answers(body, base, "="), start=1):
            arrow = raw.find("->")
            if arrow < 0:
                raise _Problem(
                    offset,
                    _(
                        "Matching pair %(number)s has no '->' between the item and its match.",
                        number=number,
                    ),
                    kind="matching",
                )
            left = self.part(raw[:arrow])
            # Moodle reads no format tag on the match side (it is a plain drop-down entry).
            right = _clean(raw[arrow + 2 :])
            if not _clean(raw[arrow + 2 :]):
                raise _Problem(
                    offset,
                    _("Matching pair %(number)s has nothing after '->'.", number=number),
                    kind="matching",
                )
            if _WEIGHT.match(raw.strip()) or _find(raw, "#") >= 0:
                self.notes.append(
                    _("Matching pair %(number)s has a '%%' weight or a '#': matching pairs have "
                      "neither, so they are kept as text, as Moodle does.", number=number)
                )
            pairs.append(MatchPair(left, right))
        items = sum(1 for p in pairs if p.left)
        if items < 2 or len(pairs) < 3:
            raise _Problem(
                base,
                _(
                    "A matching question needs at least two items and three matches (found "
                    "%(items)s items and %(matches)s matches), as Moodle's question editor also "
                    "requires.",
                    items=items,
                    matches=len(pairs),
                ),
                kind="matching",
            )
        return tuple(pairs)

    def _numerical(self, body: str, base: int) -> tuple[NumericalAnswer, ...]:
        tilde = _find(body, "~")
        other_raw = None
        if tilde >= 0:
            other_raw, body = body[tilde + 1 :], body[:tilde]
        answers = []
        for number, (_marker, offset, raw) in enumerate(self._answers(body, base, "="), start=1):
            weight, raw = self._weight(raw.strip(), offset)
            answers.append(self._numerical_answer(raw, offset, number, weight))
        if not answers:
            raise _Problem(
                base,
                _("Numerical answer %(number)s has no number.", number=1),
                kind="number",
            )
        if other_raw is not None:
            _ignored, feedback_raw = self._split_feedback(other_raw)
            answers.append(
                NumericalAnswer(weight=0.0, feedback=self.part(feedback_raw), other=True)
            )
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
                kind="weight",
            )
        spec_raw, feedback_raw = self._split_feedback(raw)
        spec = _clean(_strip_format(spec_raw.strip())[0])
        feedback = self.part(feedback_raw)
        if not spec:
            raise _Problem(
                offset, _("Numerical answer %(number)s has no number.", number=number),
                kind="number",
            )
        if spec.find("..") > 0:
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
                    kind="number",
                )
            return NumericalAnswer(minimum=low, maximum=high, weight=weight, feedback=feedback)
        value_text, colon, tolerance_text = spec.partition(":")
        if colon and not value_text.strip():
            value_text, colon = spec, ""
        value = self._number(value_text, offset)
        tolerance = self._number(tolerance_text, offset) if colon else 0.0
        if tolerance < 0:
            raise _Problem(
                offset,
                _("The tolerance %(tolerance)s is negative.", tolerance=tolerance_text.strip()),
                kind="number",
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
            kind="number",
        )


def _rfind(text: str, target: str) -> int:
    """Index of the last unescaped occurrence of ``target`` (Moodle takes the last '####')."""
    found, at = -1, _find(text, target)
    while at >= 0:
        found = at
        at = _find(text, target, at + 1)
    return found


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
            if category_path(category) != category:
                raise ValueError(f"question {question.name!r}: the category {category!r} is not a "
                                 "clean path (no empty parts, no spaces around '/')")
            if _CATEGORY_MANGLED.search(category):
                # Moodle reads a $CATEGORY line without undoing escapes: it would store another name.
                raise ValueError(f"question {question.name!r}: Moodle would misread the category "
                                 f"{category!r} (a backslash before one of \\ : # = {{ }} ~ n)")
            # Moodle's own form: its importer puts it in the course's question bank.
            chunks.append(f"{_CATEGORY} $course$/top/{category}\n")
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
    return match is not None and (not known_only or match.group(1).lower() in TEXT_FORMATS)


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
        # Moodle reads any '%..%' it can at the start as a weight ('%--5%', '%5.%' too), so a text
        # starting with '%' always gets its weight written in front of it.
        explicit = weight != default or text.lstrip().startswith("%")
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
                    # After '=' Moodle reads no weight: the text follows as it is.
                    line = "=" + self.part(a.text)
                else:
                    line = self.weighted("~", 0.0, a.weight, a.text)
                lines.append(line + self.feedback(a.feedback))
            return self.block_lines(lines)
        if kind == "short":
            lines = []
            for a in q.answers:
                if "->" in a.text or "->" in a.feedback:
                    # Moodle would read any '->' in the block as a matching question.
                    raise self.fail("a short answer or its feedback cannot contain '->'")
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
            numbers = [n for n in q.numerical if not n.other]
            others = [n for n in q.numerical if n.other]
            if len(others) > 1 or (others and (others[0].weight != 0 or q.numerical[-1] is not
                                               others[0])):
                raise self.fail("GIFT has one 'any other answer', last and worth nothing")
            if len(numbers) == 1 and numbers[0].weight == 1 and not others:
                return "{#" + self.numeric(numbers[0]) + self.general() + "}"
            lines = [self.weighted("=", 1.0, n.weight, "") + self.numeric(n) for n in numbers]
            lines += ["~" + self.feedback(n.feedback or "") for n in others]
            return "{#\n" + "".join(f"\t{line}\n" for line in lines) + self.general_line() + "}"
        if kind == "matching":
            lines = []
            for pair in q.pairs:
                if "->" in pair.left or _WEIGHT.match(pair.left):
                    raise self.fail("a matching item cannot contain '->' or start with '%n%'")
                # Moodle reads no format tag on the match side, so none is written there.
                lines.append(f"={self.part(pair.left)} -> {_escape(pair.right)}")
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
        # NumericalAnswer guarantees a value, or both ends of a range (is_range).
        if answer.value is not None:
            spec = f"{_export_number(answer.value)}:{_export_number(answer.tolerance)}"
        elif answer.minimum is not None and answer.maximum is not None:
            spec = f"{_export_number(answer.minimum)}..{_export_number(answer.maximum)}"
        else:
            raise self.fail("a numerical answer has neither a value nor a range")
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


def export_gift_skipping(questions: Iterable[Question]) -> tuple[str, list[Question]]:
    """GIFT for the questions whose type GIFT can say, and the questions left out (e.g. ordering).

    The file opens with one comment line per question left out, so whoever opens it sees the gap.
    """
    kept, skipped = qtypes.exportable(questions, "gift")
    notes = "".join(
        f"// lms: {_comment_value(q.name)} ({q.type}) left out: GIFT has no syntax for this type\n"
        for q in skipped
    )
    return (notes + "\n" if notes else "") + export_gift(kept), skipped
