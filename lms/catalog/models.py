"""Courses, modules, lessons (with their language editions and web revisions), files and trainer limits.

Rows are keyed by the stable keys of the content format, so a re-sync or a web edit updates a row in place
and officers' progress (which points at lesson ids) survives. A course is owned either by its folder under
``content/`` (``source="files"``, written only by the sync) or by the web editor (``source="web"``, which
the sync reports as skipped and never overwrites).
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
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model

SOURCES = ("files", "web")


def pick_text(values: dict[str, str] | None, lang: str, fallback: str) -> str:
    """The text in ``lang``, else in ``fallback`` (the original language), else any."""
    values = values or {}
    return values.get(lang) or values.get(fallback) or next(iter(values.values()), "")


class Course(Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    topic: Mapped[str] = mapped_column(String(40), default="other", index=True)
    hours: Mapped[float] = mapped_column(Float, default=1.0)
    # Language codes, the original first; ``lang_codes`` repeats them as ",vi,en," for SQL filters.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    lang_codes: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Lower-case titles and summaries without diacritics: "quyen con nguoi" finds "Quyền con người".
    search_text: Mapped[str] = mapped_column(Text, default="")
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    source: Mapped[str] = mapped_column(String(10), default="files")
    folder: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # {"lessons": [keys], "quizzes": [keys], "min_final_score": int | None}
    completion: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    certificate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What pages need to show quizzes: [{"key", "title": {lang: text}, "module", "final", "pass_mark"}].
    # The quiz domain keeps the full definitions in its own tables.
    quizzes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Raised by every save on the web (the author's `version` is only raised on purpose).
    revision: Mapped[int] = mapped_column(Integer, default=1)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("source IN ('files','web')", name="source"),)

    @property
    def original_language(self) -> str:
        return self.languages[0] if self.languages else "vi"

    def title_in(self, lang: str) -> str:
        return pick_text(self.title, lang, self.original_language)

    def summary_in(self, lang: str) -> str:
        return pick_text(self.summary, lang, self.original_language)

    def language_for(self, *wanted: str | None) -> str:
        """The first of ``wanted`` this course exists in, else its original language."""
        for lang in wanted:
            if lang and lang in self.languages:
                return lang
        return self.original_language

    def quiz(self, key: str) -> dict[str, Any] | None:
        return next((q for q in self.quizzes or [] if q.get("key") == key), None)

    @property
    def final_quiz_key(self) -> str | None:
        return next((q["key"] for q in self.quizzes or [] if q.get("final")), None)

    def __repr__(self) -> str:
        return f"<Course {self.key}>"


class Module(Model):
    __tablename__ = "course_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    quiz_key: Mapped[str | None] = mapped_column(String(60))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position", foreign_keys="Lesson.module_id"
    )

    __table_args__ = (UniqueConstraint("course_id", "key"),)

    def title_in(self, lang: str, fallback: str) -> str:
        return pick_text(self.title, lang, fallback)


class Lesson(Model):
    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_module.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    # 0-based place in the course's reading order (across modules).
    position: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=10)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    module: Mapped[Module] = relationship(back_populates="lessons", foreign_keys=[module_id])
    texts: Mapped[list[LessonText]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan", order_by="LessonText.lang"
    )

    __table_args__ = (UniqueConstraint("course_id", "key"),)

    def text(self, lang: str) -> LessonText | None:
        return next((t for t in self.texts if t.lang == lang), None)


class LessonText(Model):
    """One language edition; ``body_html`` is rendered and sanitised when it is saved."""

    __tablename__ = "lesson_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int] = mapped_column(Integer, default=10)
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    lesson: Mapped[Lesson] = relationship(back_populates="texts")

    __table_args__ = (UniqueConstraint("lesson_id", "lang"),)


class LessonRevision(Model):
    """Every saved state of a lesson edition, from a sync or from the web editor."""

    __tablename__ = "lesson_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int] = mapped_column(Integer, default=10)
    body_md: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="files")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()
    created_by = relationship("User", lazy="joined")


class Asset(Model):
    """A course file kept in the database, so that every app server can serve it."""

    __tablename__ = "course_asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: lists of files never load their bytes.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("course_id", "path"),)


class TrainerCourse(Model):
    """Limits a trainer to some courses; a trainer without rows may edit every course."""

    __tablename__ = "trainer_course"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True, index=True
    )
