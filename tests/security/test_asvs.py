"""OWASP ASVS 5.0 level 2 items that apply to lms, one named test each (the README's security section maps
each item to its test; the session and throttling items live in tests/auth/)."""

from __future__ import annotations

import io
import re
import zipfile
from contextlib import contextmanager
from urllib.parse import urlsplit

import openpyxl
import pytest
from sqlalchemy import select

from lms.api.models import ApiToken
from lms.auth.passwords import hash_password, password_problems
from lms.extensions import db
from lms.org.models import Agency, User
from lms.org.roster import read_table
from lms.quizzes.models import AttemptAnswer
from lms.reports.models import Plan

# V6.2 / V11.4 — passwords ---------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_at_or_above_the_owasp_minimum():
    """ASVS 11.4.2: argon2id with at least m=19 MiB, t=2, p=1 (the production profile)."""
    encoded = hash_password("một-mật-khẩu-dài", "default")
    found = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert found, encoded
    memory_kib, time_cost, parallelism = map(int, found.groups())
    assert memory_kib >= 19 * 1024 and time_cost >= 2 and parallelism >= 1


@pytest.mark.parametrize(("password", "ok"), [
    ("ngắn-7c", False), ("x" * 129, False), ("12345678", False), ("matkhau123", False),
    ("aaaaaaaaaaaa", False), ("officer.a", False), ("đủ tám ký tự", True), ("x" * 128 + "", False),
    ("Bồi dưỡng nhân quyền 2026", True), ("tám-ký-tự", True),
])
def test_password_rules_length_common_passwords_and_username(password, ok):
    """ASVS 6.2.1-6.2.4, 6.2.9: 8 to 128 characters, any characters, common ones and the username refused."""
    problems = password_problems(password, username="officer.a")
    assert (not problems) == ok, problems


# V3.4 — security headers on every kind of response ------------------------------------------------

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _response_kinds(harness):
    ids = harness.world.ids
    b, t = harness.browsers, harness.tokens
    return {
        "html page": (b["officer_a"], "/"),
        "login page": (b["anonymous"], "/auth/login"),
        "pdf certificate": (b["officer_a"], f"/certificates/{ids['certificate']}.pdf"),
        "pdf transcript": (b["officer_a"], "/certificates/transcript.pdf"),
        "json verify": (b["anonymous"], f"/verify/{ids['certificate']}.json"),
        "json api": (t["hr_all"], "/api/v1/me"),
        "json api error": (b["anonymous"], "/api/v1/me"),
        "csv export": (b["hr_all"], "/reports/agencies/export.csv"),
        "xlsx export": (b["hr_all"], "/reports/agencies/export.xlsx"),
        "zip export": (b["hr_all"], "/certificates/manage/export.zip"),
        "static css": (b["anonymous"], "/static/css/app.css"),
        "error 404": (b["officer_a"], "/no-such-page"),
        "error 403": (b["officer_a"], "/org/audit"),
        "error 405": (b["officer_a"], "/auth/logout"),
        "redirect": (b["anonymous"], "/auth/profile"),
    }


def test_security_headers_and_csp_on_every_response_type(harness):
    """ASVS 3.4.1-3.4.6: CSP (no inline script, no framing), nosniff, DENY framing, referrer policy on
    HTML, PDF, JSON, CSV/XLSX/ZIP, static files, errors and redirects alike."""
    for kind, (who, url) in _response_kinds(harness).items():
        response = harness.request(who, "GET", url)
        if harness.writes:
            harness.restore()
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, f"{kind} ({url}): {name}"
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, kind
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[-1].split(";")[0], kind


def test_personal_files_are_never_cached(harness):
    """ASVS 14.3.2: pages and downloads with personal data carry Cache-Control: no-store."""
    ids = harness.world.ids
    for who, url in [(harness.browsers["officer_a"], "/"),
                     (harness.browsers["officer_a"], f"/certificates/{ids['certificate']}.pdf"),
                     (harness.browsers["hr_all"], "/reports/agencies/export.csv"),
                     (harness.browsers["hr_all"], "/reports/agencies/export.xlsx"),
                     (harness.tokens["hr_all"], "/api/v1/me")]:
        response = harness.request(who, "GET", url)
        assert "no-store" in response.headers.get("Cache-Control", ""), url


# V3.7 / V5 — redirects stay on the site ------------------------------------------------------------

OFFSITE = ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
           "/%2F%2Fevil.example", " //evil.example", "http:evil.example", "\t//evil.example", "///evil.example",
           "https:/\\evil.example", "/%5Cevil.example", "//evil.example@localhost"]


def _stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost") and not location.startswith("//")


@pytest.mark.parametrize("target", OFFSITE)
def test_language_switch_and_login_next_never_leave_the_site(harness, target):
    """ASVS 3.7.2 / 15.x: `next=` after signing in and after a language switch only goes to our own pages."""
    anonymous = harness.browsers["anonymous"]
    response = harness.request(anonymous, "POST", "/lang", data={"lang": "en", "next": target})
    assert response.status_code in (302, 303) and _stays_on_site(response.location), response.location
    response = harness.request(anonymous, "POST", f"/auth/login?next={target}",
                               data={"username": harness.world.usernames["officer_b"],
                                     "password": "đúng-mật-khẩu-2024"})
    if harness.writes:
        harness.restore()
    assert response.status_code in (302, 303) and _stays_on_site(response.location), response.location


# V5.2 — uploads: content, size and structure -------------------------------------------------------


def _xlsx_with(shared_strings: bytes) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["Họ và tên", "Mã đơn vị"])
    book.active.append(["Trần Thị Mới", "STP"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/sharedStrings.xml" or item.filename.endswith("sheet1.xml"):
                data = shared_strings if item.filename == "xl/sharedStrings.xml" else data
            target.writestr(item, data)
        if "xl/sharedStrings.xml" not in source.namelist():
            target.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                  b'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                   b'uniqueCount="1"><si><t>&xxe;</t></si></sst>')


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["entity-expansion", "external-entity"])
def test_roster_workbooks_with_xml_entities_are_refused_or_inert(xml):
    """ASVS 5.2.x / 1.5.x: an XLSX whose XML declares entities neither expands them nor reads local files."""
    table = read_table("roster.xlsx", _xlsx_with(xml))
    text = repr(table)
    assert "root:" not in text  # /etc/passwd never reaches the import
    assert "lollollol" not in text


def test_a_zip_bomb_roster_is_refused_before_unpacking():
    """ASVS 5.2.3: a small upload that unpacks to gigabytes is refused by its declared sizes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (150 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    table = read_table("roster.xlsx", out.getvalue())
    assert "MB" in repr(table)


# V1.2 / V1.3 — XSS corpus over every field a user can write; formulas in every CSV/XLSX export ------

XSS = ['<script>alert("XSS1")</script>', '<img src=x onerror=alert("XSS2")>', '"><svg onload=alert("XSS3")>',
       "javascript:alert('XSS4')", "<a href=\"javascript:alert('XSS5')\">x</a>",
       '<iframe src="//evil.example/XSS6"></iframe>', "{{ 7*7 }}XSS7", "<details open ontoggle=alert('XSS8')>"]
PAYLOAD = " ".join(XSS)
FORMULAS = ['=HYPERLINK("http://evil.example","FML1")', "+FML2+1", "-FML3-1", "@SUM(FML4)", "\tFML5", "\rFML6"]


@contextmanager
def _written(harness, value_for):
    """Write ``value_for(field)`` into every user-writable field of the world, then restore it."""
    ids = harness.world.ids
    with harness.app.app_context():
        a = db.session.get(User, ids["user:officer_a"])
        a.full_name = value_for("name")
        db.session.get(Agency, ids["justice"]).name_vi = value_for("agency")
        db.session.get(Plan, ids["plan"]).name = value_for("plan")
        for token in db.session.scalars(select(ApiToken)):
            token.name = value_for("token")
        essay = db.session.get(AttemptAnswer, ids["essay_answer"])
        essay.response = value_for("essay")
        db.session.commit()
        db.session.remove()
    try:
        yield
    finally:
        harness.restore()


def _pages(harness):
    ids = harness.world.ids
    b = harness.browsers
    return [
        (b["trainer_owner"], f"/quizzes/answers/{ids['essay_answer']}/grade"),
        (b["trainer_owner"], "/quizzes/grading"),
        (b["trainer_owner"], f"/quizzes/{ids['quiz']}/attempts"),
        (b["hr_all"], "/org/users"), (b["hr_all"], "/org/agencies"),
        (b["hr_all"], f"/reports/agencies?agency={ids['root']}"), (b["hr_all"], f"/reports/plans/{ids['plan']}"),
        (b["hr_all"], "/reports/"), (b["hr_all"], f"/reports/officers/{ids['user:officer_a']}"),
        (b["hr_all"], "/auth/profile"), (b["hr_all"], f"/certificates/{ids['certificate']}"),
        (b["hr_all"], "/certificates/manage"), (b["admin"], "/org/audit"),
        (b["admin"], f"/org/users/{ids['user:officer_a']}"), (b["officer_a"], "/"),
        (b["officer_a"], f"/quizzes/attempts/{ids['attempt_done']}/review"),
    ]


# What the payloads become if they get out unescaped: live tags and handlers, a script URL in an
# attribute, or a template expression that was evaluated.
TAG_WITH_MARKER = re.compile(r"<script>alert\(|<img src=x onerror|<svg onload|<iframe src=\"//evil|"
                             r"<details open ontoggle|<a href=\"javascript:|49XSS7")


def test_xss_corpus_is_inert_in_every_user_written_field(harness):
    """ASVS 1.2.1/1.3.x: names, agency and plan names, token names and essay answers shown to graders come
    out escaped on every page that shows them (no tag or script URL carrying the payload)."""
    with _written(harness, lambda _field: PAYLOAD):
        for who, url in _pages(harness):
            response = harness.request(who, "GET", url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            html = response.get_data(as_text=True)
            bad = TAG_WITH_MARKER.search(html)
            assert not bad, f"{url} shows a live payload: {bad.group(0) if bad else ''}"


def _cells(response) -> list[tuple[str, bool]]:
    """(text, dangerous) per cell: a CSV cell is dangerous when Excel would read it as a formula (its first
    character), an XLSX cell when it is stored as a formula (string cells are never evaluated)."""
    if response.mimetype == "text/csv":
        import csv

        text = response.get_data(as_text=True).lstrip("\ufeff")
        return [(cell, cell.startswith(("=", "+", "-", "@", "\t", "\r")))
                for row in csv.reader(io.StringIO(text)) for cell in row]
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    cells = [(str(c.value), False) for sheet in book for row in sheet.iter_rows() for c in row
             if c.value is not None]
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        formulas = [f for name in archive.namelist() if name.startswith("xl/worksheets/")
                    for f in re.findall(r"<f[ >][^<]*", archive.read(name).decode())]
    return cells + [(f, True) for f in formulas]


def test_formulas_are_neutralised_in_every_csv_and_xlsx_export(harness):
    """ASVS 1.2.10: a cell a user wrote never starts with = + - @ tab or CR in a CSV or XLSX export."""
    ids = harness.world.ids
    values = dict(zip(("name", "agency", "plan", "token", "essay"), FORMULAS, strict=False))
    exports = [f"/reports/agencies/export.{{fmt}}?agency={ids['root']}",
               f"/reports/plans/{ids['plan']}/export.{{fmt}}?agency={ids['root']}",
               f"/reports/agencies/{ids['justice']}/officers/export.{{fmt}}", "/reports/courses/export.{fmt}"]
    with _written(harness, lambda field: values[field]):
        seen = set()
        for template in exports:
            for fmt in ("csv", "xlsx"):
                response = harness.request(harness.browsers["hr_all"], "GET", template.format(fmt=fmt))
                assert response.status_code == 200, template
                for cell, dangerous in _cells(response):
                    markers = {m for m in ("FML1", "FML2", "FML3", "FML4", "FML5", "FML6") if m in cell}
                    seen |= markers
                    assert not (markers and dangerous), f"{template} {fmt}: {cell!r}"
        assert {"FML1", "FML2"} <= seen  # the officer's and the agency's names were in the files


MOODLE_XXE = (b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
              b'<quiz><question type="shortanswer"><name><text>&xxe;</text></name>'
              b'<questiontext format="html"><text>&xxe;</text></questiontext>'
              b'<answer fraction="100"><text>root</text></answer></question></quiz>')
MOODLE_LAUGHS = BILLION_LAUGHS.replace(b"<sst", b"<quiz><question type=\"description\"><questiontext><text").replace(
    b"</sst>", b"")


@pytest.mark.parametrize("xml", [MOODLE_XXE, MOODLE_LAUGHS], ids=["external-entity", "entity-expansion"])
def test_moodle_xml_banks_with_entities_are_refused_without_reading_files(xml):
    """ASVS 5.2.x: the Moodle XML importer refuses a DOCTYPE or entities; nothing of /etc/passwd comes in."""
    from lms.questionformat.moodlexml import parse_moodle_xml

    result = parse_moodle_xml(xml, "bank.xml")
    assert result.errors and not result.questions
    assert "root:x" not in repr(result)
