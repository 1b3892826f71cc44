"""Self-service password reset: a one-time link by e-mail, the same answer whether or not the account
exists, throttled per network and per name, the link working once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.auth import services
from lms.extensions import db
from tests import factories


@pytest.fixture
def sent(monkeypatch):
    links: list[tuple[str, str]] = []
    monkeypatch.setattr(services, "send_reset_mail", lambda user, link, config: links.append((user.username, link)) or True)
    return links


def test_a_reset_link_by_username_or_email_sets_a_new_password_once(client, sent):
    factories.user("quenmk", email="quen@example.vn")
    db.session.commit()
    page = client.post("/auth/reset", data={"identifier": "QUEN@example.vn"}, follow_redirects=True)
    assert "liên kết để chọn mật khẩu mới" in page.get_data(as_text=True)
    assert [u for u, _l in sent] == ["quenmk"]
    path = re.sub(r"^https?://[^/]+", "", sent[0][1])
    new = "mat-khau-moi-2026-rat-dai"
    assert client.post(path, data={"password": new, "confirm": new}).status_code == 302
    again = client.post(path, data={"password": new + "x", "confirm": new + "x"})
    assert again.status_code == 404  # used once


def test_an_unknown_account_gets_the_same_answer_and_no_mail(client, sent):
    factories.user("coemail", email="co@example.vn")
    db.session.commit()
    known = client.post("/auth/reset", data={"identifier": "coemail"}, follow_redirects=True).get_data(as_text=True)
    unknown = client.post("/auth/reset", data={"identifier": "khongtontai"}, follow_redirects=True).get_data(as_text=True)
    strip = lambda html: re.sub(r'name="csrf_token"[^>]*', "", html)  # noqa: E731
    assert strip(known) == strip(unknown)
    assert [u for u, _l in sent] == ["coemail"]


def test_reset_requests_are_throttled_per_name(client, sent):
    factories.user("nhieulan", email="nl@example.vn")
    db.session.commit()
    for _ in range(services.RESET_PER_ACCOUNT + 2):
        client.post("/auth/reset", data={"identifier": "nhieulan"})
    assert len(sent) == services.RESET_PER_ACCOUNT
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.password_reset_throttled")).first()
