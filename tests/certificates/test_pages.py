"""Officers' and HR pages: what they show, the expiring-soon warnings, bounded SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.db import utcnow
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf


@pytest.fixture
def officer(app):
    return f.user("mai", full_name="Alăng Thị Mai")


def test_my_certificates_lists_downloads_and_the_transcript(client, auth, officer):
    certificate = cf.certified(officer)
    auth.login("mai")
    page = client.get("/certificates/").get_data(as_text=True)
    assert certificate.code in page and certificate.course_title in page
    assert f"/certificates/{certificate.code}.pdf" in page
    assert "/certificates/transcript.pdf" in page


def test_the_navigation_offers_my_certificates_to_officers_and_the_list_to_hr(client, auth, officer):
    f.user("hr1", roles={"officer", "hr"}, hr_all=True)
    auth.login("mai")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/"' in home and 'href="/certificates/manage"' not in home
    auth.logout()
    auth.login("hr1")
    assert 'href="/certificates/manage"' in client.get("/").get_data(as_text=True)


def test_officers_see_certificates_expiring_soon_on_their_page_and_dashboard(client, auth, officer):
    soon = cf.certified(officer)
    soon.expires_at = utcnow() + timedelta(days=20)
    later = cf.certified(officer)
    later.expires_at = utcnow() + timedelta(days=400)
    auth.login("mai")
    page = client.get("/certificates/").get_data(as_text=True)
    assert page.count("tag tag-warn") == 1  # "expiring soon" on one card only
    home = client.get("/").get_data(as_text=True)
    assert soon.course_title in home and "flash-warning" in home
    assert home.count("flash-warning") == 1


def test_my_training_links_each_completed_course_to_its_certificate(client, auth, officer):
    certificate = cf.certified(officer)
    auth.login("mai")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/certificates/{certificate.code}.pdf"' in home
    assert "/certificates/transcript.pdf" in home


def test_hr_sees_how_many_certificates_expire_soon_and_can_list_them(client, auth, officer):
    f.user("hr1", roles={"officer", "hr"}, hr_all=True)
    soon = cf.certified(officer)
    soon.expires_at = utcnow() + timedelta(days=5)
    other = cf.certified(f.user())
    auth.login("hr1")
    page = client.get("/certificates/manage").get_data(as_text=True)
    assert "state=expiring" in page
    listed = client.get("/certificates/manage", query_string={"state": "expiring"}).get_data(as_text=True)
    assert soon.code in listed and other.code not in listed


def _statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_pages_run_the_same_number_of_queries_whatever_the_number_of_certificates(
    client, auth, officer, count_queries
):
    f.user("hr1", roles={"officer", "hr"}, hr_all=True)
    cf.certified(officer)
    db.session.commit()
    auth.login("mai")
    small = {url: _statements(client, count_queries, url) for url in ("/certificates/", "/")}
    auth.logout()
    auth.login("hr1")
    small["/certificates/manage"] = _statements(client, count_queries, "/certificates/manage")
    for _ in range(6):
        cf.certified(officer)
        cf.certified(f.user(agency=f.agency()))
    db.session.commit()
    large = {"/certificates/manage": _statements(client, count_queries, "/certificates/manage")}
    auth.logout()
    auth.login("mai")
    for url in ("/certificates/", "/"):
        large[url] = _statements(client, count_queries, url)
    assert large == small


def _final_test_course_with_certificate():
    from tests.quizzes.test_results import final_test_course

    course, quiz = final_test_course()
    course.certificate = {"enabled": True, "validity_months": None}
    db.session.flush()
    return course, quiz


def test_the_quiz_result_that_completes_a_course_and_the_completed_course_page_offer_the_certificate_pdf(
    app, client, auth
):
    from tests.quizzes.test_results import officer_with_lessons_done, submit

    course, quiz = _final_test_course_with_certificate()
    officer = officer_with_lessons_done(course)
    failed = submit(officer, quiz, wrong=("q-single", "q-tf"))  # 66%: not passed, not completed
    db.session.commit()
    auth.login("canbo")
    result = client.get(f"/quizzes/attempts/{failed.id}/review").get_data(as_text=True)
    assert "Download your certificate (PDF)" not in result
    assert "Download your certificate (PDF)" not in client.get(f"/catalog/c/{course.key}").get_data(as_text=True)

    passed = submit(officer, quiz)
    db.session.commit()
    certificate = cf.certificate_of(officer, course)
    link = f'href="/certificates/{certificate.code}.pdf"'
    result = client.get(f"/quizzes/attempts/{passed.id}/review").get_data(as_text=True)
    assert "Download your certificate (PDF)" in result and link in result
    page = client.get(f"/catalog/c/{course.key}").get_data(as_text=True)
    assert "Download your certificate (PDF)" in page and link in page
    assert client.get(f"/certificates/{certificate.code}.pdf").data.startswith(b"%PDF")


def test_an_admin_reviewing_an_officers_attempt_sees_no_certificate_button(app, client, auth):
    from tests.quizzes.test_results import officer_with_lessons_done, submit

    course, quiz = _final_test_course_with_certificate()
    officer = officer_with_lessons_done(course)
    attempt = submit(officer, quiz)
    f.user("adm", roles={"officer", "admin"})
    db.session.commit()
    auth.login("adm")
    page = client.get(f"/quizzes/attempts/{attempt.id}/review")
    assert page.status_code == 200
    assert "certificate (PDF)" not in page.get_data(as_text=True).lower()
