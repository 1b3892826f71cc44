"""The administrator's home shows the installation's health: daily jobs, failed and waiting tasks,
undelivered reminder e-mails, the last backup (and a warning when it is too old or the last run failed),
and the e-mail outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from lms.backup import BackupRun
from lms.db import utcnow
from lms.extensions import db
from lms.mail import OutboxMail
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
    assert "none recorded" in panel and "No successful backup in the last 26 hours" in panel
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


def _backup(hours_ago: float, *, ok: bool = True, name: str = "lms.backup", message: str = "") -> BackupRun:
    when = utcnow() - timedelta(hours=hours_ago)
    run = BackupRun(started_at=when - timedelta(minutes=1), finished_at=when, ok=ok, path=f"/srv/backups/{name}",
                    size_bytes=5 * 1048576 if ok else None, message=message)
    db.session.add(run)
    return run


def _panel(client, auth, username: str) -> str:
    auth.login(username)
    html = client.get("/").get_data(as_text=True)
    return html.split('id="health-title"')[1].split("</section>")[0]


def _admin(username: str, locale: str = "en") -> None:
    f.user(username, roles={"admin"}).locale = locale


@pytest.mark.parametrize("app_config", [{"BACKUP_MAX_AGE_HOURS": 2}])
def test_the_panel_shows_the_last_backup_and_warns_once_it_is_older_than_backup_max_age_hours(client, auth, app):
    _admin("admin.backup")
    _backup(1, name="lms-fresh.backup")
    db.session.commit()
    panel = _panel(client, auth, "admin.backup")
    assert "lms-fresh.backup" in panel and "5.0 MB" in panel and "1 hour ago" in panel
    assert "too old" not in panel and "tag-bad" not in panel.split("Daily jobs")[0]

    db.session.execute(text("DELETE FROM backup_run"))
    _backup(3, name="lms-old.backup")
    db.session.commit()
    panel = _panel(client, auth, "admin.backup")
    assert "lms-old.backup" in panel and "3 hours ago" in panel
    assert "too old" in panel and "No successful backup in the last 2 hours" in panel


def test_the_panel_warns_when_the_last_backup_run_failed_and_still_shows_the_last_good_one(client, auth, app):
    _admin("admin.backup2")
    _backup(5, name="lms-good.backup")
    _backup(0.1, ok=False, name="lms-bad.backup", message="pg_dump failed: disk full")
    db.session.commit()
    panel = _panel(client, auth, "admin.backup2")
    assert "lms-good.backup" in panel  # the last one that worked, with its age
    assert "failed" in panel and "pg_dump failed: disk full" in panel


def test_the_panel_counts_waiting_and_failed_e_mails_with_the_last_error(client, auth, app):
    _admin("admin.mail")
    db.session.add_all([
        OutboxMail(kind="reminder", to_address="cho@sonha.test", state="pending"),
        OutboxMail(kind="reminder", to_address="sai@sonha.test", state="failed",
                   last_error="SMTPRecipientsRefused: 550 no such user"),
        OutboxMail(kind="reminder", to_address="cu@sonha.test", state="failed", last_error="old",
                   created_at=utcnow() - timedelta(days=30)),  # outside the 7 days
        OutboxMail(kind="reminder", to_address="da.gui@sonha.test", state="sent"),
    ])
    db.session.commit()
    panel = _panel(client, auth, "admin.mail")
    waiting = panel.split("E-mails waiting to be sent")[1].split("</dd>")[0]
    failed = panel.split("E-mails that could not be sent (7 days)")[1].split("</dd>")[0]
    assert ">1<" in waiting and ">1<" in failed
    assert "sai@sonha.test" in failed and "550 no such user" in failed and "cu@sonha.test" not in failed


def test_the_panel_in_vietnamese(client, auth, app):
    _admin("admin.vi", locale="vi")
    _backup(30)
    db.session.add(OutboxMail(kind="reminder", to_address="sai@sonha.test", state="failed", last_error="550"))
    db.session.commit()
    panel = _panel(client, auth, "admin.vi")
    assert "30 giờ trước" in panel and "quá cũ" in panel and "Không có bản sao lưu thành công" in panel
    assert "Email không gửi được (7 ngày qua)" in panel


def _home_statements(client, count_queries) -> int:
    client.get("/")
    with count_queries() as counter:
        assert client.get("/").status_code == 200
    return counter.count


def test_the_admin_home_runs_as_many_statements_with_30_backups_and_e_mails_as_with_1(
        client, auth, app, count_queries):
    _admin("admin.n1")
    _backup(1)
    _backup(0.5, ok=False, message="boom")
    db.session.add_all([OutboxMail(kind="reminder", to_address="a@sonha.test", state=s, last_error="x")
                        for s in ("pending", "failed", "sent")])
    db.session.commit()
    auth.login("admin.n1")
    few = _home_statements(client, count_queries)
    for i in range(29):
        _backup(2 + i, name=f"lms-{i}.backup")
        _backup(2.5 + i, ok=False, message=f"boom {i}")
        db.session.add_all([OutboxMail(kind="reminder", to_address=f"a{i}@sonha.test", state=s, last_error="x")
                            for s in ("pending", "failed", "sent", "sending")])
    db.session.commit()
    many = _home_statements(client, count_queries)
    assert few == many
