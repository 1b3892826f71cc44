"""Completion rules for every course: a web course's rule is edited on its completion page, the final
test always counts, a rule change re-evaluates the officers still working on the course without taking
anything back from those who completed, and is audited; the course page says what is still needed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.catalog import services as catalog
from lms.extensions import db
from lms.progress import services as progress
from lms.progress.models import CourseCompletion
from tests import factories
from tests.catalog import factories_catalog as cf
from tests.progress.test_renewal import (
    CERTIFICATE,
    FINAL,
    certificates_of,
    complete_lessons,
    submit,
)
from tests.quizzes import factories_quizzes as fq


def web_quiz_course():
    course = fq.course(lessons=2, languages=("vi", "en"), quizzes=[FINAL],
                       completion={"lessons": "all", "quizzes": [], "min_final_score": None})
    course.source = "web"
    course.certificate = dict(CERTIFICATE)
    fq.bank(course, fq.every_type())
    return course, fq.quiz(course, final=True)


def settings(**kw) -> catalog.CompletionSettings:
    values = {"lessons": None, "quizzes": None, "min_final_score": None, "certificate": True,
              "validity_months": 24, "issuer": "Sở Tư pháp", "signer_name": "Trần Văn Đức",
              "signer_title": "GIÁM ĐỐC", "lang": "vi"}
    values.update(kw)
    return catalog.CompletionSettings(**values)


def completed(officer, course) -> bool:
    return db.session.scalar(select(CourseCompletion.id).where(
        CourseCompletion.user_id == officer.id, CourseCompletion.course_id == course.id)) is not None


def test_a_quiz_marked_final_test_is_required_even_when_the_rule_lists_no_quiz(app):
    course, quiz = web_quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    assert not completed(officer, course)
    submit(officer, quiz)
    assert completed(officer, course)


def test_narrowing_the_rule_completes_the_officers_it_now_covers_and_issues_their_certificates(app):
    course, _quiz = web_quiz_course()
    officer = factories.user()
    progress.enrol(officer, course)
    first = cf.lessons_of(course)[0]
    progress.complete_lesson(officer, first, course, "vi")
    assert not completed(officer, course)
    course.quizzes = [dict(FINAL, final=False)]  # no final test any more, and no quiz required
    counts = catalog.set_completion_rule(course, settings(lessons=[first.key], quizzes=[]), actor=None)
    assert counts == {"evaluated": 1, "completed": 1, "kept": 0}
    assert completed(officer, course) and len(certificates_of(officer, course)) == 1


def test_a_stricter_rule_never_takes_back_a_completion_or_its_certificate(app):
    course, quiz = web_quiz_course()
    officer = factories.user()
    complete_lessons(officer, course)
    submit(officer, quiz)
    trainer = factories.user(roles={"officer", "trainer"})
    counts = catalog.set_completion_rule(course, settings(min_final_score=100), actor=trainer)
    assert counts["kept"] == 1 and completed(officer, course)
    assert [c.status for c in certificates_of(officer, course)] == ["valid"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.completion_rule_changed")).one()
    assert entry.details["before"]["completion"]["min_final_score"] is None
    assert entry.details["after"]["completion"]["min_final_score"] == 100


@pytest.mark.parametrize(("change", "field"), [
    ({"lessons": ["no-such-lesson"]}, "lessons"),
    ({"min_final_score": 101}, "min_final_score"),
    ({"validity_months": 0}, "validity_months"),
    ({"signer_name": "  "}, "signer_name"),
])
def test_a_bad_rule_is_refused_with_the_field_named(app, change, field):
    course, _quiz = web_quiz_course()
    with pytest.raises(catalog.CatalogError) as err:
        catalog.set_completion_rule(course, settings(**change), actor=None)
    assert err.value.field == field


def test_a_course_kept_as_files_is_not_changed_on_the_web(app):
    course = cf.course()
    with pytest.raises(catalog.CatalogError):
        catalog.set_completion_rule(course, settings(), actor=None)


def test_the_settings_page_saves_the_rule_and_the_course_page_says_what_is_still_needed(client, auth):
    course, _quiz = web_quiz_course()
    factories.user("trainer.rule", roles={"officer", "trainer"})
    officer = factories.user("officer.rule")
    progress.enrol(officer, course)
    db.session.commit()
    auth.login("trainer.rule")
    page = client.get(f"/catalog/author/{course.key}/completion")
    assert page.status_code == 200 and "pass mark 70%" in page.get_data(as_text=True).replace("điểm đạt", "pass mark")
    response = client.post(f"/catalog/author/{course.key}/completion", data={
        "lessons_all": "y", "quizzes_all": "y", "min_final_score": "80", "certificate": "y",
        "validity_months": "12", "issuer": "Sở Tư pháp", "signer_name": "Trần Văn Đức",
        "signer_title": "GIÁM ĐỐC",
    })
    assert response.status_code == 302
    db.session.expire_all()
    assert course.completion["min_final_score"] == 80 and course.certificate["validity_months"] == 12
    auth.logout()
    auth.login("officer.rule")
    text = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    assert "Còn cần để hoàn thành khóa học" in text
    assert "Đọc thêm 2 bài" in text and "Kiểm tra cuối khoá" in text


def test_an_officer_cannot_open_the_completion_page(client, auth):
    course, _quiz = web_quiz_course()
    factories.user("officer.nope")
    db.session.commit()
    auth.login("officer.nope")
    assert client.get(f"/catalog/author/{course.key}/completion").status_code == 403
