"""Logout, password change and disable end every session: a copied cookie stops working."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.extensions import db
from lms.org import services
from lms.org.models import User
from tests import factories


def _copy_session(app, client: FlaskClient) -> FlaskClient:
    other = app.test_client()
    cookie = client.get_cookie("lms_session", domain="lms.test")
    assert cookie is not None
    other.set_cookie("lms_session", cookie.value, domain="lms.test")
    return other


def _signed_in(c: FlaskClient) -> bool:
    return c.get("/auth/profile").status_code == 200


def test_copied_cookie_works_until_logout_then_dies(app, client, auth):
    factories.user("aa")
    db.session.commit()
    auth.login("aa")
    thief = _copy_session(app, client)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(thief)
    assert not _signed_in(client)


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, auth):
    factories.user("bb")
    db.session.commit()
    auth.login("bb")
    other_device = _copy_session(app, client)
    response = client.post(
        "/auth/password",
        data={"current": factories.PASSWORD, "password": "mật-khẩu-mới-2025", "confirm": "mật-khẩu-mới-2025"},
    )
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other_device)


def test_password_change_refuses_common_password(client, auth):
    factories.user("cc")
    db.session.commit()
    auth.login("cc")
    response = client.post(
        "/auth/password", data={"current": factories.PASSWORD, "password": "12345678", "confirm": "12345678"}
    )
    assert response.status_code == 200
    assert "quá phổ biến" in response.get_data(as_text=True)


def test_disabling_an_account_ends_its_sessions(app, client, auth):
    u = factories.user("dd")
    admin = factories.user("root", roles={"officer", "admin"})
    db.session.commit()
    auth.login("dd")
    assert _signed_in(client)
    services.set_user_active(u, False, actor=admin)
    db.session.commit()
    assert not _signed_in(client)


def test_activation_link_sets_password_once(app, client):
    from lms.org.accounts import issue_activation

    u = factories.user("newbie", password=None)
    token = issue_activation(u, 14)
    db.session.commit()
    page = client.get(f"/auth/activate/{token}")
    assert page.status_code == 200
    response = client.post(f"/auth/activate/{token}", data={"password": "một-mật-khẩu-tốt", "confirm": "một-mật-khẩu-tốt"})
    assert response.status_code == 302
    assert _signed_in(client)
    assert client.get(f"/auth/activate/{token}").status_code == 404


def test_activation_link_refuses_short_password_and_stays_usable(app, client):
    from lms.org.accounts import issue_activation

    u = factories.user("newbie2", password=None)
    token = issue_activation(u, 14)
    db.session.commit()
    response = client.post(f"/auth/activate/{token}", data={"password": "short", "confirm": "short"})
    assert response.status_code == 200
    assert "ít nhất 8" in response.get_data(as_text=True)
    assert client.get(f"/auth/activate/{token}").status_code == 200


def _plant(client: FlaskClient) -> None:
    """What an attacker who could set the victim's cookie before sign-in would leave in it."""
    with client.session_transaction() as session:
        session["csrf_token"] = "planted-by-attacker"
        session["planted"] = True


def _planted_values_left(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return session.get("csrf_token") == "planted-by-attacker" or "planted" in session


def test_login_starts_a_fresh_session(client, auth):
    factories.user("ff")
    db.session.commit()
    _plant(client)
    assert auth.login("ff").status_code == 302
    assert _signed_in(client)
    assert not _planted_values_left(client)


def test_activation_starts_a_fresh_session(client):
    from lms.org.accounts import issue_activation

    u = factories.user("newbie3", password=None)
    token = issue_activation(u, 14)
    db.session.commit()
    _plant(client)
    response = client.post(f"/auth/activate/{token}", data={"password": "một-mật-khẩu-tốt", "confirm": "một-mật-khẩu-tốt"})
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _planted_values_left(client)


def test_logout_leaves_nothing_of_the_session_behind(client, auth):
    factories.user("gg")
    db.session.commit()
    auth.login("gg")
    _plant(client)
    auth.logout()
    assert not _planted_values_left(client)


def test_activation_page_sends_no_referrer_so_the_token_does_not_leak(client):
    from lms.org.accounts import issue_activation

    u = factories.user("newbie4", password=None)
    token = issue_activation(u, 14)
    db.session.commit()
    assert client.get(f"/auth/activate/{token}").headers["Referrer-Policy"] == "no-referrer"
    refused = client.post(f"/auth/activate/{token}", data={"password": "short", "confirm": "short"})
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/auth/activate/not-a-token").headers["Referrer-Policy"] == "no-referrer"


def test_an_administrator_reset_ends_the_accounts_sessions(app, client, auth):
    """A reset is often made because an account is compromised: whoever holds its cookie is out."""
    factories.user("ee")
    factories.user("root2", roles={"officer", "admin"})
    db.session.commit()
    auth.login("ee")
    assert _signed_in(client)
    admin = app.test_client()
    admin.post("/auth/login", data={"username": "root2", "password": factories.PASSWORD})
    target = db.session.scalar(select(User).where(User.username == "ee"))
    assert admin.post(f"/org/users/{target.id}/activation").status_code == 200
    assert not _signed_in(client)


def test_a_token_claimed_meanwhile_by_another_request_is_refused(app):
    """The link is claimed by a conditional UPDATE: if another request used it between our read and
    our write, this one fails instead of setting a second password."""
    from sqlalchemy import update

    from lms.auth import services
    from lms.db import utcnow
    from lms.org import accounts
    from lms.org.models import ActivationToken

    u = factories.user("race", password=None)
    token = accounts.issue_activation(u, 14)
    db.session.commit()
    real = services.user_for_token

    def read_then_lose_the_race(tok):
        row = real(tok)
        db.session.execute(update(ActivationToken).where(ActivationToken.id == row.id).values(used_at=utcnow()))
        return row

    services.user_for_token = read_then_lose_the_race
    try:
        import pytest

        with pytest.raises(services.InvalidToken):
            services.activate(token, "một-mật-khẩu-tốt", "fast")
    finally:
        services.user_for_token = real
    db.session.rollback()


def _data_of(user: User, **changes) -> services.UserData:
    data = services.UserData(
        username=user.username, full_name=user.full_name, agency=user.agency, email=user.email,
        roles=set(user.roles), duty_codes={d.code for d in user.duties},
        hr_agency_ids={s.agency_id for s in user.hr_scopes}, hr_all_agencies=user.hr_all_agencies)
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def test_a_role_change_ends_the_accounts_sessions(app, client, auth):
    """ASVS 7.4: a privilege change by an administrator signs the account out everywhere."""
    admin = factories.user("role.admin", roles={"admin"})
    hr = factories.user("role.hr", roles={"hr"}, hr_all=True)
    db.session.commit()
    auth.login("role.hr")
    assert client.get("/reports/").status_code == 200
    services.update_user(hr, _data_of(hr, roles={"officer"}), actor=admin)
    db.session.commit()
    assert not _signed_in(client)


def test_an_hr_scope_change_ends_the_accounts_sessions(app, client, auth):
    admin = factories.user("scope.admin", roles={"admin"})
    unit = factories.agency()
    hr = factories.user("scope.hr", roles={"hr"}, hr_all=True)
    db.session.commit()
    auth.login("scope.hr")
    services.update_user(hr, _data_of(hr, hr_all_agencies=False, hr_agency_ids={unit.id}), actor=admin)
    db.session.commit()
    assert not _signed_in(client)


def test_editing_only_the_name_keeps_the_session(app, client, auth):
    admin = factories.user("name.admin", roles={"admin"})
    officer = factories.user("name.officer")
    db.session.commit()
    auth.login("name.officer")
    services.update_user(officer, _data_of(officer, full_name="Trần Thị Mới"), actor=admin)
    db.session.commit()
    assert _signed_in(client)
