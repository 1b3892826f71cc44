"""Aiken, the simplest question format Moodle imports: single-choice questions only.

::

    Điều 14 Hiến pháp 2013 nằm ở chương nào?
    A. Chương I
    B. Chương II
    C. Chương III
    ANSWER: B

The question text comes first (one line in Moodle; we also accept several), then two or more options
each starting with a capital letter and ``.`` or ``)``, then ``ANSWER:`` and the right letter. Blank lines
between questions are optional. Like ``parse_gift``, ``parse_aiken`` never raises on bad input: each bad
question gives one error with its line, and parsing carries on with the next question.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field

from lms.i18n import _
from lms.questionformat.questions import (
    Answer,
    ParseError,
    ParseResult,
    Question,
    default_question_name,
)

# As Moodle reads it: a capital, '.' or ')', then the text (the space after it is optional).
_OPTION = re.compile(r"([A-Z])[.)](?:\s*(.*\S))?\s*$")
_ANSWER = re.compile(r"ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class _Draft:
    line: int
    text_lines: list[str] = field(default_factory=list)
    options: list[tuple[int, str, str]] = field(default_factory=list)  # (line, letter, text)

    @property
    def text(self) -> str:
        return unicodedata.normalize("NFC", "\n".join(self.text_lines).strip())

    @property
    def label(self) -> str | None:
        return default_question_name(self.text, "plain") or None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def parse_aiken(text: str, source: str = "<aiken>") -> ParseResult:
    """Parse an Aiken file into single-choice questions, with one error per bad question."""
    result = ParseResult(source=source, format="aiken")
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    draft: _Draft | None = None
    skipping = False  # after an error: ignore lines up to the end of the broken question
    used_names: set[str] = set()

    def fail(problem: _Problem, label: str | None, start: int | None = None) -> None:
        first = start or problem.line
        raw = "\n".join(lines[first - 1 : max(problem.line, first)]).strip("\n")
        result.errors.append(
            ParseError(problem.line, problem.message, label, source, None, "aiken", raw)
        )

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if skipping:
            if not line or _ANSWER.match(line):
                skipping = False
            continue
        if not line:
            continue  # blank lines are optional separators, even among the options

        option = _OPTION.match(line)
        answer = _ANSWER.match(line)
        if answer:
            if draft is None:
                fail(_Problem(number, _("ANSWER: line without a question above it.")), None)
                continue
            try:
                question = _finish(draft, answer.group(1), number, used_names)
            except _Problem as problem:
                fail(_Problem(problem.line, problem.message), draft.label, draft.line)
                result.errors[-1] = dataclasses.replace(
                    result.errors[-1], raw="\n".join(lines[draft.line - 1 : number])
                )
            else:
                if not _in_sequence([letter for _l, letter, _t in draft.options]):
                    result.note(question.line, _(
                        "The options are not lettered A, B, C … in order; lms reads ANSWER: by "
                        "letter, Moodle by position."))
                result.questions.append(question)
                result.unnamed.add(question.line)
                used_names.add(question.name)
            draft = None
        elif option:
            if draft is None:
                fail(
                    _Problem(
                        number,
                        _("Option %(letter)s. comes before any question text.", letter=option[1]),
                    ),
                    None,
                )
                skipping = True
                continue
            if not option.group(2):
                fail(
                    _Problem(number, _("Option %(letter)s is empty.", letter=option[1])),
                    draft.label,
                )
                draft, skipping = None, True
                continue
            draft.options.append((number, option.group(1), _clean(option.group(2))))
        elif draft is not None and draft.options:
            # Text after the options: the previous question lost its ANSWER line.
            fail(
                _Problem(
                    draft.options[-1][0],
                    _(
                        "The question has no 'ANSWER:' line after its options (the next question "
                        "starts on line %(line)s).",
                        line=number,
                    ),
                ),
                draft.label,
            )
            draft = _Draft(number, [line])
        elif draft is None:
            draft = _Draft(number, [line])
        else:
            draft.text_lines.append(line)

    if draft is not None:
        if draft.options:
            fail(
                _Problem(
                    draft.options[-1][0],
                    _("The question has no 'ANSWER:' line after its options."),
                ),
                draft.label,
            )
        else:
            fail(
                _Problem(
                    draft.line,
                    _("The question has no options: write them as 'A. text' under it."),
                ),
                draft.label,
            )
    return result


def _finish(draft: _Draft, letter: str, line: int, used_names: set[str]) -> Question:
    if len(draft.options) < 2:
        raise _Problem(
            line,
            _(
                "A question needs at least two options before 'ANSWER:' (found %(count)s).",
                count=len(draft.options),
            ),
        )
    letters = [option_letter for _line, option_letter, _text in draft.options]
    seen: set[str] = set()
    for option_line, option_letter, _text in draft.options:
        if option_letter in seen:
            raise _Problem(
                option_line,
                _("Option %(letter)s appears more than once.", letter=option_letter),
            )
        seen.add(option_letter)
    letter = letter.strip().upper().rstrip(".)")
    if letter not in letters:
        raise _Problem(
            line,
            _(
                "ANSWER: %(letter)s is not one of the options (%(letters)s); write a single "
                "letter such as 'ANSWER: B'.",
                letter=letter or "?",
                letters=", ".join(letters),
            ),
        )
    text = draft.text
    name = base = default_question_name(text, "plain")
    number = 2
    while name in used_names:
        name, number = f"{base} ({number})", number + 1
    return Question(
        type="single",
        name=name,
        text=text,
        text_format="plain",
        answers=tuple(
            Answer(option_text, 1.0 if option_letter == letter else 0.0)
            for _line, option_letter, option_text in draft.options
        ),
        line=draft.line,
    )


def _in_sequence(letters: list[str]) -> bool:
    return letters == [chr(ord("A") + index) for index in range(len(letters))]
