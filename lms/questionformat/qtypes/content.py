"""Questions in YAML content files, for the types GIFT cannot say (pure core).

A YAML bank (``<language>/<name>.yaml`` in a course folder, or one question in the web editor) is a
list of questions. Every question has the common keys below; its type's module adds its own keys
(``content_keys``), reads them (``from_content``) and writes them back (``to_content``)::

    - name: steps-of-a-press-release     # required: the stable key, as ::name:: in GIFT
      type: ordering                     # required: a type whose module reads content files
      text: Put the steps in order.      # required
      text_format: markdown              # optional: moodle (default), html, plain, markdown
      category: m2                       # optional
      tags: [press, m2]                  # optional
      general_feedback: ...              # optional
      idnumber: ...                      # optional
      items: [First, Second, Third]      # the type's own keys (here: ordering)

Problems are reported per question with the line they are on, like the GIFT parser's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from lms.i18n import _
from lms.questionformat.qtypes import TYPES
from lms.questionformat.qtypes.base import ContentError
from lms.questionformat.questions import TEXT_FORMATS, ParseError, ParseResult, Question

COMMON_KEYS = ("name", "type", "text", "text_format", "category", "tags", "general_feedback",
               "idnumber")


def content_types() -> tuple[str, ...]:
    """The types a content file may hold (those whose module reads content files)."""
    return tuple(name for name, row in TYPES.items() if row.from_content is not None)


class _Loader(yaml.SafeLoader):
    pass


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def parse_content(text: str, source: str = "<yaml>") -> ParseResult:
    """Read a YAML question list into questions, one error per bad question (never raises)."""
    result = ParseResult(source=source)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        result.errors.append(ParseError(line, _("This is not valid YAML: %(problem)s",
                                                problem=exc.problem or str(exc)), source=source))
        return result
    except yaml.YAMLError as exc:
        result.errors.append(ParseError(1, _("This is not valid YAML: %(problem)s", problem=str(exc)),
                                        source=source))
        return result
    finally:
        loader.dispose()
    if root is None:
        return result
    if isinstance(root, yaml.MappingNode):
        nodes: list[yaml.Node] = [root]  # one question on its own (the web editor writes that)
    elif isinstance(root, yaml.SequenceNode):
        nodes = list(root.value)
    else:
        result.errors.append(ParseError(_line(root), _(
            "A YAML question file is a list of questions, each starting with '- name:'."),
            source=source))
        return result
    seen: dict[str, int] = {}
    for node in nodes:
        try:
            question = _question(node, seen)
        except _Problem as problem:
            result.errors.append(ParseError(problem.line, problem.message, problem.name, source))
            continue
        seen[question.name] = question.line
        result.questions.append(question)
    return result


class _Problem(Exception):
    def __init__(self, line: int, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.line, self.message, self.name = line, message, name


def _value(node: yaml.Node) -> Any:
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _question(node: yaml.Node, seen: Mapping[str, int]) -> Question:
    start = _line(node)
    if not isinstance(node, yaml.MappingNode):
        raise _Problem(start, _("Each question is a mapping of keys (name:, type:, text: ...)."))
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise _Problem(_line(key_node), _("A question's keys are words such as name: or text:."))
        if key in values:
            raise _Problem(_line(key_node), _("The key '%(key)s' appears twice.", key=key))
        values[key] = _value(value_node)
        lines[key] = _line(value_node)
        if isinstance(value_node, yaml.SequenceNode):  # "items[2]" points at the third item
            for number, item_node in enumerate(value_node.value):
                lines[f"{key}[{number}]"] = _line(item_node)
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Problem(start, _("Every question needs a name: (its stable key)."))
    name = name.strip()

    def fail(key: str | None, message: str) -> _Problem:
        if key is None:
            return _Problem(start, message, name)
        return _Problem(lines.get(key, lines.get(key.partition("[")[0], start)), message, name)

    if name in seen:
        raise fail("name", _("The name '%(name)s' is already used on line %(line)s.",
                             name=name, line=seen[name]))
    qtype = values.get("type")
    known = content_types()
    if qtype not in known:
        raise fail("type", _("type: must be one of %(types)s (write the other types in GIFT).",
                             types=", ".join(known)))
    row = TYPES[qtype]
    assert row.from_content is not None
    allowed = set(COMMON_KEYS) | set(row.content_keys)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise fail(unknown[0], _("Unknown key '%(key)s'; a %(type)s question has: %(keys)s.",
                                 key=unknown[0], type=qtype, keys=", ".join(sorted(allowed))))
    text = values.get("text")
    if not isinstance(text, str) or not text.strip():
        raise fail("text", _("text: is required: write the question."))
    fmt = values.get("text_format", "moodle")
    if fmt not in TEXT_FORMATS:
        raise fail("text_format", _("text_format: must be one of %(formats)s.",
                                    formats=", ".join(TEXT_FORMATS)))
    common: dict[str, Any] = {}
    for key in ("category", "general_feedback", "idnumber"):
        value = values.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise fail(key, _("%(key)s: must be text.", key=key))
        common[key] = str(value).strip()
    tags = values.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
        raise fail("tags", _("tags: must be a list of words."))
    try:
        specific = row.from_content(values)
    except ContentError as err:
        raise fail(err.key, err.message) from None
    try:
        return Question(type=qtype, name=name, text=text.strip(), text_format=fmt,
                        tags=tuple(str(t).strip() for t in tags if str(t).strip()),
                        line=start, **common, **specific)
    except ValueError as err:
        raise fail(None, str(err)) from None


def question_to_content(question: Question) -> dict[str, Any]:
    """A question as a YAML content-file mapping (common keys, then its type's keys)."""
    row = TYPES[question.type]
    if row.to_content is None:
        raise ValueError(f"{question.type} questions are written in GIFT, not in content files")
    out: dict[str, Any] = {"name": question.name, "type": question.type, "text": question.text}
    if question.text_format != "moodle":
        out["text_format"] = question.text_format
    for key in ("category", "general_feedback", "idnumber"):
        if getattr(question, key):
            out[key] = getattr(question, key)
    if question.tags:
        out["tags"] = list(question.tags)
    out.update(row.to_content(question))
    return out


def dump_content(questions: Iterable[Question], *, single: bool = False) -> str:
    """YAML for questions (a list; ``single=True`` writes one question as a bare mapping)."""
    data: Any = [question_to_content(q) for q in questions]
    if single:
        data = data[0]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
