"""Roster import services and commands: all rows or none, re-import is a no-op, updates instead of duplicates."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.audit import AuditEntry
from lms.extensions import db
from lms.org import imports
from lms.org.models import ActivationToken, Agency, User
from lms.org.roster import parse_agencies, parse_officers, read_table
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
CODES = ["STP", "SNGV", "STTTT", "CAT", "BQN", "MTTQ", "HLHPN", "SNV"]
HEADER = "Họ và tên,Mã đơn vị,Chức vụ,Email,Tên đăng nhập,Nhiệm vụ,Mã cán bộ"
NAMES = [
    "Nguyễn Thị Bích Đào", "Trần Văn Ước", "Lê Thị Thuỷ", "Phạm Quốc Khánh", "Hồ Thị Ngọc Ánh",
    "Alăng Thị Mai", "Đinh Ngọc Phượng", "NGUYỄN VĂN LÊ",
]  # fmt: skip


@pytest.fixture
def province(app):
    """The agencies the fixture files name, under one province, and an admin."""
    root = factories.agency("QNAM", kind="province", name_vi="Ủy ban nhân dân tỉnh Quảng Nam")
    agencies = {code: factories.agency(code, parent=root) for code in CODES}
    agencies["QNAM"] = root
    admin = factories.user("admin", agency=root, roles={"officer", "admin"})
    db.session.commit()
    return agencies, admin


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def plan(data: bytes, name: str = "roster.csv", **kw):
    return imports.plan_officers(name, data, **kw)


def apply(data: bytes, name: str = "roster.csv", **kw):
    the_plan = plan(data, name, **kw)
    assert the_plan.ok, the_plan.errors
    result = imports.apply_officers(the_plan, token_days=14)
    db.session.commit()
    return the_plan, result


def officer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def by_username(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


# --- fixture files: what HR really sends -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "officers_utf8_bom.csv",
        "officers_semicolon.csv",
        "officers_tab_utf16.csv",
        "officers_tcvn3.csv",
        "officers_vni.csv",
        "officers_cp1258.csv",
        "officers.xlsx",
    ],
)
def test_every_fixture_file_imports_eight_officers_in_unicode_nfc(province, name):
    the_plan, result = apply((FIXTURES / name).read_bytes(), name)
    assert result.counts["new"] == 8
    stored = {u.full_name for u in db.session.scalars(select(User).where(User.username != "admin"))}
    expected = set(NAMES)
    if name == "officers_tcvn3.csv":  # TCVN3 has no capital Á: the file really says "á"
        expected = expected - {"Hồ Thị Ngọc Ánh"} | {"Hồ Thị Ngọc ánh"}
    assert stored == expected
    for full_name in stored:
        assert not any(ch in full_name for ch in "ÔÕ¨©®«¬") , full_name  # no mojibake


def test_excel_number_cells_become_employee_ids_and_date_columns_are_ignored(province):
    apply((FIXTURES / "officers.xlsx").read_bytes(), "officers.xlsx")
    ids = set(db.session.scalars(select(User.employee_id).where(User.employee_id.is_not(None))))
    assert ids == {str(1000 + n) for n in range(1, 9)}  # 1003.0 in the file is the id "1003"


def test_a_name_typed_in_a_tcvn3_font_inside_a_unicode_workbook_is_converted(province):
    the_plan, _ = apply((FIXTURES / "officers.xlsx").read_bytes(), "officers.xlsx")
    assert the_plan.converted_cells == 1
    assert by_username("khanhpq").full_name == "Phạm Quốc Khánh"


# --- all or nothing ----------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_line_and_column_and_nothing_is_written(province):
    before = officer_count()
    data = csv_bytes(
        "Nguyễn Văn An,STP,Chuyên viên,an@sonha.gov.vn,,,CB1",
        "Trần Thị Bình,NOPE,Chuyên viên,binh@sonha.gov.vn,,,CB2",
        "Lê Văn Cường,STP,Chuyên viên,not-an-email,,,CB3",
        ",STP,Chuyên viên,,,,CB4",
        "Phạm Thị Dung,STP,Chuyên viên,,,Múa lân,CB5",
    )
    the_plan = plan(data)
    found = {(e.line, e.column) for e in the_plan.errors}
    assert found == {(3, "Mã đơn vị"), (4, "Email"), (5, "Họ và tên"), (6, "Nhiệm vụ")}
    assert not the_plan.ok
    with pytest.raises(imports.ImportRefused):
        imports.apply_officers(the_plan)
    db.session.rollback()
    assert officer_count() == before


def test_a_username_of_another_officer_in_the_database_is_an_error(province):
    agencies, _admin = province
    factories.user("uoctv", agency=agencies["STP"], employee_id="X-9")
    db.session.commit()
    the_plan = plan(csv_bytes("Trần Văn Ước,SNGV,,,uoctv,,CB0002"))
    assert [(e.line, e.column) for e in the_plan.errors] == [(2, "Tên đăng nhập")]
    assert "X-9" in the_plan.errors[0].message


def test_two_rows_for_the_same_existing_officer_are_an_error(province):
    agencies, _admin = province
    factories.user("uoctv", agency=agencies["SNGV"], employee_id="CB0002")
    db.session.commit()
    the_plan = plan(csv_bytes("Trần Văn Ước,SNGV,,,,,CB0002", "Trần Văn Ước,SNGV,,,uoctv,,"))
    assert [e.line for e in the_plan.errors] == [3]
    assert "2" in the_plan.errors[0].message


def test_an_agency_merged_away_is_refused_with_the_code_to_use(province):
    agencies, admin = province
    from lms.org import reorg

    reorg.merge_agencies(agencies["BQN"], agencies["STTTT"], actor=admin)
    db.session.commit()
    the_plan = plan(csv_bytes("Hồ Thị Ngọc Ánh,BQN,,,,,"))
    assert len(the_plan.errors) == 1
    assert "STTTT" in the_plan.errors[0].message


def test_a_file_too_large_is_refused_before_reading(province, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 100)
    the_plan = plan(csv_bytes(*["Nguyễn Văn An,STP,,,,,"] * 20))
    assert [e.line for e in the_plan.errors] == [None]


# --- idempotence and updates -------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(province):
    data = (FIXTURES / "officers_utf8_bom.csv").read_bytes()
    apply(data)
    count = officer_count()
    again = plan(data)
    assert again.ok and not again.changes_anything
    assert again.counts == {"new": 0, "updated": 0, "unchanged": 8, "deactivated": 0, "errors": 0}
    imports.apply_officers(again)
    db.session.commit()
    assert officer_count() == count


def test_reimporting_a_file_without_usernames_or_ids_matches_officers_by_name_and_agency(province):
    header = "Họ và tên,Mã đơn vị,Chức vụ"
    data = csv_bytes("Nguyễn Văn An,STP,Chuyên viên", "Nguyễn Văn An,SNGV,Chuyên viên", header=header)
    apply(data)
    again = plan(csv_bytes("Nguyễn Văn An,STP,Trưởng phòng", "Nguyễn Văn An,SNGV,Chuyên viên", header=header))
    assert again.counts["new"] == 0
    assert [(c.key, c.fields) for c in again.updated] == [("annv", ("job_title",))]


def test_an_updated_file_updates_by_employee_id_instead_of_duplicating(province):
    apply(csv_bytes("Trần Văn Ước,SNGV,Chuyên viên,uoctv@sonha.gov.vn,uoctv,spokesperson,CB0002"))
    user_id = by_username("uoctv").id
    count = officer_count()
    the_plan, _ = apply(
        csv_bytes("Trần Văn Ước,STP,Phó Giám đốc Sở,uoc.tv@sonha.gov.vn,tranvanuoc,press,CB0002")
    )
    assert the_plan.counts["new"] == 0
    assert set(the_plan.updated[0].fields) == {"username", "job_title", "email", "agency_id", "duties"}
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert (user.username, user.agency.code, user.job_title) == ("tranvanuoc", "STP", "Phó Giám đốc Sở")
    assert [d.code for d in user.duties] == ["press"]
    assert officer_count() == count


def test_an_updated_file_updates_by_username_and_fills_in_the_employee_id(province):
    apply(csv_bytes("Trần Văn Ước,SNGV,,,uoctv,,"))
    the_plan, _ = apply(csv_bytes("Trần Văn Ước,SNGV,,,uoctv,,CB0002"))
    assert [c.fields for c in the_plan.updated] == [("employee_id",)]
    assert by_username("uoctv").employee_id == "CB0002"


def test_columns_missing_from_the_file_leave_details_untouched(province):
    apply(csv_bytes("Trần Văn Ước,SNGV,Chuyên viên,uoctv@sonha.gov.vn,uoctv,spokesperson,CB0002"))
    again = plan(csv_bytes("Trần Văn Ước,SNGV,CB0002", header="Họ và tên,Mã đơn vị,Mã cán bộ"))
    assert again.ok and not again.changes_anything


def test_a_disabled_officer_listed_again_is_enabled(province):
    apply(csv_bytes("Trần Văn Ước,SNGV,,,uoctv,,CB0002"))
    by_username("uoctv").active = False
    db.session.commit()
    the_plan, _ = apply(csv_bytes("Trần Văn Ước,SNGV,,,uoctv,,CB0002"))
    assert the_plan.updated[0].fields == ("active",)
    assert by_username("uoctv").active


# --- deactivate missing ------------------------------------------------------------------------


def test_deactivate_missing_only_touches_the_agencies_in_the_file(province):
    agencies, admin = province
    stays = factories.user("stays", agency=agencies["STP"], employee_id="CB1")
    leaves = factories.user("leaves", agency=agencies["STP"])
    elsewhere = factories.user("elsewhere", agency=agencies["SNGV"])
    boss = factories.user("boss", agency=agencies["STP"], roles={"officer", "admin"})
    db.session.commit()
    data = csv_bytes(f"{stays.full_name},STP,,,stays,,CB1")
    the_plan = plan(data, deactivate_missing=True, actor=admin)
    assert [c.key for c in the_plan.deactivated] == ["leaves"]
    assert [c.key for c in the_plan.kept] == ["boss"]
    epoch = leaves.session_epoch
    imports.apply_officers(the_plan, actor=admin)
    db.session.commit()
    db.session.expire_all()
    assert not db.session.get(User, leaves.id).active
    assert db.session.get(User, leaves.id).session_epoch == epoch + 1  # its sessions end
    assert db.session.get(User, elsewhere.id).active
    assert db.session.get(User, boss.id).active
    assert db.session.get(User, stays.id).active


def test_without_the_option_absent_officers_are_left_alone(province):
    agencies, _admin = province
    factories.user("leaves", agency=agencies["STP"])
    db.session.commit()
    the_plan = plan(csv_bytes("Nguyễn Văn An,STP,,,,,"))
    assert the_plan.deactivated == []


# --- HR scope ----------------------------------------------------------------------------------


def test_hr_users_may_import_only_into_their_agencies(province):
    agencies, _admin = province
    hr = factories.user("hr.stp", agency=agencies["STP"], roles={"officer", "hr"},
                        hr_agencies=[agencies["STP"]])
    other = factories.user("other", agency=agencies["CAT"], employee_id="CB77")
    db.session.commit()
    the_plan = plan(
        csv_bytes("Nguyễn Văn An,STP,,,,,", "Trần Thị Bình,SNGV,,,,,", f"{other.full_name},STP,,,,,CB77"),
        actor=hr,
    )
    assert [(e.line, e.column) for e in the_plan.errors] == [(3, "Mã đơn vị"), (4, "Mã đơn vị")]
    assert "SNGV" in the_plan.errors[0].message
    assert "CAT" in the_plan.errors[1].message  # cannot pull an officer out of another agency


def test_hr_import_may_not_change_or_re_enable_an_administrator(province):
    """An administrator disabled by another administrator stays disabled whatever HR imports."""
    agencies, _admin = province
    hr = factories.user("hr.stp", agency=agencies["STP"], roles={"officer", "hr"},
                        hr_agencies=[agencies["STP"]])
    boss = factories.user("boss", agency=agencies["STP"], roles={"officer", "admin"},
                          full_name="Lê Văn Sếp")
    boss.active = False
    db.session.commit()
    the_plan = plan(csv_bytes("Lê Văn Sếp,STP,,evil@x.vn,boss,,"), actor=hr)
    assert [(e.line, e.column) for e in the_plan.errors] == [(2, "Tên đăng nhập")]
    assert "boss" in the_plan.errors[0].message
    # An administrator running the same file may.
    assert plan(csv_bytes("Lê Văn Sếp,STP,,evil@x.vn,boss,,"), actor=_admin).ok


def test_hr_import_may_list_an_administrator_unchanged(province):
    agencies, _admin = province
    hr = factories.user("hr.stp", agency=agencies["STP"], roles={"officer", "hr"},
                        hr_agencies=[agencies["STP"]])
    factories.user("boss", agency=agencies["STP"], roles={"officer", "admin"}, full_name="Lê Văn Sếp")
    db.session.commit()
    the_plan = plan(csv_bytes("Lê Văn Sếp,STP,,,boss,,"), actor=hr)
    assert the_plan.ok and [c.key for c in the_plan.unchanged] == ["boss"]


# --- activation, audit, statements -------------------------------------------------------------


def test_new_accounts_get_activation_tokens_and_no_password_is_hashed(province, monkeypatch):
    import lms.auth.passwords as passwords

    def refuse(*args, **kwargs):
        raise AssertionError("no password may be hashed during an import")

    monkeypatch.setattr(passwords, "hash_password", refuse)
    _plan, result = apply((FIXTURES / "officers_utf8_bom.csv").read_bytes())
    assert len(result.tokens) == 8
    assert db.session.scalar(select(func.count()).select_from(ActivationToken)) == 8
    assert db.session.scalar(
        select(func.count()).select_from(User).where(User.password_hash.is_(None))
    ) == 8
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.roster_imported"))
    assert entry.details["counts"]["new"] == 8


def big_roster(rows: int, offset: int = 0) -> bytes:
    lines = [
        f"Nguyễn Văn Thử {n},{CODES[n % len(CODES)]},Chuyên viên,thu{n}@sonha.gov.vn,,"
        f"{'Người phát ngôn' if n % 3 == 0 else ''},NV{n:06d}"
        for n in range(offset, offset + rows)
    ]
    return csv_bytes(*lines)


def test_import_runs_a_bounded_number_of_statements_whatever_the_size(province, count_queries):
    counts = {}
    for size, offset in ((50, 0), (2000, 100)):
        with count_queries() as counter:
            the_plan = plan(big_roster(size, offset))
            imports.apply_officers(the_plan, token_days=14)
        db.session.commit()
        assert the_plan.counts["new"] == size
        counts[size] = counter.count
    assert counts[50] <= 20
    # Bulk statements: at most one more batch per statement kind for 40 times the rows.
    assert counts[2000] <= counts[50] + 3, counts


def test_update_of_many_officers_is_also_set_based(province, count_queries):
    apply(big_roster(300))
    changed = big_roster(300).replace(b"Chuy\xc3\xaan vi\xc3\xaan", "Trưởng phòng".encode())
    with count_queries() as counter:
        the_plan = plan(changed)
        imports.apply_officers(the_plan)
    assert the_plan.counts["updated"] == 300
    assert counter.count <= 15


# --- hypothesis: arbitrary CSV content never crashes and never half-imports ---------------------

cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["STP", "SNGV", "nope", "CB1", "a@b.vn", "x@", "Người phát ngôn", "=1+2", ""]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(cell, min_size=0, max_size=8), max_size=6),
    header=st.sampled_from([HEADER, "Họ và tên,Mã đơn vị", "full_name;agency_code;email", "x,y"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_generated_csv_never_raises_and_never_writes_part_of_a_file(province, rows, header, delimiter):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([header.replace(",", delimiter).split(delimiter), *rows])
    data = out.getvalue().encode("utf-8")
    before = officer_count()
    the_plan = plan(data)
    if the_plan.ok:
        imports.apply_officers(the_plan)
        assert officer_count() == before + the_plan.counts["new"]
    else:
        with pytest.raises(imports.ImportRefused):
            imports.apply_officers(the_plan)
        assert officer_count() == before
    db.session.rollback()


# --- links and templates -----------------------------------------------------------------------


def test_link_files_are_utf8_with_bom_and_neutralise_formulas():
    rows = [imports.LinkRow("=HYPERLINK(\"x\")", "an", "STP", "Sở Tư pháp", "+1@x.vn", "http://l/1")]
    data = imports.links_file(rows, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[1][0] == "'=HYPERLINK(\"x\")" and parsed[1][4] == "'+1@x.vn"
    assert parsed[1][3] == "Sở Tư pháp"
    sheet = load_workbook(io.BytesIO(imports.links_file(rows, "xlsx"))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "'=HYPERLINK(\"x\")"


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_files_read_back_without_errors(province, lang, fmt):
    officers = read_table(f"t.{fmt}", imports.template_file("officers", lang, fmt))
    result = parse_officers(
        officers, known_agency_codes=["STP", "X-AVUONG"], known_duties=imports._duty_aliases()
    )
    assert result.errors == () and len(result.officers) == 2
    agencies = read_table(f"t.{fmt}", imports.template_file("agencies", lang, fmt))
    roster = parse_agencies(agencies, existing_codes=["SH"])
    assert roster.errors == () and roster.dependency_order().errors == ()


def test_readme_documents_every_column():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing officers", 1)[1]
    for column in imports.OFFICER_COLUMNS + imports.AGENCY_COLUMNS:
        assert column.header_vi in section and column.header_en in section, column.field


# --- agencies ----------------------------------------------------------------------------------


def test_agency_list_is_created_parents_first_with_correct_paths(province):
    agencies, _admin = province
    data = (FIXTURES / "agencies.csv").read_bytes()
    the_plan = imports.plan_agencies("agencies.csv", data)
    assert the_plan.ok, the_plan.errors
    assert {c.key for c in the_plan.new} == {"STP-PHC", "TB", "TB-ATIENG"}
    imports.apply_agencies(the_plan)
    db.session.commit()
    commune = db.session.scalar(select(Agency).where(Agency.code == "TB-ATIENG"))
    district = commune.parent
    assert district.code == "TB" and district.parent.code == "QNAM"
    assert commune.path == f"{agencies['QNAM'].path}{district.id}/{commune.id}/"
    assert commune.depth == 2
    again = imports.plan_agencies("agencies.csv", data)
    assert again.ok and not again.changes_anything


def test_agency_import_moves_an_agency_to_its_new_parent(province):
    agencies, _admin = province
    data = "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên\nSNGV,Sở Ngoại vụ,STP\n".encode()
    the_plan = imports.plan_agencies("a.csv", data)
    assert [c.fields for c in the_plan.updated] == [("name_vi", "parent")]
    imports.apply_agencies(the_plan)
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(Agency, agencies["SNGV"].id)
    assert moved.parent_id == agencies["STP"].id
    assert moved.path.startswith(agencies["STP"].path)


def test_agency_import_refuses_a_loop_through_existing_agencies(province):
    data = "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên\nQNAM,Tỉnh,NEW\nNEW,Mới,STP\n".encode()
    the_plan = imports.plan_agencies("a.csv", data)
    assert not the_plan.ok
    assert {e.line for e in the_plan.errors} >= {2}


# --- command line ------------------------------------------------------------------------------


def test_cli_dry_run_reports_and_writes_nothing(province, runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes((FIXTURES / "officers_utf8_bom.csv").read_bytes())
    before = officer_count()
    result = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "8" in result.output and "dry run" in result.output
    assert officer_count() == before
    assert not (tmp_path / "roster-activation-links.csv").exists()


def test_cli_import_writes_activation_links(province, runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes((FIXTURES / "officers_semicolon.csv").read_bytes())
    out = tmp_path / "links.xlsx"
    result = runner.invoke(args=["users", "import", str(path), "--links-out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    links = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(links) == 8 and all("/auth/activate/" in link for link in links)
    assert (out.stat().st_mode & 0o777) == 0o600


def test_cli_errors_exit_non_zero_with_every_line(province, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("Nguyễn Văn An,NOPE,,,,,", "Trần Thị Bình,STP,,bad@,,,"))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "NOPE" in result.output and "bad@" in result.output
    assert "nothing was written" in result.output


def test_cli_agency_import_dry_run_and_real(province, runner):
    path = str(FIXTURES / "agencies.csv")
    assert runner.invoke(args=["agencies", "import", path, "--dry-run"]).exit_code == 0
    assert db.session.scalar(select(Agency).where(Agency.code == "TB")) is None
    result = runner.invoke(args=["agencies", "import", path])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Agency).where(Agency.code == "TB")) is not None


# --- translations ------------------------------------------------------------------------------

IMPORT_SOURCES = [
    "lms/org/imports.py", "lms/org/reorg.py", "templates/org/import_upload.html",
    "templates/org/import_officers.html", "templates/org/import_agencies.html",
    "templates/org/import_preview.html", "templates/org/import_result.html",
    "templates/org/merge.html", "templates/org/merge_preview.html",
]  # fmt: skip


def test_every_import_and_merge_message_has_a_vietnamese_translation():
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    root = Path(__file__).parents[2]
    with open(root / "lms/translations/vi/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    keywords = {"_": None, "lazy": None, "N_": None, "ngettext": (1, 2)}
    missing, checked = [], 0
    for source in IMPORT_SOURCES:
        method = "jinja2" if source.endswith(".html") else "python"
        for _line, message, _comments, _context in extract_from_file(
            method, str(root / source), keywords=keywords
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            checked += 1
            entry = catalog.get(msgid)
            strings = entry.string if entry else None
            if entry is None or entry.fuzzy or not (all(strings) if isinstance(strings, tuple) else strings):
                missing.append(msgid)
    assert checked > 100  # the extraction really read the files
    assert missing == []


def test_generated_usernames_skip_every_existing_account_of_that_base_read_without_loading_all_usernames(
    province,
):
    agencies, _admin = province
    for username in ("daontb", "DaoNTB2", "daontb3x", "a0", "a02"):
        factories.user(username, agency=agencies["STP"])
    for n in range(50):
        factories.user(f"other{n}", agency=agencies["SNV"])
    db.session.commit()
    the_plan = plan(csv_bytes("Nguyễn Thị Bích Đào,STP,,,,,", "A,SNGV,,,,,", "Lê Văn Khánh,SNV,,,,,"))
    assert the_plan.ok, the_plan.errors
    # "daontb3x" is not that base numbered, so "daontb3" is free; "a" gives "a0", then "a02" is taken.
    assert [c.key for c in the_plan.new] == ["daontb3", "a03", "khanhlv"]
    assert imports._usernames_with_bases({"daontb", "a0"}) == {"daontb", "daontb2", "a0", "a02"}
