"""Security headers, CSRF on every form, cookie flags."""

from __future__ import annotations

import re

import pytest

from lms.extensions import db
from tests import factories


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_pages_send_a_csp_without_inline_script(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_contain_no_inline_script_or_handlers(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_session_cookie_is_httponly_and_samesite(client):
    factories.user("csrfuser")
    db.session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"username": "csrfuser", "password": factories.PASSWORD,
                                                "csrf_token": token})
    cookie = response.headers.getlist("Set-Cookie")[0]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests: "auto" follows the request


def test_session_cookie_is_secure_over_https(client):
    response = client.get("/auth/login", base_url="https://lms.test")
    cookie = response.headers.getlist("Set-Cookie")
    assert cookie and "Secure" in cookie[0]
    assert "Strict-Transport-Security" in response.headers


def test_login_post_without_csrf_token_is_rejected(client):
    factories.user("nocsrf")
    db.session.commit()
    response = client.post("/auth/login", data={"username": "nocsrf", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_language_switch_without_csrf_token_is_rejected(client):
    assert client.post("/lang", data={"lang": "en"}).status_code == 400


def test_csrf_token_has_no_time_limit(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_access_log_lines_hide_activation_tokens():
    from lms.security import redact_secrets

    line = 'GET /auth/activate/AbC-123_xyz?next=/ HTTP/1.1'
    assert redact_secrets(line) == "GET /auth/activate/[redacted]?next=/ HTTP/1.1"
    assert redact_secrets("GET /catalog/ HTTP/1.1") == "GET /catalog/ HTTP/1.1"


def test_gunicorn_config_uses_the_redacting_logger():
    import runpy
    from types import SimpleNamespace

    config = runpy.run_path("gunicorn.conf.py")
    logger_class = config["logger_class"]
    logger = logger_class.__new__(logger_class)
    logger.cfg = SimpleNamespace(access_log_format='%(r)s', env={})
    from gunicorn.glogging import Logger

    base_atoms = Logger.atoms
    try:
        Logger.atoms = lambda self, *a: {"r": "GET /auth/activate/SECRET HTTP/1.1", "U": "/auth/activate/SECRET", "f": "-"}
        atoms = logger.atoms(None, None, {}, None)
    finally:
        Logger.atoms = base_atoms
    assert "SECRET" not in atoms["r"] and "SECRET" not in atoms["U"]
