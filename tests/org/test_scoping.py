"""Role and agency scoping: HR sees only its subtrees; only admins manage accounts and agencies."""

from __future__ import annotations

import pytest

from lms import policy
from lms.extensions import db
from lms.org import queries
from tests import factories


@pytest.fixture
def tree(app):
    province = factories.agency("PROV", kind="province")
    dept = factories.agency("DEPT", parent=province)
    unit = factories.agency("DEPT-U", parent=dept)
    other = factories.agency("OTHER", parent=province)
    people = {
        "in_dept": factories.user("in.dept", agency=dept, full_name="Trần Văn Trong"),
        "in_unit": factories.user("in.unit", agency=unit, full_name="Lê Thị Đơn Vị"),
        "outside": factories.user("outside", agency=other, full_name="Phạm Văn Ngoài"),
        "hr": factories.user("hr.dept", agency=dept, roles={"officer", "hr"}, hr_agencies=[dept]),
        "hr_all": factories.user("hr.all", agency=province, roles={"officer", "hr"}, hr_all=True),
        "admin": factories.user("admin1", agency=province, roles={"officer", "admin"}),
        "officer": factories.user("plain", agency=dept),
        "trainer": factories.user("trainer1", agency=dept, roles={"officer", "trainer"}),
    }
    db.session.commit()
    return {"province": province, "dept": dept, "unit": unit, "other": other, **people}


def test_hr_sees_its_subtree_including_units(tree):
    visible = {u.username for u in db.session.scalars(queries.users_query(tree["hr"]))}
    assert {"in.dept", "in.unit", "hr.dept"} <= visible
    assert "outside" not in visible


def test_hr_scoped_to_the_whole_tree_sees_everyone(tree):
    visible = {u.username for u in db.session.scalars(queries.users_query(tree["hr_all"]))}
    assert "outside" in visible and "in.unit" in visible


def test_officer_and_trainer_see_no_one_in_lists(tree):
    assert list(db.session.scalars(queries.users_query(tree["officer"]))) == []
    assert list(db.session.scalars(queries.users_query(tree["trainer"]))) == []


@pytest.mark.parametrize(
    ("who", "rule", "allowed"),
    [
        ("admin", "org.manage_users", True),
        ("hr", "org.manage_users", False),
        ("officer", "org.manage_users", False),
        ("trainer", "catalog.author", True),
        ("officer", "catalog.author", False),
        ("hr", "reports.view", True),
        ("officer", "reports.view", False),
        ("admin", "org.view_audit", True),
        ("hr_all", "org.view_audit", False),
    ],
)
def test_policy_rules(tree, who, rule, allowed):
    assert policy.can(tree[who], rule) is allowed


def test_hr_may_view_officers_in_scope_only(tree):
    assert policy.can(tree["hr"], "org.view_user", tree["in_unit"])
    assert not policy.can(tree["hr"], "org.view_user", tree["outside"])
    assert policy.can(tree["outside"], "org.view_user", tree["outside"])  # oneself


def test_a_disabled_admin_has_no_rights(tree):
    tree["admin"].active = False
    assert not policy.can(tree["admin"], "org.manage_users")


def test_hr_user_list_page_is_scoped(client, auth, tree):
    auth.login("hr.dept")
    html = client.get("/org/users").get_data(as_text=True)
    assert "Lê Thị Đơn Vị" in html
    assert "Phạm Văn Ngoài" not in html


def test_hr_cannot_open_account_editor(client, auth, tree):
    auth.login("hr.dept")
    assert client.get(f"/org/users/{tree['outside'].id}").status_code == 403
    assert client.get("/org/users/new").status_code == 403


def test_officer_gets_403_on_admin_pages_and_anonymous_is_sent_to_login(client, auth, tree):
    response = client.get("/org/users")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    auth.login("plain")
    for url in ("/org/users", "/org/agencies", "/org/audit", "/org/duties", "/org/agencies/new"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/org/users/{tree['outside'].id}/active", data={"active": "0"}).status_code == 403


def test_agency_tree_for_hr_shows_only_scope(client, auth, tree):
    auth.login("hr.dept")
    html = client.get("/org/agencies").get_data(as_text=True)
    assert "DEPT-U" in html and "OTHER" not in html
