"""The administrator's home shows the installation's health: daily jobs, failed and waiting tasks,
undelivered reminder e-mails, and says plainly that backups are not recorded."""

from __future__ import annotations

from lms.db import utcnow
from lms.extensions import db
from lms.tasks.models import TaskRun
from tests import factories as f


def test_admin_home_shows_failed_tasks_the_last_daily_run_and_what_is_waiting(client, auth, app):
    admin = f.user("admin.health", roles={"admin"})
    admin.locale = "en"
    f.user("officer.health")
    db.session.add_all([
        TaskRun(name="jobs.daily", key="jobs.daily:2026-12-01", state="done", finished_at=utcnow()),
        TaskRun(name="org.apply_import", state="failed", error="boom", finished_at=utcnow()),
        TaskRun(name="certificates.render_chunk", state="queued"),
    ])
    db.session.commit()
    auth.login("admin.health")
    html = client.get("/").get_data(as_text=True)
    panel = html.split('id="health-title"')[1].split("</section>")[0]
    assert "Importing officers" in panel and "/tasks/" in panel  # the failed run, one click away
    assert "finished" in panel  # the last daily run
    assert "Not recorded by lms" in panel  # backups: said plainly, not guessed
    assert "Tasks waiting or running</dt>\n    <dd>1</dd>" in panel
    auth.logout()
    auth.login("officer.health")
    assert "Installation health" not in client.get("/").get_data(as_text=True)


def test_admin_home_says_when_the_daily_jobs_never_ran(client, auth, app, count_queries):
    f.user("admin.health2", roles={"admin"}).locale = "en"
    db.session.commit()
    auth.login("admin.health2")
    client.get("/")
    with count_queries() as counter:
        html = client.get("/").get_data(as_text=True)
    assert "never run" in html
    assert counter.count < 40
