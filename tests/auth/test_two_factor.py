"""The second factor in the browser: forced enrolment for HR and admin, step 2 of sign-in, recovery codes,
replay, throttling, disabling and regenerating with a proof, and what never gives a 500."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.auth import services, totp
from lms.auth.models import RecoveryCode, TotpSecret
from lms.extensions import db
from lms.org.models import User
from tests import factories
from tests.conftest import PASSWORD

LIMITS = services.LoginLimits(window_seconds=15 * 60, per_account=5, per_address=30)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"REQUIRE_2FA_ROLES": "admin,hr"}


@pytest.fixture
def hr(app) -> User:
    u = factories.user("nhansu", roles={"hr"}, hr_all=True)
    db.session.commit()
    return u


@pytest.fixture
def officer(app) -> User:
    u = factories.user("canbo", roles={"officer"})
    db.session.commit()
    return u


def enrol(user: User) -> tuple[str, list[str]]:
    """Turn the second factor on as if it had been done two minutes ago; returns (secret, recovery codes).

    Enrolled with a code of four steps back, so that every current code is still unused."""
    then = time.time() - 120
    row = services.enrolment_secret(user)
    codes = services.confirm_enrolment(user, totp.code_at(row.secret, totp.time_step(then)), "10.0.0.1",
                                       LIMITS, then)
    db.session.commit()
    return row.secret, codes


def now_code(secret: str) -> str:
    return totp.code_at(secret, totp.time_step(time.time()))


def wrong_code(secret: str) -> str:
    """A 6-digit code that no step within the allowed drift has."""
    step = totp.time_step(time.time())
    near = {totp.code_at(secret, s) for s in range(step - 2, step + 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)


def page(response) -> str:
    return response.get_data(as_text=True)


def actions(prefix: str = "auth.") -> list[tuple[str, dict]]:
    db.session.expire_all()
    return [(e.action, e.details) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith(prefix)]


def signed_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def secret_row(user: User) -> TotpSecret | None:
    db.session.expire_all()
    return db.session.get(TotpSecret, user.id)


# Forced enrolment ---------------------------------------------------------------------------------


def test_hr_without_a_second_factor_is_sent_to_enrol_and_is_not_signed_in(client, auth, hr):
    response = auth.login("nhansu")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor/enrol")
    assert not signed_in(client)
    assert client.get("/org/users").headers["Location"].startswith("/auth/login")
    enrol_page = client.get("/auth/two-factor/enrol")
    assert enrol_page.status_code == 200
    text = page(enrol_page)
    assert "<svg" in text and "Thiết lập xác thực hai lớp" in text and "dữ liệu cá nhân" in text
    assert actions() == []  # no sign-in yet


def test_forced_enrolment_finishes_the_sign_in_and_shows_ten_recovery_codes_once(client, auth, hr):
    auth.login("nhansu", query_string={"next": "/auth/profile"})
    client.get("/auth/two-factor/enrol")
    row = secret_row(hr)
    assert row is not None and row.confirmed_at is None
    response = client.post("/auth/two-factor/enrol", data={"code": now_code(row.secret)})
    assert response.status_code == 200
    text = page(response)
    assert "Mã khôi phục" in text and text.count("<li><code>") == 10
    assert 'href="/auth/profile"' in text  # next= is kept through enrolment
    assert signed_in(client)
    assert secret_row(hr).confirmed_at is not None
    assert db.session.scalar(select(db.func.count()).select_from(RecoveryCode)) == 10
    assert [(a, d.get("second_factor")) for a, d in actions()] == [
        ("auth.two_factor_enrolled", None), ("auth.signed_in", "enrolled")]


def test_the_enrol_page_shows_the_same_secret_on_every_reload(client, auth, hr):
    auth.login("nhansu")
    first = page(client.get("/auth/two-factor/enrol"))
    second = page(client.get("/auth/two-factor/enrol"))
    secret = totp.grouped(secret_row(hr).secret)
    assert secret in first and secret in second


def test_a_wrong_enrolment_code_is_refused_in_vietnamese(client, auth, hr):
    auth.login("nhansu")
    client.get("/auth/two-factor/enrol")
    response = client.post("/auth/two-factor/enrol", data={"code": wrong_code(secret_row(hr).secret)})
    assert response.status_code == 200
    assert "Mã này không khớp" in page(response)
    assert secret_row(hr).confirmed_at is None
    assert not signed_in(client)


def test_officers_sign_in_with_their_password_alone(client, auth, officer):
    assert auth.login("canbo").headers["Location"].endswith("/")
    assert signed_in(client)


def test_with_the_setting_off_hr_signs_in_with_the_password(app, client, auth, hr):
    app.config["REQUIRE_2FA_ROLES"] = ""
    auth.login("nhansu")
    assert signed_in(client)


def test_an_hr_session_from_before_the_rule_opens_only_the_enrol_page(app, client, auth, hr):
    app.config["REQUIRE_2FA_ROLES"] = ""
    auth.login("nhansu")
    app.config["REQUIRE_2FA_ROLES"] = "hr"
    for path in ("/", "/auth/profile", "/org/users"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor/enrol")
    assert client.get("/auth/two-factor/enrol").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/auth/two-factor/enrol").headers["Location"].startswith("/auth/login")


def test_enrolling_ends_the_accounts_other_sessions(app, client, auth, officer):
    other = app.test_client()
    other.post("/auth/login", data={"username": "canbo", "password": PASSWORD})
    assert signed_in(other)
    auth.login("canbo")
    client.get("/auth/two-factor/enrol")
    client.post("/auth/two-factor/enrol", data={"code": now_code(secret_row(officer).secret)})
    assert signed_in(client)
    assert not signed_in(other)


# Step 2 of sign-in --------------------------------------------------------------------------------


def test_an_enrolled_account_needs_the_code_after_its_password(client, auth, officer):
    secret, _codes = enrol(officer)
    response = auth.login("canbo")
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert not signed_in(client)
    assert "Xác thực hai lớp" in page(client.get("/auth/two-factor"))
    response = client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert signed_in(client)
    assert [d.get("second_factor") for a, d in actions() if a == "auth.signed_in"] == ["totp"]


def test_a_wrong_code_gives_a_vietnamese_message_and_is_audited(client, auth, officer):
    secret, _codes = enrol(officer)
    auth.login("canbo")
    response = client.post("/auth/two-factor", data={"code": wrong_code(secret)})
    assert response.status_code == 200
    assert "Mã không đúng hoặc đã được dùng" in page(response)
    assert not signed_in(client)
    assert ("auth.two_factor_failed", {"kind": "totp"}) in actions()


def test_a_code_cannot_be_replayed(client, auth, officer):
    secret, _codes = enrol(officer)
    code = now_code(secret)
    auth.login("canbo")
    client.post("/auth/two-factor", data={"code": code})
    assert signed_in(client)
    auth.logout()
    auth.login("canbo")
    response = client.post("/auth/two-factor", data={"code": code})
    assert "Mã không đúng hoặc đã được dùng" in page(response)
    assert not signed_in(client)


def test_a_recovery_code_works_once(client, auth, officer):
    _secret, codes = enrol(officer)
    auth.login("canbo")
    response = client.post("/auth/two-factor", data={"code": codes[3].upper().replace("-", " ")},
                           follow_redirects=True)
    assert "Số mã khôi phục còn lại: 9" in page(response)
    assert signed_in(client)
    assert ("auth.recovery_code_used", {"left": 9}) in actions()
    auth.logout()
    auth.login("canbo")
    response = client.post("/auth/two-factor", data={"code": codes[3]})
    assert "Mã không đúng hoặc đã được dùng" in page(response)
    assert not signed_in(client)


@pytest.mark.parametrize("target, lands", [
    ("/auth/profile", "/auth/profile"),
    ("https://evil.example/phish", "/"),
    ("//evil.example/", "/"),
])
def test_next_stays_on_the_site_through_step_2(client, officer, target, lands):
    secret, _codes = enrol(officer)
    client.post("/auth/login", data={"username": "canbo", "password": PASSWORD, "next": target})
    response = client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert response.headers["Location"] in (lands, "http://lms.test" + lands)


def test_repeated_wrong_codes_are_throttled_even_before_the_right_one(client, auth, officer):
    secret, _codes = enrol(officer)
    auth.login("canbo")
    for _ in range(5):
        client.post("/auth/two-factor", data={"code": wrong_code(secret)})
    response = client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert "Nhập sai mã quá nhiều lần" in page(response)
    assert not signed_in(client)
    assert actions()[-1][0] == "auth.two_factor_throttled"


def test_logout_kills_the_session_cookie(client, auth, officer):
    secret, _codes = enrol(officer)
    auth.login("canbo")
    client.post("/auth/two-factor", data={"code": now_code(secret)})
    cookie = client.get_cookie("lms_session", domain="lms.test")
    assert cookie is not None and signed_in(client)
    auth.logout()
    client.set_cookie("lms_session", cookie.value, domain="lms.test")
    assert not signed_in(client)


def test_step_2_without_a_password_first_sends_back_to_sign_in(client, officer):
    enrol(officer)
    for response in (client.get("/auth/two-factor"), client.post("/auth/two-factor", data={"code": "123456"})):
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_an_expired_password_step_must_start_again(client, auth, officer):
    secret, _codes = enrol(officer)
    auth.login("canbo")
    with client.session_transaction() as sess:
        state = dict(sess["_lms_second_factor"])
        state["at"] -= 11 * 60
        sess["_lms_second_factor"] = state
    response = client.post("/auth/two-factor", data={"code": now_code(secret)}, follow_redirects=True)
    assert "Phiên đăng nhập đã hết hạn" in page(response)
    assert not signed_in(client)


@pytest.mark.parametrize("state", [None, "garbage", {"uid": "x"}, {"uid": 10**9, "at": 0}, {"at": "soon"}])
def test_a_broken_password_step_state_sends_back_to_sign_in(client, officer, state):
    with client.session_transaction() as sess:
        sess["_lms_second_factor"] = state
    response = client.post("/auth/two-factor", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_a_password_change_between_the_steps_ends_the_half_done_sign_in(client, auth, officer):
    secret, _codes = enrol(officer)
    auth.login("canbo")
    services.end_all_sessions(officer)
    db.session.commit()
    client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert not signed_in(client)


@pytest.mark.parametrize("typed", ["abcdef", "12 34 56 78", "１２３", "x" * 41, "9" * 5000, "'; DROP TABLE user;--",
                                   "<script>", "١٢٣٤٥٦", "   ", "zzzz-zzzz-zzzz-zzzz"])
def test_bad_codes_are_refused_with_a_message_never_a_500(client, auth, officer, typed):
    enrol(officer)
    auth.login("canbo")
    response = client.post("/auth/two-factor", data={"code": typed})
    assert response.status_code == 200
    assert not signed_in(client)
    auth.logout()


@pytest.mark.parametrize("typed", ["abcdef", "x" * 41, "１２３４５６", "\u200b123456"])
def test_bad_enrolment_codes_are_refused_never_a_500(client, auth, hr, typed):
    auth.login("nhansu")
    client.get("/auth/two-factor/enrol")
    response = client.post("/auth/two-factor/enrol", data={"code": typed})
    assert response.status_code == 200
    assert secret_row(hr).confirmed_at is None


def test_a_nul_in_the_code_is_a_400(client, auth, officer):
    enrol(officer)
    auth.login("canbo")
    assert client.post("/auth/two-factor", data={"code": "12\x003456"}).status_code == 400


def test_a_reset_link_proves_the_mailbox_not_the_phone(client, officer):
    from lms.org.accounts import issue_activation

    secret, _codes = enrol(officer)
    token = issue_activation(officer, 2)
    db.session.commit()
    new_password = "mat-khau-moi-rat-dai-2025"
    response = client.post(f"/auth/activate/{token}", data={"password": new_password, "confirm": new_password})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor")
    assert not signed_in(client)
    client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert signed_in(client)


def test_api_tokens_do_not_ask_for_a_second_factor(client, hr):
    from lms.api.services import create_token

    _row, token = create_token(hr, "Bảng điều khiển")  # hr has no second factor and its role needs one
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["username"] == "nhansu"


# On the account page: regenerate and disable, each with a proof -----------------------------------


def signed_in_with_code(client, auth, user: User) -> tuple[str, list[str]]:
    secret, codes = enrol(user)
    auth.login(user.username)
    client.post("/auth/two-factor", data={"code": now_code(secret)})
    assert signed_in(client)
    return secret, codes


def test_the_account_page_says_whether_two_factor_is_on(client, auth, officer):
    auth.login("canbo")
    assert "Thiết lập xác thực hai lớp" in page(client.get("/auth/profile"))
    auth.logout()
    signed_in_with_code(client, auth, officer)
    text = page(client.get("/auth/profile"))
    assert "Đang bật" in text and "Còn 10 mã khôi phục" in text


@pytest.mark.parametrize("proof", ["", "sai-mat-khau", "000000", "abcd-efgh-ijkl-mnop"])
@pytest.mark.parametrize("action", ["disable", "recovery-codes"])
def test_disable_and_regenerate_need_a_proof(client, auth, officer, proof, action):
    signed_in_with_code(client, auth, officer)
    before = db.session.scalars(select(RecoveryCode.code_hash).order_by(RecoveryCode.id)).all()
    response = client.post(f"/auth/two-factor/{action}", data={"proof": proof}, follow_redirects=True)
    assert response.status_code == 200
    text = page(response)
    assert "Hãy nhập mật khẩu hiện tại hoặc một mã" in text or "Đây không phải mật khẩu" in text
    assert secret_row(officer).confirmed_at is not None
    db.session.expire_all()
    assert db.session.scalars(select(RecoveryCode.code_hash).order_by(RecoveryCode.id)).all() == before


def test_disable_with_the_password_turns_it_off_and_is_audited(client, auth, officer):
    signed_in_with_code(client, auth, officer)
    response = client.post("/auth/two-factor/disable", data={"proof": PASSWORD}, follow_redirects=True)
    assert "Xác thực hai lớp đã tắt" in page(response)
    assert secret_row(officer) is None
    assert db.session.scalar(select(db.func.count()).select_from(RecoveryCode)) == 0
    assert ("auth.two_factor_disabled", {"proof": "password"}) in actions()
    auth.logout()
    auth.login("canbo")
    assert signed_in(client)  # the password alone again


def test_hr_who_disables_it_is_sent_to_set_it_up_again(client, auth, hr):
    signed_in_with_code(client, auth, hr)
    response = client.post("/auth/two-factor/disable", data={"proof": PASSWORD})
    assert response.headers["Location"].endswith("/auth/two-factor/enrol")
    assert client.get("/").headers["Location"].endswith("/auth/two-factor/enrol")


def test_regenerate_with_a_current_code_replaces_every_recovery_code(client, auth, officer):
    secret, old = signed_in_with_code(client, auth, officer)
    step = totp.time_step(time.time())
    response = client.post("/auth/two-factor/recovery-codes", data={"proof": totp.code_at(secret, step + 1)})
    assert response.status_code == 200
    text = page(response)
    assert text.count("<li><code>") == 10 and "không còn dùng được nữa" in text
    assert not any(code in text for code in old)
    assert ("auth.recovery_codes_regenerated", {"proof": "totp"}) in actions()
    auth.logout()
    auth.login("canbo")
    assert "Mã không đúng" in page(client.post("/auth/two-factor", data={"code": old[0]}))


def test_disable_and_regenerate_refuse_an_account_without_two_factor(client, auth, officer):
    auth.login("canbo")
    response = client.post("/auth/two-factor/recovery-codes", data={"proof": PASSWORD}, follow_redirects=True)
    assert "Tài khoản này chưa bật xác thực hai lớp" in page(response)
    assert client.post("/auth/two-factor/disable", data={"proof": PASSWORD}).status_code == 302


def test_an_enrolled_account_visiting_the_enrol_page_goes_to_its_account_page(client, auth, officer):
    signed_in_with_code(client, auth, officer)
    response = client.get("/auth/two-factor/enrol")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/profile")


# An administrator's reset (lost phone and lost recovery codes) ------------------------------------


def test_an_admin_resets_a_lost_second_factor_and_the_officers_sessions_end(app, client, auth, officer):
    secret, _codes = enrol(officer)
    phone = app.test_client()  # the officer's own session, e.g. on the lost phone
    phone.post("/auth/login", data={"username": "canbo", "password": PASSWORD})
    phone.post("/auth/two-factor", data={"code": now_code(secret)})
    assert signed_in(phone)
    admin = factories.user("quantri", roles={"officer", "admin"})
    signed_in_with_code(client, auth, admin)

    text = page(client.get(f"/org/users/{officer.id}"))
    assert "Đặt lại xác thực hai lớp" in text and "Còn 10 mã khôi phục" in text
    response = client.post(f"/auth/users/{officer.id}/two-factor/reset", follow_redirects=True)
    assert "Đã đặt lại xác thực hai lớp" in page(response)
    assert secret_row(officer) is None
    assert db.session.scalar(select(db.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == officer.id)) == 0
    assert not signed_in(phone)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.two_factor_reset")).one()
    assert (entry.actor_id, entry.target_id) == (admin.id, str(officer.id))
    assert "Tài khoản này chưa thiết lập" in page(client.get(f"/org/users/{officer.id}"))


def test_hr_whose_second_factor_was_reset_sets_it_up_again_at_the_next_sign_in(app, client, auth, hr):
    enrol(hr)
    services.reset_two_factor(hr, actor=None)
    db.session.commit()
    response = auth.login("nhansu")
    assert response.headers["Location"].endswith("/auth/two-factor/enrol")


def test_resetting_an_account_without_a_second_factor_says_so_and_changes_nothing(client, auth, officer):
    admin = factories.user("quantri", roles={"officer", "admin"})
    signed_in_with_code(client, auth, admin)
    epoch = officer.session_epoch
    response = client.post(f"/auth/users/{officer.id}/two-factor/reset", follow_redirects=True)
    assert "Tài khoản này chưa bật xác thực hai lớp" in page(response)
    db.session.expire_all()
    assert db.session.get(User, officer.id).session_epoch == epoch
    assert not [a for a, _d in actions() if a == "auth.two_factor_reset"]


def test_only_an_admin_may_reset_a_second_factor(client, auth, officer, hr):
    enrol(officer)
    signed_in_with_code(client, auth, hr)
    assert client.post(f"/auth/users/{officer.id}/two-factor/reset").status_code == 403
    assert secret_row(officer) is not None
    assert client.post("/auth/users/999999/two-factor/reset").status_code in (403, 404)


def test_the_command_line_reset_names_the_account_and_refuses_unknown_ones(app, officer):
    enrol(officer)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", "canbo"])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output and secret_row(officer) is None
    assert ("auth.two_factor_reset", {}) in actions()
    again = runner.invoke(args=["users", "reset-2fa", "canbo"])
    assert again.exit_code != 0 and "canbo" in again.output
    unknown = runner.invoke(args=["users", "reset-2fa", "khong-co"])
    assert unknown.exit_code != 0 and "khong-co" in unknown.output
