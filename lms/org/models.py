"""Agencies, duties, users, roles and HR scopes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model, db
from lms.text import person_sort_text


class AgencyKind(enum.StrEnum):
    province = "province"
    department = "department"
    district = "district"
    commune = "commune"
    sociopolitical = "sociopolitical"
    press = "press"
    other = "other"


class Role(enum.StrEnum):
    officer = "officer"
    trainer = "trainer"
    hr = "hr"
    admin = "admin"


class Agency(Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(20), default=AgencyKind.other.value)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    # "/<root id>/.../<own id>/": subtree = path LIKE '<path>%'. Kept by org.services.
    path: Mapped[str] = mapped_column(String(1000), default="/", index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when this agency was merged into another; its history stays attributable to it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Agency | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Agency]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="Agency.name_vi"
    )

    __table_args__ = (
        CheckConstraint(
            "kind IN ('province','department','district','commune','sociopolitical','press','other')",
            name="kind",
        ),
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Duty(Model):
    """A designated duty that training plans can target (spokesperson, human-rights work ...)."""

    __tablename__ = "duty"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


user_duty = Table(
    "user_duty",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("duty_id", ForeignKey("duty.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class UserRole(Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    __table_args__ = (
        CheckConstraint("role IN ('officer','trainer','hr','admin')", name="role"),
        Index("ix_user_role_role", "role"),
    )


class HrScope(Model):
    """An agency subtree an HR user may see and manage."""

    __tablename__ = "hr_scope"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    agency: Mapped[Agency] = relationship()


class User(Model):
    __tablename__ = "user"
    # The reports start from the active officers and group by agency: read from this index alone.
    __table_args__ = (Index("ix_user_active_agency", "active", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # Vietnamese order (given name first, đ after d): see lms.text.person_sort_text.
    sort_name: Mapped[str] = mapped_column(String(255), default="", index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    employee_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    # E.164 ("+84912345678"), as lms.org.fields.read_phone stores it; display_phone writes it back.
    phone: Mapped[str | None] = mapped_column(String(20))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    job_title: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # None until the officer sets a password through an activation link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Raised on logout, password change and disable: every cookie carrying the old value dies.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # HR users with hr_all_agencies see the whole tree; others see their HrScope subtrees.
    hr_all_agencies: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    duties: Mapped[list[Duty]] = relationship(secondary=user_duty, order_by=Duty.code)
    hr_scopes: Mapped[list[HrScope]] = relationship(cascade="all, delete-orphan")

    # Flask-Login protocol -------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    # Roles ----------------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@event.listens_for(User.full_name, "set")
def _keep_sort_name(target: User, value: str, _old: object, _initiator: object) -> None:
    target.sort_name = person_sort_text(value or "")


# Roster imports ------------------------------------------------------------------------------


class ImportBatch(Model):
    """An uploaded roster file kept in the database between its preview and its confirmation.

    Any server process can confirm it (nothing is kept on one server's disk). The bytes are cleared
    once the import is applied; the row itself expires after a day (see ``lms.org.imports``).
    """

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "officers" or "agencies"
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts of what the import did, and the accounts it created (for activation links).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    new_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    __table_args__ = (CheckConstraint("kind IN ('officers','agencies')", name="kind"),)


class ActivationToken(Model):
    """A one-time activation link (first password, or an administrator's reset), hashed."""

    __tablename__ = "activation_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the token is stored: a database leak gives no working link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")
