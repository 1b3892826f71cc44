"""A quiz result is what the officer's attempts say, rebuilt on submit, essay grading and regrade.

Progress keeps one row per officer and quiz (best score, passed, attempts, attempts awaiting a
trainer). It used to be a running maximum: a regrade that raised a score counted the attempt again,
and one that lowered a score left the old best in place. Now each event recomputes the row from every
finished attempt, and the course is re-evaluated in the same transaction; a completion already recorded
is never withdrawn by a recomputation.
"""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from lms import create_app
from lms.extensions import db
from lms.progress import services as progress
from lms.progress.models import CourseCompletion, QuizResult
from lms.questionformat.gift import parse_gift
from lms.quizzes import services
from lms.quizzes.engine import Pick
from lms.quizzes.models import Attempt, AttemptAnswer, Question
from lms.quizzes.queries import quiz_standing
from tests import factories
from tests.app.test_migrations import empty_database_url  # noqa: F401 - a fixture
from tests.catalog import factories_catalog as cf
from tests.conftest import base_config
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.factories_quizzes import right_values

FINAL = {"key": "quiz-1", "title": {"vi": "Kiểm tra cuối khoá", "en": "Final test"}, "module": None,
         "final": True, "pass_mark": 70}
# The question bank's single-choice item with its key moved from 1948 to 1966 (a trainer's fix).
MOVED_KEY = "$CATEGORY: m1\n::q-single::Tuyên ngôn được thông qua năm nào?{~1948 =1966 ~1945}"


def final_test_course(*, pass_mark: int = 70, essay: bool = False, min_final_score: int | None = None):
    """A course kept on the web: one lesson and a final test that the completion rule requires."""
    course = fq.course(source="web", lessons=1, quizzes=[{**FINAL, "pass_mark": pass_mark}],
                       completion={"lessons": "all", "quizzes": ["quiz-1"],
                                   "min_final_score": min_final_score})
    fq.bank(course, fq.every_type() + ([fq.essay()] if essay else []), source="web")
    picks = [Pick(category="m1", count=6)] + ([Pick(name="q-essay")] if essay else [])
    quiz = fq.quiz(course, picks=picks, pass_mark=pass_mark, final=True)
    return course, quiz


def officer_with_lessons_done(course, username: str = "canbo"):
    officer = factories.user(username, locale="en")
    progress.enrol(officer, course)
    for lesson in cf.lessons_of(course):
        progress.complete_lesson(officer, lesson, course, "vi")
    return officer


def submit(officer, quiz, *, wrong: tuple[str, ...] = ()) -> Attempt:
    """Start and submit an attempt answering every question right except those named in ``wrong``."""
    attempt = services.start_attempt(officer, quiz, "vi")
    values = right_values(attempt)
    for slot in attempt.slots:
        if slot["name"] == "q-single" and "q-single" in wrong:
            values[slot["slot"]] = [str(slot["order"].index(1))]  # "1966": wrong under the first key
        elif slot["name"] == "q-tf" and "q-tf" in wrong:
            values[slot["slot"]] = ["false"]
    return services.submit_attempt(attempt, values).attempt


def move_the_key(course) -> None:
    row = db.session.scalar(select(Question).where(Question.course_id == course.id,
                                                   Question.name == "q-single"))
    services.save_question(course, "vi", parse_gift(MOVED_KEY).questions[0], existing=row, points=1,
                           actor=None)


def result_of(officer, course) -> QuizResult:
    db.session.expire_all()
    return db.session.scalar(select(QuizResult).where(QuizResult.user_id == officer.id,
                                                      QuizResult.course_id == course.id))


def completions(officer, course) -> int:
    return db.session.scalar(select(func.count(CourseCompletion.id)).where(
        CourseCompletion.user_id == officer.id, CourseCompletion.course_id == course.id))


def test_a_regrade_that_raises_a_score_counts_no_new_attempt_and_completes_the_course(app):
    course, quiz = final_test_course()
    officer = officer_with_lessons_done(course)
    first = submit(officer, quiz, wrong=("q-single", "q-tf"))
    assert first.score == pytest.approx(100 * 4 / 6, abs=0.01) and first.passed is False
    before = result_of(officer, course)
    assert (before.attempts_count, before.best_score, before.passed) == (1, 66, False)
    assert completions(officer, course) == 0

    move_the_key(course)
    services.regrade_quiz(quiz, actor=None)
    services.regrade_quiz(quiz, actor=None)  # a second run changes nothing and counts nothing

    after = result_of(officer, course)
    assert (after.attempts_count, after.best_score, after.passed) == (1, 83, True)
    assert after.passed_at == first.submitted_at
    completion = db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == officer.id))
    assert completion is not None and completion.score == 83


def test_a_regrade_that_lowers_a_score_lowers_the_result_but_keeps_the_completion(app):
    course, quiz = final_test_course(pass_mark=90)
    officer = officer_with_lessons_done(course)
    attempt = submit(officer, quiz)
    assert attempt.score == 100
    assert result_of(officer, course).passed and completions(officer, course) == 1

    move_the_key(course)  # the officer's "1948" is now wrong: 5 of 6, below the pass mark of 90
    report = services.regrade_quiz(quiz, actor=None)

    assert report.changed_scores == 1
    result = result_of(officer, course)
    assert (result.attempts_count, result.best_score, result.passed, result.passed_at) == (1, 83, False, None)
    # Certificates are never withdrawn silently: the completion recorded stays.
    assert completions(officer, course) == 1


def test_the_best_graded_attempt_counts_whatever_order_attempts_are_graded_in(app):
    course, quiz = final_test_course(pass_mark=90)
    officer = officer_with_lessons_done(course)
    submit(officer, quiz, wrong=("q-single", "q-tf"))
    submit(officer, quiz, wrong=("q-tf",))
    result = result_of(officer, course)
    assert (result.attempts_count, result.best_score, result.passed) == (2, 83, False)
    standing = quiz_standing(officer.id, quiz.id)
    assert (standing.attempts, standing.awaiting_grading, standing.best_score) == (2, 0, 83)


def test_an_essay_attempt_waits_for_grading_and_the_grade_completes_the_course(app):
    course, quiz = final_test_course(essay=True, min_final_score=80)
    officer = officer_with_lessons_done(course)
    trainer = factories.user("giangvien", roles={"trainer"})
    attempt = submit(officer, quiz)
    assert attempt.status == "needs_grading"
    result = result_of(officer, course)
    assert (result.attempts_count, result.awaiting_grading, result.passed) == (1, 1, False)
    assert result.pending
    assert completions(officer, course) == 0  # not before a trainer has graded the essay

    essay_answer = db.session.scalar(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.needs_manual.is_(True)))
    services.grade_answer(essay_answer, 1.0, "Đầy đủ.", grader=trainer)

    result = result_of(officer, course)
    assert (result.attempts_count, result.awaiting_grading, result.best_score, result.passed) == (1, 0, 100, True)
    assert not result.pending
    assert completions(officer, course) == 1


def test_an_essay_graded_too_low_leaves_the_course_open(app):
    course, quiz = final_test_course(essay=True, min_final_score=95)
    officer = officer_with_lessons_done(course)
    trainer = factories.user("giangvien", roles={"trainer"})
    attempt = submit(officer, quiz)
    essay_answer = db.session.scalar(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.needs_manual.is_(True)))
    services.grade_answer(essay_answer, 0.5, "Thiếu ví dụ.", grader=trainer)  # 6.5 of 7: 92%
    result = result_of(officer, course)
    assert (result.awaiting_grading, result.best_score, result.passed) == (0, 92, True)
    assert completions(officer, course) == 0  # passed, but below the course's minimum of 95


def test_officer_sees_awaiting_grading_not_failed_until_the_trainer_grades_and_the_course_completes(
    client, auth
):
    course, quiz = final_test_course(essay=True)
    officer = officer_with_lessons_done(course)
    factories.user("giangvien", roles={"trainer"}, locale="en")
    auth.login("canbo")
    started = client.post(f"/quizzes/c/{course.key}/quiz-1/start")
    attempt_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
    db.session.expire_all()
    values = right_values(db.session.get(Attempt, attempt_id))
    form = {"slots": ",".join(str(k) for k in values)}
    form.update({f"q{slot}": v for slot, v in values.items()})
    assert client.post(f"/quizzes/attempts/{attempt_id}/submit", data=form).status_code == 302

    course_page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    quiz_page = client.get(f"/quizzes/c/{course.key}/quiz-1").get_data(as_text=True)
    for page in (course_page, quiz_page):
        assert "Awaiting grading" in page
        assert "Not passed" not in page and "best score: 0%" not in page.lower()
    assert "A trainer still has to grade your written answers" in course_page
    assert "Attempt 1 is awaiting grading" in quiz_page
    assert "You completed this course" not in course_page
    assert completions(officer, course) == 0

    auth.logout()
    auth.login("giangvien")
    essay_answer = db.session.scalar(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.needs_manual.is_(True)))
    graded = client.post(f"/quizzes/answers/{essay_answer.id}/grade", data={"points": "1", "comment": "Tốt."})
    assert graded.status_code == 302
    assert completions(officer, course) == 1  # committed with the grade, in the same request

    auth.logout()
    auth.login("canbo")
    course_page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    quiz_page = client.get(f"/quizzes/c/{course.key}/quiz-1").get_data(as_text=True)
    assert "You completed this course" in course_page and "Awaiting grading" not in course_page
    assert "Awaiting grading" not in quiz_page and "passed" in quiz_page


def test_migration_0009_rebuilds_results_that_old_regrades_inflated(empty_database_url, tmp_path):  # noqa: F811
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        course, quiz = final_test_course(pass_mark=90, essay=True)
        officer = officer_with_lessons_done(course)
        trainer = factories.user("giangvien", roles={"trainer"})
        first = submit(officer, quiz, wrong=("q-tf",))
        essay_answer = db.session.scalar(select(AttemptAnswer).where(
            AttemptAnswer.attempt_id == first.id, AttemptAnswer.needs_manual.is_(True)))
        services.grade_answer(essay_answer, 0.5, "", grader=trainer)  # 5.5 of 7: 78.57%, not passed
        submit(officer, quiz)  # waits for its essay to be graded
        db.session.commit()
        downgrade(revision="0008_reports")
        with db.engine.begin() as conn:  # what the old running maximum could leave behind
            conn.execute(text("UPDATE quiz_result SET attempts_count = 5, best_score = 100, passed = true"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT attempts_count, awaiting_grading, best_score, passed, passed_at "
                                    "FROM quiz_result")).one()
        assert (row[0], row[1], row[2], bool(row[3]), row[4]) == (2, 1, 78, False, None)
        db.session.remove()
        db.engine.dispose()
