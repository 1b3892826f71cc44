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
from tests.security.xss import form_fields, gift_escape, live_payloads, payload

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


# V1.2 / V1.3 — the corpus written through the real routes into every field a user can write ---------
#
# A class-scoped world: each field is written once, as the role that can write it, through the route a
# browser would post to (the form's own fields first, as the page sends them), then every page that shows
# the field is fetched as the role(s) that see it. The class restores the database when it ends.

FIELDS = [
    "course-title", "course-summary", "module-title", "lesson-title", "lesson-body-web",
    "lesson-body-content-file", "course-title-content-file", "question-stem", "answer-text",
    "answer-feedback", "general-feedback", "quiz-title", "essay-answer", "grade-comment",
    "gift-import-preview", "aiken-import-preview", "moodle-xml-import-preview", "imported-question-pages",
    "certificate-issuer-signer", "certificate-reissue-names", "certificate-revoke-reason",
    "plan-name", "plan-description", "plan-target-note", "workshop-title-place-trainer",
    "external-training", "override-reason", "agency-name", "user-name-job-title", "duty-name",
    "api-token-name", "roster-import-rows", "search-boxes",
    "workshop-place", "workshop-trainer", "workshop-topic", "external-issuer", "signer-name", "signer-title",
    "reissue-agency", "job-title", "agency-en", "roster-import-xlsx", "form-values-echoed",
    "query-strings-echoed", "module-title-content-file", "lesson-title-content-file", "content-file-question",
    "content-file-answer", "content-file-feedback", "content-file-general",
    "notice-course-title",
]


class _Writer:
    """Posts forms as a role: the page's own fields, then ours; the post must succeed (a redirect)."""

    def __init__(self, harness):
        self.h = harness

    def page(self, role: str, url: str) -> str:
        response = self.h.request(self.h.browsers[role], "GET", url)
        assert response.status_code == 200, \
            f"GET {url} as {role}: {response.status_code} {response.headers.get('Location')}"
        return response.get_data(as_text=True)

    def post(self, role: str, url: str, data: dict, *, form_page: str | None = None,
             action: str | None = None, expect: tuple[int, ...] = (302,), **kwargs):
        body: dict = {}
        if form_page is not None:
            body.update(form_fields(self.page(role, form_page), action or urlsplit(url).path))
            body.pop("csrf_token", None)
        body.update(data)
        response = self.h.request(self.h.browsers[role], "POST", url, data=body, **kwargs)
        text = response.get_data(as_text=True)
        errors = [re.sub(r"<[^>]+>|\s+", " ", e)[:200] for e in
                  re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>(.{0,400})', text, re.S)]
        assert response.status_code in expect, f"POST {url} as {role}: {response.status_code} {errors}"
        return response

    def one(self, stmt):
        with self.h.app.app_context():
            value = db.session.scalars(stmt).first()
            db.session.remove()
            return value


def _write_every_field(harness) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """Write the corpus into every field; return field -> pages [(role, url)], and the failures."""
    from lms.catalog.models import Course
    from lms.certificates.models import Certificate
    from lms.progress.models import ExternalTraining, Workshop
    from lms.quizzes.models import Attempt, Question, Quiz

    ids = harness.world.ids
    w = _Writer(harness)
    pages: dict[str, list[tuple[str, str]]] = {}
    failures: dict[str, str] = {}
    x = ids["course_key"]
    cid = ids["course_x"]

    def field(name: str):
        def run(fn):
            try:
                pages[name] = fn()
            except AssertionError as err:  # the write itself failed: the test of this field says why
                failures[name] = str(err)
            return fn
        return run

    def m(name: str, limit: int = 100_000) -> str:
        return payload(f"SAFE[{name}]", limit)

    officer_course = [("officer_a", "/"), ("officer_a", "/catalog/"), ("officer_a", f"/catalog/c/{x}"),
                      ("trainer_owner", "/catalog/author"),
                      ("trainer_owner", f"/catalog/author/{x}"), ("hr_all", "/reports/courses"),
                      ("hr_all", f"/reports/officers/{ids['user:officer_a']}"),
                      ("hr_all", "/progress/assignments")]

    @field("course-title")
    def _():
        w.post("trainer_owner", f"/catalog/author/{x}", {"title": m("course-title", 300)},
               form_page=f"/catalog/author/{x}")
        return officer_course

    @field("course-summary")
    def _():
        w.post("trainer_owner", f"/catalog/author/{x}", {"summary": m("course-summary", 2000)},
               form_page=f"/catalog/author/{x}")
        return [("officer_a", "/catalog/"), ("officer_a", f"/catalog/c/{x}"),
                ("trainer_owner", f"/catalog/author/{x}")]

    @field("module-title")
    def _():
        w.post("trainer_owner", f"/catalog/author/{x}/modules/m1", {"title": m("module-title", 300)})
        return [("officer_a", f"/catalog/c/{x}"), ("trainer_owner", f"/catalog/author/{x}"),
                ("officer_a", f"/catalog/c/{x}/lesson-1")]

    @field("lesson-title")
    def _():
        w.post("trainer_owner", f"/catalog/author/{x}/lessons/lesson-1", {"title": m("lesson-title", 300)},
               form_page=f"/catalog/author/{x}/lessons/lesson-1")
        return [("officer_a", f"/catalog/c/{x}"), ("officer_a", f"/catalog/c/{x}/lesson-1"),
                ("trainer_owner", f"/catalog/author/{x}"),
                ("trainer_owner", f"/catalog/author/{x}/lessons/lesson-1")]

    @field("lesson-body-web")
    def _():
        body = "## Mở đầu\n\n" + m("lesson-body-web") + "\n\n" + "\n\n".join(XSS_BLOCKS)
        w.post("trainer_owner", f"/catalog/author/{x}/lessons/new",
               {"key": "bai-xss", "title": "Bài XSS", "body": body},
               form_page=f"/catalog/author/{x}/lessons/new")
        trainer = harness.browsers["trainer_owner"]
        trainer.client.set_cookie("lms_session", trainer.cookie)
        preview = trainer.client.post(f"/catalog/author/{x}/preview", json={"body": body},
                                      headers={"X-CSRFToken": trainer.csrf})
        assert preview.status_code == 200, f"preview: {preview.status_code}"
        assert not live_payloads(preview.json["html"]), preview.json["html"][:500]
        return [("officer_a", f"/catalog/c/{x}/bai-xss"), ("trainer_owner", f"/catalog/c/{x}/bai-xss"),
                ("trainer_owner", f"/catalog/author/{x}/lessons/bai-xss")]

    @field("lesson-body-content-file")
    def _():
        _sync_content_course(harness, m)
        return [("officer_a", "/catalog/c/xss-files/bai-tep"), ("officer_b", "/catalog/c/xss-files/bai-tep")]

    pages["course-title-content-file"] = [("officer_b", "/catalog/"), ("officer_b", "/catalog/c/xss-files"),
                                          ("officer_a", "/catalog/c/xss-files/bai-tep")]
    if "lesson-body-content-file" in failures:
        failures["course-title-content-file"] = failures["lesson-body-content-file"]

    # A question written in GIFT on the web: stem, two answers with their feedback, general feedback;
    # an essay question; a quiz of the two; officer A answers it, the trainer grades the essay.
    stem, right, wrong = m("question-stem", 3000), m("answer-text", 3000), "Sai SAFE[answer-text-2]"
    fb, general = m("answer-feedback", 3000), m("general-feedback", 3000)
    gift = (f"::xss-q::[html]{gift_escape(stem)}{{={gift_escape(right)}#{gift_escape(fb)} "
            f"~{gift_escape(wrong)}#{gift_escape(fb)} ####{gift_escape(general)}}}")
    quiz_key = "kiem-tra-xss"

    @field("question-stem")
    def _():
        w.post("trainer_owner", f"/quizzes/courses/{cid}/bank/new?lang=vi",
               {"source": gift, "category": "xss", "points": "1", "action": "save", "syntax": "gift"})
        w.post("trainer_owner", f"/quizzes/courses/{cid}/bank/new?lang=vi",
               {"source": "::xss-essay::Viết một đoạn SAFE[essay-stem]{}", "category": "xss", "points": "1",
                "action": "save", "syntax": "gift"})
        qid = w.one(select(Question.id).where(Question.name == "xss-q"))
        assert qid, "the GIFT question was not saved"
        w.post("trainer_owner", f"/quizzes/courses/{cid}/quizzes/new",
               {"key": quiz_key, "title_vi": m("quiz-title", 300), "picks": "xss-q\nxss-essay",
                "pass_mark": "50", "review_feedback": "y", "review_correct": "y", "review_score": "y",
                "questions_per_page": "0", "max_attempts": "", "time_limit_minutes": ""},
               form_page=f"/quizzes/courses/{cid}/quizzes/new")
        start = w.post("officer_a", f"/quizzes/c/{x}/{quiz_key}/start", {})
        attempt = w.one(select(Attempt.id).join(Quiz).where(Quiz.key == quiz_key))
        assert attempt, f"no attempt: {start.headers.get('Location')}"
        take = w.page("officer_a", f"/quizzes/attempts/{attempt}")
        values = form_fields(take, "/submit")
        values.pop("csrf_token", None)
        for slot, value in re.findall(r'type="radio" name="(q\d+)" value="([^"]+)"', take):
            values.setdefault(slot, value)
        for slot in re.findall(r'<textarea[^>]*name="(q\d+)"', take):
            values[slot] = m("essay-answer", 5000)
        w.post("officer_a", f"/quizzes/attempts/{attempt}/submit", values)
        answer = w.one(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt,
                                                      AttemptAnswer.needs_manual.is_(True)))
        assert answer, "the essay is not waiting for a grader"
        pages["_take"] = [("__html__", take)]
        pages["_attempt"] = [("officer_a", f"/quizzes/attempts/{attempt}/review"),
                             ("trainer_owner", f"/quizzes/attempts/{attempt}/review")]
        pages["_answer"] = [("trainer_owner", f"/quizzes/answers/{answer}/grade")]
        quiz_id = w.one(select(Quiz.id).where(Quiz.key == quiz_key))
        pages["_quiz_id"] = quiz_id  # type: ignore[assignment]
        pages["_quiz"] = [("trainer_owner", f"/quizzes/{quiz_id}/attempts"),
                          ("trainer_owner", f"/quizzes/{quiz_id}/analysis"),
                          ("trainer_owner", f"/quizzes/courses/{cid}"), ("officer_a", f"/quizzes/c/{x}/{quiz_key}"),
                          ]
        return [("trainer_owner", f"/quizzes/courses/{cid}/bank?lang=vi"),
                ("trainer_owner", f"/quizzes/questions/{qid}"),
                ("trainer_owner", f"/quizzes/questions/{qid}/preview"),
                *pages["_take"], *pages["_attempt"]]

    if "question-stem" in failures:
        for name in ("answer-text", "answer-feedback", "general-feedback", "quiz-title", "essay-answer",
                     "grade-comment"):
            failures[name] = failures["question-stem"]
    else:
        question_pages = pages["question-stem"]
        pages["answer-text"] = question_pages[1:3] + pages["_take"] + pages["_attempt"]
        pages["answer-feedback"] = [question_pages[1], *pages["_attempt"]]
        pages["general-feedback"] = [question_pages[1], *pages["_attempt"]]
        pages["quiz-title"] = pages["_quiz"] + pages["_take"] + pages["_attempt"]
        pages["essay-answer"] = pages["_answer"] + pages["_attempt"]

        @field("grade-comment")
        def _():
            grade_url = pages["_answer"][0][1]
            w.post("trainer_owner", grade_url, {"points": "1", "comment": m("grade-comment", 5000)},
                   form_page=grade_url)
            return pages["_attempt"]

    bank_files = {
        "gift-import-preview": ("bank.gift", "gift", (
            f"::xss-gift::[html]{gift_escape(m('gift-import-preview', 3000))}"
            f"{{={gift_escape(payload('SAFE[gift-answer]', 3000))}#{gift_escape(payload('SAFE[gift-fb]', 3000))}"
            f" ~Sai#{gift_escape(payload('SAFE[gift-fb2]', 3000))}}}\n").encode()),
        "aiken-import-preview": ("bank.txt", "aiken", (
            f"{m('aiken-import-preview', 3000)}\nA. {payload('SAFE[aiken-a]', 3000)}\n"
            f"B. Sai\nANSWER: A\n").encode()),
        "moodle-xml-import-preview": ("bank.xml", "moodlexml", _moodle_xml(m("moodle-xml-import-preview", 3000))),
    }
    for name, (filename, fmt, data) in bank_files.items():
        @field(name)
        def _(filename=filename, fmt=fmt, data=data, name=name):
            response = w.post("trainer_owner", f"/quizzes/courses/{cid}/import",
                              {"file": (io.BytesIO(data), filename), "fmt": "auto", "lang": "vi",
                               "category": "nhap", "action": "preview"}, expect=(200,),
                              content_type="multipart/form-data")
            html = response.get_data(as_text=True)
            assert f"SAFE[{name}]" in html, f"the preview of {filename} does not show the question"
            pages[f"_preview:{name}"] = [("__html__", html)]
            return [("__html__", html)]

    @field("imported-question-pages")
    def _():
        data = _moodle_xml(m("imported-question-pages", 3000))
        w.post("trainer_owner", f"/quizzes/courses/{cid}/import",
               {"file": (io.BytesIO(data), "bank.xml"), "fmt": "auto", "lang": "vi", "category": "nhap",
                "action": "import"}, content_type="multipart/form-data")
        data = (f"::xss-gift::[html]{gift_escape(m('imported-question-pages', 3000))}"
                f"{{={gift_escape(payload('SAFE[gift-answer]', 3000))}#{gift_escape(payload('SAFE[gift-fb]', 3000))}"
                f" ~Sai}}\n").encode()
        w.post("trainer_owner", f"/quizzes/courses/{cid}/import",
               {"file": (io.BytesIO(data), "bank.gift"), "fmt": "auto", "lang": "vi", "category": "nhap",
                "action": "import"}, content_type="multipart/form-data")
        out = [("trainer_owner", f"/quizzes/courses/{cid}/bank?lang=vi")]
        for qname in ("xss-moodle", "xss-gift"):
            qid = w.one(select(Question.id).where(Question.name == qname))
            assert qid, f"{qname} was not imported"
            out += [("trainer_owner", f"/quizzes/questions/{qid}"),
                    ("trainer_owner", f"/quizzes/questions/{qid}/preview")]
        return out

    @field("certificate-issuer-signer")
    def _():
        w.post("trainer_owner", f"/catalog/author/{x}/completion",
               {"issuer": m("certificate-issuer-signer", 200), "signer_name": m("signer-name", 200),
                "signer_title": m("signer-title", 200), "certificate": "y"},
               form_page=f"/catalog/author/{x}/completion")
        w.post("admin", f"/certificates/{ids['certificate']}/reissue",
               {"holder_name": m("certificate-reissue-names", 200), "agency_name": m("reissue-agency", 255),
                "reason": m("reissue-reason", 1000)})
        code = w.one(select(Certificate.code).where(Certificate.holder_name.contains("SAFE"),
                                                    Certificate.superseded_by_id.is_(None)))
        assert code, "no replacement certificate"
        pages["_cert"] = [("anonymous", f"/verify/{code}"), ("admin", f"/certificates/{code}"),
                          ("officer_a", f"/certificates/{code}"),
                          ("hr_all", "/certificates/manage")]
        # The issuer and signer are copied onto a certificate when it is issued (its PDF): the web shows
        # them on the settings page.
        return [("trainer_owner", f"/catalog/author/{x}/completion")]

    if "_cert" in pages:
        pages["certificate-reissue-names"] = pages["_cert"]

        @field("certificate-revoke-reason")
        def _():
            code = pages["_cert"][0][1].rsplit("/", 1)[1]
            w.post("hr_all", f"/certificates/{code}/revoke", {"reason": m("certificate-revoke-reason", 1000)})
            return [("admin", f"/certificates/{code}"), ("officer_a", f"/certificates/{code}")]
    else:
        failures["certificate-reissue-names"] = failures["certificate-revoke-reason"] = \
            failures.get("certificate-issuer-signer", "")

    plan = ids["plan"]
    plan_pages = [("hr_all", "/reports/"), ("hr_all", f"/reports/plans/{plan}"),
                  ("hr_all", f"/reports/plans/{plan}/setup"), ("hr_all", f"/reports/plans/{plan}/edit"),
                  ("hr_commune", "/reports/")]

    @field("plan-name")
    def _():
        w.post("hr_all", f"/reports/plans/{plan}/edit", {"name": m("plan-name", 200)},
               form_page=f"/reports/plans/{plan}/edit")
        return plan_pages

    @field("plan-description")
    def _():
        w.post("hr_all", f"/reports/plans/{plan}/edit", {"description": m("plan-description", 5000)},
               form_page=f"/reports/plans/{plan}/edit")
        return [("hr_all", f"/reports/plans/{plan}/edit")]

    @field("plan-target-note")
    def _():
        w.post("hr_all", f"/reports/plans/{plan}/targets", {"target-kind": "completed_on_time", "target-min_value": "50",
                                                          "target-note": m("plan-target-note", 200)},
               form_page=f"/reports/plans/{plan}/setup")
        return [("hr_all", f"/reports/plans/{plan}"), ("hr_all", f"/reports/plans/{plan}/setup")]

    @field("workshop-title-place-trainer")
    def _():
        w.post("hr_all", "/progress/workshops/new",
               {"title": m("workshop-title-place-trainer", 300), "place": m("workshop-place", 300),
                "trainer": m("workshop-trainer", 200), "topic": m("workshop-topic", 200),
                "held_on": "2026-11-20", "hours": "2", "agency_id": str(ids["justice"])},
               form_page="/progress/workshops/new")
        wid = w.one(select(Workshop.id).where(Workshop.place.contains("SAFE")))
        assert wid, "the workshop was not saved"
        return [("hr_all", "/progress/workshops"), ("hr_all", f"/progress/workshops/{wid}"),
                ("hr_all", f"/progress/workshops/{wid}/edit")]

    @field("external-training")
    def _():
        user = ids["user:officer_a"]
        w.post("hr_all", f"/progress/officers/{user}/external",
               {"title": m("external-training", 300), "issuer": m("external-issuer", 300), "hours": "4",
                "completed_on": "2026-10-01", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "cert.pdf")},
               form_page=f"/progress/officers/{user}/external", content_type="multipart/form-data")
        assert w.one(select(ExternalTraining.id).where(ExternalTraining.issuer.contains("SAFE")))
        return [("hr_all", f"/progress/officers/{user}/external"), ("hr_all", f"/reports/officers/{user}")]

    @field("override-reason")
    def _():
        user = ids["user:officer_a"]
        w.post("hr_all", f"/progress/officers/{user}/overrides",
               {"course_id": str(cid), "extra_minutes": "5", "reason": m("override-reason", 500)},
               form_page=f"/progress/officers/{user}/overrides")
        return [("hr_all", f"/progress/officers/{user}/overrides"), ("officer_a", f"/catalog/c/{x}")]

    @field("agency-name")
    def _():
        agency = ids["justice"]
        w.post("admin", f"/org/agencies/{agency}", {"name_vi": m("agency-name", 255), "name_en": m("agency-en", 255),
                                                  "confirm": "1"},
               form_page=f"/org/agencies/{agency}")
        return [("admin", "/org/agencies"), ("admin", f"/org/agencies/{agency}"), ("hr_all", "/org/users"),
                ("hr_all", f"/reports/agencies?agency={ids['root']}"), ("hr_all", f"/reports/agencies/{agency}/officers"),
                ("officer_a", "/auth/profile"), ("hr_all", "/progress/workshops"), ("admin", "/org/audit")]

    @field("user-name-job-title")
    def _():
        user = ids["user:officer_a"]
        w.post("admin", f"/org/users/{user}", {"full_name": m("user-name-job-title", 200),
                                               "job_title": m("job-title", 200)},
               form_page=f"/org/users/{user}")
        return [("admin", "/org/users"), ("admin", f"/org/users/{user}"), ("officer_a", "/auth/profile"),
                ("officer_a", "/"), ("hr_all", f"/reports/officers/{user}"),
                ("hr_all", f"/reports/agencies/{ids['justice']}/officers"),
                ("trainer_owner", "/quizzes/grading"), ("admin", "/org/audit")]

    @field("duty-name")
    def _():
        w.post("admin", "/org/duties", {"code": "xss_duty", "name_vi": m("duty-name", 120),
                                        "name_en": payload("SAFE[duty-en]", 120)})
        return [("admin", "/org/duties"), ("admin", f"/org/users/{ids['user:officer_a']}"),
                ("hr_all", f"/reports/plans/{plan}/setup")]

    @field("api-token-name")
    def _():
        w.post("hr_all", "/account/api-tokens", {"name": m("api-token-name", 80)}, expect=(200,))
        return [("hr_all", "/auth/profile")]

    @field("roster-import-rows")
    def _():
        header = "Tên đăng nhập,Họ và tên,Mã đơn vị,Chức vụ,Email\n"
        row = f'xss.import,"{m("roster-import-rows", 200).replace(chr(34), chr(34) * 2)}",STP,' \
              f'"{payload("SAFE[roster-title]", 200).replace(chr(34), chr(34) * 2)}",\n'
        response = w.post("hr_all", "/org/import/officers",
                          {"file": (io.BytesIO((header + row).encode()), "roster.csv")},
                          content_type="multipart/form-data")
        preview = response.headers["Location"]
        html = w.page("hr_all", urlsplit(preview).path)
        out = [("__html__", html)]
        confirm = form_fields(html, "/confirm")
        confirm.pop("csrf_token", None)
        w.post("hr_all", urlsplit(preview).path + "/confirm", confirm)
        out += [("hr_all", "/org/users?q=xss")]
        return out

    @field("search-boxes")
    def _():
        q = payload("SAFE[search-boxes]", 100)
        from urllib.parse import quote

        return [(role, url.format(q=quote(q))) for role, url in (
            ("officer_a", "/catalog/?q={q}"), ("hr_all", "/org/users?q={q}"),
            ("hr_all", "/reports/officers?q={q}"), ("trainer_owner", f"/quizzes/courses/{cid}/bank?q={{q}}"),
            ("hr_all", "/certificates/manage?q={q}"), ("admin", "/org/audit?action={q}"),
            ("anonymous", "/verify?code={q}"))]

    for name, source in (("workshop-place", "workshop-title-place-trainer"),
                         ("workshop-trainer", "workshop-title-place-trainer"),
                         ("workshop-topic", "workshop-title-place-trainer"),
                         ("external-issuer", "external-training"), ("job-title", "user-name-job-title"),
                         ("agency-en", "agency-name"), ("reissue-agency", "certificate-reissue-names"),
                         ("signer-name", "certificate-issuer-signer"), ("signer-title", "certificate-issuer-signer"),
                         ("module-title-content-file", "lesson-body-content-file"),
                         ("lesson-title-content-file", "lesson-body-content-file")):
        if source in pages:
            pages[name] = pages[source]
        else:
            failures[name] = failures.get(source, f"{source} wrote nothing")
    pages["job-title"] = [("admin", f"/org/users/{ids['user:officer_a']}"), ("officer_a", "/auth/profile")]
    pages["agency-en"] = [("admin", f"/org/agencies/{ids['justice']}")]
    pages["reissue-agency"] = pages.get("_cert", [])[1:3]
    pages["module-title-content-file"] = [("officer_a", "/catalog/c/xss-files")]

    @field("content-file-question")
    def _():
        assert "lesson-body-content-file" not in failures, failures.get("lesson-body-content-file")
        w.post("officer_a", "/progress/c/xss-files/enrol", {})
        w.post("officer_a", "/quizzes/c/xss-files/kiem-tra-tep/start", {})
        attempt = w.one(select(Attempt.id).join(Quiz).where(Quiz.key == "kiem-tra-tep"))
        assert attempt, "officer A could not start the content-file quiz"
        take = w.page("officer_a", f"/quizzes/attempts/{attempt}")
        values = form_fields(take, "/submit")
        values.pop("csrf_token", None)
        for slot, value in re.findall(r'type="radio" name="(q\d+)" value="([^"]+)"', take):
            values.setdefault(slot, value)
        w.post("officer_a", f"/quizzes/attempts/{attempt}/submit", values)
        return [("__html__", take), ("officer_a", f"/quizzes/attempts/{attempt}/review")]

    for name in ("content-file-answer", "content-file-feedback", "content-file-general"):
        if "content-file-question" in pages:
            pages[name] = pages["content-file-question"][1:] + (
                pages["content-file-question"][:1] if name == "content-file-answer" else [])
        else:
            failures[name] = failures.get("content-file-question", "")

    @field("notice-course-title")
    def _():
        # Officer A has a reminder about course Y (overdue): its trainer renames the course.
        y = w.one(select(Course.key).where(Course.id == ids["course_y"]))
        w.post("trainer_other", f"/catalog/author/{y}", {"title": m("notice-course-title", 300)},
               form_page=f"/catalog/author/{y}")
        return [("officer_a", "/"), ("hr_all", "/progress/assignments"), ("hr_all", "/progress/workshops")]

    @field("roster-import-xlsx")
    def _():
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Tên đăng nhập", "Họ và tên", "Mã đơn vị", "Chức vụ"])
        sheet.append(["xss.xlsx", m("roster-import-xlsx", 200), "STP", payload("SAFE[roster-xlsx-title]", 200)])
        data = io.BytesIO()
        book.save(data)
        response = w.post("hr_all", "/org/import/officers", {"file": (io.BytesIO(data.getvalue()), "roster.xlsx")},
                          content_type="multipart/form-data")
        return [("hr_all", urlsplit(response.headers["Location"]).path)]

    @field("form-values-echoed")
    def _():
        # A refused form shows what was typed back in its fields and messages.
        text = m("form-values-echoed", 80)
        out = []
        for role, url, data in (
            ("anonymous", "/auth/login", {"username": text, "password": "sai-mat-khau-123"}),
            ("anonymous", "/auth/reset", {"identifier": text}),
            ("hr_all", "/progress/assignments/new", {"kind": "users", "usernames": text,
                                                     "course_id": str(ids["course_y"])}),
            ("hr_all", f"/reports/plans/{plan}/members", {"member-kind": "user", "member-username": text}),
            ("admin", "/org/agencies/new", {"code": text, "name_vi": text, "kind": "department"}),
            ("admin", "/org/users/new", {"username": text, "full_name": text, "email": "x"}),
            ("hr_all", "/account/api-tokens", {"name": text + "x" * 80}),
            ("trainer_owner", f"/quizzes/courses/{cid}/bank/new?lang=vi",
             {"source": "::x::" + gift_escape(text) + "{", "points": "1", "action": "save"}),
        ):
            response = w.post(role, url, data, expect=(200, 302, 400))
            if response.status_code == 302:
                response = harness.request(harness.browsers[role], "GET", response.headers["Location"])
            out.append(("?__html__", response.get_data(as_text=True)))
        # Some forms do not show a refused value again (the sign-in name); most do.
        assert sum("SAFE[form-values-echoed]" in html for _role, html in out) >= 5
        return out

    @field("query-strings-echoed")
    def _():
        # Unknown and known parameters go back into pagination, filter and sort links: only inertness
        # is asserted ("?" before the role), as the text is in URLs, not shown.
        from urllib.parse import quote

        q = quote(payload("SAFE[query-strings-echoed]", 300))
        urls = [("hr_all", f"/reports/agencies?agency={ids['root']}&course={q}&x={q}"),
                ("hr_all", f"/reports/agencies/{ids['justice']}/officers?status={q}&sort={q}"),
                ("hr_all", f"/reports/courses?topic={q}"), ("hr_all", f"/org/users?role={q}&agency={q}&page=1&q={q}"),
                ("trainer_owner", f"/quizzes/{pages.get('_quiz_id', 1)}/attempts?status={q}&x={q}"),
                ("trainer_owner", f"/quizzes/courses/{cid}/bank?lang={q}&category={q}"),
                ("officer_a", f"/catalog/?topic={q}&lang={q}&hours={q}"), ("admin", f"/org/audit?action={q}&page=2"),
                ("hr_all", f"/certificates/manage?status={q}&course={q}"),
                ("hr_all", f"/progress/workshops?agency={q}"), ("anonymous", f"/auth/login?next={q}"),
                ("officer_a", f"/catalog/c/{x}?lang={q}")]
        return [("?" + role, url) for role, url in urls]

    return pages, failures


# Block-level vectors a lesson's Markdown can carry besides the inline corpus.
XSS_BLOCKS = [
    "<div onclick=\"alert('XSS20')\">khối</div>",
    "[liên kết](javascript:alert('XSS21')) ![ảnh](javascript:alert('XSS22'))",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTMjMnKTwvc2NyaXB0Pg==\">dữ liệu</a>",
    "::: note <img src=x onerror=alert('XSS24')>\nHộp\n:::",
    "| a | <script>alert('XSS25')</script> |\n|---|---|\n| <svg onload=alert('XSS26')> | b |",
    "<video src=x onerror=alert('XSS27')></video><audio src=x onloadstart=alert('XSS28')></audio>",
    "<style>body{background:url(javascript:alert('XSS29'))}</style>",
    "<a href=\"&#106;avascript:alert('XSS30')\">thực thể</a>",
]


def _moodle_xml(text: str) -> bytes:
    from xml.sax.saxutils import escape

    def t(value: str) -> str:
        return f"<text>{escape(value)}</text>"

    return ('<?xml version="1.0" encoding="UTF-8"?><quiz><question type="multichoice">'
            f"<name><text>xss-moodle</text></name><questiontext format=\"html\">{t(text)}</questiontext>"
            f"<generalfeedback format=\"html\">{t(payload('SAFE[moodle-general]', 3000))}</generalfeedback>"
            "<single>true</single>"
            f"<answer fraction=\"100\" format=\"html\">{t(payload('SAFE[moodle-answer]', 3000))}"
            f"<feedback format=\"html\">{t(payload('SAFE[moodle-fb]', 3000))}</feedback></answer>"
            "<answer fraction=\"0\" format=\"html\"><text>Sai</text></answer>"
            "</question></quiz>").encode()


def _sync_content_course(harness, m) -> None:
    """A course kept in content files whose title, summary, module, lesson and bank carry the corpus."""
    import tempfile
    from pathlib import Path

    from lms.catalog import loader
    from lms.catalog.sync import sync_content

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        course = root / "xss-files"
        (course / "vi").mkdir(parents=True)
        quote = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
        (course / "course.yaml").write_text(
            "key: xss-files\nversion: 1\ntopic: other\nhours: 1\nlanguages: [vi]\nopen: true\n"
            f"title:\n  vi: {quote(m('course-title-content-file', 300))}\n"
            f"summary:\n  vi: {quote(m('course-summary-file', 2000))}\n"
            f"modules:\n  - key: m1\n    title: {{vi: {quote(m('module-title-content-file', 300))}}}\n    lessons: [bai-tep]\n"
            "quizzes:\n  - key: kiem-tra-tep\n    title: {vi: \"Kiểm tra\"}\n    questions:\n      - category: m1\n"
            "        count: 1\n    pass_mark: 50\n    review: {score: true, correct: true, feedback: true}\n"
            "    final: false\n",
            encoding="utf-8")
        body = m("lesson-body-content-file") + "\n\n" + "\n\n".join(XSS_BLOCKS)
        (course / "vi" / "01-bai-tep.md").write_text(
            f"---\nkey: bai-tep\ntitle: {quote(m('lesson-title-content-file', 300))}\nminutes: 5\n---\n{body}\n",
            encoding="utf-8")
        stem = gift_escape(m("content-file-question", 3000))
        (course / "vi" / "bank.gift").write_text(
            f"$CATEGORY: m1\n\n::xss-tep::[html]{stem}{{={gift_escape(payload('SAFE[content-file-answer]', 3000))}"
            f"#{gift_escape(payload('SAFE[content-file-feedback]', 3000))} ~Sai#{gift_escape(payload('SAFE[content-file-feedback]', 3000))}"
            f" ####{gift_escape(payload('SAFE[content-file-general]', 3000))}}}\n", encoding="utf-8")
        result = loader.load_content(root)
        assert result.ok, [str(e) for e in result.errors[:3]]
        with harness.app.app_context():
            sync_content(result, root, publish_new=True)
            db.session.commit()
            db.session.remove()


@pytest.fixture(scope="class")
def written(harness):
    try:
        yield _write_every_field(harness)
    finally:
        harness.restore()


def test_the_inertness_check_finds_each_piece_of_the_corpus_when_it_is_not_escaped():
    """The check below can fail: every HTML piece of the corpus, pasted raw, is named; escaped, none is."""
    from html import escape

    from tests.security.xss import XSS

    for piece in [p for p in XSS if p.lstrip("'\"").startswith("<") or "{{" in p] + XSS_BLOCKS[:1]:
        raw = piece.replace("{{ 7*7 }}", "49")
        assert live_payloads(f"<main>{raw}</main>"), piece
        assert not live_payloads(f"<main>{escape(piece)}</main>"), piece
    assert live_payloads('<script nonce="n">var t = "SAFE[x] <img src=x onerror=alert(\'XSS2\')>";</script>')
    assert not live_payloads('<script type="application/json">{"t": "alert(1)"}</script>')


class TestXssCorpusThroughEveryField:
    """ASVS 1.2.1/1.3.x: whatever a user writes comes back inert on every page that shows it, to every role
    that sees it: lessons (web and content files), questions, answers, feedback, titles, records, names,
    imported rows and files, search boxes. The harmless text around the payload is still shown."""

    @pytest.mark.parametrize("name", FIELDS)
    def test_the_corpus_is_inert(self, harness, written, name):
        pages, failures = written
        assert name not in failures, f"writing {name} failed: {failures[name]}"
        assert pages.get(name), f"no page checked for {name}"
        for role, url in pages[name]:
            shown = not role.startswith("?")
            role = role.lstrip("?")
            if role == "__html__":
                html, where = url, "a page kept from when the field was written"
            else:
                response = harness.request(harness.browsers[role], "GET", url)
                # 400: a form that refuses the value shows it back (the certificate code search)
                assert response.status_code in (200, 400), f"{url} as {role}: {response.status_code}"
                html, where = response.get_data(as_text=True), f"{url} as {role}"
            assert not live_payloads(html), f"{where} runs {live_payloads(html)}"
            assert not shown or f"SAFE[{name}]" in html, f"{where} does not show the text of {name}: " + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1]))[:600]


def test_formulas_written_through_the_forms_are_neutralised_in_every_export(harness):
    """ASVS 1.2.10: formulas typed into the forms (course title, officer name, job title and employee id,
    agency and plan names) or brought in by a roster file come out as text in every CSV/XLSX export,
    including the activation-link file of that roster import."""
    ids = harness.world.ids
    w = _Writer(harness)
    x, user, agency, plan = ids["course_key"], ids["user:officer_a"], ids["justice"], ids["plan"]
    try:
        w.post("trainer_owner", f"/catalog/author/{x}", {"title": '=HYPERLINK("http://evil.example","FML1")'},
               form_page=f"/catalog/author/{x}")
        w.post("admin", f"/org/users/{user}", {"full_name": "+FML2+1", "job_title": "-FML3-1",
                                               "employee_id": "@FML7"}, form_page=f"/org/users/{user}")
        w.post("admin", f"/org/agencies/{agency}", {"name_vi": "@SUM(FML4)", "confirm": "1"},
               form_page=f"/org/agencies/{agency}")
        w.post("hr_all", f"/reports/plans/{plan}/edit", {"name": "=cmd|' /C calc'!FML5"},
               form_page=f"/reports/plans/{plan}/edit")
        roster = ("Tên đăng nhập,Họ và tên,Mã đơn vị,Chức vụ,Email\n"
                  '"moi.fml","=HYPERLINK(""http://evil.example"",""FML6"")",STP,"+FML8",\n').encode()
        preview = urlsplit(w.post("hr_all", "/org/import/officers", {"file": (io.BytesIO(roster), "roster.csv")},
                                  content_type="multipart/form-data").headers["Location"]).path
        confirm = form_fields(w.page("hr_all", preview), "/confirm")
        confirm.pop("csrf_token", None)
        w.post("hr_all", f"{preview}/confirm", confirm)
        files = [(harness.browsers["hr_all"], "GET", url.format(fmt=fmt), {}) for fmt in ("csv", "xlsx")
                 for url in (f"/reports/agencies/export.{{fmt}}?agency={ids['root']}",
                             f"/reports/plans/{plan}/export.{{fmt}}?agency={ids['root']}",
                             f"/reports/agencies/{agency}/officers/export.{{fmt}}", "/reports/courses/export.{fmt}")]
        files += [(harness.browsers["admin"], "GET", f"/reports/agencies/{agency}/officers/export.csv", {})]
        files += [(harness.browsers["hr_all"], "POST", f"{preview}/links", {"fmt": fmt}) for fmt in ("csv", "xlsx")]
        seen: set[str] = set()
        for who, method, url, data in files:
            response = harness.request(who, method, url, data=data)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            for cell, dangerous in _cells(response):
                markers = {mk for mk in re.findall(r"FML\d", cell)}
                seen |= markers
                assert not (markers and dangerous), f"{method} {url}: {cell!r}"
        assert {"FML1", "FML2", "FML4", "FML5", "FML6", "FML7"} <= seen, seen  # the job titles are in no export
    finally:
        harness.restore()


def test_course_files_never_run_as_pages(harness):
    """ASVS 5.2.x / 1.3: a trainer's upload is never served as a page: SVG and HTML are refused, and a file
    named .png that holds HTML is sent as image/png, not sniffed, under a CSP that allows nothing (sandbox)."""
    x = harness.world.ids["course_key"]
    w = _Writer(harness)
    html = (b'<html><body><script>alert("XSS1")</script><svg onload=alert("XSS3")></svg></body></html>')
    try:
        for name in ("trang.svg", "trang.html", "trang.htm", "trang.xhtml"):
            w.post("trainer_owner", f"/catalog/author/{x}/files", {"file": (io.BytesIO(html), name)},
                   expect=(200, 302, 400), content_type="multipart/form-data")
            response = harness.request(harness.browsers["officer_a"], "GET", f"/catalog/c/{x}/files/{name}")
            assert response.status_code == 404, name
        w.post("trainer_owner", f"/catalog/author/{x}/files", {"file": (io.BytesIO(html), "trang.png")},
               content_type="multipart/form-data")
        response = harness.request(harness.browsers["officer_a"], "GET", f"/catalog/c/{x}/files/trang.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    finally:
        harness.restore()
