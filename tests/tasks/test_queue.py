"""Tasks on the embedded default (no queue): they run in-process, idempotently, with visible progress."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from lms.certificates import services
from lms.certificates import tasks as certificate_tasks
from lms.certificates.models import Certificate, CertificatePdf
from lms.extensions import db
from lms.tasks import daily, queue
from lms.tasks.models import TaskRun, TaskState
from tests import factories as f
from tests.certificates import factories_certificates as cf


@pytest.fixture
def app_config():
    return {"TASKS_IN_THREAD": False}  # run tracked tasks inside the call, to check their outcome


@pytest.fixture
def fast_pdf(monkeypatch):
    """A renderer that returns at once: these tests are about who renders, not how."""
    rendered = []

    def fake(data, **_kwargs):
        rendered.append(data.code)
        urls.append(data.verification_url)
        return b"%PDF-1.7 " + data.code.encode()

    urls: list[str] = []
    monkeypatch.setattr(services, "render_certificate_pdf", fake)
    fake.urls = urls
    return rendered


def _pdf_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CertificatePdf))


def test_without_a_queue_a_bulk_render_runs_in_the_request_and_its_page_says_done(
        client, auth, app, fast_pdf, monkeypatch):
    # Without PUBLIC_BASE_URL the QR codes point at the address the request came to, as before.
    app.config["PUBLIC_BASE_URL"] = None
    urls = services.render_certificate_pdf.urls
    f.user("root", roles={"officer", "admin"})
    course = cf.course()
    for _ in range(13):
        cf.certified(f.user(), course)
    db.session.commit()
    auth.login("root")
    response = client.post("/certificates/manage/render")
    assert response.status_code == 302
    run = db.session.scalars(select(TaskRun)).one()
    assert (run.state, run.total, run.done, run.failed) == ("done", 13, 13, 0)
    assert _pdf_count() == 13
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã xong" in page and "13" in page
    assert client.get(f"/tasks/{run.id}.json").get_json()["percent"] == 100
    again = client.post("/certificates/manage/render", follow_redirects=True)
    assert "đều đã có bản PDF" in again.get_data(as_text=True)
    assert len(fast_pdf) == 13
    assert len(urls) == 13 and all(u.startswith("http://lms.test/verify/") for u in urls)


def test_a_chunk_delivered_twice_renders_and_counts_its_certificates_once(app, fast_pdf):
    course = cf.course()
    ids = [cf.certified(f.user(), course).id for _ in range(4)]
    db.session.commit()
    run = queue.start_fan_out("certificates.render_chunk", [], total=4)
    run.state = TaskState.running.value
    db.session.commit()
    certificate_tasks.render_chunk(run.id, ids)
    certificate_tasks.render_chunk(run.id, ids)  # a redelivered message
    db.session.expire_all()
    run = db.session.get(TaskRun, run.id)
    assert (run.done, run.failed, run.state) == (4, 0, "done")
    assert len(fast_pdf) == 4 and _pdf_count() == 4


def test_a_certificate_that_cannot_be_rendered_is_counted_as_failed_not_lost(app, monkeypatch):
    course = cf.course()
    ids = [cf.certified(f.user(), course).id for _ in range(2)]
    db.session.commit()

    def broken(*_a, **_k):
        raise services.CertificateRenderError("seal missing")

    monkeypatch.setattr(services, "render_certificate_pdf", broken)
    run = certificate_tasks.start_bulk_render(ids)
    run = db.session.get(TaskRun, run.id)
    assert (run.done, run.failed, run.state) == (0, 2, "done")
    assert all(c.render_error for c in db.session.scalars(select(Certificate)))


def test_the_daily_jobs_start_once_per_day_however_often_they_are_asked(app, monkeypatch):
    calls = []
    monkeypatch.setattr(daily, "run_daily_jobs", lambda: calls.append(1) or {"reminders_sent": 0})
    first = daily.start_daily(date(2026, 12, 3))
    second = daily.start_daily(date(2026, 12, 3))
    assert first.id == second.id and calls == [1]
    assert db.session.get(TaskRun, first.id).state == "done"
    daily.start_daily(date(2026, 12, 4))
    assert calls == [1, 1]


def test_a_failing_tracked_task_is_marked_failed_with_its_error(app, monkeypatch):
    def boom():
        raise RuntimeError("SMTP is down")

    monkeypatch.setattr(daily, "run_daily_jobs", boom)
    run = daily.start_daily(date(2026, 12, 5))
    run = db.session.get(TaskRun, run.id)
    assert run.state == "failed" and "SMTP is down" in run.error and run.attempts == 1


def test_a_task_page_is_only_for_whoever_started_it_and_admins(client, auth, app, fast_pdf):
    owner = f.user("hr1", roles={"officer", "hr"}, hr_all=True)
    f.user("hr2", roles={"officer", "hr"}, hr_all=True)
    f.user("root", roles={"officer", "admin"})
    run = queue.start_fan_out("certificates.render_chunk", [], total=0, user=owner)
    for name, status in (("hr2", 403), ("hr1", 200), ("root", 200)):
        auth.login(name)
        assert client.get(f"/tasks/{run.id}").status_code == status, name
        assert client.get(f"/tasks/{run.id}.json").status_code == status, name
        auth.logout()
    assert client.get(f"/tasks/{run.id}").status_code in (302, 401)


def test_work_queued_on_commit_is_sent_only_if_the_transaction_commits(app, monkeypatch):
    sent = []

    class Actor:
        def __init__(self, name):
            self.name = name

        def send(self, *args):
            sent.append((self.name, args))

    state = queue._QueueState(broker=None, actors={n: Actor(n) for n in queue.REGISTRY}, redis=None,
                              namespace="t")
    app.config["REDIS_URL"] = "redis://unused"
    app.extensions["lms_tasks"] = state
    try:
        course = cf.course()
        db.session.commit()
        cf.certified(f.user(), course)
        db.session.rollback()
        assert sent == []
        certificate = cf.certified(f.user(), course)
        assert sent == []  # not before the commit: the worker would not find the row
        db.session.commit()
        assert sent == [("certificates.render", (certificate.id,))]
    finally:
        app.config["REDIS_URL"] = None
        del app.extensions["lms_tasks"]


def test_without_a_queue_a_tracked_run_goes_on_in_a_thread_and_its_page_shows_progress(
        app, fast_pdf):
    import time

    app.config["TASKS_IN_THREAD"] = True
    course = cf.course()
    ids = [cf.certified(f.user(), course).id for _ in range(3)]
    db.session.commit()
    run = certificate_tasks.start_bulk_render(ids)
    deadline = time.monotonic() + 90  # generous: the loop ends as soon as the run is done
    while time.monotonic() < deadline:
        db.session.rollback()
        state = db.session.get(TaskRun, run.id).state
        db.session.rollback()  # never sleep inside a transaction: on SQLite it can hold the write lock
        if state == "done":
            break
        time.sleep(0.1)
    run = db.session.get(TaskRun, run.id)
    assert (run.state, run.done) == ("done", 3)
    assert _pdf_count() == 3


def test_a_bulk_render_chunk_renders_without_holding_the_sqlite_write_lock(app, monkeypatch):
    """make scan: a bulk render of ten PDFs in one write transaction kept every other writer waiting
    past the busy timeout. While the chunk renders, another connection takes the write lock at once."""
    import sqlite3

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    course = cf.course()
    ids = [cf.certified(f.user(), course).id for _ in range(3)]
    db.session.commit()
    path = db.engine.url.database
    others_could_write = []

    def render(certificate, **_kw):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError:
            others_could_write.append(False)
        finally:
            other.close()
        return b"%PDF-1.7 test"

    monkeypatch.setattr(services, "render_certificate", render)
    run = queue.start_fan_out("certificates.render_chunk", [], total=3)
    run.state = TaskState.running.value
    db.session.commit()
    certificate_tasks.render_chunk(run.id, ids)
    db.session.expire_all()
    run = db.session.get(TaskRun, run.id)
    assert others_could_write == [True, True, True]
    assert (run.done, run.failed, run.state) == (3, 0, "done") and _pdf_count() == 3
