"""API token services: create, revoke, authenticate. Flush only; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from lms import audit
from lms.api.models import ApiToken
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.org.models import User

TOKEN_PREFIX = "lms_"  # noqa: S105 (a marker, not a secret)
MAX_ACTIVE_TOKENS = 10
# last_used_at is a hint for owners, not an audit trail: write it at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class TokenError(DomainError):
    """A domain error with a message for the user, tied to a form field."""

    def __init__(self, message: str, field: str | None = "name") -> None:
        super().__init__(message, field)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token itself (never stored)."""
    name = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not name:
        raise TokenError(_("Give the token a name, for example the system that will use it."))
    if len(name) > 80:
        raise TokenError(_("The name is too long (at most 80 characters)."))
    active = db.session.scalar(
        select(func.count()).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            _("You already have %(num)s active tokens; revoke one you no longer use first.",
              num=MAX_ACTIVE_TOKENS)
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), prefix=token[:12])
    db.session.add(row)
    db.session.flush()
    audit.record("api.token_created", actor=user, target=row, name=name)
    return row, token


def revoke_token(row: ApiToken, *, actor: User) -> None:
    """Revoke a token now; requests carrying it are refused from then on."""
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.record("api.token_revoked", actor=actor, target=row, name=row.name)


def user_tokens(user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(
        ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
    )
    return list(db.session.scalars(stmt))


def token_user(token: str) -> tuple[ApiToken, User] | None:
    """The active token and its active owner for a presented token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.User.active:
        return None
    return row.ApiToken, row.User


def touch_statement(token_id: int):
    """UPDATE setting last_used_at, only when the stored value is older than the resolution."""
    now = utcnow()
    return (
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
    )
