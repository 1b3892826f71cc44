"""Admin pages: agencies (create, edit, move), users (search, create, roles, disable, reset), audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.extensions import db
from lms.org.models import Agency, User
from tests import factories


@pytest.fixture
def admin(app):
    root = factories.agency("ROOT", kind="province", name_vi="Ủy ban nhân dân tỉnh Thử")
    user = factories.user("quantri", agency=root, roles={"officer", "admin"})
    db.session.commit()
    return user


def test_admin_creates_an_agency_under_a_parent(client, auth, admin):
    auth.login("quantri")
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    response = client.post("/org/agencies/new", data={
        "code": "STP", "name_vi": "Sở Tư pháp", "name_en": "Department of Justice", "kind": "department",
        "parent_id": root.id,
    })
    assert response.status_code == 302
    db.session.expire_all()
    stp = db.session.scalar(select(Agency).where(Agency.code == "STP"))
    assert stp.parent_id == root.id
    assert stp.path == f"{root.path}{stp.id}/"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_created"))


def test_duplicate_agency_code_is_refused_with_a_message(client, auth, admin):
    auth.login("quantri")
    response = client.post("/org/agencies/new", data={
        "code": "root", "name_vi": "Trùng mã", "kind": "department", "parent_id": 0,
    })
    assert response.status_code == 200
    assert "đã được dùng" in response.get_data(as_text=True)


def test_moving_an_agency_shows_a_preview_then_moves_its_subtree(client, auth, admin):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    a = factories.agency("A", parent=root)
    a1 = factories.agency("A1", parent=a)
    a11 = factories.agency("A11", parent=a1)
    b = factories.agency("B", parent=root)
    factories.user("in.a11", agency=a11)
    db.session.commit()
    auth.login("quantri")
    form = {"code": "A1", "name_vi": a1.name_vi, "name_en": a1.name_en, "kind": "department", "parent_id": b.id}
    preview = client.post(f"/org/agencies/{a1.id}", data=form)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "1 đơn vị trực thuộc" in html and "1 cán bộ" in html
    db.session.expire_all()
    assert db.session.get(Agency, a1.id).parent_id == a.id  # nothing written yet
    response = client.post(f"/org/agencies/{a1.id}", data={**form, "confirm": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, a11.id).path == f"{root.path}{b.id}/{a1.id}/{a11.id}/"
    assert db.session.get(Agency, a11.id).depth == 3
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_moved"))


def test_renaming_an_agency_is_previewed_and_audited(client, auth, admin):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    a = factories.agency("STTTT", parent=root, name_vi="Sở Thông tin và Truyền thông")
    db.session.commit()
    auth.login("quantri")
    form = {"code": "SKHCN", "name_vi": "Sở Khoa học và Công nghệ", "name_en": "", "kind": "department",
            "parent_id": root.id}
    html = client.post(f"/org/agencies/{a.id}", data=form).get_data(as_text=True)
    assert "Sở Thông tin và Truyền thông" in html and "Sở Khoa học và Công nghệ" in html
    assert client.post(f"/org/agencies/{a.id}", data={**form, "confirm": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, a.id).code == "SKHCN"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_updated"))
    assert entry.details["changed"]["code"] == ["STTTT", "SKHCN"]


def test_an_agency_cannot_move_under_its_own_unit(client, auth, admin):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    a = factories.agency("A", parent=root)
    a1 = factories.agency("A1", parent=a)
    db.session.commit()
    auth.login("quantri")
    response = client.post(f"/org/agencies/{a.id}", data={
        "code": "A", "name_vi": a.name_vi, "kind": "department", "parent_id": a1.id,
    })
    assert response.status_code == 200
    assert "Không thể chuyển" in response.get_data(as_text=True)


def test_admin_creates_a_user_and_gets_a_one_time_link(client, auth, admin):
    auth.login("quantri")
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    response = client.post("/org/users/new", data={
        "username": "nguyenvana", "full_name": "Nguyễn  Văn   A", "agency_id": root.id, "locale": "vi",
        "roles": ["officer", "hr"], "duties": ["spokesperson"], "hr_agencies": [root.id], "email": "",
    })
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = re.search(r"http://lms\.test/auth/activate/[\w-]+", html).group(0)
    user = db.session.scalar(select(User).where(User.username == "nguyenvana"))
    assert user.full_name == "Nguyễn Văn A"  # NFC and collapsed spaces
    assert user.roles == {"officer", "hr"}
    assert [d.code for d in user.duties] == ["spokesperson"]
    assert [s.agency_id for s in user.hr_scopes] == [root.id]
    assert user.password_hash is None
    auth.logout()
    assert client.get(link.replace("http://lms.test", "")).status_code == 200


def test_user_form_reports_bad_email_and_taken_username(client, auth, admin):
    auth.login("quantri")
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    response = client.post("/org/users/new", data={
        "username": "quantri", "full_name": "X Y", "agency_id": root.id, "locale": "vi",
        "roles": ["officer"], "email": "không-phải-email",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Invalid email" in html or "email" in html.lower()


def test_user_search_filters_by_text_role_and_agency_and_pages(client, auth, admin, app):
    app.config["USERS_PER_PAGE"] = 5
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    dept = factories.agency("D", parent=root)
    for i in range(12):
        factories.user(f"cb{i:02d}", agency=dept, full_name=f"Hoàng Thị Cán Bộ {i:02d}")
    factories.user("gv", agency=root, roles={"officer", "trainer"}, full_name="Giảng Viên Một")
    db.session.commit()
    auth.login("quantri")
    page1 = client.get(f"/org/users?agency={dept.id}").get_data(as_text=True)
    assert "12 tài khoản" in page1 and "Trang 1/3" in page1
    assert "Giảng Viên Một" in client.get("/org/users?role=trainer").get_data(as_text=True)
    found = client.get("/org/users?q=cb07").get_data(as_text=True)
    assert "Cán Bộ 07" in found and "Cán Bộ 08" not in found


def test_user_list_runs_a_bounded_number_of_queries(client, auth, admin, count_queries):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    auth.login("quantri")

    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/org/users").status_code == 200
        return counter.count

    for i in range(3):
        factories.user(f"small{i}", agency=root, duties={"press"})
    db.session.commit()
    small = measure()
    for i in range(40):
        factories.user(f"large{i}", agency=factories.agency(parent=root), duties={"press", "spokesperson"})
    db.session.commit()
    assert measure() == small


def test_disable_then_enable_is_audited(client, auth, admin):
    target = factories.user("bikhoa")
    db.session.commit()
    auth.login("quantri")
    client.post(f"/org/users/{target.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, target.id).active is False
    client.post(f"/org/users/{target.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert db.session.get(User, target.id).active is True
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert "org.user_disabled" in actions and "org.user_enabled" in actions
    html = client.get("/org/audit").get_data(as_text=True)
    assert "org.user_disabled" in html


def test_reset_shows_a_new_link_and_kills_the_old_one(client, auth, admin):
    from lms.org.accounts import issue_activation

    target = factories.user("quenmk", password=None)
    old = issue_activation(target, 14)
    db.session.commit()
    auth.login("quantri")
    html = client.post(f"/org/users/{target.id}/activation").get_data(as_text=True)
    assert "/auth/activate/" in html
    auth.logout()
    assert client.get(f"/auth/activate/{old}").status_code == 404


def test_admin_adds_a_duty(client, auth, admin):
    auth.login("quantri")
    response = client.post("/org/duties", data={"code": "digital", "name_vi": "Truyền thông số",
                                                "name_en": "Digital communication"})
    assert response.status_code == 302
    assert "Truyền thông số" in client.get("/org/duties").get_data(as_text=True)


def test_every_admin_page_renders_in_both_languages(client, auth, admin):
    target = factories.user("xem")
    db.session.commit()
    auth.login("quantri")
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    urls = ["/", "/org/users", "/org/agencies", "/org/agencies/new", f"/org/agencies/{root.id}",
            "/org/users/new", f"/org/users/{target.id}", "/org/duties", "/org/audit", "/auth/profile",
            "/auth/password"]
    for lang in ("vi", "en"):
        client.post("/lang", data={"lang": lang})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (lang, url)
            assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_widening_an_hr_scope_to_every_agency_is_audited(client, auth, admin):
    """'HR sees every agency' is the widest scope there is: the audit log must say who granted it."""
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    hr = factories.user("nhansu", agency=root, roles={"officer", "hr"}, hr_agencies=[root])
    db.session.commit()
    auth.login("quantri")
    response = client.post(f"/org/users/{hr.id}", data={
        "username": "nhansu", "full_name": hr.full_name, "agency_id": root.id, "locale": "vi",
        "roles": ["officer", "hr"], "hr_agencies": [root.id], "hr_all_agencies": "y", "email": "",
    })
    assert response.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.user_updated"))
    assert entry.actor_id == admin.id
    assert entry.details["hr_all_agencies"] == [False, True]


def test_moving_or_renaming_an_account_is_audited_with_before_and_after(client, auth, admin):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    other = factories.agency("KHAC", parent=root)
    u = factories.user("canbo1", agency=root)
    db.session.commit()
    auth.login("quantri")
    client.post(f"/org/users/{u.id}", data={
        "username": "canbo2", "full_name": u.full_name, "agency_id": other.id, "locale": "vi",
        "roles": ["officer"], "email": "",
    })
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.user_updated"))
    assert entry.details["username"] == ["canbo1", "canbo2"]
    assert entry.details["agency"] == ["ROOT", "KHAC"]


def test_creating_an_hr_account_records_its_scope_in_the_audit_log(client, auth, admin):
    root = db.session.scalar(select(Agency).where(Agency.code == "ROOT"))
    auth.login("quantri")
    client.post("/org/users/new", data={
        "username": "nhansu2", "full_name": "Nhân Sự", "agency_id": root.id, "locale": "vi",
        "roles": ["officer", "hr"], "hr_agencies": [root.id], "hr_all_agencies": "y", "email": "",
    })
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.user_created"))
    assert entry.details["hr_all_agencies"] is True
    assert entry.details["hr_scopes"] == [root.id]


def test_user_search_treats_percent_and_underscore_as_plain_characters(admin):
    """Search text goes into LIKE: '%' and '_' typed by a user must not act as wildcards."""
    from lms.org.queries import users_query

    factories.user("an_ha")
    factories.user("anxha")
    db.session.commit()

    def found(text: str) -> set[str]:
        return {u.username for u in db.session.scalars(users_query(admin, text=text))}

    assert found("an_h") == {"an_ha"}
    assert found("%") == set()
    assert found("_") == {"an_ha"}
    assert found("\\") == set()
