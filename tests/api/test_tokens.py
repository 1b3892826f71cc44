"""API tokens: created and revoked on the profile page, shown once, stored only as a hash; bearer
authentication with JSON errors; the same scoping as the pages; paging."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from lms.api import services
from lms.api.models import ApiToken
from lms.audit import AuditEntry
from lms.extensions import db
from tests import factories as f


@pytest.fixture
def province():
    root = f.agency("SH", kind="province", name_vi="Ủy ban nhân dân tỉnh Sơn Hà")
    dept = f.agency("STP", parent=root, name_vi="Sở Tư pháp")
    unit = f.agency("STP-VP", parent=dept, name_vi="Văn phòng Sở Tư pháp")
    other = f.agency("SNV", parent=root, name_vi="Sở Nội vụ")
    hr = f.user("hr.stp", agency=dept, roles={"hr"}, hr_agencies=[dept])
    admin = f.user("admin", agency=root, roles={"admin"})
    officer = f.user("officer", agency=unit)
    for u in (hr, admin, officer):
        u.locale = "en"
    db.session.commit()
    return {"root": root, "dept": dept, "unit": unit, "other": other, "hr": hr, "admin": admin,
            "officer": officer}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(user, name="Bảng điều khiển tỉnh") -> str:
    _row, token = services.create_token(user, name)
    db.session.commit()
    return token


# Creating and revoking on the profile page -------------------------------------------------


def test_profile_shows_the_token_section_to_hr_only(client, auth, province):
    auth.login("hr.stp")
    assert "API tokens" in client.get("/auth/profile").get_data(as_text=True)
    auth.logout()
    auth.login("officer")
    page = client.get("/auth/profile").get_data(as_text=True)
    assert "API tokens" not in page
    assert client.post("/account/api-tokens", data={"name": "x"}).status_code == 403


def test_token_is_shown_once_and_only_its_hash_is_stored(client, auth, province):
    auth.login("hr.stp")
    response = client.post("/account/api-tokens", data={"name": "Bảng điều khiển tỉnh"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    token = re.search(r"lms_[A-Za-z0-9_-]{40,}", response.get_data(as_text=True)).group(0)
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.name, row.prefix, row.token_hash}
    assert token.startswith(row.prefix)
    # The profile lists it by name and prefix, never the token itself.
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert "Bảng điều khiển tỉnh" in profile and row.prefix in profile and token not in profile
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api.token_created"))


def test_empty_or_long_token_name_is_refused_with_a_message(client, auth, province):
    auth.login("hr.stp")
    response = client.post("/account/api-tokens", data={"name": "   "})
    assert response.status_code == 400
    assert "Give the token a name" in response.get_data(as_text=True)
    response = client.post("/account/api-tokens", data={"name": "x" * 81})
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_message_is_in_vietnamese_for_a_vietnamese_user(client, auth, province):
    province["hr"].locale = "vi"
    db.session.commit()
    auth.login("hr.stp")
    response = client.post("/account/api-tokens", data={"name": ""})
    assert "Hãy đặt tên cho mã truy cập" in response.get_data(as_text=True)


def test_revoked_token_is_refused(client, auth, province):
    token = new_token(province["hr"])
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    auth.login("hr.stp")
    row = db.session.scalar(select(ApiToken))
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 302
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_the_owner_revokes_a_token(client, auth, province):
    new_token(province["admin"])
    auth.login("hr.stp")
    row = db.session.scalar(select(ApiToken))
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 403
    db.session.refresh(row)
    assert row.revoked_at is None


def test_token_of_a_disabled_account_is_refused(client, province):
    token = new_token(province["hr"])
    province["hr"].active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


# Bearer authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic abc", "Bearer lms_wrong", "Bearer x" * 50])
def test_missing_or_wrong_token_gets_json_401(client, province, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/agencies", headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]["status"] == 401
    assert "API" in response.json["error"]["message"]


def test_session_cookie_does_not_authenticate_the_api(client, auth, province):
    auth.login("hr.stp")
    assert client.get("/api/v1/me").status_code == 401


def test_token_acts_as_its_owner_and_notes_last_use(client, province):
    token = new_token(province["hr"])
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.json["username"] == "hr.stp"
    assert response.json["scope"] == ["STP"]
    row = db.session.scalar(select(ApiToken))
    db.session.refresh(row)
    assert row.last_used_at is not None
    assert "Set-Cookie" not in response.headers


def test_officers_token_may_not_read_reports(client, province):
    token = new_token(province["officer"])
    response = client.get("/api/v1/agencies", headers=bearer(token))
    assert response.status_code == 403
    assert response.json["error"]["message"]


# Scoping and paging -------------------------------------------------------------------------


def test_agencies_are_limited_to_the_owners_scope(client, province):
    token = new_token(province["hr"])
    data = client.get("/api/v1/agencies", headers=bearer(token)).json
    assert [a["code"] for a in data["items"]] == ["STP", "STP-VP"]
    assert data["items"][1]["parent_code"] == "STP"
    assert data["total"] == 2
    # Outside the scope: a 404, as if the code did not exist.
    response = client.get("/api/v1/agencies?under=SNV", headers=bearer(token))
    assert response.status_code == 404


def test_admin_sees_every_agency(client, province):
    token = new_token(province["admin"])
    data = client.get("/api/v1/agencies?kind=department", headers=bearer(token)).json
    assert {a["code"] for a in data["items"]} == {"STP", "STP-VP", "SNV"}


def test_paging_links_and_totals(client, province):
    for n in range(7):
        f.agency(f"X{n}", parent=province["root"], kind="commune")
    token = new_token(province["admin"])
    first = client.get("/api/v1/agencies?per_page=3&kind=commune", headers=bearer(token)).json
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 3, 7, 3)
    assert first["prev"] is None
    codes = [a["code"] for a in first["items"]]
    url = first["next"]
    while url:
        page = client.get(url, headers=bearer(token)).json
        codes += [a["code"] for a in page["items"]]
        url = page["next"]
    assert sorted(codes) == [f"X{n}" for n in range(7)]
    assert "kind=commune" in first["next"] and "per_page=3" in first["next"]


@pytest.mark.parametrize(("query", "parameter"), [
    ("per_page=501", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"), ("page=abc", "page"),
    ("kind=planet", "kind"), ("per_page=1e3", "per_page"),
])
def test_bad_parameters_get_a_400_naming_them(client, province, query, parameter):
    token = new_token(province["admin"])
    response = client.get(f"/api/v1/agencies?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.json["error"]["parameter"] == parameter
    assert parameter in response.json["error"]["message"]


def test_page_beyond_the_end_is_empty_not_an_error(client, province):
    token = new_token(province["admin"])
    data = client.get("/api/v1/agencies?page=99", headers=bearer(token)).json
    assert data["items"] == [] and data["next"] is None


def test_agency_listing_runs_a_bounded_number_of_statements(client, province, count_queries):
    token = new_token(province["admin"])

    def count() -> int:
        with count_queries() as counter:
            assert client.get("/api/v1/agencies?per_page=500", headers=bearer(token)).status_code == 200
        return counter.count

    count()  # the first use also notes the token's last use
    small = count()
    for n in range(30):
        f.agency(f"Y{n}", parent=province["dept"], kind="department")
    db.session.commit()
    assert count() == small


def test_openapi_document_needs_no_token_and_lists_every_route(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {"/api/v1" + path for path in doc["paths"]}
    routes = {r.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
              for r in app.url_map.iter_rules() if r.endpoint.startswith("api.") and r.endpoint != "api.openapi"}
    assert routes == documented


def test_unknown_parameter_is_named_rather_than_ignored(client, province):
    token = new_token(province["admin"])
    response = client.get("/api/v1/agencies?per-page=5", headers=bearer(token))
    assert response.status_code == 400
    assert response.json["error"]["parameter"] == "per-page"
    assert "per_page" in response.json["error"]["message"]
