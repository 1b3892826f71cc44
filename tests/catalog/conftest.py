"""Fixtures for the catalog tests: a copy of the valid fixture course that each test may break."""

from __future__ import annotations

import importlib.util
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lms.catalog import loader

FIXTURES = Path(__file__).parent / "fixtures"
VALID_ROOT = FIXTURES / "valid"
COURSE = "rights-basics"


@dataclass(frozen=True)
class StubQuestion:
    name: str
    category: str
    type: str
    line: int


@dataclass(frozen=True)
class StubProblem:
    line: int
    message: str


@dataclass
class StubResult:
    questions: list[StubQuestion] = field(default_factory=list)
    errors: list[StubProblem] = field(default_factory=list)


def stub_parse_gift(text: str, source: str) -> StubResult:
    """Just enough GIFT for quiz checks: `$CATEGORY:` lines, `::name::` starts, `!!` marks an error."""
    result = StubResult()
    category = ""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("$CATEGORY:"):
            category = line.split(":", 1)[1].strip()
        elif line.startswith("!!"):
            result.errors.append(StubProblem(number, "stub: broken question"))
        elif match := re.match(r"::(.+?)::", line):
            result.questions.append(StubQuestion(match.group(1), category, "single", number))
    return result


@pytest.fixture(autouse=True)
def gift_parser(monkeypatch):
    """Until lms.quizzes.gift lands, quiz checks run against the stub above."""
    if importlib.util.find_spec("lms.quizzes.gift") is None:
        monkeypatch.setattr(loader, "_parse_gift", stub_parse_gift)


@pytest.fixture
def stub_gift():
    """The stub GIFT parser, for tests that need a bank with a parse error at a known line."""
    return stub_parse_gift


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the valid content root; the course is at content / COURSE."""
    root = tmp_path / "content"
    shutil.copytree(VALID_ROOT, root)
    return root
