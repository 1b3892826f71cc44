"""Who may see what: officers their own, HR their agencies (in SQL), admins everything."""

from __future__ import annotations

import io
import zipfile

import pytest

from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf


@pytest.fixture
def world(app):
    """Two districts, one officer with a certificate in each, and an HR user for the first."""
    province = f.agency("P", kind="province")
    north = f.agency("N", parent=province, name_vi="Xã A Vương")
    north_unit = f.agency("N-1", parent=north, name_vi="Phòng Văn hóa xã A Vương")
    south = f.agency("S", parent=province, name_vi="Xã Trà Sơn")
    course = cf.course()
    mine = cf.certified(f.user("an", agency=north_unit, full_name="Alăng Thị Mai"), course)
    theirs = cf.certified(f.user("binh", agency=south, full_name="Hồ Văn Niu"), course)
    f.user("hrnorth", roles={"officer", "hr"}, hr_agencies=[north])
    f.user("root", roles={"officer", "admin"})
    db.session.commit()
    return {"north": north, "south": south, "mine": mine, "theirs": theirs, "course": course}


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    for url in ("/certificates/", f"/certificates/{world['mine'].code}.pdf",
                "/certificates/manage", "/certificates/transcript.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_an_officer_downloads_only_their_own_certificates(client, auth, world):
    auth.login("an")
    assert client.get(f"/certificates/{world['mine'].code}.pdf").status_code == 200
    assert client.get(f"/certificates/{world['theirs'].code}.pdf").status_code == 403
    assert client.get(f"/certificates/{world['theirs'].code}").status_code == 403
    assert client.get("/certificates/manage").status_code == 403
    assert client.get("/certificates/manage/export.zip").status_code == 403
    other = world["theirs"].user_id
    assert client.get(f"/certificates/officers/{other}/transcript.pdf").status_code == 403


def test_hr_reaches_certificates_of_their_subtree_only(client, auth, world):
    auth.login("hrnorth")
    assert client.get(f"/certificates/{world['mine'].code}.pdf").status_code == 200
    assert client.get(f"/certificates/{world['theirs'].code}.pdf").status_code == 403
    assert client.get(f"/certificates/officers/{world['mine'].user_id}/transcript.pdf").status_code == 200
    assert client.get(f"/certificates/officers/{world['theirs'].user_id}/transcript.pdf").status_code == 403
    page = client.get("/certificates/manage").get_data(as_text=True)
    assert world["mine"].code in page and world["theirs"].code not in page


def test_hr_cannot_name_an_agency_outside_their_scope(client, auth, world):
    auth.login("hrnorth")
    response = client.get("/certificates/manage", query_string={"agency": world["south"].id})
    assert response.status_code == 400  # not among the agencies offered to this user
    assert world["theirs"].code not in response.get_data(as_text=True)
    response = client.get("/certificates/manage/export.zip", query_string={"agency": world["south"].id})
    assert response.status_code == 302 and response.mimetype != "application/zip"


def test_the_hr_zip_holds_only_certificates_in_scope(client, auth, world):
    auth.login("hrnorth")
    response = client.get("/certificates/manage/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert names == [f"N-1/Alăng_Thị_Mai_{world['mine'].code}.pdf"]


def test_an_admin_zip_by_agency_includes_its_subtree(client, auth, world):
    auth.login("root")
    response = client.get("/certificates/manage/export.zip", query_string={"agency": world["north"].id})
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert len(archive.namelist()) == 1
    assert archive.read(archive.namelist()[0]).startswith(b"%PDF")
    response = client.get("/certificates/manage/export.zip")
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 2


def test_invalid_filters_get_a_message_not_an_error(client, auth, world):
    auth.login("root")
    response = client.get("/certificates/manage", query_string={"agency": "abc", "state": "lost"})
    assert response.status_code == 400
    assert response.get_data(as_text=True).count('class="errors"') == 2
    response = client.get("/certificates/manage/export.zip", query_string={"state": "lost"})
    assert response.status_code == 302
    response = client.get("/certificates/manage/export.zip", query_string={"q": "nobody-at-all"})
    assert response.status_code == 302  # nothing to download: back to the list with a message


def test_unknown_codes_on_private_pages_are_404(client, auth, world):
    auth.login("root")
    assert client.get("/certificates/0000-0000-0000-0000-0.pdf").status_code == 404
    assert client.get("/certificates/nonsense").status_code == 404


def test_a_plan_zip_holds_the_plan_courses_of_the_officers_it_reaches(client, auth, world):
    """Certificates of a plan: its courses, for the officers its assignments reach (within scope)."""
    if "plan" not in db.metadata.tables:
        pytest.skip("the reports domain has no plans yet")
    from sqlalchemy import insert

    from lms.progress import services as progress

    plan_table = db.metadata.tables["plan"]
    plan_id = db.session.execute(insert(plan_table).values(name="Kế hoạch 2024", year=2024)).inserted_primary_key[0]
    progress.create_assignments(world["course"], kind="agency", agency=world["north"], due_date=None,
                                actor=None, plan_id=plan_id)
    outside_plan = cf.certified(world["mine"].user)  # another course, not in the plan
    db.session.commit()
    auth.login("root")
    page = client.get("/certificates/manage", query_string={"plan": plan_id}).get_data(as_text=True)
    assert world["mine"].code in page
    assert world["theirs"].code not in page and outside_plan.code not in page
    response = client.get("/certificates/manage/export.zip", query_string={"plan": plan_id})
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 1


def test_the_name_search_takes_percent_and_underscore_literally(client, auth, world):
    """Rule: a search is text, not a LIKE pattern ('%' listed every certificate in scope)."""
    auth.login("root")
    for typed in ("%", "_", "Alăng%Mai"):
        page = client.get("/certificates/manage", query_string={"q": typed}).get_data(as_text=True)
        assert world["mine"].code not in page and world["theirs"].code not in page, typed
    page = client.get("/certificates/manage", query_string={"q": "alăng thị"}).get_data(as_text=True)
    assert world["mine"].code in page and world["theirs"].code not in page
