"""Importing banks: stable identity, no silent replacement, partial import by choice, limits, errors.

These run on SQLite by default and on PostgreSQL with LMS_TEST_DATABASE_URL (``make test-pg``): a
name or category over 255 characters or a NUL byte must be a message on both engines, never a 500.
"""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.org import vnencoding
from lms.questionformat.questions import question_from_dict
from lms.quizzes import importing, services
from lms.quizzes.models import Question
from tests import factories
from tests.quizzes import factories_quizzes as fq

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.usefixtures("app")


def parsed(text: str, name: str = "bank.gift"):
    return importing.read_question_file(text.encode("utf-8"), name)


def rows(course) -> dict[str, Question]:
    return {row.name: row for row in db.session.scalars(
        select(Question).where(Question.course_id == course.id))}


def test_repeated_names_in_one_file_become_separate_questions():
    course = fq.course(key="imp-a")
    report = services.import_questions(course, "vi", parsed("::Q1:: One {T}\n\n::Q1:: Two {F}"))
    assert [c.status for c in report.changes] == ["added", "added"]
    assert {name: row.data["text"] for name, row in rows(course).items()} == {
        "Q1": "One", "Q1 (2)": "Two"}


def test_reimporting_the_same_file_changes_nothing():
    course = fq.course(key="imp-b")
    text = "::Q1:: One {T}\n\n::Q1:: Two {F}\n\nUnnamed question? {=yes ~no}"
    services.import_questions(course, "vi", parsed(text))
    again = services.import_questions(course, "vi", parsed(text))
    assert [c.status for c in again.changes] == ["unchanged"] * 3
    assert len(rows(course)) == 3


def test_unnamed_question_with_another_text_is_not_a_replacement():
    """Identity of an unnamed question is its content: same first words, different question."""
    course = fq.course(key="imp-c")
    services.import_questions(course, "vi", parsed("Which year? {#1948}"))
    report = services.import_questions(course, "vi", parsed("Which year? {#2013}"))
    assert [c.status for c in report.changes] == ["added"]
    assert sorted(rows(course)) == ["Which year?", "Which year? (2)"]


def test_changing_type_or_text_of_a_named_question_needs_a_decision():
    course = fq.course(key="imp-d")
    services.import_questions(course, "vi", parsed("::q:: Is it true? {T}"))
    changed = parsed("::q:: Is it true? {=yes ~no}")
    plan = services.plan_import(course, "vi", changed)
    [item] = plan.conflicts
    assert item.diff[0][0] in ("Type", "Loại")
    with pytest.raises(services.ImportRefused, match="keep both|giữ cả hai"):
        services.import_questions(course, "vi", changed)
    kept = services.import_questions(course, "vi", changed, on_conflict="keep-both")
    assert [(c.name, c.status) for c in kept.changes] == [("q (2)", "added")]
    assert rows(course)["q"].qtype == "truefalse"


def test_replacing_makes_a_new_version_and_attempts_keep_their_snapshot():
    course = fq.course(key="imp-e")
    services.import_questions(course, "vi", parsed("::q:: Năm nào? {#1948}"))
    before = dict(rows(course)["q"].data)
    report = services.import_questions(course, "vi", parsed("::q:: Năm nào? {=1948 ~1966}"),
                                       on_conflict="replace")
    row = rows(course)["q"]
    assert report.changes[0].status == "changed" and row.version == 2 and row.qtype == "single"
    assert services.compatible(before, row.data) is False  # regrading keeps the old snapshot


def test_feedback_only_change_is_a_new_version_without_asking():
    course = fq.course(key="imp-f")
    services.import_questions(course, "vi", parsed("::q:: Is it? {T#no#yes}"))
    report = services.import_questions(course, "vi", parsed("::q:: Is it? {T#wrong#right}"))
    assert report.changes[0].status == "changed" and rows(course)["q"].version == 2


def test_idnumber_identifies_a_question_across_renames():
    course = fq.course(key="imp-g")
    services.import_questions(course, "vi", parsed("// [id:HR-7]\n::old name:: Is it? {T}"))
    report = services.import_questions(course, "vi",
                                       parsed("// [id:HR-7]\n::new name:: Is it? {T#no#yes}"))
    assert [(c.name, c.status) for c in report.changes] == [("old name", "changed")]


def test_all_or_nothing_by_default_and_skip_invalid_by_choice():
    course = fq.course(key="imp-h")
    mixed = parsed((FIXTURES / "mixed_good_and_bad.gift").read_text(encoding="utf-8"))
    with pytest.raises(services.ImportRefused):
        services.import_questions(course, "vi", mixed)
    assert rows(course) == {}
    report = services.import_questions(course, "vi", mixed, skip_invalid=True)
    assert report.count("added") == 5 and report.skipped == 5
    assert "5" in report.summary().split(";")[1]


def test_bad_questions_file_holds_each_bad_question_under_its_errors_and_reads_back():
    mixed = parsed((FIXTURES / "mixed_good_and_bad.gift").read_text(encoding="utf-8"),
                   "mixed.gift")
    name, text = importing.bad_questions_file(mixed)
    assert name == "mixed-errors.gift"
    again = importing.read_question_file(text.encode(), name)
    assert sorted(e.question for e in again.errors) == sorted(e.question for e in mixed.errors)
    assert again.questions == []


def test_aiken_bad_questions_file():
    result = parsed("Question one?\nA. yes\nB. no\nANSWER: C\n\nGood?\nA) a\nB) b\nANSWER: A",
                    "bank.txt")
    assert result.format == "aiken" and len(result.questions) == 1
    name, text = importing.bad_questions_file(result)
    assert name.endswith(".aiken.txt") and "ANSWER: C" in text and "// " in text


def test_aiken_options_without_a_space_and_txt_files_are_recognised():
    result = parsed("Điều nào đúng?\nA)Một\nB)Hai\nANSWER: B", "export.txt")
    assert result.format == "aiken" and result.errors == []
    assert [a.weight for a in result.questions[0].answers] == [0.0, 1.0]


def test_legacy_vietnamese_encoding_is_named_and_broken_bytes_give_line_and_column():
    legacy = vnencoding.encode_legacy("::q:: Quyền con người là gì? {=Quyền tự nhiên ~Không}",
                                      "windows-1258")
    result = importing.read_question_file(legacy, "old.gift")
    assert result.encoding == "Windows-1258" and result.questions[0].text.startswith("Quyền")
    broken = importing.read_question_file(b"::a:: ok {T}\n\n::b:: x\xff\xfe\x81 {T}", "b.gift")
    [error] = broken.errors
    assert (error.line, error.column, error.kind) == (3, 8, "encoding")
    assert "0xFF" in error.message and "Windows-1258" in error.message


def test_error_output_of_a_noise_file_is_capped_and_grouped():
    rng = random.Random(17)
    alphabet = "abc{}~=#:%->\n\n "
    noise = "".join(rng.choice(alphabet) for _ in range(200_000))
    result = parsed(noise)
    assert len(result.errors) > 1000
    summary = importing.summarise_errors(result.errors)
    assert len(summary.shown) == importing.ERROR_LIMIT
    assert summary.hidden == len(result.errors) - importing.ERROR_LIMIT
    assert sum(count for _label, count in summary.by_kind) == summary.hidden


def test_cli_skip_invalid_writes_the_bad_file_and_caps_errors(runner, tmp_path):
    fq.course(key="imp-cli")
    db.session.commit()  # a refused command rolls back its unit of work, and this session is shared
    bad = tmp_path / "mixed.gift"
    bad.write_text((FIXTURES / "mixed_good_and_bad.gift").read_text(encoding="utf-8"),
                   encoding="utf-8")
    refused = runner.invoke(args=["questions", "import", str(bad), "--course", "imp-cli"])
    assert refused.exit_code != 0 and "--skip-invalid" in refused.output
    out = tmp_path / "bad.gift"
    done = runner.invoke(args=["questions", "import", str(bad), "--course", "imp-cli",
                               "--skip-invalid", "--bad-out", str(out)])
    assert done.exit_code == 0, done.output
    assert "5 added" in done.output and "5 bad questions left out" in done.output
    assert out.read_text(encoding="utf-8").count("::bad-") == 5
    noise = tmp_path / "noise.gift"
    rng = random.Random(3)
    noise.write_text("".join(rng.choice("x{}~=#\n\n") for _ in range(100_000)))
    result = runner.invoke(args=["questions", "import", str(noise), "--course", "imp-cli"])
    assert "more errors" in result.output and result.output.count("\n") < 80


def test_cli_moodle_xml_import_and_export_round_trip(runner, tmp_path):
    course = fq.course(key="imp-xml")
    done = runner.invoke(args=["questions", "import", str(FIXTURES / "moodle_export.xml"),
                               "--course", "imp-xml", "--skip-invalid"])
    assert done.exit_code == 0, done.output
    assert "8 added" in done.output and "1 bad questions left out" in done.output
    assert rows(course)["udhr-year"].points == 2.0
    out = tmp_path / "out.xml"
    exported = runner.invoke(args=["questions", "export", "--course", "imp-xml", "--format", "xml",
                                   "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    again = importing.read_question_file(out.read_bytes(), "out.xml")
    assert again.errors == []
    stored = {row.name: question_from_dict(row.data) for row in rows(course).values()}
    assert {q.name: q for q in again.questions} == stored


@pytest.mark.parametrize("text", [
    "::" + "n" * 300 + ":: Too long a name? {T}",
    "$CATEGORY: " + "c" * 300 + "\n\n::q:: Too long a category? {T}",
    "::q:: A NUL \x00 byte {T}",
    "::q:: Which? {=a\x1b ~b}",
])
def test_limits_are_messages_before_the_database_on_every_engine(text):
    course = fq.course(key=f"imp-lim-{abs(hash(text)) % 10_000}")
    result = importing.read_question_file(text.encode("utf-8"), "x.gift")
    if result.errors:
        assert result.errors[0].kind in ("limit", "encoding")
        with pytest.raises(services.ImportRefused):
            services.import_questions(course, "vi", result)
    else:  # an over-long name is shortened, as Moodle does
        services.import_questions(course, "vi", result)
        db.session.flush()
        assert all(len(name) <= 255 for name in rows(course))


@pytest.mark.parametrize("fmt,data", [
    ("xml", b'<quiz><question type="essay"><name><text>' + b"n" * 300 + b"</text></name>"
            b"<questiontext><text>x</text></questiontext></question></quiz>"),
    ("xml", b'<quiz><question type="category"><category><text>' + b"c" * 300 + b"</text>"
            b'</category></question><question type="essay"><questiontext><text>x</text>'
            b"</questiontext></question></quiz>"),
    ("aiken", ("Câu " + "x" * 300 + "?\nA. a\nB. b\nANSWER: A").encode()),
])
def test_every_importer_stores_or_refuses_long_values_without_a_crash(fmt, data):
    course = fq.course(key=f"imp-eng-{abs(hash(data)) % 10_000}")
    result = importing.read_question_file(data, f"x.{fmt}", fmt)
    try:
        services.import_questions(course, "vi", result)
        db.session.flush()
    except services.ImportRefused:
        assert result.errors and result.errors[0].kind == "limit"
    assert all(len(row.name) <= 255 and len(row.category) <= 255 for row in rows(course).values())


def test_web_import_good_ones_and_download_the_bad_ones(client, auth):
    course = fq.course(key="imp-web")
    factories.user("gv", roles={"trainer"}, locale="vi")
    auth.login("gv")
    url = f"/quizzes/courses/{course.id}/import"
    text = (FIXTURES / "mixed_good_and_bad.gift").read_bytes()
    page = client.post(url, data={"file": (io.BytesIO(text), "mixed.gift"), "fmt": "auto",
                                  "lang": "vi", "action": "preview"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Dòng 8, cột" in page  # errors in the user's language, with line and column
    assert 'value="import-good"' in page and "Đúng/Sai" in page or "Đúng" in page
    carried = re.search(r'name="data" type="hidden" value="([^"]+)"', page).group(1)
    bad = client.post(url, data={"data": carried, "filename": "mixed.gift", "fmt": "auto",
                                 "lang": "vi", "action": "bad-file"})
    assert bad.status_code == 200 and "mixed-errors.gift" in bad.headers["Content-Disposition"]
    assert bad.get_data(as_text=True).count("::bad-") == 5
    done = client.post(url, data={"data": carried, "filename": "mixed.gift", "fmt": "auto",
                                  "lang": "vi", "action": "import-good"})
    assert done.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Question)
                             .where(Question.course_id == course.id)) == 5


def test_web_preview_shows_right_answers_weights_feedback_and_asks_before_replacing(client, auth):
    course = fq.course(key="imp-web2")
    services.import_questions(course, "vi", parsed("::q:: Is it true? {T}"))
    db.session.commit()
    factories.user("gv2", roles={"trainer"}, locale="en")
    auth.login("gv2")
    url = f"/quizzes/courses/{course.id}/import"
    source = ("::q:: Is it true? {=yes#Right, it is ~%-50%no#Not so}\n\n"
              "[html]Which tag makes text <b>bold</b>?{=[plain]<b> ~[plain]<i> ~[plain]<u>}")
    page = client.post(url, data={"file": (io.BytesIO(source.encode()), "b.gift"), "fmt": "auto",
                                  "lang": "vi", "action": "preview"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Right, it is" in page and "-50" in page  # feedback and weights
    assert "changes type or text" in page and "Keep both" in page and "q (2)" in page
    assert "&amp;lt;b&amp;gt;" in page or "&lt;b&gt;" in page  # the answers are not blank
    carried = re.search(r'name="data" type="hidden" value="([^"]+)"', page).group(1)
    refused = client.post(url, data={"data": carried, "filename": "b.gift", "fmt": "auto",
                                     "lang": "vi", "action": "import"})
    assert refused.status_code == 200 and "keep both" in refused.get_data(as_text=True)
    done = client.post(url, data={"data": carried, "filename": "b.gift", "fmt": "auto",
                                  "lang": "vi", "action": "import", "on_conflict": "keep-both"})
    assert done.status_code == 302
    assert sorted(rows(course)) == ["Which tag makes text bold ?", "q", "q (2)"]
