"""The access matrix: every route of ``app.url_map``, every role, GET and POST, someone else's ids.

``ROWS`` declares, for each endpoint, which roles get past authorisation (everyone else must get
401/403/404 or be sent to sign in); a new route without a row fails ``test_every_route_has_a_row``.
POSTs carry a valid CSRF token of the role's own session and no other data, so an allowed POST usually
stops at form validation; when it does write, the database is restored before the next request.

Adding a row (see also /work/coord/NOTES.md): pick the roles from the sets below, e.g.
``"records.reset_request": Row(get=EVERYONE, post=EVERYONE)`` or ``Row(get=ADMIN, post=ADMIN)``; if the
route takes a new path argument, give it a value owned by officer A / hr_all in ``routes.ARGUMENTS`` (and
the object in ``world.py``). A GET that writes must say why in ``get_writes``.

Roles (see tests/security/world.py): the ids in every path belong to officer A (attempts, answers,
certificate, notice, transcript), to course X owned by ``trainer_owner``, to Sở Tư pháp (outside
``hr_commune``'s scope) and to ``hr_all`` (plan, assignment, import batch, API token).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.security.routes import methods, url_for_rule, verdict
from tests.security.world import ROLES, SIGNED_IN_ROLES

NOBODY: frozenset[str] = frozenset()
EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset(SIGNED_IN_ROLES)
ADMIN = frozenset({"admin"})
HR = frozenset({"hr_all", "hr_commune", "admin"})
HR_ALL = frozenset({"hr_all", "admin"})  # HR whose scope covers Sở Tư pháp (and admins)
AUTHORS = frozenset({"trainer_owner", "trainer_other", "admin"})
COURSE_EDITORS = frozenset({"trainer_owner", "admin"})  # may edit course X
OFFICER_A = frozenset({"officer_a"})
HOLDER_AND_HR = frozenset({"officer_a", "hr_all", "admin"})  # officer A's certificate, transcript
TOKEN_HR = frozenset({"hr_all", "hr_commune", "admin"})


@dataclass(frozen=True)
class Row:
    get: frozenset[str] | None = None  # roles allowed to GET (None: the route has no GET)
    post: frozenset[str] | None = None  # roles allowed to POST
    token: frozenset[str] | None = None  # API routes: roles whose bearer token is allowed
    get_writes: str = ""  # why a GET may write (empty: it must not)


CACHE_PDF = "the first download renders the PDF once and stores it (a cache, not a state change)"
TOKEN_SEEN = "notes when the token was last used (at most once a minute)"
EXPORT_LOGGED = "every export of officers' data is recorded in the audit log"

ROWS: dict[str, Row] = {
    # API (bearer tokens only; a browser session gets 401)
    "api.agencies": Row(get=NOBODY, token=TOKEN_HR, get_writes=TOKEN_SEEN),
    "api.certificates": Row(get=NOBODY, token=TOKEN_HR, get_writes=TOKEN_SEEN + "; " + EXPORT_LOGGED),
    "api.completion_by_agency": Row(get=NOBODY, token=TOKEN_HR, get_writes=TOKEN_SEEN + "; " + EXPORT_LOGGED),
    # ?agency=STP: hr_commune's token gets 404 (not in its scope)
    "api.completion_by_officer": Row(get=NOBODY, token=HR_ALL, get_writes=TOKEN_SEEN + "; " + EXPORT_LOGGED),
    "api.me": Row(get=NOBODY, token=SIGNED_IN, get_writes=TOKEN_SEEN),
    "api.openapi": Row(get=EVERYONE, token=SIGNED_IN),
    "api.plan": Row(get=NOBODY, token=TOKEN_HR, get_writes=TOKEN_SEEN),
    "api.plans": Row(get=NOBODY, token=TOKEN_HR, get_writes=TOKEN_SEEN),
    "api_tokens.create": Row(post=HR),
    "api_tokens.revoke": Row(post=frozenset({"hr_all"})),  # only the token's owner
    # auth
    "auth.activate": Row(get=EVERYONE, post=EVERYONE),  # the link itself is the secret
    "auth.change_password": Row(get=SIGNED_IN, post=SIGNED_IN),
    "auth.login": Row(get=EVERYONE, post=EVERYONE),
    "auth.logout": Row(post=SIGNED_IN),
    "auth.profile": Row(get=SIGNED_IN),
    "auth.reset_request": Row(get=EVERYONE, post=EVERYONE),  # same answer whether the account exists
    # step 2 of sign-in: without a fresh "password typed" state everyone is sent back to the login page
    "auth.two_factor": Row(get=EVERYONE, post=EVERYONE),
    "auth.two_factor_disable": Row(post=SIGNED_IN),  # one's own, with a proof
    "auth.two_factor_enrol": Row(get=SIGNED_IN, post=SIGNED_IN,
                                 get_writes="the first visit stores the secret the page shows"),
    "auth.two_factor_recovery_codes": Row(post=SIGNED_IN),  # one's own, with a proof
    "auth.two_factor_reset": Row(post=ADMIN),  # an administrator resets a lost phone and lost codes
    # catalog: course X is published and open; trainer_owner is limited to X, trainer_other to Y
    "catalog.asset": Row(get=SIGNED_IN),
    "catalog.author": Row(get=AUTHORS),
    "catalog.course": Row(get=SIGNED_IN),
    "catalog.course_completion": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "catalog.course_edit": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "catalog.course_new": Row(get=AUTHORS, post=AUTHORS),
    "catalog.index": Row(get=SIGNED_IN),
    "catalog.lesson": Row(get=SIGNED_IN,
                          get_writes="an enrolled officer's lesson is marked as opened (progress)"),
    "catalog.lesson_archive": Row(post=COURSE_EDITORS),
    "catalog.lesson_edit": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "catalog.lesson_new": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "catalog.module_add": Row(post=COURSE_EDITORS),
    "catalog.module_rename": Row(post=COURSE_EDITORS),
    "catalog.move": Row(post=COURSE_EDITORS),
    "catalog.preview": Row(post=COURSE_EDITORS),
    "catalog.publish": Row(post=COURSE_EDITORS),
    "catalog.take_over": Row(post=COURSE_EDITORS),
    "catalog.trainer_limits": Row(post=ADMIN),
    "catalog.trainers": Row(get=ADMIN),
    "catalog.upload": Row(post=COURSE_EDITORS),
    # certificates: officer A's certificate
    "certificates.detail": Row(get=HOLDER_AND_HR),
    "certificates.download": Row(get=HOLDER_AND_HR, get_writes=CACHE_PDF),
    "certificates.export_zip": Row(get=HR, get_writes=CACHE_PDF + "; " + EXPORT_LOGGED),
    "certificates.manage": Row(get=HR),
    "certificates.mine": Row(get=SIGNED_IN),
    "certificates.reissue": Row(post=ADMIN),
    "certificates.render_missing": Row(post=HR),
    "certificates.revoke": Row(post=HR_ALL),  # HR whose scope covers the holder, and admins
    # certificate templates: administrators only (they print in every agency's name)
    "certificates.template_delete": Row(post=ADMIN),
    "certificates.template_edit": Row(get=ADMIN, post=ADMIN),
    "certificates.template_image": Row(get=ADMIN),
    "certificates.template_new": Row(get=ADMIN, post=ADMIN),
    "certificates.template_preview": Row(get=ADMIN),
    "certificates.templates": Row(get=ADMIN),
    "certificates.transcript": Row(get=SIGNED_IN),  # one's own
    "certificates.user_transcript": Row(get=HOLDER_AND_HR, get_writes=EXPORT_LOGGED),
    "certificates.verify": Row(get=EVERYONE),
    "certificates.verify_form": Row(get=EVERYONE),
    "certificates.verify_json": Row(get=EVERYONE),
    # home
    "home.index": Row(get=EVERYONE),
    "home.set_language": Row(post=EVERYONE),
    # usual addresses (/login, /logout, /admin, /profile): redirects, and a sign-out page with a POST form
    "home.admin_alias": Row(get=SIGNED_IN),  # signed out: sent to sign in
    "home.login_alias": Row(get=EVERYONE),
    "home.offline": Row(get=EVERYONE),  # the page a service worker shows offline (no data in it)
    "home.service_worker": Row(get=EVERYONE),  # /sw.js, a static script
    "home.logout_alias": Row(get=EVERYONE),  # signed out: a plain redirect to the login page
    "home.profile_alias": Row(get=EVERYONE),  # a redirect; the profile page itself needs a session
    # org: Sở Tư pháp, officer A, hr_all's import batch
    "org.agencies": Row(get=HR),
    "org.agency_edit": Row(get=ADMIN, post=ADMIN),
    "org.agency_merge": Row(get=ADMIN, post=ADMIN),
    "org.agency_new": Row(get=ADMIN, post=ADMIN),
    "org.audit_log": Row(get=ADMIN),
    "org.duties": Row(get=ADMIN, post=ADMIN),
    "org.import_agencies": Row(get=ADMIN, post=ADMIN),
    "org.import_confirm": Row(post=frozenset({"hr_all"})),  # only who uploaded it
    "org.import_links": Row(post=frozenset({"hr_all"})),
    "org.import_officers": Row(get=HR, post=HR),
    "org.import_preview": Row(get=frozenset({"hr_all"})),
    "org.import_result": Row(get=frozenset({"hr_all"})),
    "org.import_template": Row(get=HR),
    "org.user_edit": Row(get=ADMIN, post=ADMIN),
    "org.user_new": Row(get=ADMIN, post=ADMIN),
    "org.user_reset": Row(post=ADMIN),
    "org.user_set_active": Row(post=ADMIN),
    "org.users": Row(get=HR),
    # progress
    "progress.assignment_deactivate": Row(post=HR_ALL),
    "progress.assignment_new": Row(get=HR, post=HR),
    "progress.assignments": Row(get=HR),
    "progress.calendar_create": Row(post=SIGNED_IN),  # one's own feed
    # The secret in the URL is the key: a guessed one (here an activation token) is refused to everyone.
    "progress.calendar_feed": Row(get=NOBODY, get_writes="notes when a calendar last read the feed"),
    "progress.calendar_remove": Row(post=SIGNED_IN),
    # records: arrangements, workshops and certificates from elsewhere of officer A / Sở Tư pháp
    "progress.external": Row(get=HR_ALL, post=HR_ALL),
    "progress.external_file": Row(get=HOLDER_AND_HR, get_writes=EXPORT_LOGGED),
    "progress.override_remove": Row(post=HR_ALL),
    "progress.overrides": Row(get=HR_ALL, post=HR_ALL),
    "progress.workshop": Row(get=HR_ALL),
    "progress.workshop_attendance": Row(post=HR_ALL),
    "progress.workshop_attendance_file": Row(post=HR_ALL),
    "progress.workshop_delete": Row(get=HR_ALL, post=HR_ALL),
    "progress.workshop_edit": Row(get=HR_ALL, post=HR_ALL),
    "progress.workshop_new": Row(get=HR, post=HR),
    "progress.workshops": Row(get=HR),
    "progress.complete": Row(post=SIGNED_IN),  # course X is open: anyone signed in may take it
    "progress.enrol": Row(post=SIGNED_IN),
    # quizzes: course X's quiz, bank, officer A's attempts and essay answer
    "quizzes.analysis": Row(get=COURSE_EDITORS),
    "quizzes.attempts": Row(get=COURSE_EDITORS),
    "quizzes.bank": Row(get=COURSE_EDITORS),
    "quizzes.export": Row(get=COURSE_EDITORS),
    "quizzes.export_xml": Row(get=COURSE_EDITORS),
    "quizzes.grade": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.grading": Row(get=AUTHORS),  # the list is limited to one's courses (see scope tests)
    "quizzes.import_questions": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.index": Row(get=AUTHORS),
    "quizzes.manage": Row(get=COURSE_EDITORS),
    "quizzes.question_archive": Row(post=COURSE_EDITORS),
    "quizzes.question_edit": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.question_new": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.question_preview": Row(get=COURSE_EDITORS),
    "quizzes.quiz": Row(get=SIGNED_IN),
    "quizzes.quiz_new": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.quiz_settings": Row(get=COURSE_EDITORS, post=COURSE_EDITORS),
    "quizzes.regrade": Row(post=COURSE_EDITORS),
    "quizzes.review": Row(get=frozenset({"officer_a", "trainer_owner", "admin"})),
    "quizzes.save": Row(post=OFFICER_A),
    "quizzes.start": Row(post=SIGNED_IN),
    "quizzes.submit": Row(post=OFFICER_A),
    "quizzes.summary": Row(get=OFFICER_A),
    "quizzes.take": Row(get=OFFICER_A),
    # reports: hr_all's plan over Sở Tư pháp
    "reports.agencies": Row(get=HR),
    "reports.agencies_export": Row(get=HR, get_writes=EXPORT_LOGGED),
    "reports.agency_officers": Row(get=HR_ALL),
    "reports.courses": Row(get=HR),
    "reports.courses_export": Row(get=HR, get_writes=EXPORT_LOGGED),
    "reports.index": Row(get=HR),
    "reports.notice_read": Row(post=OFFICER_A),
    "reports.officer_search": Row(get=HR),
    "reports.officers_export": Row(get=HR_ALL, get_writes=EXPORT_LOGGED),
    "reports.plan": Row(get=HR),  # every HR user reads plans; figures limited to their scope
    "reports.plan_activate": Row(post=HR_ALL),
    "reports.plan_add_course": Row(post=HR_ALL),
    "reports.plan_add_member": Row(post=HR_ALL),
    "reports.plan_add_target": Row(post=HR_ALL),
    "reports.plan_close": Row(post=HR_ALL),
    "reports.plan_edit": Row(get=HR_ALL, post=HR_ALL),
    "reports.plan_export": Row(get=HR, get_writes=EXPORT_LOGGED),
    "reports.plan_new": Row(get=HR, post=HR),
    "reports.plan_remove_course": Row(post=HR_ALL),
    "reports.plan_remove_member": Row(post=HR_ALL),
    "reports.plan_remove_target": Row(post=HR_ALL),
    "reports.plan_setup": Row(get=HR_ALL),
    "reports.remind_agency": Row(post=HR_ALL),
    "reports.transcript": Row(get=HR_ALL),
    "static": Row(get=EVERYONE),
    # background tasks: hr_all's finished run (its page and file are the starter's and admins')
    "tasks.download": Row(get=HR_ALL),
    "tasks.show": Row(get=HR_ALL),
    "tasks.show_json": Row(get=HR_ALL),
}


def _rule(harness, endpoint):
    rules = [r for r in harness.app.url_map.iter_rules() if r.endpoint == endpoint]
    assert rules, f"{endpoint} has a row but no route: remove the row"
    return rules


def test_every_route_has_a_row(harness):
    endpoints = {rule.endpoint for rule in harness.app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROWS))
    assert not missing, ("routes without a row in tests/security/test_access_matrix.py ROWS (declare who "
                         f"may use them): {missing}")
    assert not sorted(set(ROWS) - endpoints), "rows for routes that no longer exist"


def test_every_row_declares_exactly_the_methods_of_its_route(harness):
    for endpoint, row in ROWS.items():
        declared = {m for m, roles in (("GET", row.get), ("POST", row.post)) if roles is not None}
        actual = {m for rule in _rule(harness, endpoint) for m in methods(rule)}
        assert declared == actual, f"{endpoint}: route has {sorted(actual)}, row declares {sorted(declared)}"


def _check(harness, who, method, url, allowed, *, get_writes="", endpoint=""):
    response = harness.request(who, method, url)
    wrote = list(harness.writes)
    if wrote and not (method == "GET" and get_writes):  # a declared cache may stay
        harness.restore()
    got = verdict(response)
    assert got != "error", f"{endpoint} {method} as {who.role}: {response.status_code}"
    expected = "ok" if allowed else "deny"
    assert got == expected, (f"{endpoint} {method} {url} as {who.role}: expected {expected}, got "
                             f"{response.status_code} {response.location or ''}")
    if method == "GET" and get_writes:
        return response  # the declared write (a cache, a last-used time) may happen on any outcome
    if method == "GET":
        assert not wrote, f"{endpoint} GET as {who.role} wrote to the database: {wrote[:2]}"
    if got == "deny":
        assert not wrote, f"{endpoint} {method} refused {who.role} but wrote: {wrote[:2]}"
    return response


@pytest.mark.parametrize("endpoint", sorted(ROWS))
def test_access_matrix(harness, endpoint):
    """Every role gets exactly the declared outcome; refusals and GETs write nothing."""
    row = ROWS[endpoint]
    is_api = row.token is not None
    for rule in _rule(harness, endpoint):
        url = url_for_rule(rule, harness.world.ids)
        for method, allowed in (("GET", row.get), ("POST", row.post)):
            if allowed is None:
                continue
            for role in ROLES:
                _check(harness, harness.browsers[role], method, url, role in allowed,
                       get_writes=row.get_writes, endpoint=endpoint)
            if is_api:
                for role, who in harness.tokens.items():
                    _check(harness, who, method, url, role in row.token, get_writes=row.get_writes,
                           endpoint=endpoint)
            elif method == "GET":
                # A bearer token opens nothing outside the API: it is treated as anonymous (checked
                # with the most and the least privileged token; every token is checked on the API).
                anonymous = harness.request(harness.browsers["anonymous"], "GET", url).status_code
                for who in (harness.tokens["admin"], harness.tokens["officer_a"]):
                    assert harness.request(who, "GET", url).status_code == anonymous, (
                        f"{endpoint}: {who.role} differs from anonymous")
                    assert not harness.writes
            else:
                response = harness.request(harness.tokens["admin"], "POST", url)
                assert response.status_code == 400 and not harness.writes, (
                    f"{endpoint}: a POST with an API token and no session passed the CSRF check")


@pytest.mark.parametrize("endpoint", sorted(e for e, r in ROWS.items() if r.post is not None))
def test_post_without_csrf_token_is_refused_and_writes_nothing(harness, endpoint):
    """ASVS 3.5 / 4.3: every state change needs the session's CSRF token, even for a role allowed to act."""
    row = ROWS[endpoint]
    role = next((r for r in ROLES[::-1] if r in (row.post or ())), "admin")
    for rule in _rule(harness, endpoint):
        response = harness.request(harness.browsers[role], "POST", url_for_rule(rule, harness.world.ids),
                                   csrf=False)
        wrote = list(harness.writes)
        if wrote:
            harness.restore()
        assert response.status_code == 400, f"{endpoint} accepted a POST without CSRF token as {role}"
        assert not wrote


@pytest.mark.parametrize("endpoint", sorted(e for e, r in ROWS.items() if r.post is None))
def test_get_only_routes_refuse_other_methods(harness, endpoint):
    for rule in _rule(harness, endpoint):
        url = url_for_rule(rule, harness.world.ids)
        for method in ("POST", "PUT", "DELETE"):
            response = harness.request(harness.browsers["admin"], method, url)
            # 404 when the path also matches a route of another method (/catalog/author/<key>)
            assert response.status_code in (404, 405) and not harness.writes, f"{endpoint} {method}"
