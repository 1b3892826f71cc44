"""With CSRF protection on (as in production), admin actions need the form's token."""

from __future__ import annotations

import re

import pytest

from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_revoking_without_the_csrf_token_is_refused_and_with_it_works(client, app):
    certificate = cf.certified(f.user())
    f.user("root", roles={"officer", "admin"})
    db.session.commit()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"username": "root", "password": f.PASSWORD, "csrf_token": token})
    response = client.post(f"/certificates/{certificate.code}/revoke", data={"reason": "lý do"})
    assert response.status_code == 400
    page = client.get(f"/certificates/{certificate.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/certificates/{certificate.code}/revoke",
                           data={"reason": "lý do", "csrf_token": token})
    assert response.status_code == 302


def test_the_public_look_up_form_needs_no_token(client, app):
    certificate = cf.certified(f.user())
    db.session.commit()
    response = client.get("/verify", query_string={"code": certificate.code.lower()})
    assert response.status_code == 302


def test_template_changes_need_the_csrf_token(client, app):
    template = cf.template("Mẫu")
    f.user("root", roles={"officer", "admin"})
    db.session.commit()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"username": "root", "password": f.PASSWORD, "csrf_token": token})
    url = f"/certificates/manage/templates/{template.id}"
    assert client.post(f"{url}/delete").status_code == 400
    edit = {"name": "Đổi tên", "layout": "plain", "issuer_vi": "Sở Nội vụ", "scope": "none"}
    assert client.post(url, data=edit).status_code == 400
    assert client.post("/certificates/manage/templates/new", data=edit).status_code == 400
    db.session.expire_all()
    assert template.name == "Mẫu"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(url, data={**edit, "csrf_token": token}).status_code == 302
    assert client.post(f"{url}/delete", data={"csrf_token": token}).status_code == 302
