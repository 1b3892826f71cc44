"""Enrolments, assignments and their per-officer result, lesson progress, quiz results, completions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    exists,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model

ENROLMENT_SOURCES = ("self", "assignment")
ASSIGNMENT_KINDS = ("user", "agency", "duty")


class Enrollment(Model):
    __tablename__ = "enrollment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(12), default="self")
    # Where to resume: the lesson last opened.
    last_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id", ondelete="SET NULL"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("source IN ('self','assignment')", name="source"),
    )


class Assignment(Model):
    """A standing rule: this course is due for these officers (one, an agency subtree, a duty)."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # For kind "agency"; for kind "duty" an optional limit to an agency (subtree).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    include_subtree: Mapped[bool] = mapped_column(Boolean, default=True)
    duty_id: Mapped[int | None] = mapped_column(ForeignKey("duty.id"), index=True)
    # The reports domain will add a plans table; until then a plain column without a foreign key.
    plan_id: Mapped[int | None] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when its plan closes: from then on it reaches exactly the officers it had reached
    # (``AssignmentReach``) and nobody new (imports, duty changes and moves no longer add anyone).
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    course = relationship("Course", lazy="joined", innerjoin=True)
    target_user = relationship("User", foreign_keys=[user_id])
    agency = relationship("Agency")
    duty = relationship("Duty")
    created_by = relationship("User", foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint("kind IN ('user','agency','duty')", name="kind"),
        CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL) OR (kind = 'agency' AND agency_id IS NOT NULL)"
            " OR (kind = 'duty' AND duty_id IS NOT NULL)",
            name="target",
        ),
    )


class AssignmentReach(Model):
    """That an assignment reached an officer, and on which local day.

    Kept up to date with the assignment's target group while it is open; frozen with it when its plan
    closes. ``late_due`` is the due date an officer gets who is reached after the assignment's own due
    date passed (reached day + ``LATE_ASSIGNMENT_DAYS``), so a due date is never in the past at the
    moment it is given.
    """

    __tablename__ = "assignment_reach"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reached_on: Mapped[date] = mapped_column(Date)
    late_due: Mapped[date | None] = mapped_column(Date)


class AssignedCourse(Model):
    """What the active assignments add up to for one officer and one course (rebuilt, never edited,
    except ``started``)."""

    __tablename__ = "assigned_course"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The earliest due date of the assignments reaching this officer (None: no due date).
    due_date: Mapped[date | None] = mapped_column(Date)
    assignment_count: Mapped[int] = mapped_column(Integer, default=1)
    first_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Denormalised for the reports: whether the officer has begun the course (:func:`started_clause`,
    # a lesson done or a finished quiz attempt). Two index probes per pair made the reports' pass over
    # every assigned pair 2-3x the bare aggregate (bench/README.md). Kept equal to the recomputation in
    # the same transaction by the only writes that change it: the rebuild computes it, and
    # lesson progress and quiz results refresh it (lms.progress.services.refresh_started).
    started: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Denormalised for the reports like ``started``: what the pair's completion says, when it counts
    # (recorded and not waiting for renewal; all None/False otherwise), and the agency the pair counts
    # for: where the officer completed it, else where they work now. Joining the completion and
    # working out that agency per pair kept the reports at 3-5x the bare aggregate (bench/README.md).
    # Kept equal to the recomputation (:func:`lms.progress.services.refresh_pair_completions`) in the
    # same transaction: the rebuild computes them; ORM writes to completions and to an officer's agency
    # refresh them after the flush, and bulk UPDATE/DELETE statements on completions as they run.
    agency_id: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_on: Mapped[date | None] = mapped_column(Date)  # the local (UTC+7) day of completed_at
    on_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    score: Mapped[int | None] = mapped_column(Integer)
    elsewhere: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    course = relationship("Course")

    # Everything the reports read of a pair, so their pass reads the index, not the table; the second
    # is led by the agency the reports group by.
    __table_args__ = (
        Index("ix_assigned_course_report", "user_id", "course_id", "due_date", "started"),
        Index("ix_assigned_course_agency", "agency_id", "course_id", "user_id", "due_date", "started",
              "completed_at", "on_time", "elsewhere", "score"),
        # The reports' charts count completed pairs per local day, read in order from this index.
        Index("ix_assigned_course_completed", "completed_on", "agency_id", "course_id", "user_id"),
    )


class LessonProgress(Model):
    __tablename__ = "lesson_progress"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lang: Mapped[str] = mapped_column(String(20), default="vi")

    __table_args__ = (Index("ix_lesson_progress_user_course", "user_id", "course_id"),)


class QuizResult(Model):
    """An officer's standing on one quiz of a course, recomputed from their attempts.

    The quiz domain rebuilds the row from the officer's finished attempts whenever one is submitted,
    graded by a trainer or regraded, so it always equals what the attempts say: a regrade can lower
    ``best_score`` as well as raise it. ``attempts_count`` counts finished attempts (graded or not);
    ``awaiting_grading`` those whose essays wait for a trainer; ``best_score`` and ``passed`` come
    from graded attempts only.
    """

    __tablename__ = "quiz_result"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quiz_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    best_score: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the latest passing attempt was submitted: a renewal needs a pass after the old
    # certificate expired (see ``CourseCompletion.renewal_required_since``).
    last_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts_count: Mapped[int] = mapped_column(Integer, default=0)
    awaiting_grading: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # While the course waits for renewal: the best score of the attempts graded after the old
    # certificate expired (the renewed completion records this, not the best of all time).
    renewal_best_score: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("best_score BETWEEN 0 AND 100", name="score"),)

    @property
    def graded_count(self) -> int:
        return self.attempts_count - self.awaiting_grading

    @property
    def pending(self) -> bool:
        """Not passed yet, with an attempt the officer is waiting on a trainer for."""
        return not self.passed and self.awaiting_grading > 0


def started_clause(user_id: Any, course_id: Any) -> ColumnElement[bool]:
    """SQL: the officer ``user_id`` has begun course ``course_id`` (a lesson done, or a finished quiz
    attempt). What ``AssignedCourse.started`` holds for every pair."""
    return or_(
        exists().where(LessonProgress.user_id == user_id, LessonProgress.course_id == course_id),
        exists().where(QuizResult.user_id == user_id, QuizResult.course_id == course_id,
                       QuizResult.attempts_count > 0),
    )


class CourseCompletion(Model):
    """The officer's completion of a course: one row per officer and course, which reports count.

    When the certificate of a course with a validity period expires, the expiry job sets
    ``renewal_required_since`` (the moment it expired): the officer must complete the course again
    with fresh evidence (see ``progress.services.evaluate_completion``). Completing it again updates
    this row (the previous facts go to the audit log) and clears the flag. ``cycle_started_at``
    keeps the start of the latest renewal cycle: assignments made before it were met by an earlier
    completion and no longer set the officer's due date.
    """

    __tablename__ = "course_completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    score: Mapped[int | None] = mapped_column(Integer)  # final test score, if the course has one
    course_version: Mapped[int] = mapped_column(Integer)
    # The officer's agency when they completed: reports keep attributing it there after a merge.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    lang: Mapped[str] = mapped_column(String(20), default="vi")
    renewal_required_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cycle_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How it was earned: "online" (lessons and quizzes here), "workshop" (attended an in-person
    # workshop for the course) or "external" (a certificate from elsewhere HR accepted for it); reports
    # show the last two apart. ``evidence`` names the workshop or external record ("workshop:12").
    source: Mapped[str] = mapped_column(String(10), default="online", server_default="online")
    evidence: Mapped[str | None] = mapped_column(String(40), index=True)

    course = relationship("Course")
    user = relationship("User")

    @property
    def renewal_required(self) -> bool:
        return self.renewal_required_since is not None

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("source IN ('online','workshop','external')", name="source"),
        # What the reports read of a completion, found by its pair: their pass reads only the index.
        Index("ix_course_completion_report", "user_id", "course_id", "renewal_required_since", "agency_id",
              "completed_at", "score", "source"),
    )


class CalendarFeed(Model):
    """An officer's personal iCalendar feed: the due dates of their assigned courses.

    Calendar apps cannot sign in, so the feed's URL carries a secret. Only its SHA-256 is stored: the
    URL is shown once when made, and making a new one (or removing it) stops the old one working.
    """

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Override(Model):
    """An arrangement HR made for one officer in one course: more time per quiz attempt, more
    attempts, a later due date, always with the reason (illness, disability, a failed connection).

    The quiz domain adds the minutes and attempts when an attempt starts; the assigned-course rebuild
    takes the later due date. Every change is audited and the officer sees the arrangement."""

    __tablename__ = "progress_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course = relationship("Course")
    created_by = relationship("User", foreign_keys=[created_by_id])

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("extra_minutes BETWEEN 0 AND 600", name="minutes"),
        CheckConstraint("extra_attempts BETWEEN 0 AND 20", name="attempts"),
    )


TRAINING_KINDS = ("workshop", "external")


class Workshop(Model):
    """An in-person workshop (tập huấn) HR records: when, where, who ran it, how long, on which course
    or topic. With a course and ``counts_as_completion``, attending completes the course for officers
    who had not completed it (``CourseCompletion.source == "workshop"``); the hours always go to the
    attendees' transcripts."""

    __tablename__ = "workshop"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)  # the organiser
    trainer: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"), index=True)
    topic: Mapped[str] = mapped_column(String(200), default="")
    counts_as_completion: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    agency = relationship("Agency")
    course = relationship("Course")
    attendance: Mapped[list[WorkshopAttendance]] = relationship(
        cascade="all, delete-orphan", back_populates="workshop"
    )

    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 200", name="hours"),)


class WorkshopAttendance(Model):
    """That an officer attended a workshop (ticked on screen or read from an attendance sheet)."""

    __tablename__ = "workshop_attendance"

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="attendance")
    user = relationship("User")


class ExternalTraining(Model):
    """Training an officer did elsewhere, proved by an uploaded PDF certificate. With a course and
    ``counts_as_completion`` it completes that course (``CourseCompletion.source == "external"``)."""

    __tablename__ = "external_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(300))
    hours: Mapped[float] = mapped_column(Float)
    completed_on: Mapped[date] = mapped_column(Date)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    counts_as_completion: Mapped[bool] = mapped_column(Boolean, default=False)
    file_name: Mapped[str] = mapped_column(String(255))
    file_data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")

    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 2000", name="hours"),)
