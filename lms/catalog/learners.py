"""What the catalogue's learner pages need to know about the signed-in officer's progress.

The progress domain sits above the catalog (its rows point at courses and lessons), so the catalog never
imports it: it declares here what its pages ask, and ``lms.progress.connect`` provides it per
application. The pages call :func:`learners` and get that provider.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Flask, current_app

_KEY = "lms.catalog.learners"


class Learners(Protocol):
    def catalogue_progress(self, user: Any, course_ids: list[int]) -> dict[int, Any]:
        """Per course id: how far ``user`` is (for the catalogue cards)."""

    def lesson_counts(self, course_ids: list[int]) -> dict[int, int]:
        """Per course id: how many lessons it has."""

    def course_state(self, user: Any, course: Any) -> Any:
        """Enrolment, assignment, lessons done and access of ``user`` in ``course``."""

    def lesson_opened(self, user: Any, course: Any, lesson: Any, state: Any) -> None:
        """``user`` opened ``lesson``: enrol an assigned officer, remember where to resume (flush)."""

    def missing_requirements(self, course: Any, state: Any, lessons: Any, lang: str) -> list[Any]:
        """What ``state``'s officer still has to do to complete ``course`` under its rule."""

    def required_quiz_keys(self, course: Any) -> Any:
        """The quiz keys ``course``'s completion rule requires."""

    def has_access(self, user: Any, course: Any) -> bool:
        """Whether ``user`` is enrolled in or assigned ``course`` (its files are as private as it)."""


def provide(app: Flask, provider: Learners) -> None:
    app.extensions[_KEY] = provider


def learners() -> Learners:
    return current_app.extensions[_KEY]
