"""The web course editor: trainers create, edit, reorder, preview and publish; each save is a revision;
file-owned courses are read-only until taken over; bad input gets a named message."""

from __future__ import annotations

from sqlalchemy import select

from lms.catalog.models import Course, Lesson, LessonRevision
from lms.catalog.services import set_trainer_courses
from lms.extensions import db
from tests import factories
from tests.catalog import factories_catalog as cf

NEW = {"key": "press-basics", "title": "Làm việc với báo chí", "summary": "Tóm tắt.", "languages": "vi, en",
       "topic": "spokesperson", "hours": "2", "open": "y"}


def _trainer(auth, username="writer"):
    user = factories.user(username, roles={"officer", "trainer"})
    db.session.commit()
    auth.login(username)
    return user


def test_a_trainer_creates_a_course_adds_a_lesson_previews_and_publishes_it(app, client, auth):
    _trainer(auth)
    response = client.post("/catalog/author/new", data=NEW)
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.key == "press-basics"))
    assert course.source == "web" and not course.published
    response = client.post("/catalog/author/press-basics/lessons/new", data={
        "module_key": "m1", "title": "Thông cáo báo chí", "minutes": "12",
        "body": "## Mở đầu\n\n::: key-points\n- Ngắn gọn\n:::\n",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    assert lesson.key == "thong-cao-bao-chi" and lesson.revision == 1
    preview = client.post("/catalog/author/press-basics/preview",
                          json={"body": "**đậm** <script>alert(1)</script> ![x](files/none.png)"})
    assert preview.status_code == 200
    assert "<strong>đậm</strong>" in preview.json["html"] and "<script" not in preview.json["html"]
    assert preview.json["missing"] == ["none.png"]
    client.post(f"/catalog/author/press-basics/lessons/{lesson.key}",
                data={"module_key": "m1", "title": "Thông cáo", "minutes": "12", "body": "Bản hai"})
    db.session.expire_all()
    assert db.session.get(Lesson, lesson.id).revision == 2
    assert len(list(db.session.scalars(select(LessonRevision).where(LessonRevision.lesson_id == lesson.id)))) == 2
    assert client.post("/catalog/author/press-basics/publish", data={"published": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).published


def test_bad_course_input_gets_named_messages(app, client, auth):
    _trainer(auth)
    for field, value in (("key", "Bad Key!"), ("languages", "vi, Vietnamese"), ("languages", "vi vi"),
                         ("hours", "0"), ("title", "")):
        page = client.post("/catalog/author/new", data={**NEW, field: value})
        assert page.status_code == 200, field
        assert 'class="errors"' in page.get_data(as_text=True), field
    assert db.session.scalar(select(Course)) is None


def test_preview_needs_json_and_the_csrf_token(app, client, auth):
    _trainer(auth)
    client.post("/catalog/author/new", data=NEW)
    assert client.post("/catalog/author/press-basics/preview", data="nope").status_code == 400
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/catalog/author/press-basics/preview", json={"body": "x"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_lessons_and_modules_can_be_reordered(app, client, auth):
    _trainer(auth)
    course = cf.course(lessons=3, modules=1, source="web")
    db.session.commit()
    client.post(f"/catalog/author/{course.key}/move", data={"kind": "lesson", "item": "lesson-3", "direction": "up"})
    db.session.expire_all()
    assert [le.key for le in cf.lessons_of(course)] == ["lesson-1", "lesson-3", "lesson-2"]


def test_file_courses_are_read_only_until_taken_over(app, client, auth):
    _trainer(auth)
    course = cf.course(source="files")
    db.session.commit()
    client.post(f"/catalog/author/{course.key}/lessons/lesson-1",
                data={"module_key": "m1", "title": "Đổi tên", "minutes": "5", "body": "x"})
    db.session.expire_all()
    assert cf.lessons_of(course)[0].text("vi").title == "Bài 1 (vi)"
    client.post(f"/catalog/author/{course.key}/take-over")
    client.post(f"/catalog/author/{course.key}/lessons/lesson-1",
                data={"module_key": "m1", "title": "Đổi tên", "minutes": "5", "body": "x"})
    db.session.expire_all()
    assert cf.lessons_of(course)[0].text("vi").title == "Đổi tên"


def test_uploads_refuse_unknown_types(app, client, auth):
    from io import BytesIO

    _trainer(auth)
    course = cf.course(source="web")
    db.session.commit()
    response = client.post(f"/catalog/author/{course.key}/files",
                           data={"file": (BytesIO(b"<svg onload=alert(1)>"), "chart.svg")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "chart.svg" in response.get_data(as_text=True)
    response = client.post(f"/catalog/author/{course.key}/files",
                           data={"file": (BytesIO(b"\x89PNG...."), "sơ đồ.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert client.get(f"/catalog/c/{course.key}/files/sơ-đồ.png").mimetype == "image/png"


def test_officers_and_limited_trainers_cannot_edit(app, client, auth):
    mine, other = cf.course(source="web"), cf.course(source="web")
    trainer = factories.user("limited", roles={"officer", "trainer"})
    set_trainer_courses(trainer, [mine])
    factories.user("plain")
    db.session.commit()
    auth.login("plain")
    assert client.get("/catalog/author").status_code == 403
    assert client.get(f"/catalog/author/{mine.key}").status_code == 403
    auth.logout()
    auth.login("limited")
    assert client.get(f"/catalog/author/{mine.key}").status_code == 200
    assert client.get(f"/catalog/author/{other.key}").status_code == 403
    assert client.post(f"/catalog/author/{other.key}/preview", json={"body": "x"}).status_code == 403
