"""Authentication services: they flush, the caller commits (failures included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import delete, func, or_, select, update

from lms import audit, mail, ratelimit
from lms.auth import totp
from lms.auth.models import RecoveryCode, TotpSecret
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
    """Return the user for a correct, unthrottled login and record the sign-in (one factor only)."""
    user = check_password(username, password, address, limits, hash_profile)
    record_sign_in(user)
    return user


def record_sign_in(user: User, **details: Any) -> None:
    """Note a completed sign-in (after every factor the account needs) in the account and the audit log."""
    user.last_login_at = utcnow()
    audit.record("auth.signed_in", actor=user, target=user, **details)


def check_password(
    username: str, password: str, address: str, limits: LoginLimits, hash_profile: str
) -> User:
    """The user for a correct, unthrottled password; record failures (caller commits either way).

    The sign-in is not complete yet: the caller asks for the second factor when the account has one
    (or must enrol one), then calls :func:`record_sign_in`."""
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


# Second factor (TOTP, RFC 6238) ------------------------------------------------------------------


class SecondFactorRejected(AuthError):
    keeps_writes = True  # the failure is counted before the refusal


class SecondFactorThrottled(AuthError):
    keeps_writes = True


class NotEnrolled(AuthError):
    pass


def required_roles(setting: Any) -> frozenset[str]:
    """The roles that must use a second factor, from ``REQUIRE_2FA_ROLES`` ("admin,hr", a list, or "")."""
    if isinstance(setting, str):
        parts = setting.split(",")
    elif setting:
        parts = [str(p) for p in setting]
    else:
        parts = []
    return frozenset(p.strip().lower() for p in parts if p.strip())


def two_factor_secret(user: User) -> TotpSecret | None:
    """The account's confirmed TOTP secret (None: no second factor)."""
    row = db.session.get(TotpSecret, user.id)
    return row if row is not None and row.confirmed_at is not None else None


def must_enrol(user: User, roles: frozenset[str]) -> bool:
    """Whether the account has a role that needs a second factor and has none yet."""
    return bool(user.roles & roles) and two_factor_secret(user) is None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def enrolment_secret(user: User) -> TotpSecret:
    """The secret the enrol page shows: the pending one if there is one, else a new one (flushed)."""
    row = db.session.get(TotpSecret, user.id)
    if row is not None and row.confirmed_at is not None:
        raise NotEnrolled(_("Two-factor authentication is already on for this account."))
    if row is None:
        row = TotpSecret(user_id=user.id, secret=totp.new_secret())
        db.session.add(row)
        db.session.flush()
    return row


def _throttle(user: User, address: str, limits: LoginLimits) -> None:
    if (ratelimit.recent("2fa-user", str(user.id), limits.window_seconds) >= limits.per_account
            or ratelimit.recent("2fa-ip", address, limits.window_seconds) >= limits.per_address):
        audit.record("auth.two_factor_throttled", target=user)
        raise SecondFactorThrottled(
            _("Too many wrong codes. Wait %(minutes)s minutes and try again.",
              minutes=limits.window_seconds // 60))


def _count_failure(user: User, address: str, message: str, **details: Any) -> SecondFactorRejected:
    ratelimit.hit("2fa-user", str(user.id))
    ratelimit.hit("2fa-ip", address)
    audit.record("auth.two_factor_failed", target=user, **details)
    return SecondFactorRejected(message, "code")


def _claim_step(row: TotpSecret, step: int) -> bool:
    """Move ``last_step`` forward to ``step`` unless another request got there first (replay)."""
    claimed = db.session.execute(
        update(TotpSecret)
        .where(TotpSecret.user_id == row.user_id,
               or_(TotpSecret.last_step.is_(None), TotpSecret.last_step < step))
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return affected_rows(claimed) == 1


def _use_recovery_code(user: User, code: str) -> bool:
    for row in db.session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if totp.recovery_code_matches(row.code_hash, code):
            # Conditional UPDATE: of two requests racing with one code, only one uses it.
            used = db.session.execute(
                update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow()).execution_options(synchronize_session=False))
            if affected_rows(used) == 1:
                audit.record("auth.recovery_code_used", actor=user, target=user,
                             left=recovery_codes_left(user))
                return True
    return False


def verify_second_factor(user: User, code: str, address: str, limits: LoginLimits, now: float) -> str:
    """Check a current authenticator code or an unused recovery code; returns "totp" or "recovery".

    Throttled and counted like passwords (lms.ratelimit). A recovery code works once; an authenticator
    code works once (and not again in its own 30 seconds); a code one step early or late is accepted."""
    row = two_factor_secret(user)
    if row is None:
        raise NotEnrolled(_("Two-factor authentication is not on for this account."))
    _throttle(user, address, limits)
    wrong = _("The code is wrong or has already been used. Type the 6 digits your authenticator app "
              "shows now, or one of your recovery codes.")
    if totp.looks_like_recovery_code(code):
        if not _use_recovery_code(user, code):
            raise _count_failure(user, address, wrong, kind="recovery")
        ratelimit.clear("2fa-user", str(user.id))
        return "recovery"
    step = totp.matching_step(row.secret, code, now, row.last_step)
    if step is None or not _claim_step(row, step):
        raise _count_failure(user, address, wrong, kind="totp")
    ratelimit.clear("2fa-user", str(user.id))
    return "totp"


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(c)) for c in codes)
    return codes


def confirm_enrolment(user: User, code: str, address: str, limits: LoginLimits, now: float) -> list[str]:
    """Turn the second factor on once the user types a current code of the pending secret.

    Returns the ten recovery codes (shown once; only their hashes are kept). Other sessions of the
    account end, as after a password change."""
    row = enrolment_secret(user)
    _throttle(user, address, limits)
    step = totp.matching_step(row.secret, code, now, row.last_step)
    if step is None:
        raise _count_failure(user, address, _(
            "That code does not match. Check that the time on your phone is right and type the 6 digits "
            "the app shows now."), kind="enrol")
    row.last_step = step
    row.confirmed_at = utcnow()
    codes = _new_recovery_codes(user)
    end_all_sessions(user)
    audit.record("auth.two_factor_enrolled", actor=user, target=user)
    return codes


def _check_proof(user: User, proof: str, address: str, limits: LoginLimits, hash_profile: str,
                 now: float) -> str:
    """Accept the current password, a current authenticator code or a recovery code; returns which."""
    _throttle(user, address, limits)
    if proof and verify_password(user.password_hash, proof, hash_profile):
        return "password"
    try:
        return verify_second_factor(user, proof, address, limits, now)
    except SecondFactorRejected:
        raise SecondFactorRejected(
            _("That is neither your current password nor a valid code."), "proof") from None


def regenerate_recovery_codes(user: User, proof: str, address: str, limits: LoginLimits,
                              hash_profile: str, now: float) -> list[str]:
    """Replace every recovery code of the account with ten new ones (the old ones stop working)."""
    if two_factor_secret(user) is None:
        raise NotEnrolled(_("Two-factor authentication is not on for this account."))
    how = _check_proof(user, proof, address, limits, hash_profile, now)
    codes = _new_recovery_codes(user)
    audit.record("auth.recovery_codes_regenerated", actor=user, target=user, proof=how)
    return codes


def disable_two_factor(user: User, proof: str, address: str, limits: LoginLimits, hash_profile: str,
                       now: float) -> None:
    """Turn the second factor off: the secret and every recovery code are deleted."""
    if two_factor_secret(user) is None:
        raise NotEnrolled(_("Two-factor authentication is not on for this account."))
    how = _check_proof(user, proof, address, limits, hash_profile, now)
    remove_two_factor(user)
    audit.record("auth.two_factor_disabled", actor=user, target=user, proof=how)


def reset_two_factor(user: User, *, actor: User | None) -> None:
    """An administrator's reset for an officer who lost both the phone and the recovery codes.

    The secret and the codes go, every session of the account ends (a lost phone may be in someone
    else's hands), and the next sign-in asks the officer to set the second factor up again when the
    role requires one. Audited with the administrator as the actor (none from the command line)."""
    if two_factor_secret(user) is None:
        raise NotEnrolled(_("Two-factor authentication is not on for this account."))
    remove_two_factor(user)
    end_all_sessions(user)
    audit.record("auth.two_factor_reset", actor=actor, target=user)


def remove_two_factor(user: User) -> None:
    """Delete the account's secret and recovery codes (an administrator's reset, or a disable)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpSecret).where(TotpSecret.user_id == user.id))
