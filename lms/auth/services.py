"""Authentication services: they flush, the caller commits (failures included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, or_, select, update

from lms import audit, mail, ratelimit
from lms.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from lms.db import affected_rows, utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.org.accounts import end_all_sessions, issue_activation, token_hash
from lms.org.models import ActivationToken, User


class AuthError(DomainError):
    """A domain error whose message can be shown to the user as it is."""


class InvalidCredentials(AuthError):
    keeps_writes = True  # the failure is counted (lms.ratelimit) before the refusal


class LoginThrottled(AuthError):
    keeps_writes = True


class PasswordRejected(AuthError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems), "password")
        self.problems = problems

    @property
    def messages(self) -> list[str]:
        return list(self.problems)


class InvalidToken(AuthError):
    pass


@dataclass(frozen=True)
class LoginLimits:
    window_seconds: int
    per_account: int
    per_address: int


def normalise_username(username: str) -> str:
    return username.strip().lower()


def authenticate(
    username: str, password: str, address: str, limits: LoginLimits, hash_profile: str
) -> User:
    """Return the user for a correct, unthrottled login; record failures (caller commits either way)."""
    name = normalise_username(username)
    shown = name[:80]  # what was typed, cut short (the audit log must not become a store of typos)
    if (
        ratelimit.recent("login-user", name, limits.window_seconds) >= limits.per_account
        or ratelimit.recent("login-ip", address, limits.window_seconds) >= limits.per_address
    ):
        audit.record("auth.sign_in_throttled", target_type="user", username=shown)
        raise LoginThrottled(
            _("Too many failed attempts. Wait %(minutes)s minutes and try again.",
              minutes=limits.window_seconds // 60)
        )
    user = db.session.scalar(select(User).where(func.lower(User.username) == name))
    ok = verify_password(user.password_hash if user else None, password, hash_profile)
    if not ok or user is None or not user.active:
        ratelimit.hit("login-user", name)
        ratelimit.hit("login-ip", address)
        audit.record("auth.sign_in_failed", target=user, username=shown,
                     reason="disabled" if user is not None and ok and not user.active else "credentials")
        raise InvalidCredentials(_("Wrong username or password, or the account is disabled."))
    ratelimit.clear("login-user", name)
    user.last_login_at = utcnow()
    audit.record("auth.signed_in", actor=user, target=user)
    if user.password_hash and needs_rehash(user.password_hash, hash_profile):
        user.password_hash = hash_password(password, hash_profile)
    return user


def set_password(user: User, password: str, hash_profile: str) -> None:
    """Check the rules, store the new hash and end the user's other sessions."""
    problems = password_problems(password, username=user.username)
    if problems:
        raise PasswordRejected(problems)
    user.password_hash = hash_password(password, hash_profile)
    end_all_sessions(user)


def change_password(user: User, current: str, new: str, hash_profile: str) -> None:
    """Change a password after checking the current one."""
    if not verify_password(user.password_hash, current, hash_profile):
        raise InvalidCredentials(_("The current password is wrong."))
    set_password(user, new, hash_profile)
    audit.record("auth.password_changed", actor=user, target=user)


def user_for_token(token: str) -> ActivationToken:
    """The valid, unused, unexpired activation record for ``token``."""
    row = db.session.scalar(
        select(ActivationToken).where(ActivationToken.token_hash == token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at < utcnow() or not row.user.active:
        raise InvalidToken(
            _("This link is invalid, already used or expired. Ask your administrator for a new one.")
        )
    return row


def activate(token: str, password: str, hash_profile: str) -> User:
    """Set the first (or a reset) password through a one-time link."""
    row = user_for_token(token)
    set_password(row.user, password, hash_profile)
    # Claim the token with a conditional UPDATE: of two requests racing with the same link, only
    # the one that changes the row goes on (the other waits for the row lock, then sees it used).
    claimed = db.session.execute(
        update(ActivationToken)
        .where(ActivationToken.id == row.id, ActivationToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if affected_rows(claimed) != 1:
        raise InvalidToken(
            _("This link is invalid, already used or expired. Ask your administrator for a new one.")
        )
    db.session.refresh(row)
    audit.record("auth.activated", actor=row.user, target=row.user)
    return row.user


# Self-service password reset ---------------------------------------------------------------------

RESET_HOURS = 2
RESET_WINDOW_SECONDS = 3600
RESET_PER_ACCOUNT = 3  # links per account and hour
RESET_PER_ADDRESS = 10  # requests per network and hour


def request_password_reset(identifier: str, address_key: str) -> tuple[User, str] | None:
    """A one-time link (valid RESET_HOURS) for the active account with this username or e-mail address.

    The caller answers the same whatever this returns, so nobody learns whether an account exists;
    requests are counted per network and per name (lms.ratelimit, shared by every server) and a
    throttled or unknown request returns None. Earlier unused links of the account stop working."""
    name = normalise_username(identifier)[:254]
    if not name:
        return None
    throttled = (ratelimit.recent("records-reset-ip", address_key, RESET_WINDOW_SECONDS) >= RESET_PER_ADDRESS
                 or ratelimit.recent("records-reset-name", name, RESET_WINDOW_SECONDS) >= RESET_PER_ACCOUNT)
    ratelimit.hit("records-reset-ip", address_key)
    ratelimit.hit("records-reset-name", name)
    if throttled:
        audit.record("auth.password_reset_throttled", target_type="user", identifier=name[:80])
        return None
    user = db.session.scalar(select(User).where(
        User.active.is_(True), or_(func.lower(User.username) == name, func.lower(User.email) == name)
    ).order_by(User.id).limit(1))
    if user is None or not user.email:
        audit.record("auth.password_reset_requested", target_type="user", identifier=name[:80], sent=False)
        return None
    token = issue_activation(user, 1)
    db.session.execute(
        update(ActivationToken).where(ActivationToken.token_hash == token_hash(token))
        .values(expires_at=utcnow() + timedelta(hours=RESET_HOURS))
    )
    audit.record("auth.password_reset_requested", target=user, identifier=name[:80], sent=True)
    return user, token


def send_reset_mail(user: User, link: str, config: Any) -> bool:
    """Write the reset link's e-mail to the outbox (sent once the request commits); False without a
    mail server or an address."""
    if not mail.configured(config) or not user.email:
        current_app.logger.warning("password reset for %s: no MAIL_SERVER configured, no e-mail sent",
                                   user.username)
        return False
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or "lms@localhost"
    message["To"] = user.email
    with force_locale(user.locale or "vi"):
        message["Subject"] = gettext("Reset your password")
        message.set_content(gettext(
            "Someone (we hope you) asked to reset the password of the account %(username)s.\n\n"
            "Open this link within %(hours)s hours to choose a new password; it works once:\n%(link)s\n\n"
            "If you did not ask, ignore this e-mail: your password stays as it is.",
            username=user.username, hours=RESET_HOURS, link=link))
    mail.add(message, kind="password_reset", user_id=user.id)
    return True
