"""Upload pages: upload -> preview (same report as --dry-run) -> confirm -> activation links."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lms.db import utcnow
from lms.extensions import db
from lms.org import imports
from lms.org.models import ActivationToken, ImportBatch, User
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "Họ và tên,Mã đơn vị,Chức vụ,Email,Tên đăng nhập,Nhiệm vụ,Mã cán bộ"


@pytest.fixture
def setup(app):
    root = factories.agency("SH", kind="province")
    stp = factories.agency("STP", parent=root)
    commune = factories.agency("X-AVUONG", parent=root, kind="commune")
    factories.user("admin", agency=root, roles={"officer", "admin"})
    factories.user("hr.xa", agency=commune, roles={"officer", "hr"}, hr_agencies=[commune])
    factories.user("someone", agency=stp)
    db.session.commit()
    return {"root": root, "stp": stp, "commune": commune}


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def upload(client, data: bytes, name: str = "roster.csv", kind: str = "officers", **extra):
    return client.post(
        f"/org/import/{kind}",
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


def batch_id(response) -> int:
    match = re.search(r"/org/import/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def roster(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


GOOD = roster(
    "Nguyễn Văn An,STP,Chuyên viên,an@sonha.gov.vn,,Người phát ngôn,CB1",
    "Trần Thị Bình,X-AVUONG,Công chức,,,,CB2",
)


def test_officers_without_the_hr_or_admin_role_cannot_open_the_upload_page(setup, client, auth):
    auth.login("someone")
    assert client.get("/org/import/officers").status_code == 403


def test_upload_page_documents_the_columns_and_offers_templates(setup, client, auth):
    auth.login("admin")
    page = client.get("/org/import/officers").get_data(as_text=True)
    for column in imports.OFFICER_COLUMNS:
        assert column.header_vi in page and column.header_en in page
    for lang in ("vi", "en"):
        for fmt in ("csv", "xlsx"):
            url = f"/org/import/officers/template-{lang}.{fmt}"
            assert url in page
            response = client.get(url)
            assert response.status_code == 200
            assert "attachment" in response.headers["Content-Disposition"]


def test_whole_flow_upload_preview_confirm_and_download_links(setup, client, auth):
    auth.login("admin")
    before = users()
    response = upload(client, GOOD)
    assert response.status_code == 302
    number = batch_id(response)
    preview = client.get(f"/org/import/{number}").get_data(as_text=True)
    assert "Nguyễn Văn An" in preview and "Trần Thị Bình" in preview
    assert users() == before  # the preview writes nothing
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', preview).group(1)
    response = client.post(f"/org/import/{number}/confirm", data={"fingerprint": fingerprint})
    assert response.headers["Location"].endswith(f"/org/import/{number}/result")
    assert users() == before + 2
    assert db.session.get(ImportBatch, number).data == b""  # the file is not kept after use
    result = client.get(f"/org/import/{number}/result").get_data(as_text=True)
    assert "Download links" in result or "Tải" in result
    download = client.post(f"/org/import/{number}/links", data={"fmt": "csv"})
    assert download.status_code == 200
    text = download.data.decode("utf-8-sig")
    assert download.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    link = rows[1][5]
    assert "/auth/activate/" in link
    # The link works: the activation page opens for that officer.
    assert client.get(link.replace("http://lms.test", "")).status_code == 200
    # A second download replaces the first links.
    client.post(f"/org/import/{number}/links", data={"fmt": "xlsx"})
    assert client.get(link.replace("http://lms.test", "")).status_code == 404


def test_preview_lists_every_error_with_line_and_column_and_offers_no_confirmation(setup, client, auth):
    auth.login("admin")
    bad = roster(
        "Nguyễn Văn An,STP,,an@sonha.gov.vn,,,",
        "Trần Thị Bình,NOPE,,,,,",
        "Lê Văn Cường,STP,,sai@,,,",
        ",STP,,,,,",
    )
    number = batch_id(upload(client, bad))
    page = client.get(f"/org/import/{number}").get_data(as_text=True)
    assert "NOPE" in page and "sai@" in page
    assert "/confirm" not in page
    for line in ("3", "4", "5"):
        assert f'data-label="Dòng">{line}<' in page or f">{line}</td>" in page
    before = users()
    client.post(f"/org/import/{number}/confirm", data={"fingerprint": "x"})
    assert users() == before


def test_preview_shows_the_same_report_as_the_dry_run(setup, client, auth, app):
    auth.login("admin")
    number = batch_id(upload(client, GOOD))
    page = client.get(f"/org/import/{number}").get_data(as_text=True)
    plan = imports.plan_officers("roster.csv", GOOD)
    for change in plan.new:
        assert change.key in page and change.name in page
    counts = re.findall(r'<span class="count">(\d+)</span>', page)
    assert [int(c) for c in counts] == [2, 0, 0, 0, 0]


def test_a_changed_database_between_preview_and_confirm_shows_a_new_preview(setup, client, auth):
    auth.login("admin")
    number = batch_id(upload(client, GOOD))
    page = client.get(f"/org/import/{number}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', page).group(1)
    factories.user("ancb1", agency=setup["stp"], employee_id="CB1", full_name="Nguyễn Văn An")
    db.session.commit()
    before = users()
    response = client.post(f"/org/import/{number}/confirm", data={"fingerprint": fingerprint})
    assert response.headers["Location"].endswith(f"/org/import/{number}")
    assert users() == before


def test_a_batch_belongs_to_its_uploader_and_expires(setup, client, auth):
    auth.login("admin")
    number = batch_id(upload(client, GOOD))
    auth.logout()
    auth.login("hr.xa")
    assert client.get(f"/org/import/{number}").status_code == 403
    auth.logout()
    auth.login("admin")
    batch = db.session.get(ImportBatch, number)
    batch.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/org/import/{number}").status_code == 404


def test_hr_rows_outside_their_scope_are_errors_on_the_preview(setup, client, auth):
    auth.login("hr.xa")
    number = batch_id(upload(client, GOOD))
    page = client.get(f"/org/import/{number}").get_data(as_text=True)
    assert "STP" in page and "/confirm" not in page
    assert client.get("/org/import/agencies").status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 600),
        ("roster.xlsx", b"PK\x03\x04 not really a zip"),
        ("photo.png", b"\x89PNG\r\n\x1a\n"),
        ("roster.csv", "Họ và tên\n".encode()),
        ("roster.csv", b"\xff\xfe\x00\xd8garbage"),
    ],
)
def test_wrong_files_get_a_message_not_a_500(setup, client, auth, name, data):
    auth.login("admin")
    response = upload(client, data, name)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "/confirm" not in page.get_data(as_text=True)


def test_an_empty_upload_is_a_form_error(setup, client, auth):
    auth.login("admin")
    response = upload(client, b"", "roster.csv")
    assert response.status_code == 200
    assert 'class="errors"' in response.get_data(as_text=True)
    response = client.post("/org/import/officers", data={}, content_type="multipart/form-data")
    assert response.status_code == 200 and 'class="errors"' in response.get_data(as_text=True)


def test_preview_page_runs_the_same_number_of_statements_for_50_or_1000_rows(setup, client, auth,
                                                                              count_queries):
    auth.login("admin")
    counts = []
    for size in (50, 1000):
        lines = [f"Nguyễn Văn Thử {n},STP,Chuyên viên,,,,NV{size}-{n}" for n in range(size)]
        number = batch_id(upload(client, roster(*lines)))
        with count_queries() as counter:
            assert client.get(f"/org/import/{number}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_agency_upload_flow(setup, client, auth):
    auth.login("admin")
    number = batch_id(upload(client, (FIXTURES / "agencies.csv").read_bytes(), "agencies.csv", "agencies"))
    page = client.get(f"/org/import/{number}").get_data(as_text=True)
    assert "QNAM" in page and "TB-ATIENG" in page
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', page).group(1)
    client.post(f"/org/import/{number}/confirm", data={"fingerprint": fingerprint})
    assert "TB-ATIENG" in client.get("/org/agencies").get_data(as_text=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(list("ab,;\t\n\"= ĐđSTP@.") + ["Họ và tên,Mã đơn vị\n", "Email", "STP,"]),
        max_size=40,
    ).map("".join),
    deactivate=st.booleans(),
)
def test_generated_uploads_never_give_a_500_or_a_partial_import(setup, client, auth, text, deactivate):
    auth.login("admin")
    before = users()
    extra = {"deactivate_missing": "y"} if deactivate else {}
    response = upload(client, text.encode("utf-8") or b" ", **extra)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        number = batch_id(response)
        page = client.get(f"/org/import/{number}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        match = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', body)
        if match and "/confirm" in body:
            plan = imports.plan_batch(db.session.get(ImportBatch, number), None)
            confirm = client.post(f"/org/import/{number}/confirm", data={"fingerprint": match.group(1)})
            assert confirm.status_code == 302
            assert users() == before + plan.counts["new"]
        else:
            assert users() == before


def test_request_bodies_are_capped_before_the_upload_is_spooled(client, auth, setup, app):
    """MAX_CONTENT_LENGTH refuses a huge upload (413) before Werkzeug writes it to a temporary file."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit is not None and limit >= imports.MAX_UPLOAD_BYTES
    auth.login("hr.xa")
    response = upload(client, b"x" * (limit + 1))
    assert response.status_code == 413


def test_hr_cannot_make_activation_links_for_officers_since_given_rights_or_moved_away(
    setup, client, auth
):
    """Links from an old batch would let HR take over an account promoted or moved after the import."""
    from lms.org.models import HrScope, UserRole

    auth.login("hr.xa")
    number = batch_id(upload(client, roster(
        "Trần Thị Bình,X-AVUONG,,,binh,,", "Lê Văn Cường,X-AVUONG,,,cuong,,", "Phan Dũng,X-AVUONG,,,dung,,"
    )))
    preview = client.get(f"/org/import/{number}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', preview).group(1)
    client.post(f"/org/import/{number}/confirm", data={"fingerprint": fingerprint})
    binh = db.session.scalar(select(User).where(User.username == "binh"))
    cuong = db.session.scalar(select(User).where(User.username == "cuong"))
    binh.role_rows.append(UserRole(role="admin"))  # an administrator promotes one of them...
    cuong.role_rows.append(UserRole(role="hr"))  # ...and gives the other a wider HR scope
    cuong.hr_scopes.append(HrScope(agency_id=setup["root"].id))
    dung = db.session.scalar(select(User).where(User.username == "dung"))
    dung.agency = setup["stp"]  # ...and moves the third out of this HR user's scope
    db.session.commit()
    response = client.post(f"/org/import/{number}/links", data={"fmt": "csv"})
    assert response.status_code == 302  # nothing to hand out
    assert db.session.scalar(
        select(func.count()).select_from(ActivationToken).where(ActivationToken.used_at.is_(None))
    ) == 0


def test_hr_links_still_cover_plain_officers_of_the_batch(setup, client, auth):
    auth.login("hr.xa")
    number = batch_id(upload(client, roster("Trần Thị Bình,X-AVUONG,,,binh,,")))
    preview = client.get(f"/org/import/{number}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', preview).group(1)
    client.post(f"/org/import/{number}/confirm", data={"fingerprint": fingerprint})
    response = client.post(f"/org/import/{number}/links", data={"fmt": "csv"})
    assert response.status_code == 200 and b"binh" in response.data
