"""Moodle XML, the richest format Moodle reads and writes: import and export (pure core).

::

    <quiz>
      <question type="category"><category><text>$course$/top/Nhân quyền</text></category></question>
      <question type="multichoice">
        <name><text>udhr-year</text></name>
        <questiontext format="html"><text><![CDATA[<p>Năm nào? <img src="@@PLUGINFILE@@/a.png"></p>]]></text>
          <file name="a.png" path="/" encoding="base64">iVBORw0…</file></questiontext>
        <generalfeedback format="html"><text>…</text></generalfeedback>
        <defaultgrade>1</defaultgrade><idnumber>Q7</idnumber><single>true</single>
        <answer fraction="100" format="html"><text>1948</text><feedback format="html"><text>Đúng</text></feedback></answer>
        <tags><tag><text>udhr</text></tag></tags>
      </question>
    </quiz>

Every lms type has its Moodle type in the type registry (``formats["moodle_xml"]`` of each
``qtypes`` module): multichoice (``single`` tells single from multiple choice), truefalse,
shortanswer (``usecase`` is case sensitivity), numerical (``*`` is "any other answer"), matching,
essay and description. Other Moodle types (cloze, calculated, drag and drop …) are refused per question
with their name. Images travel as ``<file encoding="base64">`` next to the text that shows them and
become ``data:`` URLs in lms (and back again on export), so a bank moves both ways without losing them.

The file is read with defusedxml: a DOCTYPE, entity declarations (billion laughs) and external
references (XXE) are refused before anything is expanded or fetched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.saxutils import escape, quoteattr
from xml.sax.xmlreader import InputSource

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

from lms.i18n import _
from lms.questionformat import formats, qtypes
from lms.questionformat.gift import _export_number, _export_percent, category_path
from lms.questionformat.questions import (
    MAX_NAME,
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

_FORMAT_IN = {"html": "html", "moodle_auto_format": "moodle", "plain_text": "plain",
              "markdown": "markdown"}
_FORMAT_OUT = {value: key for key, value in _FORMAT_IN.items()}
_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
                "webp": "image/webp"}
_DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=]+)")
_TRUE_WORDS = {"1", "true", "yes"}


# --- a small tree with line numbers (ElementTree keeps none) -----------------------------------


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    end_line: int = 0
    children: list[_Node] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def find(self, tag: str) -> _Node | None:
        return next((child for child in self.children if child.tag == tag), None)

    def findall(self, tag: str) -> list[_Node]:
        return [child for child in self.children if child.tag == tag]

    def child_text(self, tag: str, default: str = "") -> str:
        child = self.find(tag)
        return default if child is None else child.text.strip()


class _Builder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: _Node | None = None
        self.stack: list[_Node] = []
        self._locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 (SAX's name)
        self._locator = locator

    def _line(self) -> int:
        return self._locator.getLineNumber() if self._locator else 0

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802
        node = _Node(name, dict(attrs.items()), self._line())
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name: str) -> None:  # noqa: N802
        self.stack.pop().end_line = self._line()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].chunks.append(content)


class _Problem(Exception):
    def __init__(self, message: str, kind: str = "xml") -> None:
        super().__init__(message)
        self.message, self.kind = message, kind


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        return data
    # Text already decoded: say so in the declaration, so the parser does not decode it twice.
    data = re.sub(r"^(\ufeff?<\?xml[^>]*?)\sencoding=(['\"])[^'\"]*\2", r"\1", data, count=1)
    return data.removeprefix("\ufeff").encode("utf-8")


def _parse_tree(data: bytes) -> _Node:
    parser = make_parser()
    parser.forbid_dtd = True
    parser.forbid_entities = True
    parser.forbid_external = True
    builder = _Builder()
    parser.setContentHandler(builder)
    source = InputSource()
    source.setByteStream(io.BytesIO(data))
    parser.parse(source)
    assert builder.root is not None
    return builder.root


# --- reading -------------------------------------------------------------------------------------


def parse_moodle_xml(data: bytes | str, source: str = "<xml>") -> ParseResult:
    """Parse a Moodle XML file: the good questions, one error per bad question (or one for the file)."""
    result = ParseResult(source=source, format="xml")
    raw = _as_bytes(data)
    try:
        root = _parse_tree(raw)
    except DefusedXmlException:
        result.errors.append(ParseError(1, _(
            "The file declares a DOCTYPE or entities, which Moodle never writes; it is refused "
            "so that it cannot make the server read other files or expand without end."),
            None, source, None, "xml-unsafe"))
        return result
    except SAXParseException as err:
        result.errors.append(ParseError(
            err.getLineNumber() or 1,
            _("The file is not well-formed XML: %(reason)s.", reason=err.getMessage()),
            None, source, (err.getColumnNumber() or 0) + 1, "xml"))
        return result
    if root.tag != "quiz":
        result.errors.append(ParseError(root.line, _(
            "This is not a Moodle XML question file: it starts with <%(tag)s>, not <quiz>.",
            tag=root.tag), None, source, None, "xml"))
        return result
    lines = raw.decode("utf-8", "replace").split("\n")
    category = ""
    for node in root.findall("question"):
        kind = node.attrs.get("type", "")
        if kind == "category":
            found = node.find("category")
            category = category_path(found.child_text("text") if found is not None else "")
            continue
        reader = _QuestionReader(node, category)
        try:
            question = reader.read()
            problems = question_limit_problems(question)
            if problems:
                raise _Problem(" ".join(problems), "limit")
        except _Problem as problem:
            text = "\n".join(lines[node.line - 1 : (node.end_line or node.line)])
            result.errors.append(ParseError(node.line, problem.message, reader.label, source,
                                            None, problem.kind, text))
            continue
        for note in reader.notes:
            result.note(question.line, note)
        if reader.points is not None:
            result.points[question.line] = reader.points
        if reader.unnamed:
            result.unnamed.add(question.line)
        result.questions.append(question)
    return result


class _QuestionReader(formats.PartsReader):
    def __init__(self, node: _Node, category: str) -> None:
        super().__init__()
        self.node = node
        self.category = category
        name = node.find("name")
        self.label: str | None = name.child_text("text") if name else None
        self.points: float | None = None
        self.unnamed = False

    def read(self) -> Question:
        return self.read_in_one_format(self._read)

    def rich(self, node: _Node | None, default: str | None = None) -> str:
        """The text of a ``<x format=…><text>…</text><file>…</file></x>`` element, images inlined."""
        if node is None:
            text, fmt = "", default or self.text_format
        else:
            fmt = _FORMAT_IN.get(node.attrs.get("format", ""), default or self.text_format)
            text = self._inline_files(node.child_text("text"), node)
        return self.keep(unicodedata.normalize("NFC", text).strip(), fmt)

    def _inline_files(self, text: str, node: _Node) -> str:
        for file in node.findall("file"):
            name = file.attrs.get("name", "")
            path = file.attrs.get("path", "/")
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            reference = "@@PLUGINFILE@@" + quote(path + name, safe="/")
            found = reference in text or "@@PLUGINFILE@@" + path + name in text
            mime = _IMAGE_TYPES.get(extension)
            if mime is None or file.attrs.get("encoding", "base64") != "base64":
                if found:
                    self.notes.append(_(
                        "The file %(name)s is not an image lms can show inside a question; it was "
                        "left out.", name=name))
                continue
            payload = re.sub(r"\s+", "", file.text)
            try:
                base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError) as err:
                raise _Problem(_("The image %(name)s is not valid base64 data.", name=name),
                               "file") from err
            data_url = f"data:{mime};base64,{payload}"
            text = text.replace(reference, data_url).replace("@@PLUGINFILE@@" + path + name,
                                                             data_url)
        if "@@PLUGINFILE@@" in text:
            self.notes.append(_("A picture or file the text refers to is not in the file; it will "
                                "not show."))
        return text

    def _read(self) -> Question:
        node = self.node
        moodle_type = node.attrs.get("type", "")
        names = {qtypes.mapping(name, "moodle_xml") for name in qtypes.NAMES}
        if moodle_type not in names:
            raise _Problem(_(
                "Moodle question type '%(type)s' has no counterpart in lms (lms has multiple "
                "choice, true/false, short answer, numerical, matching, ordering, essay and "
                "description).",
                type=moodle_type or "?"), "type")
        question_text = node.find("questiontext")
        self.text_format = _FORMAT_IN.get(
            question_text.attrs.get("format", "") if question_text is not None else "", "html")
        text = self.rich(question_text)
        if not text:
            raise _Problem(_("The question has no text."), "text")
        name = unicodedata.normalize("NFC", self.label or "").strip()
        if len(name) > MAX_NAME:
            self.notes.append(_("The name was shortened to %(limit)s characters, as Moodle does.",
                                limit=MAX_NAME))
            name = name[: MAX_NAME - 1].rstrip() + "…"
        self.unnamed = not name
        name = name or default_question_name(text, self.text_format) or "?"
        self.label = name
        general = self.rich(node.find("generalfeedback"))
        tags = tuple(dict.fromkeys(
            unicodedata.normalize("NFC", tag.child_text("text"))
            for tags_node in node.findall("tags") for tag in tags_node.findall("tag")
            if tag.child_text("text")))
        grade = node.child_text("defaultgrade")
        if grade:
            try:
                points = float(grade)
            except ValueError:
                points = 1.0
            if 0 < points <= 100:
                self.points = points
        fields: dict[str, Any] = dict(
            name=name, text=text, text_format=self.text_format, general_feedback=general,
            category=self.category, tags=tags,
            idnumber=unicodedata.normalize("NFC", node.child_text("idnumber")),
            line=node.line)
        reader = getattr(self, "_" + moodle_type)
        return reader(fields)

    def _weight(self, answer: _Node) -> float:
        raw = answer.attrs.get("fraction", "0") or "0"
        try:
            percent = Decimal(raw.strip())
            if not percent.is_finite():
                raise InvalidOperation
        except InvalidOperation as err:
            raise _Problem(_("The answer weight '%(weight)s' is not a number.", weight=raw),
                           "weight") from err
        if not -100 <= percent <= 100:
            raise _Problem(_("The weight %(weight)s%% is outside the range from -100%% to 100%%.",
                             weight=raw), "weight")
        return float(percent / 100)

    def _feedback(self, answer: _Node) -> str:
        return self.rich(answer.find("feedback"))

    def _multichoice(self, fields: dict[str, Any]) -> Question:
        single = self.node.child_text("single", "true").lower() in _TRUE_WORDS
        answers = []
        for answer in self.node.findall("answer"):
            weight = self._weight(answer)
            mark = len(self.parts)
            text = self.rich(answer)
            if not text:
                del self.parts[mark:]
                continue
            answers.append(Answer(text, weight, self._feedback(answer)))
        if len(answers) < 2:
            raise _Problem(_("A multiple-choice question needs at least two answers."), "answers")
        if single:
            _require_full_marks(answers)
        else:
            total = sum(a.weight for a in answers if a.weight > 0)
            if abs(total - 1) > 0.005:
                raise _Problem(_(
                    "The positive weights add up to %(total)s%%; with several right answers they "
                    "must add up to 100%% (or mark the only right answer with '=').",
                    total=f"{total * 100:.10g}"), "weight")
        return Question(type="single" if single else "multi", answers=tuple(answers), **fields)

    def _truefalse(self, fields: dict[str, Any]) -> Question:
        by_text: dict[str, tuple[float, str]] = {}
        for answer in self.node.findall("answer"):
            word = answer.child_text("text").lower()
            if word in ("true", "false"):
                by_text[word] = (self._weight(answer), self._feedback(answer))
        if set(by_text) != {"true", "false"}:
            raise _Problem(_("A true/false question needs the answers 'true' and 'false'."),
                           "answers")
        correct = by_text["true"][0] >= by_text["false"][0]
        right = by_text["true" if correct else "false"][1]
        wrong = by_text["false" if correct else "true"][1]
        return Question(type="truefalse", answers=truefalse_answers(correct, right, wrong),
                        **fields)

    def _shortanswer(self, fields: dict[str, Any]) -> Question:
        answers = []
        for answer in self.node.findall("answer"):
            weight = self._weight(answer)
            text = unicodedata.normalize("NFC", answer.child_text("text"))
            if not text:
                continue
            if weight < 0:
                raise _Problem(_("Short answers cannot have negative weights (%(weight)s%%).",
                                 weight=f"{weight * 100:.10g}"), "weight")
            answers.append(Answer(text, weight, self._feedback(answer)))
        if not answers:
            raise _Problem(_("The short-answer question has no answer."), "answers")
        _require_full_marks(answers)
        case_sensitive = self.node.child_text("usecase", "0") not in ("", "0", "false")
        diacritics = self.node.child_text("lms_ignore_diacritics", "0") not in ("", "0")
        return Question(type="short", answers=tuple(answers), ignore_case=not case_sensitive,
                        ignore_diacritics=diacritics, **fields)

    def _numerical(self, fields: dict[str, Any]) -> Question:
        numbers, others = [], []
        for answer in self.node.findall("answer"):
            weight = self._weight(answer)
            value = answer.child_text("text")
            feedback = self._feedback(answer)
            if value in ("*", ""):
                others.append(NumericalAnswer(weight=max(weight, 0.0), feedback=feedback,
                                              other=True))
                continue
            if weight < 0:
                raise _Problem(_("Numerical answers cannot have negative weights "
                                 "(%(weight)s%%).", weight=f"{weight * 100:.10g}"), "weight")
            exact = answer.find("lms_range")
            try:
                if exact is not None:
                    # lms's own range, kept exactly (Moodle ignores the element and reads the
                    # middle and tolerance next to it).
                    low, high = (float(exact.attrs["minimum"]), float(exact.attrs["maximum"]))
                    if low <= high:
                        numbers.append(NumericalAnswer(minimum=low, maximum=high, weight=weight,
                                                       feedback=feedback))
                        continue
                number = float(value.replace(",", "."))
                tolerance = abs(float(answer.child_text("tolerance") or 0))
                if not all(map(lambda x: abs(x) < float("inf"), (number, tolerance))):
                    raise ValueError(value)
            except (KeyError, ValueError) as err:
                raise _Problem(_("'%(value)s' is not a number (write numbers like 3.14, -2 or "
                                 "1e-3; ranges as 1..5).", value=value), "number") from err
            numbers.append(NumericalAnswer(value=number, tolerance=tolerance, weight=weight,
                                           feedback=feedback))
        if not numbers:
            raise _Problem(_("Numerical answer %(number)s has no number.", number=1), "number")
        if len(others) > 1:
            others = others[:1]
        if (units := self.node.find("units")) is not None and units.children:
            self.notes.append(_("Its units are left out: lms compares the number only."))
        answers = numbers + others
        _require_full_marks(answers)
        return Question(type="numerical", numerical=tuple(answers), **fields)

    def _matching(self, fields: dict[str, Any]) -> Question:
        pairs = []
        for sub in self.node.findall("subquestion"):
            left = self.rich(sub)
            right_node = sub.find("answer")
            right = unicodedata.normalize(
                "NFC", right_node.child_text("text") if right_node is not None else "")
            if not right:
                continue  # Moodle drops a subquestion without an answer
            pairs.append(MatchPair(left, right))
        items = sum(1 for p in pairs if p.left)
        if items < 2 or len(pairs) < 3:
            raise _Problem(_(
                "A matching question needs at least two items and three matches (found "
                "%(items)s items and %(matches)s matches), as Moodle's question editor also "
                "requires.", items=items, matches=len(pairs)), "matching")
        return Question(type="matching", pairs=tuple(pairs), **fields)

    def _ordering(self, fields: dict[str, Any]) -> Question:
        from lms.questionformat.qtypes.ordering import MAX_ITEMS, MIN_ITEMS

        # qtype_ordering numbers the right position in each answer's fraction (1, 2, 3 …).
        entries = []
        for index, answer in enumerate(self.node.findall("answer")):
            try:
                position = float(answer.attrs.get("fraction", index))
            except ValueError:
                position = float(index)
            entries.append((position, index, answer))
        texts: list[str] = []
        for _position, _index, answer in sorted(entries, key=lambda e: (e[0], e[1])):
            text = self.rich(answer)
            if text and text not in texts:
                texts.append(text)
        if not MIN_ITEMS <= len(texts) <= MAX_ITEMS:
            raise _Problem(_("An ordering question has from %(low)s to %(high)s items (found "
                             "%(num)s).", low=MIN_ITEMS, high=MAX_ITEMS, num=len(texts)),
                           "answers")
        return Question(type="ordering", answers=tuple(Answer(t, 1.0) for t in texts), **fields)

    def _essay(self, fields: dict[str, Any]) -> Question:
        info = self.node.find("graderinfo")
        if self.node.child_text("graderinfo") or (info is not None and info.child_text("text")):
            self.notes.append(_("The information for graders is left out: lms keeps the "
                                "general feedback only."))
        return Question(type="essay", **fields)

    def _description(self, fields: dict[str, Any]) -> Question:
        return Question(type="description", **fields)


def _require_full_marks(answers: list[Any]) -> None:
    best = max(a.weight for a in answers)
    if abs(best - 1) > 0.005:
        raise _Problem(_("No answer is worth 100%% (the best is %(best)s%%), so full marks are "
                         "impossible.", best=f"{best * 100:.10g}"), "weight")


# --- writing -------------------------------------------------------------------------------------


def _images_to_files(text: str) -> tuple[str, list[str]]:
    """``data:`` images become ``@@PLUGINFILE@@`` references and ``<file>`` elements (as Moodle)."""
    files: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        mime, payload = match.group(1), match.group(2)
        extension = {"image/jpeg": "jpg"}.get(mime, mime.split("/")[1])
        name = f"image-{hashlib.sha256(payload.encode()).hexdigest()[:16]}.{extension}"
        files[name] = payload
        return "@@PLUGINFILE@@/" + name

    text = _DATA_IMAGE.sub(replace, text)
    elements = [f'<file name={quoteattr(name)} path="/" encoding="base64">{payload}</file>'
                for name, payload in files.items()]
    return text, elements


def _rich(tag: str, text: str, text_format: str, indent: str, extra: str = "") -> str:
    body, files = _images_to_files(text)
    inner = f"<text>{escape(body)}</text>" + "".join(files) + extra
    return f'{indent}<{tag} format="{_FORMAT_OUT[text_format]}">{inner}</{tag}>\n'


def _plain(tag: str, text: str) -> str:
    return f"<{tag}><text>{escape(text)}</text></{tag}>"


def _percent(weight: float) -> str:
    return _export_percent(weight)


def export_moodle_xml(questions: Iterable[Question],
                      points: dict[str, float] | None = None) -> str:
    """Write questions as Moodle XML that Moodle imports and :func:`parse_moodle_xml` reads back equal.

    ``points`` (by question name) become each question's ``defaultgrade``.
    """
    points = points or {}
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            path = "$course$/top" + (f"/{category}" if category else "")
            out.append(f'  <question type="category">\n    {_plain("category", path)}\n'
                       "  </question>\n")
        moodle_type = qtypes.mapping(q.type, "moodle_xml")
        if moodle_type is None:
            raise ValueError(f"question {q.name!r}: Moodle XML cannot carry the type {q.type!r}")
        fmt = q.text_format
        body = [f"    {_plain('name', q.name)}\n", _rich("questiontext", q.text, fmt, "    "),
                _rich("generalfeedback", q.general_feedback, fmt, "    "),
                f"    <defaultgrade>{points.get(q.name, 1.0):g}</defaultgrade>\n"
                if q.type != "description" else "    <defaultgrade>0</defaultgrade>\n",
                f"    <idnumber>{escape(q.idnumber)}</idnumber>\n"]
        if q.type in ("single", "multi"):
            body.append(f"    <single>{'true' if q.type == 'single' else 'false'}</single>\n"
                        "    <shuffleanswers>true</shuffleanswers>\n"
                        "    <answernumbering>abc</answernumbering>\n")
            for a in q.answers:
                body.append(_answer(a.text, a.weight, a.feedback, fmt))
        elif q.type == "truefalse":
            for a in q.answers:
                body.append(_answer(a.text, a.weight, a.feedback, fmt, plain=True))
        elif q.type == "short":
            body.append(f"    <usecase>{0 if q.ignore_case else 1}</usecase>\n")
            if q.ignore_diacritics:
                # lms's option; Moodle ignores elements it does not know.
                body.append("    <lms_ignore_diacritics>1</lms_ignore_diacritics>\n")
            for a in q.answers:
                body.append(_answer(a.text, a.weight, a.feedback, fmt, plain=True))
        elif q.type == "numerical":
            for n in q.numerical:
                if n.other:
                    body.append(_answer("*", n.weight, n.feedback, fmt, plain=True,
                                        extra="<tolerance>0</tolerance>"))
                    continue
                exact = ""
                if n.is_range:
                    assert n.minimum is not None and n.maximum is not None
                    # Moodle keeps a range as its middle and half its width, as its GIFT reader does.
                    value, tolerance = (n.minimum + n.maximum) / 2, (n.maximum - n.minimum) / 2
                    exact = (f'<lms_range minimum="{_export_number(n.minimum)}" '
                             f'maximum="{_export_number(n.maximum)}"/>')
                else:
                    assert n.value is not None
                    value, tolerance = n.value, n.tolerance
                body.append(_answer(_export_number(value), n.weight, n.feedback, fmt, plain=True,
                                    extra=f"<tolerance>{_export_number(tolerance)}</tolerance>"
                                    + exact))
        elif q.type == "matching":
            body.append("    <shuffleanswers>true</shuffleanswers>\n")
            for pair in q.pairs:
                body.append(_rich("subquestion", pair.left, fmt, "    ",
                                  extra=_plain("answer", pair.right)))
        elif q.type == "ordering":
            body.append("    <layouttype>VERTICAL</layouttype>\n    <selecttype>ALL</selecttype>\n"
                        "    <selectcount>0</selectcount>\n"
                        "    <gradingtype>LONGESTORDEREDSUBSET</gradingtype>\n")
            for position, a in enumerate(q.answers, start=1):
                body.append(f'    <answer fraction="{position}" format="{_FORMAT_OUT[fmt]}">'
                            f"<text>{escape(_images_to_files(a.text)[0])}</text>"
                            + "".join(_images_to_files(a.text)[1]) + "</answer>\n")
        elif q.type == "essay":
            body.append("    <responseformat>editor</responseformat>\n"
                        "    <responserequired>1</responserequired>\n"
                        "    <responsefieldlines>15</responsefieldlines>\n")
        if q.tags:
            body.append("    <tags>" + "".join(_plain("tag", tag) for tag in q.tags) + "</tags>\n")
        out.append(f'  <question type="{moodle_type}">\n' + "".join(body) + "  </question>\n")
    out.append("</quiz>\n")
    return "".join(out)


def _answer(text: str, weight: float, feedback: str, fmt: str, *, plain: bool = False,
            extra: str = "") -> str:
    answer_format = "plain_text" if plain else _FORMAT_OUT[fmt]
    body, files = _images_to_files(text) if not plain else (text, [])
    return (f'    <answer fraction="{_percent(weight)}" format="{answer_format}">'
            f"<text>{escape(body)}</text>{''.join(files)}{extra}"
            + _rich("feedback", feedback, fmt, "").rstrip("\n") + "</answer>\n")
