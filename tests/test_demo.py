"""The demo province with a year of activity: what HR, trainers, officers and inspectors see on a fresh
install is there, agrees across pages, API and certificates, and a second run adds nothing.

One small province (60 officers) with the real courses of content/ and its activity is built once for
the module; the tests only read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import ROOT, create_app
from lms.api import services as api_services
from lms.catalog import loader
from lms.catalog.sync import sync_content
from lms.certificates.models import Certificate, CertificatePdf
from lms.demo import DEMO_PASSWORD, load_activity, load_demo
from lms.extensions import db
from lms.org.models import Agency, User
from lms.progress.models import CourseCompletion, Enrollment
from lms.quizzes import queries as quiz_queries
from lms.quizzes.models import Attempt, Quiz
from lms.reports.models import Notice, Plan
from tests.conftest import PG_URL, AuthActions, IsolatedClient, _empty_pg_tables, base_config
from tests.factories import report_totals
from tests.pairs import stale_pairs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, _pg_schema: None) -> Iterator[dict[str, Any]]:
    app = create_app(base_config(tmp_path_factory.mktemp("demo"), PG_URL))
    with app.app_context():
        if not PG_URL:
            db.create_all()
        load_demo(officers=60)
        result = loader.load_content(ROOT / "content")
        assert result.ok, result.errors[:3]
        sync_content(result, ROOT / "content", publish_new=True)
        summary = load_activity(seed=2024)
        db.session.commit()
        assert summary is not None
        yield {"app": app, "summary": summary}
        db.session.remove()
        if PG_URL:
            _empty_pg_tables()
        db.engine.dispose()


@pytest.fixture
def app(demo: dict[str, Any]) -> Flask:
    return demo["app"]


@pytest.fixture
def client(app: Flask):
    app.test_client_class = IsolatedClient
    return app.test_client()


def sign_in(client, username: str, locale: str = "en") -> None:
    user = db.session.scalar(select(User).where(User.username == username))
    user.locale = locale
    db.session.commit()
    assert AuthActions(client).login(username, DEMO_PASSWORD).status_code == 302


def the_plan() -> Plan:
    return db.session.scalar(select(Plan).where(Plan.status == "active"))


def province() -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == "SH"))


def statuses(html: str) -> list[str]:
    """The status of each agency row of a plan dashboard, in order."""
    return re.findall(r'<tr id="agency-\d+" class="row-([a-z_]+)"', html)


def test_plan_dashboard_shows_exactly_three_agencies_behind(client, demo):
    sign_in(client, "hr")
    plan = the_plan()
    html = client.get(f"/reports/plans/{plan.id}?agency={province().id}").get_data(as_text=True)
    rows = statuses(html)
    assert rows.count("behind") == 3, rows
    judged = [r for r in rows if r != "no_data"]  # units with no officer in the target group
    assert rows.count("on_track") > len(judged) / 2, "most units should be on track"
    banner = re.search(r'<p class="flash flash-error">(.*?)</p>', html, re.S).group(1)
    named = re.findall(r'<a href="#agency-(\d+)">', banner)
    codes = {db.session.get(Agency, int(i)).code for i in named}
    assert codes == set(demo["summary"].behind) and len(codes) == 3
    # The province as a whole is not flagged as behind on the first page.
    top = client.get(f"/reports/plans/{plan.id}").get_data(as_text=True)
    assert statuses(top) and "behind" not in statuses(top)


def test_the_plan_includes_the_cotu_edition_and_counts_it_toward_the_language_target(client, demo):
    """The seed plan's 15-20% target: the Cơ Tu (ktv) glossary is one of the plan's courses, read and
    completed (by reading: it has no final test) like the others, and the dashboard counts it apart."""
    from lms.catalog.models import Course

    katu = db.session.scalar(select(Course).where(Course.key == "katu-spokesperson-glossary"))
    assert "ktv" in katu.languages and katu.final_quiz_key is None
    plan = the_plan()
    assert katu.id in {pc.course_id for pc in plan.courses}
    done = db.session.scalar(select(func.count()).select_from(CourseCompletion)
                             .where(CourseCompletion.course_id == katu.id))
    assert done > 5
    sign_in(client, "hr")
    html = client.get(f"/reports/plans/{plan.id}").get_data(as_text=True)
    assert "in ethnic-minority languages: 1</li>" in html


def test_units_behind_have_overdue_courses_and_a_remind_button(client, demo):
    sign_in(client, "hr")
    plan = the_plan()
    unit = db.session.scalar(select(Agency).where(Agency.code == demo["summary"].behind[0]))
    html = client.get(f"/reports/plans/{plan.id}?agency={unit.id}").get_data(as_text=True)
    overdue = int(report_totals(html)["overdue"])
    assert overdue > 0
    assert f"/reports/agencies/{unit.id}/remind" in html


def test_agency_report_totals_equal_the_api(client, demo):
    sign_in(client, "hr")
    plan, root = the_plan(), province()
    html = client.get(f"/reports/agencies?agency={root.id}&plan={plan.id}").get_data(as_text=True)
    page = report_totals(html)
    hr = db.session.scalar(select(User).where(User.username == "hr"))
    token = api_services.create_token(hr, "demo")[1]
    db.session.commit()
    api = client.get(f"/api/v1/completion/agencies?agency={root.code}&plan={plan.id}",
                     headers={"Authorization": f"Bearer {token}"}).json["total"]
    counts = ("officers", "assigned", "completed", "completed_elsewhere", "in_progress", "not_started", "overdue")
    number = {k: Decimal(v.replace(",", "").replace("%", "")) for k, v in page.items() if k != "average_score"}
    assert [number[k] for k in counts] == [Decimal(api[k]) for k in counts]
    assert number["completion_rate"] == Decimal(str(round(api["completion_rate"] * 100, 1)))
    assert api["completed"] > api["in_progress"] > 0 and api["overdue"] > 0


def test_every_completion_of_a_course_with_certificates_has_one_that_verifies(client, demo):
    from lms.catalog.models import Course

    certifying = [c.id for c in db.session.scalars(select(Course)) if (c.certificate or {}).get("enabled")]
    completions = db.session.scalar(select(func.count()).select_from(CourseCompletion)
                                    .where(CourseCompletion.course_id.in_(certifying)))
    certificates = list(db.session.scalars(select(Certificate)))
    assert completions > 0 and len(certificates) == completions
    assert db.session.scalar(select(func.count()).select_from(CertificatePdf)) == 0, "PDFs render lazily"
    valid = next(c for c in certificates if c.status == "valid")
    facts = client.get(f"/verify/{valid.code}.json").json
    assert facts["state"] == "valid" and facts["holder_name"] == valid.holder_name
    revoked = [c for c in certificates if c.status == "revoked"]
    assert len(revoked) == 1 and revoked[0].revoked_reason
    assert client.get(f"/verify/{revoked[0].code}.json").json["state"] == "revoked"


def test_the_officer_is_mid_course_with_a_certificate_expiring_soon_and_a_notice(client, demo):
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    mine = {c.course_key: c for c in db.session.scalars(select(Certificate).where(Certificate.user_id == officer.id))}
    assert set(mine) == {"hr-foundations", "misinformation-response"}
    expiring = client.get(f"/verify/{mine['misinformation-response'].code}.json").json
    assert expiring["state"] == "valid"
    enrollments = list(db.session.scalars(select(Enrollment).where(Enrollment.user_id == officer.id)))
    assert any(e.last_lesson_id is not None for e in enrollments)
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.user_id == officer.id,
                                                                             Notice.reason == "cert_expiring")) == 1
    sign_in(client, "officer")
    home = client.get("/").get_data(as_text=True)
    assert "expires on" in home


def test_quiz_results_vary_and_item_analysis_flags_hard_questions(client, demo):
    scores = [s for s in db.session.scalars(select(Attempt.score).where(Attempt.status == "graded"))]
    failed = db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.passed.is_(False)))
    assert failed > 0 and len(set(scores)) > 5
    quizzes = db.session.scalars(select(Quiz).where(Quiz.key.in_(["m1-quiz", "m2-quiz"]),
                                                    Quiz.course.has(key="hr-foundations"))).all()
    sign_in(client, "trainer")
    pages = [client.get(f"/quizzes/{quiz.id}/analysis").get_data(as_text=True) for quiz in quizzes]
    assert sum("Too hard" in html for html in pages) == 2  # one hard question in each module quiz


def test_one_essay_waits_in_the_grading_queue(demo):
    trainer = db.session.scalar(select(User).where(User.username == "trainer"))
    assert len(db.session.scalars(quiz_queries.grading_queue_query(trainer)).all()) == 1


def test_a_second_run_adds_nothing(app, demo):
    tables = (CourseCompletion, Certificate, Attempt, Plan, Notice, User)
    before = {t: db.session.scalar(select(func.count()).select_from(t)) for t in tables}
    assert load_activity(seed=2024) is None
    result = app.test_cli_runner().invoke(args=["demo", "--officers", "60"])
    assert result.exit_code == 0, result.output
    assert "nothing added" in result.output
    assert {t: db.session.scalar(select(func.count()).select_from(t)) for t in tables} == before


def _shipped_questions() -> Iterator[Any]:
    for course in loader.load_content(ROOT / "content").courses:
        for banks in course.banks.values():
            for bank in banks:
                yield from bank.questions


def test_the_demo_answers_every_shipped_question_type_right_for_full_marks_and_wrong_for_less():
    """The demo year's scores come from answers built per type; a type it cannot answer would score 0."""
    import random

    from lms.demo import _Replay
    from lms.questionformat.questions import question_to_dict
    from lms.quizzes import grading, presentation

    replay = _Replay.__new__(_Replay)  # _answer needs only the random source
    replay.rng = random.Random(7)
    seen = set()
    for question in _shipped_questions():
        if question.type in ("essay", "description"):
            continue
        seen.add(question.type)
        snapshot = question_to_dict(question)
        order = presentation.presenter(snapshot).permute(snapshot, random.Random(3), True)
        slot = {"question": snapshot, "order": order}

        def fraction(right: bool, snapshot=snapshot, order=order, slot=slot) -> float:
            values = replay._answer(slot, right, "vi")
            return grading.grade(snapshot, presentation.response_from_form(snapshot, order, values)).fraction

        assert fraction(True) == pytest.approx(1.0), question.name
        assert fraction(False) < 0.99, question.name
    assert "ordering" in seen  # a real course ships one (misinformation-response, m2-sift-order)


def test_the_pairs_keep_what_their_progress_and_completions_say(app, demo):
    """The bulk writer bypasses the ORM: it refreshes the pairs' report columns itself (tests/pairs.py)."""
    assert stale_pairs() == {}


def test_the_report_pass_over_stored_pairs_counts_what_the_live_join_counts(app, demo):
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
