"""Hypothesis over the importers not fuzzed elsewhere (content files) and over the posts of the main forms:
never a crash or a 500, and a refused post writes nothing.

The CSV/XLSX roster reader, GIFT and Aiken parsers and lesson Markdown have their own property tests
(tests/org/test_roster.py, tests/quizzes/test_gift_roundtrip.py, test_aiken.py, tests/catalog/test_render.py).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.catalog.loader import load_content

COURSE = Path(__file__).resolve().parents[2] / "content" / "human-rights-foundations"
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

yaml_like = st.one_of(
    st.text(max_size=400),
    st.lists(st.tuples(st.sampled_from(["key", "version", "topic", "hours", "languages", "open", "title",
                                        "summary", "quizzes", "completion", "certificate", "modules"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.just("[vi, en"), st.just("{a: 1}"),
                                 st.just("!!python/object:os.system 'id'"), st.just("*alias"))),
             max_size=12).map(lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs)),
)


@FUZZ
@given(course_yaml=yaml_like, front=st.text(max_size=300), body=st.text(max_size=300))
def test_content_files_of_any_shape_give_errors_never_an_exception(course_yaml, front, body):
    """A damaged course folder (course.yaml, a lesson's front matter and body) is reported, not raised;
    YAML tags never build Python objects."""
    root = Path(tempfile.mkdtemp())
    try:
        folder = root / "course"
        shutil.copytree(COURSE, folder)
        (folder / "course.yaml").write_text(course_yaml, encoding="utf-8")
        lesson = next((folder / "vi").glob("*.md"))
        lesson.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
        result = load_content(root)
        assert result.errors or result.courses, (repr(course_yaml), repr(front), repr(body))
    finally:
        shutil.rmtree(root)


texts = st.one_of(st.text(max_size=120), st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "1e309",
                                                             "\x00", "<script>", "'; DROP TABLE user;--",
                                                             "2026-02-30", "ngày 31/05/2024", "\u202e"]))

# (role, url template, fields) of the main forms.
FORMS = [
    ("hr_all", "/reports/plans/new", ["name", "year", "due_date", "description"]),
    ("hr_all", "/progress/assignments/new", ["course_id", "kind", "agency_id", "usernames", "due_date"]),
    ("admin", "/org/users/new", ["username", "full_name", "agency_id", "email", "roles", "locale"]),
    ("admin", "/org/agencies/new", ["code", "name_vi", "name_en", "kind", "parent_id"]),
    ("trainer_owner", "/catalog/author/new", ["title", "summary", "languages", "topic", "hours"]),
    ("trainer_owner", "/quizzes/courses/{course_x}/bank/new", ["text", "category", "tags", "gift"]),
    ("trainer_owner", "/quizzes/answers/{essay_answer}/grade", ["points", "fraction", "comment"]),
    ("officer_a", "/quizzes/attempts/{attempt_open}/save", ["slot-1", "slot-2", "slot-3"]),
    ("officer_a", "/auth/password", ["current", "password", "confirm"]),
    ("anonymous", "/verify", ["code"]),
    ("anonymous", "/auth/login", ["username", "password"]),
]


@FUZZ
@given(form=st.sampled_from(FORMS), values=st.lists(texts, min_size=6, max_size=6))
def test_main_forms_never_answer_500_and_refusals_write_nothing(harness, form, values):
    role, template, fields = form
    url = template.format(**{k: v for k, v in harness.world.ids.items() if ":" not in k})
    data = dict(zip(fields, values, strict=False))
    method = "GET" if url == "/verify" else "POST"
    response = harness.request(harness.browsers[role], method, url, data=data if method == "POST" else None,
                               query_string=data if method == "GET" else None)
    wrote = list(harness.writes)
    if wrote:
        harness.restore()
    assert response.status_code < 500, f"{url} {data!r}"
    if response.status_code == 200 and method == "POST" and "/save" not in url:
        # 200 on a POST is the form shown again with its errors: nothing may have been written
        # (login counts a failure: that is the throttle's own row).
        assert not wrote or url == "/auth/login", f"{url} {data!r} wrote {wrote[:2]}"


xml_like = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(["<quiz>", "</quiz>", '<question type="multichoice">', "</question>", "<name>",
                              "</name>", "<text>", "</text>", '<answer fraction="100">', '<answer fraction="x">',
                              "</answer>", "<![CDATA[", "]]>", "&amp;", "&nope;", "<!DOCTYPE q>", "Câu hỏi",
                              '<questiontext format="html">', "</questiontext>", "<single>true</single>"]),
             max_size=40).map(lambda parts: '<?xml version="1.0" encoding="UTF-8"?>' + "".join(parts)),
)


@settings(max_examples=60, deadline=None)
@given(data=xml_like)
def test_moodle_xml_of_any_shape_gives_errors_never_an_exception(data):
    from lms.questionformat.moodlexml import parse_moodle_xml

    result = parse_moodle_xml(data, "bank.xml")
    assert result.errors or result.questions or isinstance(result.questions, list)
