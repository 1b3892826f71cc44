"""A reference reading of GIFT as Moodle's importer (``question/format/gift/format.php``) reads it.

It follows the steps of Moodle's reader, not lms's parser, so a test can check that what lms writes is
read by Moodle with the meaning lms meant: the file is cut into questions at blank lines (a line that
PHP's ``empty()`` calls empty, so also ``0``); ``//`` lines are comments carrying ``[id:]`` and
``[tag:]``; escaped characters are swapped for placeholders; the name is what lies between the first two
``::``; the answer block runs from the first ``{`` to the first ``}``; the last ``####`` opens the general
feedback; and the type is decided in Moodle's order: description (no braces), essay (empty block),
numerical (``#``), multiple choice (any ``~``), matching (``=`` and ``->``), true/false, short answer.

It is written for the tests from the behaviour of Moodle's reader; it shares no code with
``lms.questionformat.gift``. It raises ``MoodleRefused`` where Moodle's reader reports an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FORMATS = ("moodle", "html", "plain", "markdown")
# Moodle's escapedchar_pre: a doubled backslash is one literal backslash; a backslash before one of
# : # = { } ~ makes that character literal and backslash-n is a line break, each kept as a placeholder
# until the text is cut up. The placeholders are Moodle's own (the line break's has no ';').
_PLACEHOLDERS = {"\\:": "&&058;", "\\#": "&&035;", "\\=": "&&061;", "\\{": "&&123;",
                 "\\}": "&&125;", "\\~": "&&126;", "\\n": "&&010"}
_LITERALS = {"&&058;": ":", "&&035;": "#", "&&061;": "=", "&&123;": "{", "&&125;": "}",
             "&&126;": "~", "&&010": "\n"}
# Moodle's $giftanswerweightregex: '%', any number of '-', one or two digits, an optional point, digits, '%'.
_WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
_PHP_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_COMMENT_FIELD = r"\[{}:((?:\\.|[^\]\\])*)\]"
_PHP_TRIM = " \t\n\r\0\x0b"


class MoodleRefused(ValueError):
    """Moodle's reader would report this question as an error and skip it."""


@dataclass
class RefAnswer:
    text: str
    fraction: float
    feedback: str = ""


@dataclass
class RefNumber:
    """A numerical answer as Moodle stores it: the middle and a tolerance ("*": any other answer);
    ``low`` and ``high`` keep the two ends as written when the answer was a range."""

    answer: str
    tolerance: float
    fraction: float
    feedback: str
    low: str = ""
    high: str = ""


@dataclass
class RefQuestion:
    qtype: str
    name: str
    text: str
    text_format: str
    category: str = ""
    single: bool | None = None
    answers: list[RefAnswer] = field(default_factory=list)
    numbers: list[RefNumber] = field(default_factory=list)
    # matching: (left, right); an empty left is an extra choice
    pairs: list[tuple[str, str]] = field(default_factory=list)
    correct: bool | None = None
    feedback_true: str = ""
    feedback_false: str = ""
    general_feedback: str = ""
    idnumber: str = ""
    tags: list[str] = field(default_factory=list)


def _trim(text: str) -> str:
    return text.strip(_PHP_TRIM)


def _php_empty(text: str) -> bool:
    return text in ("", "0")


def _pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _PLACEHOLDERS.items():
        text = text.replace(escaped, placeholder)
    return text.replace("&&092;", "\\")


def _post(text: str) -> str:
    for placeholder, literal in _LITERALS.items():
        text = text.replace(placeholder, literal)
    return text


def _with_format(text: str, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format: a leading ``[name]`` naming a format (lower case) sets it;
    the text is unescaped, then trimmed."""
    fmt = default
    if text.startswith("["):
        end = text.find("]")
        name = text[1:end] if end >= 0 else text[1:-1]
        if name in FORMATS:
            fmt, text = name, text[end + 1:]
    return _trim(_post(text)), fmt


def _weight(answer: str) -> tuple[float, str]:
    """Moodle's answerweightparser: the number between the first two '%', over 100."""
    rest = answer[1:]
    end = rest.index("%")
    if not _PHP_NUMERIC.match(rest[:end]):
        # PHP 8 stops the import with a TypeError on a non-numeric string divided by 100.
        raise MoodleRefused(f"the weight {rest[:end]!r} is not a number")
    return float(rest[:end]) / 100, rest[end + 1:]


def _comment(answer: str, fmt: str) -> tuple[str, str]:
    """Moodle's commentparser: the answer, then its feedback after the first '#'."""
    bits = answer.split("#", 1)
    text = _with_format(_trim(bits[0]), fmt)[0]
    feedback = _with_format(_trim(bits[1]), fmt)[0] if len(bits) > 1 else ""
    return text, feedback


def _split(answertext: str, marker: str) -> list[str]:
    parts = answertext.split(marker)
    parts[0] = _trim(parts[0])
    if _php_empty(parts[0]):
        parts.pop(0)
    return parts


def read(text: str) -> list[RefQuestion]:
    """Every question of a GIFT file, in order, with the category each one goes into."""
    questions: list[RefQuestion] = []
    category = ""
    block: list[str] = []
    for line in [*text.replace("\r\n", "\n").split("\n"), ""]:
        line = _trim(line)
        if not _php_empty(line):
            block.append(line)
            continue
        if block:
            question = _read_question(block)
            if isinstance(question, str):
                category = question
            elif question is not None:
                question.category = category
                questions.append(question)
            block = []
    return questions


def _read_question(lines: list[str]) -> RefQuestion | str | None:
    comments = "\n".join(line for line in lines if line.startswith("//"))
    text = _trim("\n".join(" " if line.startswith("//") else line for line in lines))
    if text == "":
        return None
    text = _pre(text)
    if text.startswith("$CATEGORY:"):
        # Moodle keeps the path as it is after escapedchar_pre: it never turns placeholders back.
        path = _trim(text[len("$CATEGORY:"):])
        # "$course$/" names the course's question bank and "top" its top category.
        path = re.sub(r"^\$[a-z]+\$/", "", path)
        return path[len("top/"):] if path.startswith("top/") else ("" if path == "top" else path)
    name: str | None = None
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        if end >= 0:
            name = _trim(_post(text[:end]))
            text = _trim(text[end + 2:])
    start, finish = text.find("{"), text.find("}")
    description = start < 0 and finish < 0
    if description:
        answertext, question_text = "", text
    elif start < 0 or finish < 0 or finish < start:
        raise MoodleRefused("the braces of the answer block do not match")
    else:
        answertext = _trim(text[start + 1:finish])
        blank = "" if text.endswith("}") else "_____"
        question_text = text[:start] + blank + text[finish + 1:]
    general = ""
    separator = answertext.rfind("####")
    if separator >= 0:
        general = answertext[separator + 4:]
        answertext = _trim(answertext[:separator])
    body, fmt = _with_format(question_text, "moodle")
    question = RefQuestion(qtype="", name=name if name is not None else body, text=body,
                           text_format=fmt)
    question.general_feedback = _with_format(general, fmt)[0] if general else ""
    idnumber = re.search(_COMMENT_FIELD.format("id"), comments)
    if idnumber:
        question.idnumber = _unescape_comment(idnumber.group(1))
    question.tags = [_unescape_comment(t) for t in re.findall(_COMMENT_FIELD.format("tag"), comments)]
    if description:
        question.qtype = "description"
    elif answertext == "":
        question.qtype = "essay"
    elif answertext.startswith("#"):
        _numerical(question, answertext[1:], fmt)
    elif "~" in answertext:
        _multichoice(question, answertext, fmt)
    elif "=" in answertext and "->" in answertext:
        _matching(question, answertext, fmt)
    else:
        check = answertext
        if answertext.find("#") > 0:
            check = _trim(answertext[: answertext.find("#")])
        if check in ("T", "TRUE", "F", "FALSE"):
            _truefalse(question, answertext, fmt)
        else:
            _shortanswer(question, answertext, fmt)
    return question


def _unescape_comment(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _multichoice(question: RefQuestion, answertext: str, fmt: str) -> None:
    question.qtype = "multichoice"
    # "Multiple answers are allowed when no answer is marked with '='."
    question.single = "=" in answertext
    answers = _split(answertext.replace("=", "~="), "~")
    if len(answers) < 2:
        raise MoodleRefused("a multiple-choice question needs at least two answers")
    for raw in answers:
        raw = _trim(raw)
        if raw.startswith("="):
            fraction, raw = 1.0, raw[1:]
        elif _WEIGHT.match(raw):
            fraction, raw = _weight(raw)
        else:
            fraction = 0.0
        text, feedback = _comment(raw, fmt)
        question.answers.append(RefAnswer(text, fraction, feedback))


def _shortanswer(question: RefQuestion, answertext: str, fmt: str) -> None:
    question.qtype = "shortanswer"
    answers = _split(answertext, "=")
    if not answers:
        raise MoodleRefused("a short-answer question needs an answer")
    for raw in answers:
        raw = _trim(raw)
        fraction = 1.0
        if _WEIGHT.match(raw):
            fraction, raw = _weight(raw)
        text, feedback = _comment(raw, fmt)
        question.answers.append(RefAnswer(text, fraction, feedback))


def _truefalse(question: RefQuestion, answertext: str, fmt: str) -> None:
    question.qtype = "truefalse"
    bits = answertext.split("#", 2)
    answer = _with_format(_trim(bits[0]), fmt)[0]
    wrong = _with_format(_trim(bits[1]), fmt)[0] if len(bits) > 1 else ""
    right = _with_format(_trim(bits[2]), fmt)[0] if len(bits) > 2 else ""
    question.correct = answer in ("T", "TRUE")
    if question.correct:
        question.feedback_true, question.feedback_false = right, wrong
    else:
        question.feedback_false, question.feedback_true = right, wrong


def _matching(question: RefQuestion, answertext: str, fmt: str) -> None:
    question.qtype = "match"
    answers = _split(answertext, "=")
    if len(answers) < 2:
        raise MoodleRefused("a matching question needs at least two pairs")
    for raw in answers:
        raw = _trim(raw)
        marker = raw.find("->")
        if marker < 0:
            raise MoodleRefused("every matching pair needs '->'")
        left = _with_format(raw[:marker], fmt)[0]
        question.pairs.append((left, _trim(_post(raw[marker + 2:]))))


def _numerical(question: RefQuestion, answertext: str, fmt: str) -> None:
    question.qtype = "numerical"
    wrong = ""
    tilde = answertext.find("~")
    if tilde >= 0:
        answertext, wrong = answertext[:tilde], answertext[tilde:]
    answers = _split(answertext, "=")
    if not answers:
        raise MoodleRefused("a numerical question needs an answer")
    for raw in answers:
        raw = _trim(raw)
        fraction = 1.0
        if _WEIGHT.match(raw):
            fraction, raw = _weight(raw)
        spec, feedback = _comment(raw, fmt)
        low = high = ""
        if spec.find("..") > 0:
            low, high = _trim(spec[: spec.find("..")]), _trim(spec[spec.find("..") + 2:])
            if not (_PHP_NUMERIC.match(low) and _PHP_NUMERIC.match(high)):
                raise MoodleRefused(f"not a number range: {spec!r}")
            middle = float(high) / 2 + float(low) / 2
            answer, tolerance = repr(middle), float(high) - middle
        elif spec.find(":") > 0:
            answer, tol = _trim(spec[: spec.find(":")]), _trim(spec[spec.find(":") + 1:])
            if not (_PHP_NUMERIC.match(answer) and _PHP_NUMERIC.match(tol)):
                raise MoodleRefused(f"not a number and tolerance: {spec!r}")
            tolerance = float(tol)
        else:
            answer, tolerance = _trim(spec), 0.0
            if not _PHP_NUMERIC.match(answer):
                raise MoodleRefused(f"not a number: {spec!r}")
        question.numbers.append(RefNumber(answer, tolerance, fraction, feedback, low, high))
    if wrong:
        question.numbers.append(RefNumber("*", 0.0, 0.0, _comment(wrong, fmt)[1]))
