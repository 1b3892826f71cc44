"""Training plans (courses, target group, numeric targets), in-app notices and the reminder log."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model


class PlanStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    closed = "closed"


class TargetKind(enum.StrEnum):
    # Share of the target group's officers who completed every course of the plan.
    officers_completed = "officers_completed"
    # Share of assigned (officer, course) pairs completed by their due date.
    completed_on_time = "completed_on_time"
    # Share of the plan's courses available in a language other than Vietnamese (minority or foreign).
    courses_other_language = "courses_other_language"


class MemberKind(enum.StrEnum):
    agency = "agency"
    duty = "duty"
    user = "user"


class Plan(Model):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=PlanStatus.draft.value, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    courses: Mapped[list[PlanCourse]] = relationship(
        cascade="all, delete-orphan", order_by="PlanCourse.position", back_populates="plan"
    )
    targets: Mapped[list[PlanTarget]] = relationship(
        cascade="all, delete-orphan", order_by="PlanTarget.position", back_populates="plan"
    )
    members: Mapped[list[PlanMember]] = relationship(
        cascade="all, delete-orphan", order_by="PlanMember.id", back_populates="plan"
    )
    created_by = relationship("User")

    __table_args__ = (CheckConstraint("status IN ('draft','active','closed')", name="status"),)


class PlanCourse(Model):
    __tablename__ = "plan_course"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="courses")
    course = relationship("Course", lazy="joined", innerjoin=True)


class PlanTarget(Model):
    """A numeric target: the actual value (a 0..1 share) should lie within [min_value, max_value]."""

    __tablename__ = "plan_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="targets")

    __table_args__ = (
        CheckConstraint(
            "kind IN ('officers_completed','completed_on_time','courses_other_language')", name="kind"
        ),
        CheckConstraint("min_value IS NOT NULL OR max_value IS NOT NULL", name="bound"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="order"),
    )


class PlanMember(Model):
    """One part of a plan's target group: an agency (with or without its sub-agencies), a duty
    (optionally within an agency subtree) or a named officer."""

    __tablename__ = "plan_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    include_subtree: Mapped[bool] = mapped_column(Boolean, default=True)
    duty_id: Mapped[int | None] = mapped_column(ForeignKey("duty.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)

    plan: Mapped[Plan] = relationship(back_populates="members")
    agency = relationship("Agency")
    duty = relationship("Duty")
    user = relationship("User")

    __table_args__ = (
        CheckConstraint("kind IN ('agency','duty','user')", name="kind"),
        CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL) OR (kind = 'agency' AND agency_id IS NOT NULL)"
            " OR (kind = 'duty' AND duty_id IS NOT NULL)",
            name="target",
        ),
    )


class Notice(Model):
    """An in-app notice for one officer (reminders), listed on the home page until read."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the notice is about: the message is built at display time in the reader's language.
    reason: Mapped[str] = mapped_column(String(30))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    due_date: Mapped[date | None] = mapped_column(Date)
    certificate_code: Mapped[str | None] = mapped_column(String(40))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    course = relationship("Course")

    __table_args__ = (Index("ix_notice_user_unread", "user_id", "read_at"),)


class ReminderLog(Model):
    """One reminder sent: the unique key (user, reason, object, period) makes every send happen once."""

    __tablename__ = "reminder_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(30))
    object_key: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)  # an e-mail went to the outbox (lms.mail)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("user_id", "reason", "object_key", "period"),)
