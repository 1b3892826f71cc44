"""Reading an uploaded question file, whatever it is: encoding, format, parse, and what to show (pure).

The web import and ``flask questions import`` both go through :func:`read_question_file`, so they
accept the same files and say the same things: the encoding is detected (UTF-8 with or without BOM,
UTF-16/32 with BOM, or a legacy Vietnamese encoding, which is then named), the format is taken from
the extension or, for ``.txt`` files, from the content (Moodle exports Aiken and GIFT both as
``.txt``), and errors are summarised: the first :data:`ERROR_LIMIT` in full, then counts by kind,
so a file of noise gives a page, not twelve thousand lines. The refused questions can be handed back
as a file of their own, each with its errors above it, to fix and import again.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lms.i18n import N_, _
from lms.org import vnencoding
from lms.questionformat.aiken import parse_aiken
from lms.questionformat.gift import parse_gift
from lms.questionformat.moodlexml import parse_moodle_xml
from lms.questionformat.questions import ParseError, ParseResult

ERROR_LIMIT = 50
FORMATS = ("gift", "aiken", "xml")
_AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:", re.IGNORECASE | re.MULTILINE)
_AIKEN_OPTION = re.compile(r"^\s*[A-Z][.)]", re.MULTILINE)
_GIFT_MARKS = re.compile(r"(?<!\\)[{}]|^\s*::", re.MULTILINE)

# The name of each kind of error, for the counts after the first ERROR_LIMIT errors.
KIND_LABELS = {
    "brace": N_("braces { } not matching"),
    "weight": N_("weights"),
    "answers": N_("missing or empty answers"),
    "matching": N_("matching pairs"),
    "number": N_("numbers"),
    "text": N_("question without text"),
    "option": N_("unknown options"),
    "limit": N_("too long, or control characters"),
    "type": N_("question types lms does not have"),
    "xml": N_("XML structure"),
    "xml-unsafe": N_("unsafe XML"),
    "encoding": N_("text encoding"),
    "file": N_("embedded files"),
    "aiken": N_("Aiken structure"),
    "syntax": N_("other"),
}


def detect_format(filename: str, data: bytes) -> str:
    """``gift``, ``aiken`` or ``xml`` from the extension, or from the content for other names."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "xml":
        return "xml"
    if suffix in ("aiken", "aik"):
        return "aiken"
    if suffix == "gift":
        return "gift"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<quiz")):
        return "xml"
    sample = data[:200_000].decode("utf-8", "ignore")
    if _AIKEN_ANSWER.search(sample) and _AIKEN_OPTION.search(sample) and not _GIFT_MARKS.search(
        sample
    ):
        return "aiken"
    return "gift"


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str
    error: ParseError | None = None


def _position(data: bytes, index: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, index) + 1
    start = data.rfind(b"\n", 0, index) + 1
    column = len(data[start:index].decode("utf-8", "replace")) + 1
    return line, column


def decode(data: bytes, source: str) -> Decoded:
    """The file as text and the name of its encoding, or one error saying where and what is wrong."""
    for bom, codec, label in ((b"\xef\xbb\xbf", "utf-8", "UTF-8"),
                              (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
                              (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
                              (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16")):
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec).removeprefix("\ufeff"), label)
            except UnicodeDecodeError as err:
                line, column = _position(data, err.start)
                return Decoded(None, label, ParseError(line, _(
                    "The file starts with a %(encoding)s marker but is not valid %(encoding)s at "
                    "this point; save it again as UTF-8.", encoding=label),
                    None, source, column, "encoding"))
    if b"\x00" in data:
        line, column = _position(data, data.index(b"\x00"))
        return Decoded(None, "", ParseError(line, _(
            "This is not a text file (it contains binary data): export the questions from Moodle "
            "as GIFT, Aiken or Moodle XML."), None, source, column, "encoding"))
    try:
        return Decoded(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError as err:
        line, column = _position(data, err.start)
        byte = data[err.start]
    try:
        legacy = vnencoding.decode_text(data)
    except vnencoding.EncodingProblem:
        legacy = None
    if legacy is not None and legacy.legacy:
        return Decoded(legacy.text, vnencoding._LABELS[legacy.encoding])
    return Decoded(None, "", ParseError(line, _(
        "The file is not UTF-8: the byte 0x%(byte)02X here cannot be UTF-8, and the file does not "
        "read as a Vietnamese legacy encoding (Windows-1258, VNI, TCVN3) either. Save it as UTF-8 "
        "(Moodle's own exports already are) and upload it again.", byte=byte),
        None, source, column, "encoding"))


def read_question_file(data: bytes, source: str, fmt: str = "auto") -> ParseResult:
    """Decode, detect the format (unless given) and parse a question file; never raises."""
    fmt = detect_format(source, data) if fmt in ("", "auto") else fmt
    if fmt == "xml":
        return parse_moodle_xml(data, source)
    decoded = decode(data, source)
    if decoded.text is None:
        assert decoded.error is not None
        return ParseResult(errors=[decoded.error], source=source, format=fmt,
                           encoding=decoded.encoding)
    result = parse_aiken(decoded.text, source) if fmt == "aiken" else parse_gift(decoded.text,
                                                                                  source)
    result.encoding = decoded.encoding
    return result


@dataclass(frozen=True)
class ErrorSummary:
    shown: list[ParseError]
    hidden: int
    by_kind: list[tuple[str, int]]  # (label, count) of the errors not shown, most frequent first


def summarise_errors(errors: list[ParseError], limit: int = ERROR_LIMIT) -> ErrorSummary:
    """The first ``limit`` errors in full, the rest counted by kind."""
    rest = Counter(error.kind for error in errors[limit:])
    return ErrorSummary(
        errors[:limit], max(len(errors) - limit, 0),
        [(_(KIND_LABELS.get(kind, KIND_LABELS["syntax"])), count)
         for kind, count in rest.most_common()],
    )


def _comment(text: str) -> str:
    # Keep error text from being read back as an [id:], [tag:] or [lms:] field of the question.
    return re.sub(r"\[(id|tag|lms):", r"(\1:", text).replace("\n", " ")


def bad_questions_file(result: ParseResult) -> tuple[str, str]:
    """The refused questions with their errors, as a file of the same format: (filename, text)."""
    stem = result.source.rsplit(".", 1)[0] if "." in result.source else result.source
    by_question: dict[str, list[ParseError]] = {}
    order: list[str] = []
    for error in result.errors:
        key = error.raw or f"\0{error.line}"
        if key not in by_question:
            order.append(key)
        by_question.setdefault(key, []).append(error)
    if result.format == "xml":
        chunks = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
        for key in order:
            for error in by_question[key]:
                message = _comment(str(error)).replace("--", "- -")
                chunks.append(f"<!-- {message} -->\n")
            if not key.startswith("\0"):
                chunks.append(key + "\n")
        chunks.append("</quiz>\n")
        return f"{stem}-errors.xml", "".join(chunks)
    chunks = []
    for key in order:
        lines = [f"// {_comment(str(error))}" for error in by_question[key]]
        if not key.startswith("\0"):
            lines.append(key)
        chunks.append("\n".join(lines))
    suffix = "aiken.txt" if result.format == "aiken" else "gift"
    return f"{stem}-errors.{suffix}", "\n\n".join(chunks) + "\n"
