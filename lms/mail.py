"""The e-mail outbox: every e-mail lms sends is first a row of ``mail_outbox``.

A service that causes an e-mail (a reminder, a password-reset link) calls :func:`add` inside its own
unit of work: the row is committed with the change that caused it, or rolled back with it, so a request
that fails sends nothing and a committed change never loses its e-mail. Once the transaction commits,
the task ``mail.deliver`` sends what is due: on the queue when ``REDIS_URL`` is set, otherwise here and
now in the committing process (as e-mails were sent before there was an outbox).

Sending is at most once per row. A sender first *claims* a row (one UPDATE from ``pending`` to
``sending``, committed before the SMTP conversation starts), so two workers, a redelivered message or a
retry never send the same row twice. A temporary failure puts the row back to ``pending`` with the
error and a later ``next_attempt_at`` (back-off ×4 from ``MAIL_RETRY_SECONDS``), up to
``MAIL_MAX_ATTEMPTS``; a permanent one (the address refused, a 5xx answer) marks it ``failed`` at once.
A row left in ``sending`` by a process that died mid-conversation is marked failed, not retried: it may
have been delivered, and sending it twice is the worse mistake. The scheduler sweeps due retries every
minute; the administrator's home page counts what waits and what failed.

The outbox does its own bookkeeping in a session of its own, committed row by row, never inside the
caller's transaction (which has already committed when delivery starts).
"""

from __future__ import annotations

import enum
import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column, undefer

from lms.db import UTCDateTime, affected_rows, utcnow
from lms.extensions import Model, db
from lms.tasks import queue

log = logging.getLogger(__name__)

DELIVER = "mail.deliver"
BATCH = 50  # rows one delivery sends at most (the sweep picks up the rest a minute later)
STALE_SENDING = timedelta(minutes=15)  # a claim this old without an outcome: the sender died
_INFO_KEY = "lms_mail_outbox"


class MailState(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class OutboxMail(Model):
    """One e-mail to send: the whole message as it goes on the wire, and what became of it."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "reminder", "password_reset"
    to_address: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    # Emptied once sent: a reset link has no business staying in the database after it left.
    message: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    state: Mapped[str] = mapped_column(String(20), default=MailState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("state IN ('pending','sending','sent','failed')", name="state"),
        Index("ix_mail_outbox_state_next_attempt_at", "state", "next_attempt_at"),
    )


def configured(config: Mapping[str, Any] | None = None) -> bool:
    """Whether a mail server is set (without one, services write no e-mails: nobody could send them)."""
    return bool((config if config is not None else current_app.config).get("MAIL_SERVER"))


def add(message: EmailMessage, *, kind: str, user_id: int | None = None) -> OutboxMail:
    """Write ``message`` to the outbox in the current unit of work; it is sent after the commit."""
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain="lms")
    if not message["From"]:
        message["From"] = current_app.config.get("MAIL_FROM") or "lms@localhost"
    recipients = [addr for _name, addr in getaddresses(message.get_all("To", []))]
    if not recipients:
        raise ValueError("an outbox e-mail needs a To address")
    row = OutboxMail(kind=kind, to_address=", ".join(recipients)[:320], user_id=user_id,
                     subject=str(message["Subject"] or "")[:500],
                     message=message.as_bytes(policy=email_policy.SMTP), next_attempt_at=utcnow())
    db.session.add(row)
    db.session.info[_INFO_KEY] = True
    queue.on_commit(DELIVER)  # with a queue: a worker sends it once this transaction commits
    return row


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    if not session.info.pop(_INFO_KEY, False) or not has_app_context() or queue.queued():
        return
    try:
        deliver_due()  # no queue: send here, in a session of its own (this one has just committed)
    except Exception:  # noqa: BLE001 - the commit stands; the rows wait for the sweep
        log.exception("e-mail delivery after commit failed")


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_INFO_KEY, None)


@queue.task(DELIVER, retries=0)
def deliver_task() -> None:
    deliver_due()


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _settings(config: Mapping[str, Any]) -> tuple[int, int]:
    return int(config.get("MAIL_MAX_ATTEMPTS") or 6), int(config.get("MAIL_RETRY_SECONDS") or 60)


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    """Back-off after the ``attempts``-th failed try: base, ×4, ×16 ... (capped at a day)."""
    return timedelta(seconds=min(base_seconds * 4 ** max(attempts - 1, 0), 86_400))


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> Delivery:
    """Send the outbox rows that are due, each at most once; record every outcome."""
    config = current_app.config
    now = now or utcnow()
    with Session(db.engine, expire_on_commit=False) as session:
        _fail_stale_claims(session, now)
        if not configured(config):
            return Delivery()  # they wait: the panel shows them pending
        due = list(session.scalars(
            select(OutboxMail.id).where(OutboxMail.state == MailState.pending.value,
                                        OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit)))
        session.rollback()
        mine = [mail_id for mail_id in due if _claim(session, mail_id, now)]
        if not mine:
            return Delivery()
        return _send(session, mine, config)


def _claim(session: Session, mail_id: int, now: datetime) -> bool:
    """Take one row for sending (committed at once): False when another sender took it first."""
    taken = affected_rows(session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.state == MailState.pending.value)
        .values(state=MailState.sending.value, claimed_at=now, attempts=OutboxMail.attempts + 1)))
    session.commit()
    return taken == 1


def _fail_stale_claims(session: Session, now: datetime) -> None:
    session.execute(
        update(OutboxMail).where(OutboxMail.state == MailState.sending.value,
                                 OutboxMail.claimed_at < now - STALE_SENDING)
        .values(state=MailState.failed.value,
                last_error="Interrupted while sending; not sent again, as it may have been delivered."))
    session.commit()


class _Failure(enum.Enum):
    temporary = "temporary"  # try again later (4xx, the server unreachable)
    permanent = "permanent"  # never (5xx, an address or message that cannot be sent)


def _classify(error: BaseException) -> tuple[_Failure, bool]:
    """What a failed send means: (temporary or permanent, whether the connection is still usable)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return (_Failure.permanent if codes and min(codes) >= 500 else _Failure.temporary), True
    if isinstance(error, smtplib.SMTPResponseException):  # sender refused, data refused, ...
        if error.smtp_code == 421:  # "service not available, closing channel"
            return _Failure.temporary, False
        return (_Failure.permanent if error.smtp_code >= 500 else _Failure.temporary), True
    if isinstance(error, UnicodeError | smtplib.SMTPNotSupportedError | ValueError):
        # A non-ASCII address to a server without SMTPUTF8: no retry will change that.
        return _Failure.permanent, True
    return _Failure.temporary, False  # the connection dropped, a timeout, anything unforeseen


def _send(session: Session, ids: list[int], config: Mapping[str, Any]) -> Delivery:
    """Send the claimed rows over one SMTP connection; a refused address does not stop the others."""
    max_attempts, base = _settings(config)
    rows = list(session.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)
                                .options(undefer(OutboxMail.message))))
    outcome = {"sent": 0, "retrying": 0, "failed": 0}

    def record(row: OutboxMail, error: BaseException | None) -> None:
        when = utcnow()
        if error is None:
            row.state, row.sent_at, row.last_error, row.message = MailState.sent.value, when, "", None
            outcome["sent"] += 1
        else:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if _classify(error)[0] is _Failure.permanent or row.attempts >= max_attempts:
                row.state = MailState.failed.value
                outcome["failed"] += 1
            else:
                row.state = MailState.pending.value
                row.next_attempt_at = when + retry_delay(row.attempts, base)
                outcome["retrying"] += 1
            log.warning("e-mail %s to %s: %s (attempt %s)", row.id, row.to_address, row.last_error, row.attempts)
        session.commit()

    def connect() -> smtplib.SMTP:
        smtp = smtplib.SMTP(str(config["MAIL_SERVER"]), int(config.get("MAIL_PORT") or 25), timeout=30)
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
        except BaseException:
            smtp.close()
            raise
        return smtp

    try:
        smtp = connect()
    except Exception as error:  # noqa: BLE001 - every row records why it waits
        for row in rows:
            record(row, error)
        return Delivery(**outcome)
    try:
        for index, row in enumerate(rows):
            try:
                smtp.sendmail(str(config.get("MAIL_FROM") or "lms@localhost"),
                              [a.strip() for a in row.to_address.split(",")], row.message or b"")
            except Exception as error:  # noqa: BLE001 - recorded on the row, never raised past it
                record(row, error)
                if not _classify(error)[1]:
                    # The connection is gone: the rows not tried yet go back to wait for their retry.
                    for rest in rows[index + 1:]:
                        record(rest, error)
                    break
                continue
            record(row, None)
    finally:
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001, S110 - the outcome of every row is already recorded
            smtp.close()
    return Delivery(**outcome)


def prune(older_than_days: int = 90) -> int:
    """Delete sent rows older than three months (the failed ones stay for the administrator)."""
    from sqlalchemy import delete

    since = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(delete(OutboxMail).where(OutboxMail.state == MailState.sent.value,
                                                         OutboxMail.sent_at < since))
    return affected_rows(result)
