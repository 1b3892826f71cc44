"""Vietnamese by default, English complete, the choice remembered per user and per browser."""

from __future__ import annotations

from lms.extensions import db
from lms.org.models import User
from tests import factories


def test_vietnamese_is_the_default(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html


def test_anonymous_choice_is_remembered_by_the_browser(client):
    response = client.post("/lang", data={"lang": "en", "next": "/auth/login"})
    assert response.status_code == 302
    assert "lms_lang=en" in response.headers["Set-Cookie"]
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


def test_signed_in_choice_is_stored_on_the_user(client, auth):
    factories.user("ngonngu")
    db.session.commit()
    auth.login("ngonngu")
    client.post("/lang", data={"lang": "en"})
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="ngonngu").one().locale == "en"
    # A fresh browser signs in and gets English from the account.
    client.delete_cookie("lms_lang", domain="lms.test")
    auth.logout()
    auth.login("ngonngu")
    assert "Sign out" in client.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/lang", data={"lang": "xx"})
    assert '<html lang="vi">' in client.get("/auth/login").get_data(as_text=True)


def test_language_switch_refuses_offsite_redirect(client):
    response = client.post("/lang", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_dates_are_formatted_per_locale(app):
    from datetime import date

    from flask_babel import force_locale

    from lms.formatting import date_short, number, percent

    with app.test_request_context():
        with force_locale("vi"):
            assert date_short(date(2024, 5, 31)) == "31/05/2024"
            assert number(12345.5, 1) == "12.345,5"
            assert percent(0.875, 1) == "87,5%"
        with force_locale("en"):
            assert date_short(date(2024, 5, 31)) == "31 May 2024"
            assert number(12345.5, 1) == "12,345.5"


def test_language_switch_offers_ui_languages_even_when_a_page_lists_course_languages(app, client):
    """A view passing its own ``languages`` (course editions such as ktv) must not change the switcher."""
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string('{% extends "base.html" %}', languages=["ktv", "vi"])
    assert 'value="vi"' in html and 'value="en"' in html and 'value="ktv"' not in html


def test_counts_in_sentences_use_the_locale_thousands_separator(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("vi"):
            html = render_template_string('{{ ngettext("%(num)s account", "%(num)s accounts", 20000) }}')
            assert html == "20.000 tài khoản"
        with force_locale("en"):
            assert render_template_string('{{ ngettext("%(num)s account", "%(num)s accounts", 1) }}') == "1 account"
            assert render_template_string('{{ ngettext("%(num)s account", "%(num)s accounts", 1234) }}') == "1,234 accounts"


def test_templates_may_pass_their_own_num_to_ngettext(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string('{{ ngettext("%(num)s account", "%(num)s accounts", 3, num="ba") }}')
    assert html == "ba tài khoản"
