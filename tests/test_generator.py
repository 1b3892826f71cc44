"""The bulk generator (``flask bench seed``): what it writes reads exactly like real data. A generated
officer's own pages, the quiz domain's recomputation, the agency report, the API and the verification
page all agree with each other.

One small generated province (300 officers on the real courses of content/) is built once for the
module; the tests only read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.api import services as api_services
from lms.catalog.models import Course
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.generator import seed_province
from lms.org.models import Agency, User
from lms.progress.models import AssignedCourse, CourseCompletion, QuizResult
from lms.quizzes.models import Attempt, Quiz
from lms.quizzes.queries import quiz_standing
from lms.reports.models import Plan
from tests.conftest import PG_URL, IsolatedClient, _empty_pg_tables, base_config
from tests.factories import report_totals
from tests.pairs import stale_pairs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory, _pg_schema: None) -> Iterator[dict[str, Any]]:
    app = create_app(base_config(tmp_path_factory.mktemp("generator"), PG_URL))
    with app.app_context():
        if not PG_URL:
            db.create_all()
        summary = seed_province(300, seed=3)
        db.session.commit()
        yield {"app": app, "summary": summary}
        db.session.remove()
        if PG_URL:
            _empty_pg_tables()
        db.engine.dispose()


@pytest.fixture
def app(province: dict[str, Any]) -> Flask:
    return province["app"]


@pytest.fixture
def client(app: Flask):
    app.test_client_class = IsolatedClient
    return app.test_client()


def sign_in(client, username: str) -> None:
    user = db.session.scalar(select(User).where(User.username == username))
    user.locale = "en"
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def test_the_generator_writes_the_size_asked_in_demo_proportions(province):
    assert db.session.scalar(select(func.count()).select_from(User)) == 300
    pairs = db.session.scalar(select(func.count()).select_from(AssignedCourse))
    assert pairs == province["summary"].pairs > 0
    done = db.session.scalar(select(func.count()).select_from(CourseCompletion))
    assert 0 < done < pairs, "some officers finished, some have not"
    # Every completion of a course that gives certificates has one (the Cơ Tu glossary gives none).
    certifying = select(Course.id).where(Course.certificate["enabled"].as_boolean().is_(True))
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == db.session.scalar(
        select(func.count()).select_from(CourseCompletion).where(CourseCompletion.course_id.in_(certifying)))


def test_every_quiz_result_equals_what_its_attempts_add_up_to(province):
    """The quiz domain recomputes a result from the attempts (a regrade does): nothing may change."""
    quizzes = {(q.course_id, q.key): q.id for q in db.session.scalars(select(Quiz))}
    results = list(db.session.scalars(select(QuizResult)))
    assert results
    for result in results:
        standing = quiz_standing(result.user_id, quizzes[(result.course_id, result.quiz_key)])
        assert (standing.attempts, standing.awaiting_grading, standing.best_score, standing.passed) == (
            result.attempts_count, result.awaiting_grading, result.best_score, result.passed), result.user_id
    waiting = db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.status == "needs_grading"))
    assert waiting == 1, "one essay waits for the trainer, as in the demo"


def test_generated_certificates_carry_the_design_issuing_would_give_them(app, province):
    """Each certificate row records its design as issue_certificate does (layout, issuer, snapshot)."""
    from lms.certificates.services import design_for

    with app.test_request_context():
        certificate = db.session.scalars(select(Certificate).order_by(Certificate.id)).first()
        course = db.session.get(Course, certificate.course_id)
        design = design_for(course, db.session.get(Agency, certificate.agency_id))
        assert certificate.template_snapshot == design.snapshot()
        assert certificate.layout == design.layout and certificate.signer_name == design.signer_name
        assert certificate.issuer_name == (design.issuer.get(certificate.lang) or next(iter(design.issuer.values())))


def test_a_generated_officers_pages_agree_with_the_agency_report(client, province):
    completion = db.session.scalar(select(CourseCompletion).join(Certificate,
                                                                 Certificate.completion_id == CourseCompletion.id)
                                   .order_by(CourseCompletion.id.desc()).limit(1))
    officer = db.session.get(User, completion.user_id)
    sign_in(client, officer.username)
    course_page = client.get(f"/catalog/c/{completion.course.key}").get_data(as_text=True)
    assert client.get("/").status_code == 200
    certificate = db.session.scalar(select(Certificate).where(Certificate.completion_id == completion.id))
    assert certificate.code in client.get("/certificates/").get_data(as_text=True)
    assert "Completed" in course_page or "completed" in course_page
    assert client.get(f"/verify/{certificate.code}.json").json["state"] == "valid"

    # The officer's agency on the report: its completed count is the officers' completions there.
    sign_in(client, "hr")
    plan = db.session.scalar(select(Plan).where(Plan.status == "active"))
    agency = db.session.get(Agency, officer.agency_id)
    html = client.get(f"/reports/agencies?agency={agency.id}&plan={plan.id}").get_data(as_text=True)
    totals = report_totals(html)
    assigned, completed = (int(totals[k].replace(",", "")) for k in ("assigned", "completed"))
    subtree = select(User.id).join(Agency, Agency.id == User.agency_id).where(Agency.path.like(f"{agency.path}%"))
    assert assigned == db.session.scalar(select(func.count()).select_from(AssignedCourse)
                                         .where(AssignedCourse.user_id.in_(subtree)))
    assert completed == db.session.scalar(select(func.count()).select_from(CourseCompletion)
                                          .where(CourseCompletion.user_id.in_(subtree)))
    hr = db.session.scalar(select(User).where(User.username == "hr"))
    token = api_services.create_token(hr, "generator test")[1]
    db.session.commit()
    api = client.get(f"/api/v1/completion/agencies?agency={agency.code}&plan={plan.id}",
                     headers={"Authorization": f"Bearer {token}"}).json["total"]
    assert (api["assigned"], api["completed"]) == (assigned, completed)


def test_the_plan_dashboard_shows_units_behind_and_on_track(client, province):
    sign_in(client, "hr")
    plan = db.session.scalar(select(Plan).where(Plan.status == "active"))
    root = db.session.scalar(select(Agency).where(Agency.code == "SH"))
    html = client.get(f"/reports/plans/{plan.id}?agency={root.id}").get_data(as_text=True)
    rows = re.findall(r'<tr id="agency-\d+" class="row-([a-z_]+)"', html)
    assert "behind" in rows and "on_track" in rows, rows


def test_the_pairs_keep_what_their_progress_and_completions_say(app, province):
    """The bulk writer bypasses the ORM: it refreshes the pairs' report columns itself (tests/pairs.py)."""
    assert stale_pairs() == {}


def test_the_report_pass_over_stored_pairs_counts_what_the_live_join_counts(app, province):
    """Without a date range the reports read what the pairs keep (AssignedCourse.agency_id ...); a
    date range wide enough to hold every completion joins the completions as they are: same counts."""
    from datetime import date

    from lms.reports import queries

    viewer = db.session.scalar(select(User).where(User.username == "hr"))
    plan = db.session.scalar(select(Plan).where(Plan.status == "active"))
    wide = {"date_from": date(2000, 1, 1), "date_to": date(2100, 1, 1)}
    for filters in (queries.Filters(), queries.Filters(plan_id=plan.id)):
        stored = queries.agency_pass(viewer, filters)
        live = queries.agency_pass(viewer, filters.with_(**wide))
        assert stored[1] == live[1]
        assert sum(c.completed for c in stored[1].values()) > 0
