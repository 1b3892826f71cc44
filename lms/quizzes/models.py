"""Question banks, quizzes, attempts and answers.

A ``Question`` row is one question of a course's bank in one language, keyed by (course, lang, name); its
``data`` is the plain ``question_to_dict`` form. Changing the content raises ``version``; removing it
from the bank archives the row. An ``Attempt`` never reads the bank again after it started: ``slots``
holds every question's snapshot (with its key, which stays on the server) and the display order of its
choices, so editing a question never changes a started or finished attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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

ATTEMPT_STATUSES = ("in_progress", "submitted", "needs_grading", "graded")
QUESTION_SOURCES = ("files", "web")


class Question(Model):
    __tablename__ = "quiz_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    qtype: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical JSON of ``data`` without its source line: equal content, equal hash.
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str] = mapped_column(String(10), default="files")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("course_id", "lang", "name"),
        Index("ix_quiz_question_bank", "course_id", "lang", "category"),
        CheckConstraint("source IN ('files','web')", name="source"),
        CheckConstraint("points > 0", name="points"),
    )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Question {self.name} v{self.version}>"


class Quiz(Model):
    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    module_key: Mapped[str | None] = mapped_column(String(60))
    # [{"name": ...} | {"category": ..., "count": n}] in order (see engine.Pick)
    picks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pass_mark: Mapped[int] = mapped_column(Integer, default=70)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    attempt_delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean, default=True)
    review_score: Mapped[bool] = mapped_column(Boolean, default=True)
    review_correct: Mapped[bool] = mapped_column(Boolean, default=True)
    review_feedback: Mapped[bool] = mapped_column(Boolean, default=True)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many questions the take page shows at a time on a wide screen (phones always show one);
    # 0 puts every question on one page. Without JavaScript the page always shows them all.
    questions_per_page: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Web-only settings: the content format has no dates, so a sync never touches them.
    open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course = relationship("Course", lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
    )

    def title_in(self, lang: str) -> str:
        from lms.catalog.models import pick_text

        return pick_text(self.title, lang, self.course.original_language) or self.key

    def __repr__(self) -> str:
        return f"<Quiz {self.key}>"


class Attempt(Model):
    __tablename__ = "quiz_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per officer and quiz
    lang: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True when the attempt was closed for its officer at the deadline (not submitted by them).
    closed_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float | None] = mapped_column(Float)  # percent, None until fully graded
    points_awarded: Mapped[float | None] = mapped_column(Float)
    points_max: Mapped[float] = mapped_column(Float, default=0.0)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    seed: Mapped[int] = mapped_column(Integer)
    # The drawn questions (see engine.build_slots): snapshots with keys. Never sent to a browser.
    slots: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pass_mark: Mapped[int] = mapped_column(Integer)  # the rule this attempt is graded by
    # Slots the officer flagged for review while answering (only a reminder: grading ignores it).
    flags: Mapped[list[int] | None] = mapped_column(JSON, default=list)

    quiz: Mapped[Quiz] = relationship()
    user = relationship("User", lazy="joined", innerjoin=True)
    answers: Mapped[list[AttemptAnswer]] = relationship(
        back_populates="attempt", order_by="AttemptAnswer.slot", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),
        Index("ix_quiz_attempt_open", "status", "deadline"),
        CheckConstraint(
            "status IN ('in_progress','submitted','needs_grading','graded')", name="status"
        ),
    )

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"

    def __repr__(self) -> str:
        return f"<Attempt {self.id} {self.status}>"


class AttemptAnswer(Model):
    """The saved response to one slot; created (empty) for every slot when the attempt starts."""

    __tablename__ = "quiz_attempt_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fraction: Mapped[float | None] = mapped_column(Float)  # automatic grade (None: needs a person)
    needs_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    manual_fraction: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")  # the grader's rubric comment
    grader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    grader = relationship("User")

    __table_args__ = (
        UniqueConstraint("attempt_id", "slot"),
        Index("ix_quiz_attempt_answer_queue", "needs_manual", "manual_fraction"),
    )

    @property
    def final_fraction(self) -> float | None:
        """The trainer's grade when there is one, else the automatic one."""
        return self.manual_fraction if self.manual_fraction is not None else self.fraction
