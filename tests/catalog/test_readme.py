"""content/README.md must stay exactly true to the loader: same fields, same example course."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms.catalog import loader

README = Path(__file__).parents[2] / "content" / "README.md"
FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "valid" / "rights-basics"


def readme_section(title: str) -> str:
    """From the heading `title` to the next heading of any level, skipping fenced code blocks."""
    lines = README.read_text(encoding="utf-8").split("\n")
    start = (
        lines.index(title)
        if title in lines
        else next(i for i, line in enumerate(lines) if line.startswith(title))
    )
    section, fenced = [lines[start]], False
    for line in lines[start + 1 :]:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            break
        section.append(line)
    return "\n".join(section) + "\n"


def table_fields(section: str) -> list[str]:
    """The first column of a Markdown table whose rows start with a `field`."""
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("title", "fields"),
    [
        ("### Course", loader._COURSE_FIELDS),
        ("### Modules", loader._MODULE_FIELDS),
        ("### Quizzes", loader._QUIZ_FIELDS),
        ("### Completion", loader._COMPLETION_FIELDS),
        ("### Certificate", loader._CERTIFICATE_FIELDS),
        ("## Lessons", loader._LESSON_FIELDS),
    ],
)
def test_readme_field_tables_list_exactly_the_fields_the_loader_reads(title, fields):
    assert table_fields(readme_section(title)) == list(fields)


def test_readme_lists_the_topics_the_loader_accepts():
    assert " | ".join(loader.TOPICS) in README.read_text(encoding="utf-8")


def test_readme_lists_every_accepted_file_extension():
    files = readme_section("## Files (`files/`)")
    assert set(re.findall(r"`(\.[a-z0-9]+)`", files)) == set(loader.CONTENT_TYPES)


def test_readme_example_course_yaml_is_the_fixture_course():
    example = readme_section("## A complete small course")
    block = re.search(r"`course.yaml`:\n\n```yaml\n(.*?)```", example, flags=re.DOTALL)
    assert block is not None
    assert block.group(1) == (FIXTURE_COURSE / "course.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("lesson", ["vi/02-udhr.md", "vi/01-what-are-rights.md"])
def test_readme_example_lessons_are_the_fixture_lessons(lesson):
    example = readme_section("## A complete small course")
    block = re.search(
        rf"`{re.escape(lesson)}`.*?:\n\n```markdown\n(.*?)```", example, flags=re.DOTALL
    )
    assert block is not None
    assert block.group(1) == (FIXTURE_COURSE / lesson).read_text(encoding="utf-8")
