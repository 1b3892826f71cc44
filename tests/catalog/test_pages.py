"""Officers' pages: catalogue filters and language order, course and lesson pages, files with the right
headers, access rules, and a bounded number of SQL statements per page."""

from __future__ import annotations

from lms.catalog.models import Asset, Course
from lms.extensions import db
from lms.progress import services as progress
from tests import factories
from tests.catalog import factories_catalog as cf


def _login(auth, username="reader", **kw):
    factories.user(username, **kw)
    auth.login(username)


def test_catalogue_search_ignores_diacritics_and_filters_by_topic_language_and_hours(app, client, auth):
    rights = cf.course("rights", topic="foundations", hours=6, languages=("vi", "en"))
    rights.title = {"vi": "Quyền con người cơ bản", "en": "Basic human rights"}
    from lms.catalog.services import apply_course_metadata
    apply_course_metadata(rights, version=1, topic="foundations", hours=6, languages=["vi", "en"], open_=True,
                          title=rights.title, summary=rights.summary)
    cf.course("press", topic="spokesperson", hours=1)
    cf.course("hidden", published=False)
    _login(auth)
    page = client.get("/catalog/?q=quyen+con+nguoi").get_data(as_text=True)
    assert "Quyền con người cơ bản" in page and "/catalog/c/press" not in page
    assert "/catalog/c/press" in client.get("/catalog/?topic=spokesperson").get_data(as_text=True)
    assert "/catalog/c/press" not in client.get("/catalog/?lang=en").get_data(as_text=True)
    assert "/catalog/c/rights" not in client.get("/catalog/?hours=short").get_data(as_text=True)
    assert "/catalog/c/hidden" not in client.get("/catalog/").get_data(as_text=True)
    assert client.get("/catalog/?topic=<script>&hours=x&lang=zz&page=-1").status_code == 200


def test_catalogue_shows_courses_in_the_officers_language_first_and_links_translations(app, client, auth):
    cf.course("only-vi", languages=("vi",))
    cf.course("en-too", languages=("vi", "en"))
    _login(auth, locale="en")
    page = client.get("/catalog/").get_data(as_text=True)
    assert page.index("/catalog/c/en-too") < page.index("/catalog/c/only-vi")
    assert 'href="/catalog/c/en-too?lang=en"' in page and 'href="/catalog/c/en-too?lang=vi"' in page


def test_course_page_shows_progress_and_what_is_next(app, client, auth):
    course = cf.course(lessons=3, modules=2)
    reader = factories.user("reader")
    progress.enrol(reader, course)
    progress.complete_lesson(reader, cf.lessons_of(course)[0], course, "vi")
    auth.login("reader")
    page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    assert '<progress class="bar" max="3" value="1"' in page
    assert f'/catalog/c/{course.key}/lesson-2' in page.split('class="card next-step"')[1]
    assert page.count('class="module"') == 2


def test_lesson_page_has_previous_and_next_and_the_other_translations(app, client, auth):
    course = cf.course(lessons=3, languages=("vi", "en"))
    _login(auth)
    page = client.get(f"/catalog/c/{course.key}/lesson-2?lang=en").get_data(as_text=True)
    assert 'rel="prev"' in page and 'rel="next"' in page
    assert "Bài 2 (en)" in page
    assert f'href="/catalog/c/{course.key}/lesson-2?lang=vi"' in page
    assert client.get(f"/catalog/c/{course.key}/nope").status_code == 404
    assert client.get("/catalog/c/nope").status_code == 404


def test_unpublished_courses_are_hidden_from_officers_but_previewable_by_trainers(app, client, auth):
    course = cf.course(published=False)
    factories.user("plain")
    factories.user("writer", roles={"officer", "trainer"})
    auth.login("plain")
    assert client.get(f"/catalog/c/{course.key}").status_code == 403
    auth.logout()
    auth.login("writer")
    page = client.get(f"/catalog/c/{course.key}/lesson-1")
    assert page.status_code == 200
    assert client.get(f"/catalog/c/{course.key}").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    course = cf.course()
    assert client.get("/catalog/").status_code == 302
    assert client.get(f"/catalog/c/{course.key}/lesson-1").status_code == 302


def test_course_files_are_served_with_type_etag_cache_and_ranges(app, client, auth):
    course = cf.course()
    data = b"%PDF-1.4\n" + b"x" * 5000
    db.session.add(Asset(course_id=course.id, path="handouts/guide.pdf", content_type="application/pdf",
                         size=len(data), sha256="a" * 64, data=data))
    _login(auth)
    url = f"/catalog/c/{course.key}/files/handouts/guide.pdf"
    response = client.get(url)
    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["ETag"] == '"' + "a" * 64 + '"'
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(url, headers={"If-None-Match": '"' + "a" * 64 + '"'}).status_code == 304
    partial = client.get(url, headers={"Range": "bytes=0-3"})
    assert partial.status_code == 206 and partial.data == b"%PDF"
    assert client.get(f"/catalog/c/{course.key}/files/missing.pdf").status_code == 404


def _measure(client, count_queries, url: str) -> int:
    client.get(url)  # warm caches (templates, babel)
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_pages_run_a_bounded_number_of_queries(app, client, auth, count_queries):
    """Catalogue, course, lesson and dashboard: the same statement count with 2 or 12 courses, 3 or
    25 lessons, 1 or 40 officers and a few assignments."""
    reader = factories.user("reader")
    hr = factories.user(roles={"officer", "hr"}, hr_all=True)
    auth.login("reader")

    def setup(n_courses: int, n_lessons: int, n_officers: int) -> Course:
        courses = [cf.course(lessons=n_lessons, modules=2) for _ in range(n_courses)]
        for _ in range(n_officers):
            factories.user(agency=reader.agency)
        for course in courses:
            progress.create_assignments(course, kind="agency", agency=reader.agency, due_date=None, actor=hr)
            progress.enrol(reader, course)
            progress.complete_lesson(reader, cf.lessons_of(course)[0], course, "vi")
        db.session.commit()
        return courses[-1]

    def counts(course: Course) -> list[int]:
        return [
            _measure(client, count_queries, "/catalog/"),
            _measure(client, count_queries, f"/catalog/c/{course.key}"),
            _measure(client, count_queries, f"/catalog/c/{course.key}/lesson-2"),
            _measure(client, count_queries, "/"),
        ]

    small = counts(setup(2, 3, 1))
    large = counts(setup(10, 25, 40))
    assert small == large, (small, large)
    assert max(large) <= 16, large


def test_files_of_a_course_not_open_to_all_are_read_only_by_those_who_may_read_its_lessons(app, client, auth):
    """Rule catalog.read_lessons: a lesson's files are as private as the lesson (not just the outline)."""
    course = cf.course(open_=False)
    data = b"%PDF-1.4\n" + b"x" * 100
    db.session.add(Asset(course_id=course.id, path="guide.pdf", content_type="application/pdf",
                         size=len(data), sha256="b" * 64, data=data))
    outsider = factories.user("outsider")
    enrolled = factories.user("enrolled")
    progress.enrol(enrolled, course, source="assignment")
    url = f"/catalog/c/{course.key}/files/guide.pdf"
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    auth.login("outsider")
    assert client.get(f"/catalog/c/{course.key}/lesson-1").status_code == 403
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("enrolled")
    assert client.get(url).data == data
    assert outsider.id != enrolled.id
