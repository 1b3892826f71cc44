"""Reminders: `flask jobs run` e-mails (through a local SMTP server started here) and notifies officers
with courses due soon or overdue, exactly once however often it runs."""

from __future__ import annotations

import socketserver
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.progress.models import AssignedCourse
from lms.reports.models import Notice, ReminderLog
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive messages: HELO/EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 test SMTP\r\n")
        data_mode, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    self.server.messages.append(b"".join(lines))  # type: ignore[attr-defined]
                    lines, data_mode = [], False
                    self.wfile.write(b"250 OK\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line[:4].upper()
            if command == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.server_address[1], "MAIL_FROM": "lms@sonha.test"}


def test_jobs_run_emails_and_notifies_once(app, runner, smtp_server):
    agency = f.agency()
    admin = f.user(agency=agency, roles={"admin"})
    soon = f.user("soon", agency=agency, email="soon@sonha.test")
    late = f.user("late", agency=agency, email="late@sonha.test")
    done = f.user("done", agency=agency, email="done@sonha.test")
    c = course("nhan-quyen")
    fr.plan(admin, courses=[c], users=[soon, late, done], due=date.today() + timedelta(days=3))
    fr.complete(done, c)
    late_row = db.session.get(AssignedCourse, (late.id, c.id))
    late_row.due_date = date.today() - timedelta(days=2)
    admin_row = db.session.get(AssignedCourse, (admin.id, c.id))
    assert admin_row is None
    db.session.commit()

    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 2 e-mail(s) queued for sending" in result.output
    messages = [message_from_bytes(m, policy=policy.default) for m in smtp_server.messages]
    recipients = sorted(m["To"].addresses[0].addr_spec for m in messages)
    assert recipients == ["late@sonha.test", "soon@sonha.test"]
    late_mail = next(m for m in messages if "late@" in str(m["To"]))
    assert "Quá hạn" in late_mail["Subject"]  # in the officer's language
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 2

    # Running again sends nothing: the reminder log remembers each (officer, reason, course, due date).
    result = runner.invoke(args=["jobs", "run"])
    assert "0 sent" in result.output
    assert len(smtp_server.messages) == 2
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) == 2


def test_reports_completions_cli_writes_each_format(app, runner, tmp_path):
    data = fr.province(departments=2, officers_per_agency=3)
    db.session.commit()
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(args=["reports", "completions", "--plan", str(data.plan.id), "--agency",
                                     data.root.code, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    result = runner.invoke(args=["reports", "completions", "--agency", "NOPE", "--format", "csv",
                                 "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "no agency with code NOPE" in result.output


def test_reminder_emails_carry_the_due_date_as_a_calendar_attachment(app, runner, smtp_server):
    from icalendar import Calendar

    agency = f.agency()
    admin = f.user(agency=agency, roles={"admin"})
    soon = f.user("soon.ics", agency=agency, email="soon.ics@sonha.test")
    c = course("lich-han")
    due = date.today() + timedelta(days=3)
    fr.plan(admin, courses=[c], users=[soon], due=due)
    db.session.commit()
    assert runner.invoke(args=["jobs", "run"]).exit_code == 0
    message = message_from_bytes(smtp_server.messages[-1], policy=policy.default)
    attachments = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(attachments) == 1 and attachments[0].get_filename() == "due-date.ics"
    cal = Calendar.from_ical(attachments[0].get_payload(decode=True))
    event = next(iter(cal.walk("VEVENT")))
    assert event.decoded("dtstart") == due
    assert str(event["uid"]) == f"due-{soon.id}-{c.key}@lms"  # the same event as in the calendar feed
    assert "Hạn hoàn thành" in str(event["summary"])
    # The text of the message is still there, first.
    assert message.get_body(("plain",)).get_content().strip()
