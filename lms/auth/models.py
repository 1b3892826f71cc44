"""The second factor's records: one TOTP secret per account and its one-time recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model


class TotpSecret(Model):
    """An account's authenticator secret; it protects sign-in only once ``confirmed_at`` is set.

    Until then it is the secret the enrol page shows (the same one on every reload, so a scanned QR
    code stays valid); confirming it with a current code turns the second factor on. ``last_step`` is
    the RFC 6238 time step of the last code accepted: no code of that step or an earlier one works again.
    The secret is stored as it is (a TOTP check needs it); the database is protected like the password
    hashes and the backups (see the README's security section)."""

    __tablename__ = "totp_secret"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Model):
    """One one-time recovery code, kept only as ``"<salt>$<sha256>"`` (see lms.auth.totp)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
