"""The record of a tracked task: its state and progress, readable from every server."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model


class TaskState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class TaskRun(Model):
    """One tracked run of a task (a bulk render, an import, the daily jobs of one day).

    ``key`` makes starting idempotent: a second start with the same key (the daily jobs of the same day,
    started by two schedulers) finds this row instead of queueing the work again.
    """

    __tablename__ = "task_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=TaskState.queued.value)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)  # items that could not be done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    # A file the task produced (an export), kept until the run is pruned.
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("state IN ('queued','running','done','failed')", name="state"),
    )

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.done, TaskState.failed)

    @property
    def percent(self) -> int:
        if self.state == TaskState.done:
            return 100
        return min(100, int(100 * (self.done + self.failed) / self.total)) if self.total else 0
