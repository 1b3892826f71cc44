"""The e-mail outbox (lms.mail): an e-mail is written with the change that causes it and sent after the
commit, at most once per row; a rollback sends nothing; a temporary SMTP failure is retried with
back-off, a permanent one is failed at once; a claim left by a sender that died is never sent again."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from types import SimpleNamespace

import click
import pytest
from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import undefer

from lms import mail, transaction
from lms.db import utcnow
from lms.extensions import db
from lms.mail import MailState, OutboxMail
from tests import smtp_fake


@pytest.fixture
def smtp():
    with smtp_fake.running() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "lms@sonha.test",
            "MAIL_RETRY_SECONDS": 60, "MAIL_MAX_ATTEMPTS": 3}


def _message(to: str = "dao.ntb@sonha.test", subject: str = "Nhắc việc") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Khóa học sắp đến hạn.")
    return message


def _rows() -> list[SimpleNamespace]:
    """The outbox as plain values; the test's transaction ends (on SQLite it would hold the write lock
    that the outbox's own session needs)."""
    db.session.expire_all()
    rows = [SimpleNamespace(**{c.key: getattr(r, c.key) for c in OutboxMail.__table__.columns})
            for r in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)
                                        .options(undefer(OutboxMail.message)))]
    db.session.commit()
    return rows


def _deliver(**kwargs) -> mail.Delivery:
    db.session.commit()
    return mail.deliver_due(**kwargs)


def _add_later(to: str = "dao.ntb@sonha.test") -> int:
    """A pending row written straight to the table (not sent by a commit hook)."""
    message = _message(to)
    message["From"] = "lms@sonha.test"
    row = OutboxMail(kind="reminder", to_address=to, subject="x", message=message.as_bytes())
    db.session.add(row)
    db.session.flush()
    row_id = row.id
    db.session.info.pop("lms_mail_outbox", None)
    db.session.commit()
    return row_id


def test_an_e_mail_is_sent_once_after_the_commit_and_its_body_is_not_kept(app, smtp):
    mail.add(_message(), kind="reminder")
    db.session.flush()
    assert smtp.messages == []  # nothing leaves before the commit
    db.session.commit()
    assert len(smtp.messages) == 1 and b"dao.ntb@sonha.test" in smtp.messages[0]
    [row] = _rows()
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    assert row.message is None  # a reset link does not stay in the database once it left


def test_one_row_is_never_sent_twice(app, smtp):
    mail.add(_message(), kind="reminder")
    db.session.commit()
    assert _deliver() == mail.Delivery()  # a second delivery (a redelivered message) finds nothing
    db.session.commit()
    mail.deliver_task()
    assert len(smtp.messages) == 1
    # A row another sender has claimed (state 'sending') is not taken again.
    row_id = _add_later()
    db.session.execute(OutboxMail.__table__.update().where(OutboxMail.id == row_id)
                       .values(state="sending", claimed_at=utcnow()))
    db.session.commit()
    assert _deliver() == mail.Delivery()
    assert len(smtp.messages) == 1 and _rows()[1].state == "sending"


def test_a_stale_sending_claim_is_failed_and_not_resent(app, smtp):
    row_id = _add_later()
    db.session.execute(OutboxMail.__table__.update().where(OutboxMail.id == row_id)
                       .values(state="sending", claimed_at=utcnow() - timedelta(minutes=20), attempts=1))
    db.session.commit()
    _deliver()
    _deliver(now=utcnow() + timedelta(days=1))
    [row] = _rows()
    assert row.state == "failed" and "not sent again" in row.last_error
    assert smtp.messages == []


def test_a_temporary_failure_is_retried_with_back_off_and_recorded(app, smtp):
    smtp.replies["RCPT"] = [b"451 4.7.1 greylisted, try again later", b"451 4.3.0 still busy"]
    mail.add(_message(), kind="reminder")
    db.session.commit()
    [row] = _rows()
    assert row.state == "pending" and row.attempts == 1 and "451" in row.last_error
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < first_wait <= timedelta(seconds=60)  # MAIL_RETRY_SECONDS
    assert _deliver() == mail.Delivery()  # not due yet
    assert _deliver(now=utcnow() + timedelta(seconds=61)).retrying == 1
    [row] = _rows()
    assert timedelta(seconds=230) < row.next_attempt_at - utcnow() <= timedelta(seconds=240)  # x4
    assert _deliver(now=utcnow() + timedelta(seconds=241)).sent == 1
    [row] = _rows()
    assert row.state == "sent" and row.attempts == 3 and row.last_error == ""
    assert len(smtp.messages) == 1


def test_a_temporary_failure_fails_for_good_after_mail_max_attempts(app, smtp):
    smtp.replies["DATA"] = [b"452 4.3.1 mailbox full"] * 5
    mail.add(_message(), kind="reminder")
    db.session.commit()
    for _ in range(4):
        _deliver(now=utcnow() + timedelta(days=1))
    [row] = _rows()
    assert row.state == "failed" and row.attempts == 3 and "452" in row.last_error  # MAIL_MAX_ATTEMPTS
    assert smtp.messages == []


def test_a_permanent_failure_is_failed_at_once_and_does_not_stop_the_others(app, smtp):
    smtp.replies["RCPT"] = [b"550 5.1.1 no such user"]
    mail.add(_message("khong.co@sonha.test"), kind="reminder")
    mail.add(_message("co.that@sonha.test"), kind="reminder")
    db.session.commit()
    refused, delivered = _rows()
    assert refused.state == "failed" and refused.attempts == 1 and "550" in refused.last_error
    assert delivered.state == "sent"
    _deliver(now=utcnow() + timedelta(days=1))
    assert len(smtp.messages) == 1 and b"co.that@" in smtp.messages[0]


def test_an_address_the_server_cannot_take_fails_that_row_only(app, smtp):
    mail.add(_message("nguyễn@sonha.test"), kind="reminder")  # non-ASCII, and the fake has no SMTPUTF8
    mail.add(_message("nguyen@sonha.test"), kind="reminder")
    db.session.commit()
    odd, plain = _rows()
    assert odd.state == "failed" and plain.state == "sent"


def test_an_unreachable_server_leaves_every_row_waiting_for_its_retry(app, smtp):
    port = smtp.port
    smtp.shutdown()
    smtp.server_close()
    app.config["MAIL_PORT"] = port
    mail.add(_message(), kind="reminder")
    db.session.commit()  # the commit stands although the delivery after it failed
    [row] = _rows()
    assert row.state == "pending" and row.attempts == 1 and row.last_error


def test_a_request_that_rolls_back_sends_nothing(app, client, smtp):
    def view():
        mail.add(_message(), kind="reminder")
        db.session.flush()
        abort(409)

    def committed_view():
        mail.add(_message("gui.duoc@sonha.test"), kind="reminder")
        return "ok"

    app.add_url_rule("/_test/mail-then-fail", "test_mail_then_fail", view, methods=["POST"])
    app.add_url_rule("/_test/mail", "test_mail", committed_view, methods=["POST"])
    assert client.post("/_test/mail-then-fail").status_code == 409
    assert _rows() == [] and smtp.messages == []
    db.session.commit()  # a later commit of another unit of work sends nothing left over either
    assert smtp.messages == []
    assert client.post("/_test/mail").status_code == 200
    assert len(smtp.messages) == 1 and b"gui.duoc@" in smtp.messages[0]


def test_a_command_that_fails_sends_nothing(app, runner, smtp):
    @click.command("mail-then-fail", cls=transaction.Command)
    def failing() -> None:
        mail.add(_message(), kind="reminder")
        db.session.flush()
        raise click.ClickException("refused")

    result = runner.invoke(failing)
    assert result.exit_code != 0 and "refused" in result.output
    assert _rows() == [] and smtp.messages == []


def test_without_a_mail_server_rows_wait_and_nothing_fails(app, smtp):
    row_id = _add_later()
    app.config["MAIL_SERVER"] = None
    assert _deliver() == mail.Delivery()
    assert [r.state for r in _rows()] == [MailState.pending.value]
    assert row_id


def test_prune_deletes_only_sent_rows_older_than_90_days(app, smtp):
    mail.add(_message(), kind="reminder")
    db.session.commit()
    old = _add_later()
    db.session.execute(OutboxMail.__table__.update().where(OutboxMail.id == old)
                       .values(state="sent", sent_at=utcnow() - timedelta(days=91)))
    failed = _add_later()
    db.session.execute(OutboxMail.__table__.update().where(OutboxMail.id == failed)
                       .values(state="failed", created_at=utcnow() - timedelta(days=200)))
    db.session.commit()
    assert mail.prune() == 1
    db.session.commit()
    assert [r.state for r in _rows()] == ["sent", "failed"]
