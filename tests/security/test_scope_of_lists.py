"""Every export (CSV, XLSX, PDF, ZIP), API list and list page holds only rows in the caller's scope.

Names outside ``hr_commune``'s scope carry the marker ``NGOAI`` (officer A, Sở Tư pháp), names inside
it ``TRONG`` (officer B, Xã A Vương). Each list is fetched by a caller who must see the outside rows
(proving the marker shows up in that format) and by one who must not.
"""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest
from pypdf import PdfReader

from tests.security.world import INSIDE, OUTSIDE


def text_of(response) -> str:
    """Everything a person could read in the response, whatever its format."""
    body = response.get_data()
    mimetype = response.mimetype
    if mimetype == "application/pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    if mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if mimetype == "application/zip":
        parts = []
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                parts.append(name)
                if name.endswith(".pdf"):
                    reader = PdfReader(io.BytesIO(archive.read(name)))
                    parts += [page.extract_text() or "" for page in reader.pages]
        return "\n".join(parts)
    if mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    return body.decode("utf-8-sig", errors="replace")


def _get(harness, who, url):
    response = harness.request(who, "GET", url)
    if harness.writes:
        harness.restore()
    assert response.status_code == 200, f"{url} as {who.role}: {response.status_code}"
    return text_of(response)


# (url, who must see the outside rows, who must not), browser sessions. ``{drill}`` opens the province's
# sub-agencies for the one who must see them (the one who must not gets the default: their own top).
PAGES = [
    *[(f"/reports/agencies/export.{fmt}{{drill}}", "hr_all", "hr_commune") for fmt in ("csv", "xlsx", "pdf")],
    *[("/reports/plans/{plan}/export." + fmt + "{drill}", "hr_all", "hr_commune")
      for fmt in ("csv", "xlsx", "pdf")],
    *[("/reports/agencies/{justice}/officers/export." + fmt, "hr_all", None) for fmt in ("csv", "xlsx", "pdf")],
    ("/reports/agencies{drill}", "hr_all", "hr_commune"),
    ("/reports/plans/{plan}{drill}", "hr_all", "hr_commune"),
    ("/reports/officers?q=Nguy%E1%BB%85n", "hr_all", "hr_commune"),
    ("/org/users", "hr_all", "hr_commune"),
    ("/org/agencies", "hr_all", "hr_commune"),
    ("/progress/assignments", "hr_all", "hr_commune"),
    ("/certificates/manage", "hr_all", "hr_commune"),
    ("/certificates/manage/export.zip", "hr_all", None),
    ("/quizzes/grading", "trainer_owner", "trainer_other"),
    ("/quizzes/{quiz}/attempts", "trainer_owner", None),
]
API = [
    ("/api/v1/agencies", "hr_all", "hr_commune"),
    ("/api/v1/certificates", "hr_all", "hr_commune"),
    ("/api/v1/completion/agencies{api_drill}", "hr_all", "hr_commune"),
    ("/api/v1/completion/agencies?plan={plan}{api_drill_and}", "hr_all", "hr_commune"),
    ("/api/v1/completion/officers?agency=STP", "hr_all", None),
    ("/api/v1/me", "officer_a", "officer_b"),
]


def _url(harness, template: str, *, drill: bool) -> str:
    ids = harness.world.ids
    return template.format(
        plan=ids["plan"], justice=ids["justice"], quiz=ids["quiz"],
        drill=f"?agency={ids['root']}" if drill else "", api_drill="?agency=SONHA" if drill else "",
        api_drill_and="&agency=SONHA" if drill else "")


@pytest.mark.parametrize(("template", "sees", "must_not"), PAGES, ids=[p[0] for p in PAGES])
def test_lists_and_exports_hold_only_rows_in_the_callers_scope(harness, template, sees, must_not):
    seen = _get(harness, harness.browsers[sees], _url(harness, template, drill=True))
    assert OUTSIDE in seen, f"{sees} should see the outside rows"
    if must_not:
        assert OUTSIDE not in _get(harness, harness.browsers[must_not], _url(harness, template, drill=False))


@pytest.mark.parametrize(("template", "sees", "must_not"), API, ids=[p[0] for p in API])
def test_api_lists_hold_only_rows_in_the_tokens_scope(harness, template, sees, must_not):
    assert OUTSIDE in _get(harness, harness.tokens[sees], _url(harness, template, drill=True))
    if must_not:
        assert OUTSIDE not in _get(harness, harness.tokens[must_not], _url(harness, template, drill=False))


def test_commune_hr_exports_still_list_its_own_officers(harness):
    """The scoped files are not empty: the commune's own officer is there, in every format."""
    commune = harness.world.ids["commune"]
    for fmt in ("csv", "xlsx", "pdf"):
        text = _get(harness, harness.browsers["hr_commune"], f"/reports/agencies/{commune}/officers/export.{fmt}")
        assert INSIDE in text and OUTSIDE not in text
