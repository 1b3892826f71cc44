"""The question-type table: one module per type, one row per module, and everything derives from it.

Grading (``lms.quizzes.grading``), the take and review pages (``lms.quizzes.presentation``), the web
editor, the type labels, content files (``qtypes/content.py``), item analysis and the import/export
formats read their per-type behaviour from :data:`TYPES`, never from an if-chain on type names. To add a type, write
``qtypes/<name>.py`` defining ``TYPE`` (see ``base.QuestionType``), its two templates
``templates/quizzes/widgets/<name>.html`` and ``templates/quizzes/review/<name>.html``, and add the
module to :data:`TABLE` below. The table is a plain tuple built from imports, not filled by side effects,
so what is registered never depends on import order.

Formats find a type's mapping with :func:`mapping` (``formats`` of the row, keyed by format name);
:func:`exportable` splits questions into those a format can write and those it must skip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from lms.questionformat.qtypes import (
    description,
    essay,
    matching,
    multi,
    numerical,
    ordering,
    short,
    single,
    truefalse,
)
from lms.questionformat.qtypes.base import InvalidResponse, QuestionType, Snapshot

TABLE: tuple[QuestionType, ...] = (
    single.TYPE,
    multi.TYPE,
    truefalse.TYPE,
    short.TYPE,
    numerical.TYPE,
    matching.TYPE,
    ordering.TYPE,
    essay.TYPE,
    description.TYPE,
)

TYPES: Mapping[str, QuestionType] = MappingProxyType({row.name: row for row in TABLE})
NAMES: tuple[str, ...] = tuple(TYPES)
if len(NAMES) != len(TABLE):
    raise RuntimeError("two question type modules use the same name")


def get(name: str) -> QuestionType:
    """The row of a type by name; InvalidResponse for unknown names (a stale or tampered snapshot)."""
    try:
        return TYPES[name]
    except KeyError:
        raise InvalidResponse(f"unknown question type {name!r}") from None


def for_snapshot(snapshot: Snapshot) -> QuestionType:
    """The row of a question snapshot's type."""
    return get(snapshot.get("type", ""))


def mapping(name: str, fmt: str) -> Any | None:
    """A type's mapping for an import/export format ("gift", "aiken", "moodle_xml"), or None."""
    row = TYPES.get(name)
    return None if row is None else row.formats.get(fmt)


class _Typed(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...


Q = TypeVar("Q", bound=_Typed)


def exportable(questions: Iterable[Q], fmt: str) -> tuple[list[Q], list[Q]]:
    """Split questions into those ``fmt`` can write and those it has to skip (no mapping)."""
    kept: list[Q] = []
    skipped: list[Q] = []
    for question in questions:
        (kept if mapping(question.type, fmt) is not None else skipped).append(question)
    return kept, skipped


__all__ = ["NAMES", "TABLE", "TYPES", "QuestionType", "exportable", "for_snapshot", "get", "mapping"]
