"""The optional phone number, end to end through the officer field spec: roster reading (CSV and XLSX)
with a per-row message, import and update, the template files, profile, HR drill-down, export, API."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from lms.api import services as api_services
from lms.extensions import db
from lms.org import imports
from lms.org.fields import FIELDS, SIMPLE_FIELDS, FieldProblem, display_phone, read_phone
from lms.org.models import Agency, User
from tests import factories

HEADER = "Họ và tên,Mã đơn vị,Tên đăng nhập,Số điện thoại"


@pytest.mark.parametrize(("raw", "stored"), [
    ("0912 345 678", "+84912345678"),
    ("0912.345.678", "+84912345678"),
    ("+84 912 345 678", "+84912345678"),
    ("84912345678", "+84912345678"),
    ("912345678", "+84912345678"),  # a spreadsheet dropped the leading zero
    ("(0235) 3812 345", "+842353812345"),
    ("", None),
])
def test_vietnamese_phone_numbers_are_read_in_the_forms_rosters_use(raw, stored):
    assert read_phone(raw) == stored


@pytest.mark.parametrize("raw", ["0123456", "01912345678", "0912 345 67", "gọi chị Lan", "0912345678 ext 5"])
def test_what_the_numbering_plan_does_not_have_is_refused_with_an_example(raw):
    with pytest.raises(FieldProblem, match="0912 345 678"):
        read_phone(raw)


def test_a_stored_number_is_shown_as_vietnamese_write_it():
    assert display_phone("+84912345678") == "0912 345 678"
    assert display_phone("+842353812345") == "0235 3812 345"
    assert display_phone(None) == ""


@pytest.fixture
def agency(app):
    root = factories.agency("SH", kind="province")
    factories.user("hr.sh", agency=root, roles={"hr"}, hr_agencies=[root]).locale = "en"
    db.session.commit()
    return root


def _plan(data: bytes, name: str = "roster.csv"):
    return imports.plan_officers(name, data)


def _apply(data: bytes, name: str = "roster.csv"):
    the_plan = _plan(data, name)
    assert the_plan.ok, the_plan.errors
    imports.apply_officers(the_plan, token_days=14)
    db.session.commit()
    return the_plan


def _user(name: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


def test_a_csv_roster_imports_phones_and_a_bad_one_is_reported_on_its_row(agency):
    bad = f"{HEADER}\nNguyễn Văn An,SH,anvn,0912 345 678\nTrần Thị Bình,SH,binhtt,0123\n".encode()
    the_plan = _plan(bad)
    [error] = the_plan.errors
    assert (error.line, error.column) == (3, "Số điện thoại") and "0123" in error.message
    good = f"{HEADER}\nNguyễn Văn An,SH,anvn,0912 345 678\nTrần Thị Bình,SH,binhtt,\n".encode()
    _apply(good)
    assert _user("anvn").phone == "+84912345678" and _user("binhtt").phone is None


def test_an_xlsx_roster_with_a_number_cell_keeps_the_phone(agency):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Mã đơn vị", "Tên đăng nhập", "Điện thoại"])
    sheet.append(["Nguyễn Văn An", "SH", "anvn", 912345678])  # Excel took it for a number
    out = io.BytesIO()
    workbook.save(out)
    _apply(out.getvalue(), "roster.xlsx")
    assert _user("anvn").phone == "+84912345678"


def test_a_later_file_updates_the_phone_and_a_file_without_the_column_keeps_it(agency):
    _apply(f"{HEADER}\nNguyễn Văn An,SH,anvn,0912 345 678\n".encode())
    changed = _apply(f"{HEADER}\nNguyễn Văn An,SH,anvn,0987 654 321\n".encode())
    assert [c.fields for c in changed.updated] == [("phone",)]
    assert _user("anvn").phone == "+84987654321"
    _apply("Họ và tên,Mã đơn vị,Tên đăng nhập\nNguyễn Văn An,SH,anvn\n".encode())
    assert _user("anvn").phone == "+84987654321"


def test_the_template_file_and_the_upload_page_list_the_phone_column(agency):
    assert "Số điện thoại" in imports.template_rows("officers", "vi")[0]
    assert "Phone" in imports.template_rows("officers", "en")[0]
    assert FIELDS["phone"].required is False


def test_profile_drill_down_export_and_api_show_the_phone(client, auth, agency):
    _apply(f"{HEADER}\nNguyễn Văn An,SH,anvn,0912 345 678\n".encode())
    officer = _user("anvn")
    officer.locale = "en"
    officer.password_hash = _user("hr.sh").password_hash  # as if the activation link was used
    db.session.commit()
    auth.login("anvn")
    assert "0912 345 678" in client.get("/auth/profile").get_data(as_text=True)
    auth.logout()
    auth.login("hr.sh")
    transcript = client.get(f"/reports/officers/{officer.id}").get_data(as_text=True)
    assert 'href="tel:+84912345678"' in transcript
    hr = _user("hr.sh")
    _row, token = api_services.create_token(hr, "test")
    db.session.commit()
    items = client.get(f"/api/v1/completion/officers?agency={agency.code}",
                       headers={"Authorization": f"Bearer {token}"}).json["items"]
    assert {i["username"]: i["phone"] for i in items}["anvn"] == "+84912345678"


def _admin():
    root = db.session.scalar(select(Agency).where(Agency.code == "SH"))
    factories.user("quantri", agency=root, roles={"officer", "admin"})
    db.session.commit()
    return root


def _user_form(root, **extra):
    return {"username": "lethib", "full_name": "Lê Thị B", "agency_id": root.id, "locale": "vi",
            "roles": ["officer"], "email": "", **extra}


def test_the_admin_user_form_reads_the_phone_as_the_roster_import_does(client, auth, agency):
    root = _admin()
    auth.login("quantri")
    assert client.post("/org/users/new", data=_user_form(root, phone="0912.345.678")).status_code == 200
    user = _user("lethib")
    assert user.phone == "+84912345678"
    page = client.get(f"/org/users/{user.id}").get_data(as_text=True)
    assert 'value="0912 345 678"' in page  # shown as officers write it, not as stored
    client.post(f"/org/users/{user.id}", data=_user_form(root, phone=""))
    assert _user("lethib").phone is None


def test_a_bad_phone_on_the_admin_form_gives_the_import_message_on_the_field_and_saves_nothing(
    client, auth, agency
):
    root = _admin()
    auth.login("quantri")
    response = client.post("/org/users/new", data=_user_form(root, phone="gọi chị Lan"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "không phải là số điện thoại" in html and "0912 345 678" in html
    assert 'aria-invalid="true"' in html
    assert _user("lethib") is None


def test_no_page_names_a_simple_officer_field_by_hand():
    """The profile, transcript, admin form, import preview, HR export and API take them from the spec."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    for path in ["templates/auth/profile.html", "templates/reports/transcript.html",
                 "templates/org/user_form.html", "templates/org/import_preview.html",
                 "lms/reports/documents.py", "lms/api/views.py", "lms/org/forms.py", "lms/org/views.py"]:
        text = (root / path).read_text(encoding="utf-8")
        for spec in SIMPLE_FIELDS:  # as a key, a string or an attribute (comments may mention it)
            assert not re.search(rf"[\"'.]{spec.name}\b", text), (path, spec.name)
