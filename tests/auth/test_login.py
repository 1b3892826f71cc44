"""Signing in and out, throttling, and sessions that die."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from lms.db import utcnow
from lms.extensions import db
from lms.ratelimit import RateEvent
from tests import factories


@pytest.fixture
def officer(app):
    u = factories.user("canbo", roles={"officer"})
    db.session.commit()
    return u


def test_login_with_correct_password_reaches_home(client, auth, officer):
    response = auth.login("canbo")
    assert response.status_code == 302
    page = client.get("/")
    assert "Nguyễn Thị Hồng" in page.get_data(as_text=True)


def test_username_is_case_insensitive(client, auth, officer):
    assert auth.login("CanBo").status_code == 302


def test_wrong_password_is_refused_with_message(client, auth, officer):
    response = auth.login("canbo", "sai-mat-khau")
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/auth/profile").status_code == 302


def test_account_is_throttled_after_five_failures_even_with_right_password(client, auth, officer):
    for _ in range(5):
        auth.login("canbo", "wrong-password")
    response = auth.login("canbo")
    assert response.status_code == 200
    assert "Quá nhiều lần" in response.get_data(as_text=True)


def test_throttle_window_expires(client, auth, officer):
    for _ in range(5):
        auth.login("canbo", "wrong-password")
    db.session.execute(update(RateEvent).values(at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert auth.login("canbo").status_code == 302


def test_address_is_throttled_across_accounts(app, client, auth):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for name in ("a1", "a2", "a3"):
        auth.login(name, "wrong-password")
    factories.user("fresh")
    db.session.commit()
    response = auth.login("fresh")
    assert "Quá nhiều lần" in response.get_data(as_text=True)


def test_throttle_lives_in_the_database_so_a_second_app_process_sees_it(app, client, auth, officer):
    """Two app instances (as two gunicorn workers would be) share the failure count."""
    from lms import create_app

    for _ in range(5):
        auth.login("canbo", "wrong-password")
    other = create_app(dict(app.config))
    with other.test_client() as other_client:
        response = other_client.post("/auth/login", data={"username": "canbo", "password": factories.PASSWORD})
        assert "Quá nhiều lần" in response.get_data(as_text=True)


def test_successful_login_clears_account_failures(client, auth, officer):
    for _ in range(4):
        auth.login("canbo", "wrong-password")
    assert auth.login("canbo").status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login("canbo", "wrong-password")
    assert auth.login("canbo").status_code == 302


def test_disabled_account_cannot_sign_in(client, auth, officer):
    officer.active = False
    db.session.commit()
    assert auth.login("canbo").status_code == 200


def test_login_does_not_follow_offsite_next(client, officer):
    response = client.post(
        "/auth/login", data={"username": "canbo", "password": factories.PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["Location"] == "/"


def test_login_follows_local_next(client, officer):
    response = client.post(
        "/auth/login", data={"username": "canbo", "password": factories.PASSWORD, "next": "/auth/profile"}
    )
    assert response.headers["Location"] == "/auth/profile"


def test_a_nul_in_next_refuses_the_whole_request_and_signs_no_one_in(client, officer):
    response = client.post(
        "/auth/login", data={"username": "canbo", "password": factories.PASSWORD, "next": "/\x00/evil.example"}
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert client.get("/auth/profile").status_code == 302  # still signed out


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\t\\evil.example",
        "/\n/evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "https:/evil.example",
    ],
)
def test_next_refuses_paths_browsers_read_as_another_site(client, officer, target):
    """Browsers read a backslash as a slash and drop tabs and newlines: '/\\evil' is '//evil'."""
    response = client.post(
        "/auth/login", data={"username": "canbo", "password": factories.PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/"


def test_language_switch_refuses_backslash_next(client):
    response = client.post("/lang", data={"lang": "en", "next": "/\\evil.example"})
    assert response.headers["Location"] == "/"


def test_a_refused_sign_in_is_announced_and_links_the_summary_to_the_field_in_error(client, auth, officer):
    """A form that comes back with errors opens with one role=alert summary whose links lead to the
    fields in error; each such field says aria-invalid and points at its error text (forms.js then
    moves the focus to the first of them)."""
    page = auth.login("canbo", "sai-mat-khau").get_data(as_text=True)
    assert page.count('role="alert"') == 1
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#password">' in summary and "Sai tên đăng nhập hoặc mật khẩu" in summary
    field = re.search(r'<input[^>]*id="password"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="password-error"' in field
    assert 'id="password-error"' in page
    assert "js/forms.js" in page


def test_change_password_with_nothing_filled_in_lists_the_fields_in_error_in_page_order(client, auth, officer):
    auth.login("canbo")
    page = client.post("/auth/password", data={}).get_data(as_text=True)
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<a href="#([\w-]+)">', summary) == ["current", "password", "confirm"]
    on_page = re.findall(r'<input[^>]*id="(current|password|confirm)"', page)
    assert on_page == ["current", "password", "confirm"]
