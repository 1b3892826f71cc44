"""Account lifecycle kept with the accounts: one-time activation links and the session epoch.

The organisation creates accounts (one by one, or a whole roster) and hands out their activation links;
``lms.auth`` consumes the links and runs sign-in on top of these. Kept here, below ``lms.auth``, so that
the organisation never has to import the authentication package.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import insert, update

from lms import audit
from lms.db import utcnow
from lms.extensions import db
from lms.org.models import ActivationToken, User


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of ``user`` (all devices)."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
    )
    db.session.refresh(user, ["session_epoch"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_activation(user: User, days: int, *, actor: User | None = None) -> str:
    """Create a one-time activation link token for ``user``; earlier unused links stop working.

    Issued by an administrator (``actor``) for an account that has a password, it also ends the
    account's sessions.
    """
    now = utcnow()
    db.session.execute(
        update(ActivationToken)
        .where(ActivationToken.user_id == user.id, ActivationToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        ActivationToken(
            user_id=user.id, token_hash=token_hash(token), expires_at=now + timedelta(days=days)
        )
    )
    if actor is not None:
        if user.password_hash:
            # An administrator's reset: whoever holds the account's cookies (it may be why) is signed out.
            end_all_sessions(user)
        audit.record("auth.activation_issued", actor=actor, target=user)
    return token


def issue_activations_bulk(user_ids: list[int], days: int) -> dict[int, str]:
    """Activation tokens for many new users at once (roster import): one INSERT, no hashing cost."""
    now = utcnow()
    tokens = {uid: secrets.token_urlsafe(32) for uid in user_ids}
    if tokens:
        db.session.execute(
            insert(ActivationToken),
            [
                {
                    "user_id": uid,
                    "token_hash": token_hash(tok),
                    "created_at": now,
                    "expires_at": now + timedelta(days=days),
                }
                for uid, tok in tokens.items()
            ],
        )
    return tokens
