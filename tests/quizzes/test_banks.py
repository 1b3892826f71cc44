"""Question banks: import (CLI and upload with preview), export, web edits as versions, sync, regrade."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from sqlalchemy import func, select

from lms.catalog import loader
from lms.catalog.sync import sync_content
from lms.extensions import db
from lms.questionformat.gift import parse_gift
from lms.quizzes import services
from lms.quizzes.models import Attempt, Question, Quiz
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.test_attempts import load, right_values, start

FIXTURES = Path(__file__).parent / "fixtures"
CONTENT = Path(__file__).parents[2] / "content"

GOOD = """$CATEGORY: m1

::a1::Năm 1948?{=Đúng ~Sai}

::a2::Hiến pháp 2013 có Chương II về quyền con người.{T}
"""
BAD = GOOD + """
::a3::Thiếu dấu đóng {=một ~hai

::a4::Số? {#abc}
"""


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_cli_import_reports_line_numbers_and_imports_nothing_while_an_error_remains(runner, tmp_path):
    c = fq.course(key="khoa-a")
    db.session.commit()
    bad = tmp_path / "bad.gift"
    bad.write_text(BAD, encoding="utf-8")
    result = runner.invoke(args=["questions", "import", str(bad), "--course", "khoa-a"])
    assert result.exit_code != 0
    assert "bad.gift:7" in result.output and "bad.gift:9" in result.output
    assert "nothing imported" in result.output
    assert count(Question) == 0
    good = tmp_path / "good.gift"
    good.write_text(GOOD, encoding="utf-8")
    dry = runner.invoke(args=["questions", "import", str(good), "--course", "khoa-a", "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output and "2 added" in dry.output
    assert count(Question) == 0
    done = runner.invoke(args=["questions", "import", str(good), "--course", "khoa-a"])
    assert done.exit_code == 0 and "2 added" in done.output
    again = runner.invoke(args=["questions", "import", str(good), "--course", "khoa-a"])
    assert "0 added, 0 changed, 2 unchanged" in again.output
    assert {q.name: q.version for q in services.bank_rows(c.id, "vi")} == {"a1": 1, "a2": 1}


def test_cli_json_prints_the_parsed_questions_for_scripts(runner, tmp_path):
    fq.course(key="khoa-b")
    db.session.commit()
    good = tmp_path / "good.gift"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["questions", "import", str(good), "--course", "khoa-b", "--json",
                                 "--dry-run"])
    data = json.loads(result.stdout)
    first = data["questions"][0]
    assert first["type"] == "single" and first["name"] == "a1" and first["category"] == "m1"
    assert first["answers"][0] == {"text": "Đúng", "weight": 1.0, "feedback": ""}
    assert data["errors"] == []


def test_cli_import_aiken_and_unknown_course(runner, tmp_path):
    fq.course(key="khoa-c")
    db.session.commit()
    aiken = tmp_path / "bank.aiken"
    aiken.write_text("Chương nào?\nA. Chương I\nB. Chương II\nANSWER: B\n", encoding="utf-8")
    result = runner.invoke(args=["questions", "import", str(aiken), "--course", "khoa-c",
                                 "--category", "m2"])
    assert result.exit_code == 0, result.output
    row = db.session.scalar(select(Question))
    assert row.qtype == "single" and row.category == "m2"
    missing = runner.invoke(args=["questions", "import", str(aiken), "--course", "nope"])
    assert missing.exit_code != 0 and "no course with key nope" in missing.output


def test_upload_page_previews_then_imports_and_shows_errors_with_lines(client, auth):
    c = fq.course(key="khoa-d")
    factories.user("gv", roles={"trainer"}, locale="en")
    auth.login("gv")
    url = f"/quizzes/courses/{c.id}/import"
    preview = client.post(url, data={"file": (io.BytesIO(BAD.encode()), "bad.gift"), "fmt": "gift",
                                     "lang": "vi", "action": "preview"},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert "Line 7, column" in html and "Line 9" in html
    assert "Nothing is imported until the file is fixed" in html
    assert 'value="import"' not in html and 'value="bad-file"' in html
    ok = client.post(url, data={"file": (io.BytesIO(GOOD.encode()), "good.gift"), "fmt": "auto",
                                "lang": "vi", "action": "preview"}, content_type="multipart/form-data")
    page = ok.get_data(as_text=True)
    assert "Import 2 questions" in page and count(Question) == 0
    carried = re.search(r'name="data" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post(url, data={"data": carried, "filename": "good.gift", "fmt": "auto",
                                  "lang": "vi", "action": "import"})
    assert done.status_code == 302 and count(Question) == 2
    noise = client.post(url, data={"file": (io.BytesIO(b"::a:: \x81\x8d\x8f\x90 {T}"), "x.gift"),
                                   "fmt": "gift", "lang": "vi", "action": "preview"},
                        content_type="multipart/form-data")
    assert "is not UTF-8" in noise.get_data(as_text=True)


def test_export_then_reimport_gives_the_same_questions(client, auth):
    c = fq.course(key="khoa-e")
    fq.bank(c, fq.every_type() + [fq.essay()])
    factories.user("gv", roles={"trainer"}, locale="en")
    auth.login("gv")
    text = client.get(f"/quizzes/courses/{c.id}/export.gift?lang=vi").get_data(as_text=True)
    parsed = parse_gift(text)
    assert parsed.errors == []
    rows = {row.name: row for row in services.bank_rows(c.id, "vi")}
    assert {q.name for q in parsed.questions} == set(rows)
    from lms.questionformat.questions import question_to_dict

    for question in parsed.questions:
        assert services.content_hash(question_to_dict(question)) == rows[question.name].content_hash


def test_a_web_edit_makes_a_new_version_and_started_attempts_keep_their_snapshot(client, auth):
    c = fq.course(key="khoa-f", source="web")
    fq.bank(c, fq.every_type(), source="web")
    quiz = fq.quiz(c)
    officer = factories.user("canbo", locale="en")
    factories.user("gv", roles={"trainer"}, locale="en")
    attempt = services.start_attempt(officer, quiz, "vi")
    db.session.commit()
    row = db.session.scalar(select(Question).where(Question.name == "q-single"))
    auth.login("gv")
    edit = client.get(f"/quizzes/questions/{row.id}").get_data(as_text=True)
    assert "::q-single::" in edit
    gift = "::q-single::Tuyên ngôn được thông qua năm nào?{~1948 =1966 ~1945}"
    saved = client.post(f"/quizzes/questions/{row.id}", data={"source": gift, "category": "m1",
                                                              "tags": "udhr, lịch sử",
                                                              "points": "2", "action": "save"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(Question, row.id)
    assert row.version == 2 and row.points == 2 and row.tags == ["udhr", "lịch sử"]
    kept = next(s for s in load(attempt.id).slots if s["name"] == "q-single")
    assert kept["version"] == 1 and kept["question"]["answers"][0]["weight"] == 1.0
    renamed = client.post(f"/quizzes/questions/{row.id}", data={
        "source": "::other::x{=a ~b}", "category": "m1", "points": "1", "action": "save"})
    assert "stable key" in renamed.get_data(as_text=True)
    broken = client.post(f"/quizzes/questions/{row.id}", data={
        "source": "::q-single::x{=a ~b", "category": "m1", "points": "1", "action": "save"})
    assert "line 1" in broken.get_data(as_text=True).lower()
    assert db.session.get(Question, row.id).version == 2
    preview = client.post(f"/quizzes/questions/{row.id}", data={
        "source": gift, "category": "m1", "points": "1", "action": "preview"})
    assert "What officers see" in preview.get_data(as_text=True)


def test_questions_from_files_are_edited_in_the_files_not_on_the_web(client, auth):
    c = fq.course(key="khoa-g", source="files")
    fq.bank(c, fq.every_type(), source="files")
    factories.user("gv", roles={"trainer"}, locale="en")
    row = db.session.scalar(select(Question).where(Question.name == "q-single"))
    auth.login("gv")
    response = client.post(f"/quizzes/questions/{row.id}", data={
        "source": "::q-single::x{=a ~b}", "category": "m1", "points": "1", "action": "save"})
    assert "comes from the content folder" in response.get_data(as_text=True)
    assert db.session.get(Question, row.id).version == 1
    # New questions of the trainer's own may still be added to a file-kept course.
    added = client.post(f"/quizzes/courses/{c.id}/bank/new?lang=vi", data={
        "source": "::mine::Câu của tôi{=a ~b}", "category": "m1", "points": "1", "action": "save"})
    assert added.status_code == 302


def test_regrade_applies_a_fixed_key_to_finished_attempts(client, auth):
    c = fq.course(key="khoa-h", source="web")
    fq.bank(c, fq.every_type(), source="web")
    quiz = fq.quiz(c)
    factories.user("canbo", locale="en")
    factories.user("gv", roles={"trainer"}, locale="en")
    auth.login("canbo")
    attempt_id = start(client, c)
    attempt = load(attempt_id)
    single = next(s for s in attempt.slots if s["name"] == "q-single")
    values = right_values(attempt)
    values[single["slot"]] = [str(single["order"].index(1))]  # "1966": wrong under the old key
    form = {"slots": ",".join(str(k) for k in values)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form)
    assert load(attempt_id).score < 100
    auth.logout()
    auth.login("gv")
    row = db.session.scalar(select(Question).where(Question.name == "q-single"))
    services.save_question(c, "vi", parse_gift(
        "$CATEGORY: m1\n::q-single::Tuyên ngôn được thông qua năm nào?{~1948 =1966 ~1945}"
    ).questions[0], existing=row, points=1, actor=None)
    db.session.commit()
    page = client.get(f"/quizzes/{quiz.id}/attempts").get_data(as_text=True)
    assert "older version" in page
    done = client.post(f"/quizzes/{quiz.id}/regrade", follow_redirects=True)
    assert "1 scores changed" in done.get_data(as_text=True)
    assert load(attempt_id).score == 100


def test_item_analysis_page_flags_questions(client, auth):
    c = fq.course(key="khoa-i")
    fq.bank(c, fq.every_type())
    quiz = fq.quiz(c)
    officers = [factories.user(f"cb{i}") for i in range(8)]
    factories.user("gv", roles={"trainer"}, locale="en")
    for i, officer in enumerate(officers):
        attempt = services.start_attempt(officer, quiz, "vi")
        values = right_values(attempt) if i % 2 else {}
        services.submit_attempt(attempt, values)
    db.session.commit()
    auth.login("gv")
    html = client.get(f"/quizzes/{quiz.id}/analysis").get_data(as_text=True)
    assert "Based on 8 graded attempts" in html and "q-single" in html
    assert "Discrimination" in html


def test_content_sync_upserts_banks_and_quizzes_by_key_and_archives_what_is_gone(app):
    result = loader.load_content(CONTENT)
    assert result.ok, result.errors[:3]
    report = sync_content(result, CONTENT)
    db.session.commit()
    assert count(Quiz) == sum(len(course.quizzes) for course in result.courses)
    questions = sum(len(b.questions) for course in result.courses for banks in course.banks.values()
                    for b in banks)
    assert count(Question) == questions
    assert any(line.kind == "question" and line.status == "added" for line in report.lines)
    again = sync_content(loader.load_content(CONTENT), CONTENT)
    assert not [line for line in again.lines if line.kind in ("quiz", "question")
                and line.status != "unchanged"]
    loaded = next(course for course in result.courses if course.key == "hr-foundations")
    wanted = loaded.quizzes["final-test"]
    final = db.session.scalar(select(Quiz).where(Quiz.key == "final-test", Quiz.final.is_(True),
                                                 Quiz.course.has(key="hr-foundations")))
    assert final.max_attempts == wanted.max_attempts and final.pass_mark == wanted.pass_mark
    assert final.review_correct is wanted.review.correct
    assert final.picks == [{"category": p.category, "count": p.count} for p in wanted.picks]
    assert db.session.scalar(select(func.count(Attempt.id))) == 0
