"""The findings of `make scan` that are not injections, each proven false or fixed (README, Security).

wapiti's csrf module looks for a token field by exact name (``csrf_token``, ``_token``, ...). The plan
setup page holds several forms, so Flask-WTF prefixes each form's fields, the token included
(``member-csrf_token``, ``target-csrf_token``); wapiti does not recognise those names and reports the
two forms as having no token. Flask-WTF's CSRFProtect accepts any field ending in ``csrf_token`` and
checks it like the unprefixed one: the tests below post what wapiti would (the value ``wapiti``) and
no token at all, and the request is refused and writes nothing; the page's own token is accepted.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.reports.models import Plan
from tests import factories
from tests.quizzes.test_concurrency import signed_in_client
from tests.reports import factories_reports as fr

FORMS = {
    "member": ("members", lambda agency: {"member-kind": "agency", "member-agency_id": str(agency.id),
                                          "member-include_subtree": "y"}),
    "target": ("targets", lambda _agency: {"target-kind": "officers_completed", "target-min_value": "90"}),
}


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
@pytest.mark.parametrize("prefix", sorted(FORMS))
def test_the_prefixed_csrf_tokens_wapiti_does_not_recognise_are_checked(app, prefix):
    path, fields = FORMS[prefix]
    admin = factories.user("quantri", roles={"admin"})
    agency = factories.agency()
    plan = fr.plan(admin, targets=(), activate=False)
    db.session.commit()
    plan_id = plan.id
    client = signed_in_client(app, admin)
    page = client.get(f"/reports/plans/{plan_id}/setup").get_data(as_text=True)
    token = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, f"the {prefix} form has no {prefix}-csrf_token field"

    def rows() -> int:
        db.session.expire_all()
        the_plan = db.session.get(Plan, plan_id)
        return len(the_plan.members if prefix == "member" else the_plan.targets)

    url = f"/reports/plans/{plan_id}/{path}"
    assert client.post(url, data=fields(agency) | {f"{prefix}-csrf_token": "wapiti"}).status_code == 400
    assert client.post(url, data=fields(agency)).status_code == 400
    assert rows() == 0
    assert client.post(url, data=fields(agency) | {f"{prefix}-csrf_token": token.group(1)}).status_code == 302
    assert rows() == 1
    assert db.session.scalar(select(func.count(Plan.id))) == 1


def test_make_scan_counts_the_servers_5xx_answers_and_fails_on_them(tmp_path):
    """wapiti reports a 500 only when its own payload caused it: the "database is locked" 500s were seen
    only in gunicorn's log, so make scan reads that log, lists them and fails on any."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("scan_tool", Path(__file__).parents[2] / "tools" / "scan.py")
    assert spec and spec.loader
    scan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scan)
    log = tmp_path / "gunicorn.log"
    log.write_text(
        '127.0.0.1 - - [04/Dec/2026:20:49:57 +0000] "GET /reports/agencies/36/officers/export.xlsx HTTP/1.1" 500 0 "-" "-"\n'
        "[2026-12-04 20:49:58,075] ERROR in app: Exception on /reports/agencies/36/officers/export.xlsx [GET]\n"
        "sqlite3.OperationalError: database is locked\n"
        '127.0.0.1 - - [04/Dec/2026:20:50:00 +0000] "POST /reports/agencies/13/remind HTTP/1.1" 302 0 "-" "-"\n'
        '127.0.0.1 - - [04/Dec/2026:20:50:01 +0000] "GET /catalog/?q=%27 HTTP/1.1" 200 10 "-" "-"\n')
    errors = scan.server_errors(log)
    assert errors == {"by_path": {"500 GET /reports/agencies/<id>/officers/export.xlsx": 1}, "locked": 1}
    text, bad = scan.summary({}, [], {"packages": 1, "vulns": []}, errors)
    assert bad and '"database is locked": 1' in text
    _text, bad = scan.summary({}, [], {"packages": 1, "vulns": []}, {"by_path": {}, "locked": 0})
    assert not bad
