"""Error pages in both languages; API paths get JSON; an unexpected error never shows a traceback."""

from __future__ import annotations

import pytest


def test_404_page_in_vietnamese_and_english(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)
    client.post("/lang", data={"lang": "en"})
    assert "Page not found" in client.get("/nope").get_data(as_text=True)


def test_500_page_is_friendly_and_rolls_back(app, client):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom-test")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Hệ thống gặp sự cố" in html and "kaboom" not in html and "Traceback" not in html


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_405_is_reported_not_crashed(client):
    assert client.get("/auth/logout").status_code == 405


@pytest.mark.parametrize("path", ["/org/users", "/auth/profile"])
def test_anonymous_visitors_are_sent_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_home_page_without_images_is_light(client):
    html = client.get("/").get_data()
    css = client.get("/static/css/app.css").get_data()
    assert len(html) + len(css) < 40_000


def test_a_page_number_beyond_any_list_is_an_empty_page_not_an_error(client, auth):
    """Rule: ?page= is user input; a number too large for the database's OFFSET was a 500."""
    from lms.extensions import db
    from tests import factories

    factories.user("everyone", roles={"officer", "admin", "hr", "trainer"})
    db.session.commit()
    auth.login("everyone")
    for url in ("/catalog/", "/progress/assignments", "/certificates/manage", "/quizzes/grading"):
        response = client.get(url, query_string={"page": "9" * 30})
        assert response.status_code == 200, url


@pytest.mark.parametrize("url", ["/api/v1/certificates?course=%00", "/verify/AB%00CD", "/auth/login?next=%00"])
def test_a_nul_byte_in_the_address_is_a_clear_400_on_every_engine(client, url):
    """PostgreSQL refuses NUL in text with an error (a 500 before); SQLite stored it silently."""
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "NUL" in body and "Traceback" not in body


def test_a_nul_byte_in_a_form_field_is_refused_in_vietnamese_and_nothing_is_written(client, auth):
    response = client.post("/auth/login", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "không được phép" in response.get_data(as_text=True)
